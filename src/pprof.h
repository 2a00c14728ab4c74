/*
 * pprof: build a profile.proto (github.com/google/pprof/proto/profile.proto) in memory and write it
 * gzipped, as `go tool pprof` reads it.  A hand-written protobuf encoder (varints, length-delimited
 * fields, packed repeated) plus zlib's gzip.
 *
 * Use: pprof_new(); declare sample types (in value order) and the period; add mappings, functions
 * and locations (each returns its id, deduplicated where noted); add samples; pprof_write_gz().
 * All strings are copied into the builder's string table; string_table[0] is "".
 * Ids start at 1 (0 means "none", as in profile.proto).
 */
#ifndef PROFTOP_PPROF_H
#define PROFTOP_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pprof;

struct pprof_line {
	uint64_t function_id;
	int64_t line;
};

struct pprof_label {
	const char *key;
	const char *str;      /* NULL for a numeric label */
	int64_t num;
	const char *num_unit; /* optional, for numeric labels */
};

struct pprof *pprof_new(void);
/* NULL is a no-op. */
void pprof_free(struct pprof *p);

/* Index of s in the string table (interned). */
int64_t pprof_string(struct pprof *p, const char *s);
/* Append a sample type ("samples", "count"); values of pprof_sample() follow this order. */
void pprof_add_sample_type(struct pprof *p, const char *type, const char *unit);
void pprof_set_period(struct pprof *p, const char *type, const char *unit, int64_t period);
void pprof_set_time(struct pprof *p, int64_t time_nanos, int64_t duration_nanos);
void pprof_add_comment(struct pprof *p, const char *comment);
/* default_sample_type, by name of one of the sample types. */
void pprof_set_default_sample_type(struct pprof *p, const char *type);

uint64_t pprof_add_mapping(struct pprof *p, uint64_t start, uint64_t limit, uint64_t file_offset,
			   const char *filename, const char *build_id, bool has_functions,
			   bool has_filenames, bool has_line_numbers, bool has_inline_frames);
/* Deduplicated on (name, system_name, filename, start_line). */
uint64_t pprof_add_function(struct pprof *p, const char *name, const char *system_name,
			    const char *filename, int64_t start_line);
/* lines: innermost inlined frame first.  Deduplicated on (mapping_id, address, lines). */
uint64_t pprof_add_location(struct pprof *p, uint64_t mapping_id, uint64_t address,
			    const struct pprof_line *lines, size_t nlines);
/* location_ids: leaf first.  values: one per sample type. */
void pprof_add_sample(struct pprof *p, const uint64_t *location_ids, size_t nlocations,
		      const int64_t *values, size_t nvalues, const struct pprof_label *labels,
		      size_t nlabels);

/* Serialize (uncompressed protobuf) into a malloc'ed buffer owned by the caller. */
int pprof_encode(const struct pprof *p, uint8_t **buf, size_t *len);
/* Serialize, gzip and write to fd.  Returns 0, or -1 with *cause (owned by the caller). */
int pprof_write_gz(const struct pprof *p, int fd, char **cause);

#endif
