/*
 * libFuzzer: perf ring-buffer records.  The decoder is static in sampler/perf.c, so this harness
 * includes that file.  The first byte picks frame-pointer or DWARF samples; the rest is a
 * PERF_RECORD_SAMPLE as the kernel would write it (DWARF samples are unwound against this
 * process's own memory, which process_vm_readv reads safely at any address).
 */
#include "../../sampler/perf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unwinder *unw;
	if (!unw)
		unw = unwinder_new(getpid());
	if (size < 1)
		return 0;
	struct sampler s;
	memset(&s, 0, sizeof s);
	s.cfg.callgraph = data[0] & 1 ? SAMPLER_CG_DWARF : SAMPLER_CG_FP;
	s.cfg.rate_hz = 99;
	s.unw = unw;
	struct perf_priv p;
	memset(&p, 0, sizeof p);
	uint8_t *rec = malloc(size - 1 + sizeof(struct perf_event_header));
	struct perf_event_header h = { .type = PERF_RECORD_SAMPLE,
				       .size = (uint16_t)(size - 1 + sizeof h) };
	memcpy(rec, &h, sizeof h);
	memcpy(rec + sizeof h, data + 1, size - 1);
	(void)decode_sample(&s, &p, rec, size - 1 + sizeof h);
	free(rec);
	return 0;
}
