/* libFuzzer: the Go pc-line table reader (gopclntab), which reads a section of the target's
 * binary.  Parse, then look up the text start, a few offsets past it, and addresses taken from
 * the input's last bytes. */
#include <stdint.h>
#include <string.h>

#include "gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gopcln *p = gopcln_parse(data, size);
	if (!p)
		return 0;
	uint64_t text = 0;
	if (size >= 32)
		memcpy(&text, data + 24, sizeof text);
	static const uint64_t offs[] = { 0, 1, 15, 16, 17, 31, 32, 4096, UINT32_MAX };
	struct gopcln_frame f;
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
		if (gopcln_lookup(p, text + offs[i], &f))
			(void)(strlen(f.name) + strlen(f.file) + strlen(f.decl_file));
	/* The inline trees, read from the input itself. */
	gopcln_set_gofunc(p, data, size);
	struct gopcln_frame fr[8];
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		size_t n = gopcln_frames(p, text + offs[i], fr, 8);
		for (size_t k = 0; k < n; k++)
			(void)(strlen(fr[k].name) + strlen(fr[k].file) + strlen(fr[k].decl_file));
	}
	uint64_t tail = 0;
	memcpy(&tail, data + size - 8, 8);
	(void)gopcln_lookup(p, tail, &f);
	(void)gopcln_lookup(p, text + (tail & 0xffff), &f);
	gopcln_free(p);
	return 0;
}
