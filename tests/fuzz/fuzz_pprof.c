/*
 * libFuzzer: the pprof encoder, round trip.  The input drives the builder (strings, mappings,
 * functions, locations, samples, labels); the encoding is then walked as protobuf wire format
 * and must be well-formed throughout: every tag valid, every length inside its message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int walk(const uint8_t *p, size_t n, int depth);

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* A well-formed message: fields until the end, nested messages checked for the known ones. */
static int walk(const uint8_t *p, size_t n, int depth)
{
	const uint8_t *end = p + n;
	while (p < end) {
		uint64_t key, v;
		if (varint(&p, end, &key) < 0)
			return -1;
		unsigned wire = key & 7, field = (unsigned)(key >> 3);
		if (field == 0)
			return -1;
		if (wire == 0) {
			if (varint(&p, end, &v) < 0)
				return -1;
		} else if (wire == 2) {
			if (varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				return -1;
			/* Top-level messages: sample_type, sample, mapping, location, function. */
			if (depth == 0 && field >= 1 && field <= 5 && walk(p, (size_t)v, 1) < 0)
				return -1;
			p += v;
		} else {
			return -1; /* pprof uses only varints and length-delimited fields */
		}
	}
	return 0;
}

static char *str(const uint8_t **p, const uint8_t *end)
{
	size_t n = *p < end ? (size_t)(**p % 12) : 0;
	if ((size_t)(end - *p) < n + 1)
		n = *p < end ? (size_t)(end - *p) - 1 : 0;
	char *s = malloc(n + 1);
	if (*p < end) {
		memcpy(s, *p + 1, n);
		*p += n + 1;
	}
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct pprof *pp = pprof_new();
	pprof_add_sample_type(pp, "samples", "count");
	pprof_add_sample_type(pp, "cpu", "nanoseconds");
	uint64_t locs[16];
	size_t nlocs = 0;
	while (p < end) {
		uint8_t op = *p++;
		char *a = str(&p, end), *b = str(&p, end);
		switch (op % 4) {
		case 0: {
			uint64_t m = pprof_add_mapping(pp, op, (uint64_t)op << 12, 0, a, b, op & 1, op & 2,
						       op & 4, op & 8);
			(void)m;
			break;
		}
		case 1: {
			uint64_t f = pprof_add_function(pp, a, b, a, op);
			struct pprof_line lines[2] = { { f, op }, { f, op + 1 } };
			if (nlocs < 16)
				locs[nlocs++] = pprof_add_location(pp, 0, (uint64_t)op * 16, lines,
								   (size_t)(op % 3));
			break;
		}
		case 2: {
			int64_t vals[2] = { op, (int64_t)op * 1000 };
			struct pprof_label labels[2] = { { .key = a, .str = b }, { .key = b, .num = op } };
			pprof_add_sample(pp, locs, nlocs, vals, 2, labels, (size_t)(op % 3));
			break;
		}
		default:
			pprof_add_comment(pp, a);
			pprof_set_time(pp, op, (int64_t)op * 7);
		}
		free(a);
		free(b);
	}
	uint8_t *buf;
	size_t len;
	pprof_encode(pp, &buf, &len);
	if (walk(buf, len, 0) < 0)
		abort();
	free(buf);
	pprof_free(pp);
	return 0;
}
