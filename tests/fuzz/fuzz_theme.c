/* libFuzzer: theme files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct theme t;
	char *err = NULL;
	(void)theme_parse(&t, text, "fuzz.theme", &err);
	free(err);
	free(text);
	return 0;
}
