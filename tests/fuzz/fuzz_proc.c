/* libFuzzer: the /proc text parsers (stat, syscall). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	struct proc_task_stat st;
	(void)proc_stat_parse(buf, &st);
	struct proc_syscall sc;
	(void)proc_syscall_parse(buf, &sc);
	free(buf);
	return 0;
}
