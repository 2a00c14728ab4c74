/* pprof: profile.proto builder, hand-written protobuf encoder and gzip writer (see pprof.h). */
#include "pprof.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util.h"

/* Field numbers of profile.proto (github.com/google/pprof/proto/profile.proto). */
enum {
	PPROF_PROFILE_SAMPLE_TYPE = 1,
	PPROF_PROFILE_SAMPLE = 2,
	PPROF_PROFILE_MAPPING = 3,
	PPROF_PROFILE_LOCATION = 4,
	PPROF_PROFILE_FUNCTION = 5,
	PPROF_PROFILE_STRING_TABLE = 6,
	PPROF_PROFILE_TIME_NANOS = 9,
	PPROF_PROFILE_DURATION_NANOS = 10,
	PPROF_PROFILE_PERIOD_TYPE = 11,
	PPROF_PROFILE_PERIOD = 12,
	PPROF_PROFILE_COMMENT = 13,
	PPROF_PROFILE_DEFAULT_SAMPLE_TYPE = 14,

	PPROF_VALUE_TYPE_TYPE = 1,
	PPROF_VALUE_TYPE_UNIT = 2,

	PPROF_SAMPLE_LOCATION_ID = 1,
	PPROF_SAMPLE_VALUE = 2,
	PPROF_SAMPLE_LABEL = 3,

	PPROF_LABEL_KEY = 1,
	PPROF_LABEL_STR = 2,
	PPROF_LABEL_NUM = 3,
	PPROF_LABEL_NUM_UNIT = 4,

	PPROF_MAPPING_ID = 1,
	PPROF_MAPPING_MEMORY_START = 2,
	PPROF_MAPPING_MEMORY_LIMIT = 3,
	PPROF_MAPPING_FILE_OFFSET = 4,
	PPROF_MAPPING_FILENAME = 5,
	PPROF_MAPPING_BUILD_ID = 6,
	PPROF_MAPPING_HAS_FUNCTIONS = 7,
	PPROF_MAPPING_HAS_FILENAMES = 8,
	PPROF_MAPPING_HAS_LINE_NUMBERS = 9,
	PPROF_MAPPING_HAS_INLINE_FRAMES = 10,

	PPROF_LOCATION_ID = 1,
	PPROF_LOCATION_MAPPING_ID = 2,
	PPROF_LOCATION_ADDRESS = 3,
	PPROF_LOCATION_LINE = 4,

	PPROF_LINE_FUNCTION_ID = 1,
	PPROF_LINE_LINE = 2,

	PPROF_FUNCTION_ID = 1,
	PPROF_FUNCTION_NAME = 2,
	PPROF_FUNCTION_SYSTEM_NAME = 3,
	PPROF_FUNCTION_FILENAME = 4,
	PPROF_FUNCTION_START_LINE = 5,
};

/* Protobuf wire types. */
enum {
	PPROF_WIRE_VARINT = 0,
	PPROF_WIRE_LEN = 2,
};

/* ---- protobuf encoder ---- */

struct pb {
	uint8_t *b;
	size_t len, cap;
};

static void pb_reserve(struct pb *pb, size_t n)
{
	if (n > SIZE_MAX - pb->len)
		util_fatal("pprof: profile too large");
	util_grow((void **)&pb->b, &pb->cap, pb->len + n, 1);
}

static size_t pb_varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Write v as a varint at dst (room for 10 bytes); returns the bytes written. */
static size_t pb_varint_to(uint8_t *dst, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		dst[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	dst[n++] = (uint8_t)v;
	return n;
}

static void pb_varint(struct pb *pb, uint64_t v)
{
	pb_reserve(pb, 10);
	pb->len += pb_varint_to(pb->b + pb->len, v);
}

static void pb_tag(struct pb *pb, unsigned field, unsigned wire)
{
	pb_varint(pb, (uint64_t)field << 3 | wire);
}

/* A varint field, omitted when zero (proto3 scalar semantics). */
static void pb_uint(struct pb *pb, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_tag(pb, field, PPROF_WIRE_VARINT);
	pb_varint(pb, v);
}

/* int64 fields are plain varints of the two's complement value (10 bytes when negative). */
static void pb_int(struct pb *pb, unsigned field, int64_t v)
{
	pb_uint(pb, field, (uint64_t)v);
}

static void pb_bytes(struct pb *pb, unsigned field, const void *s, size_t n)
{
	pb_tag(pb, field, PPROF_WIRE_LEN);
	pb_varint(pb, n);
	pb_reserve(pb, n);
	if (n)
		memcpy(pb->b + pb->len, s, n);
	pb->len += n;
}

/*
 * Open a length-delimited field (sub-message or packed repeated): returns where its body starts.
 * The body is written in place and pb_close() then inserts the length in front of it, which
 * moves only the body of this one message.
 */
static size_t pb_open(struct pb *pb, unsigned field)
{
	pb_tag(pb, field, PPROF_WIRE_LEN);
	return pb->len;
}

static void pb_close(struct pb *pb, size_t start)
{
	size_t n = pb->len - start;
	size_t k = pb_varint_len(n);
	pb_reserve(pb, k);
	memmove(pb->b + start + k, pb->b + start, n);
	pb_varint_to(pb->b + start, n);
	pb->len += k;
}

/* A packed repeated varint field; omitted when empty. */
static void pb_packed(struct pb *pb, unsigned field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	size_t start = pb_open(pb, field);
	for (size_t i = 0; i < n; i++)
		pb_varint(pb, v[i]);
	pb_close(pb, start);
}

static void pb_packed_int(struct pb *pb, unsigned field, const int64_t *v, size_t n)
{
	if (!n)
		return;
	size_t start = pb_open(pb, field);
	for (size_t i = 0; i < n; i++)
		pb_varint(pb, (uint64_t)v[i]);
	pb_close(pb, start);
}

/* ---- id hash tables: open addressing over (hash, id) pairs; id 0 marks an empty slot ---- */

struct idtab_slot {
	uint64_t hash;
	uint64_t id;
};

struct idtab {
	struct idtab_slot *slots;
	size_t nslots, count;
};

/* Make room for one more entry (load factor <= 1/2). */
static void idtab_reserve(struct idtab *t)
{
	if ((t->count + 1) * 2 <= t->nslots)
		return;
	size_t n = t->nslots ? t->nslots * 2 : 1024;
	struct idtab_slot *slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < t->nslots; i++) {
		if (!t->slots[i].id)
			continue;
		size_t h = t->slots[i].hash & (n - 1);
		while (slots[h].id)
			h = (h + 1) & (n - 1);
		slots[h] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
}

static void idtab_done(struct idtab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->count = 0;
}

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
	return util_hash64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

/* ---- the builder ---- */

struct pprof_str {
	const char *s;
	size_t len;
};

struct pprof_value_type {
	int64_t type, unit;
};

struct pprof_mapping {
	uint64_t start, limit, file_offset;
	int64_t filename, build_id;
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
};

struct pprof_function {
	int64_t name, system_name, filename, start_line;
};

struct pprof_location {
	uint64_t mapping_id, address;
	size_t line_start, nlines; /* in pprof.lines */
};

struct pprof {
	/* String table: the bytes live in the arena; str_index maps content to index + 1. */
	struct arena arena;
	struct pprof_str *strs;
	size_t nstrs, strs_cap;
	struct idtab str_index;

	struct pprof_value_type *sample_types;
	size_t nsample_types, sample_types_cap;
	struct pprof_value_type period_type;
	int64_t period;
	int64_t time_nanos, duration_nanos;
	int64_t *comments;
	size_t ncomments, comments_cap;
	int64_t default_sample_type;

	struct pprof_mapping *mappings;
	size_t nmappings, mappings_cap;

	struct pprof_function *functions;
	size_t nfunctions, functions_cap;
	struct idtab function_index;

	struct pprof_location *locations;
	size_t nlocations, locations_cap;
	struct pprof_line *lines;
	size_t nlines, lines_cap;
	struct idtab location_index;

	/* Samples are encoded as they come (each a complete Profile.sample field). */
	struct pb samples;
	uint64_t *scratch;
	size_t scratch_cap;
};

struct pprof *pprof_new(void)
{
	struct pprof *p = xcalloc(1, sizeof *p);
	pprof_string(p, "");
	return p;
}

void pprof_free(struct pprof *p)
{
	if (!p)
		return;
	arena_done(&p->arena);
	free(p->strs);
	idtab_done(&p->str_index);
	free(p->sample_types);
	free(p->comments);
	free(p->mappings);
	free(p->functions);
	idtab_done(&p->function_index);
	free(p->locations);
	free(p->lines);
	idtab_done(&p->location_index);
	free(p->samples.b);
	free(p->scratch);
	free(p);
}

/* NULL interns as "" (index 0). */
int64_t pprof_string(struct pprof *p, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	uint64_t h = util_hash_bytes(s, n, 0);
	idtab_reserve(&p->str_index);
	size_t mask = p->str_index.nslots - 1;
	size_t i = h & mask;
	for (struct idtab_slot *slot; (slot = &p->str_index.slots[i])->id; i = (i + 1) & mask) {
		size_t idx = slot->id - 1;
		if (slot->hash == h && p->strs[idx].len == n && memcmp(p->strs[idx].s, s, n) == 0)
			return (int64_t)idx;
	}
	util_grow((void **)&p->strs, &p->strs_cap, p->nstrs + 1, sizeof *p->strs);
	char *copy = arena_alloc(&p->arena, n + 1);
	memcpy(copy, s, n + 1);
	p->strs[p->nstrs] = (struct pprof_str){ .s = copy, .len = n };
	p->str_index.slots[i].hash = h;
	p->str_index.slots[i].id = p->nstrs + 1;
	p->str_index.count++;
	return (int64_t)p->nstrs++;
}

void pprof_add_sample_type(struct pprof *p, const char *type, const char *unit)
{
	util_grow((void **)&p->sample_types, &p->sample_types_cap, p->nsample_types + 1,
		  sizeof *p->sample_types);
	struct pprof_value_type *vt = &p->sample_types[p->nsample_types++];
	vt->type = pprof_string(p, type);
	vt->unit = pprof_string(p, unit);
}

void pprof_set_period(struct pprof *p, const char *type, const char *unit, int64_t period)
{
	p->period_type.type = pprof_string(p, type);
	p->period_type.unit = pprof_string(p, unit);
	p->period = period;
}

void pprof_set_time(struct pprof *p, int64_t time_nanos, int64_t duration_nanos)
{
	p->time_nanos = time_nanos;
	p->duration_nanos = duration_nanos;
}

void pprof_add_comment(struct pprof *p, const char *comment)
{
	util_grow((void **)&p->comments, &p->comments_cap, p->ncomments + 1, sizeof *p->comments);
	p->comments[p->ncomments++] = pprof_string(p, comment);
}

void pprof_set_default_sample_type(struct pprof *p, const char *type)
{
	p->default_sample_type = pprof_string(p, type);
}

uint64_t pprof_add_mapping(struct pprof *p, uint64_t start, uint64_t limit, uint64_t file_offset,
			   const char *filename, const char *build_id, bool has_functions,
			   bool has_filenames, bool has_line_numbers, bool has_inline_frames)
{
	util_grow((void **)&p->mappings, &p->mappings_cap, p->nmappings + 1, sizeof *p->mappings);
	struct pprof_mapping *m = &p->mappings[p->nmappings++];
	m->start = start;
	m->limit = limit;
	m->file_offset = file_offset;
	m->filename = pprof_string(p, filename);
	m->build_id = pprof_string(p, build_id);
	m->has_functions = has_functions;
	m->has_filenames = has_filenames;
	m->has_line_numbers = has_line_numbers;
	m->has_inline_frames = has_inline_frames;
	return p->nmappings;
}

uint64_t pprof_add_function(struct pprof *p, const char *name, const char *system_name,
			    const char *filename, int64_t start_line)
{
	struct pprof_function f = {
		.name = pprof_string(p, name),
		.system_name = pprof_string(p, system_name),
		.filename = pprof_string(p, filename),
		.start_line = start_line,
	};
	uint64_t h = hash_mix(hash_mix(hash_mix(hash_mix(0, (uint64_t)f.name),
						(uint64_t)f.system_name),
				       (uint64_t)f.filename),
			      (uint64_t)f.start_line);
	struct idtab *t = &p->function_index;
	idtab_reserve(t);
	size_t mask = t->nslots - 1;
	size_t i = h & mask;
	for (; t->slots[i].id; i = (i + 1) & mask) {
		const struct pprof_function *g = &p->functions[t->slots[i].id - 1];
		if (t->slots[i].hash == h && g->name == f.name && g->system_name == f.system_name &&
		    g->filename == f.filename && g->start_line == f.start_line)
			return t->slots[i].id;
	}
	util_grow((void **)&p->functions, &p->functions_cap, p->nfunctions + 1,
		  sizeof *p->functions);
	p->functions[p->nfunctions++] = f;
	t->slots[i].hash = h;
	t->slots[i].id = p->nfunctions;
	t->count++;
	return p->nfunctions;
}

uint64_t pprof_add_location(struct pprof *p, uint64_t mapping_id, uint64_t address,
			    const struct pprof_line *lines, size_t nlines)
{
	uint64_t h = hash_mix(hash_mix(hash_mix(0, mapping_id), address), nlines);
	for (size_t k = 0; k < nlines; k++)
		h = hash_mix(hash_mix(h, lines[k].function_id), (uint64_t)lines[k].line);
	struct idtab *t = &p->location_index;
	idtab_reserve(t);
	size_t mask = t->nslots - 1;
	size_t i = h & mask;
	for (; t->slots[i].id; i = (i + 1) & mask) {
		const struct pprof_location *l = &p->locations[t->slots[i].id - 1];
		if (t->slots[i].hash != h || l->mapping_id != mapping_id || l->address != address ||
		    l->nlines != nlines)
			continue;
		size_t k = 0;
		while (k < nlines && p->lines[l->line_start + k].function_id == lines[k].function_id &&
		       p->lines[l->line_start + k].line == lines[k].line)
			k++;
		if (k == nlines)
			return t->slots[i].id;
	}
	if (nlines) {
		util_grow((void **)&p->lines, &p->lines_cap, p->nlines + nlines, sizeof *p->lines);
		memcpy(p->lines + p->nlines, lines, nlines * sizeof *lines);
	}
	util_grow((void **)&p->locations, &p->locations_cap, p->nlocations + 1,
		  sizeof *p->locations);
	p->locations[p->nlocations++] = (struct pprof_location){
		.mapping_id = mapping_id,
		.address = address,
		.line_start = p->nlines,
		.nlines = nlines,
	};
	p->nlines += nlines;
	t->slots[i].hash = h;
	t->slots[i].id = p->nlocations;
	t->count++;
	return p->nlocations;
}

void pprof_add_sample(struct pprof *p, const uint64_t *location_ids, size_t nlocations,
		      const int64_t *values, size_t nvalues, const struct pprof_label *labels,
		      size_t nlabels)
{
	/* Intern the label strings up front: scratch holds (key, str, num_unit) per label. */
	struct pb *pb = &p->samples;
	util_grow((void **)&p->scratch, &p->scratch_cap, nlabels * 3, sizeof *p->scratch);
	for (size_t i = 0; i < nlabels; i++) {
		p->scratch[3 * i] = (uint64_t)pprof_string(p, labels[i].key);
		p->scratch[3 * i + 1] = (uint64_t)pprof_string(p, labels[i].str);
		p->scratch[3 * i + 2] = (uint64_t)(labels[i].str ? 0 : pprof_string(p, labels[i].num_unit));
	}
	size_t start = pb_open(pb, PPROF_PROFILE_SAMPLE);
	pb_packed(pb, PPROF_SAMPLE_LOCATION_ID, location_ids, nlocations);
	pb_packed_int(pb, PPROF_SAMPLE_VALUE, values, nvalues);
	for (size_t i = 0; i < nlabels; i++) {
		size_t lstart = pb_open(pb, PPROF_SAMPLE_LABEL);
		pb_uint(pb, PPROF_LABEL_KEY, p->scratch[3 * i]);
		if (labels[i].str) {
			pb_uint(pb, PPROF_LABEL_STR, p->scratch[3 * i + 1]);
		} else {
			pb_int(pb, PPROF_LABEL_NUM, labels[i].num);
			pb_uint(pb, PPROF_LABEL_NUM_UNIT, p->scratch[3 * i + 2]);
		}
		pb_close(pb, lstart);
	}
	pb_close(pb, start);
}

static void encode_value_type(struct pb *pb, unsigned field, const struct pprof_value_type *vt)
{
	size_t start = pb_open(pb, field);
	pb_int(pb, PPROF_VALUE_TYPE_TYPE, vt->type);
	pb_int(pb, PPROF_VALUE_TYPE_UNIT, vt->unit);
	pb_close(pb, start);
}

int pprof_encode(const struct pprof *p, uint8_t **buf, size_t *len)
{
	struct pb pb = { 0 };
	pb_reserve(&pb, p->samples.len + 64 * (p->nlocations + p->nfunctions + p->nstrs) + 256);

	for (size_t i = 0; i < p->nsample_types; i++)
		encode_value_type(&pb, PPROF_PROFILE_SAMPLE_TYPE, &p->sample_types[i]);

	pb_reserve(&pb, p->samples.len);
	if (p->samples.len)
		memcpy(pb.b + pb.len, p->samples.b, p->samples.len);
	pb.len += p->samples.len;

	for (size_t i = 0; i < p->nmappings; i++) {
		const struct pprof_mapping *m = &p->mappings[i];
		size_t start = pb_open(&pb, PPROF_PROFILE_MAPPING);
		pb_uint(&pb, PPROF_MAPPING_ID, i + 1);
		pb_uint(&pb, PPROF_MAPPING_MEMORY_START, m->start);
		pb_uint(&pb, PPROF_MAPPING_MEMORY_LIMIT, m->limit);
		pb_uint(&pb, PPROF_MAPPING_FILE_OFFSET, m->file_offset);
		pb_int(&pb, PPROF_MAPPING_FILENAME, m->filename);
		pb_int(&pb, PPROF_MAPPING_BUILD_ID, m->build_id);
		pb_uint(&pb, PPROF_MAPPING_HAS_FUNCTIONS, m->has_functions);
		pb_uint(&pb, PPROF_MAPPING_HAS_FILENAMES, m->has_filenames);
		pb_uint(&pb, PPROF_MAPPING_HAS_LINE_NUMBERS, m->has_line_numbers);
		pb_uint(&pb, PPROF_MAPPING_HAS_INLINE_FRAMES, m->has_inline_frames);
		pb_close(&pb, start);
	}

	for (size_t i = 0; i < p->nlocations; i++) {
		const struct pprof_location *l = &p->locations[i];
		size_t start = pb_open(&pb, PPROF_PROFILE_LOCATION);
		pb_uint(&pb, PPROF_LOCATION_ID, i + 1);
		pb_uint(&pb, PPROF_LOCATION_MAPPING_ID, l->mapping_id);
		pb_uint(&pb, PPROF_LOCATION_ADDRESS, l->address);
		for (size_t k = 0; k < l->nlines; k++) {
			const struct pprof_line *ln = &p->lines[l->line_start + k];
			size_t lstart = pb_open(&pb, PPROF_LOCATION_LINE);
			pb_uint(&pb, PPROF_LINE_FUNCTION_ID, ln->function_id);
			pb_int(&pb, PPROF_LINE_LINE, ln->line);
			pb_close(&pb, lstart);
		}
		pb_close(&pb, start);
	}

	for (size_t i = 0; i < p->nfunctions; i++) {
		const struct pprof_function *f = &p->functions[i];
		size_t start = pb_open(&pb, PPROF_PROFILE_FUNCTION);
		pb_uint(&pb, PPROF_FUNCTION_ID, i + 1);
		pb_int(&pb, PPROF_FUNCTION_NAME, f->name);
		pb_int(&pb, PPROF_FUNCTION_SYSTEM_NAME, f->system_name);
		pb_int(&pb, PPROF_FUNCTION_FILENAME, f->filename);
		pb_int(&pb, PPROF_FUNCTION_START_LINE, f->start_line);
		pb_close(&pb, start);
	}

	/* Every entry, "" at index 0 included: repeated fields are never omitted. */
	for (size_t i = 0; i < p->nstrs; i++)
		pb_bytes(&pb, PPROF_PROFILE_STRING_TABLE, p->strs[i].s, p->strs[i].len);

	pb_int(&pb, PPROF_PROFILE_TIME_NANOS, p->time_nanos);
	pb_int(&pb, PPROF_PROFILE_DURATION_NANOS, p->duration_nanos);
	if (p->period_type.type || p->period_type.unit)
		encode_value_type(&pb, PPROF_PROFILE_PERIOD_TYPE, &p->period_type);
	pb_int(&pb, PPROF_PROFILE_PERIOD, p->period);
	pb_packed_int(&pb, PPROF_PROFILE_COMMENT, p->comments, p->ncomments);
	pb_int(&pb, PPROF_PROFILE_DEFAULT_SAMPLE_TYPE, p->default_sample_type);

	*buf = pb.b;
	*len = pb.len;
	return 0;
}

int pprof_write_gz(const struct pprof *p, int fd, char **cause)
{
	uint8_t *buf;
	size_t len;
	if (pprof_encode(p, &buf, &len) < 0) {
		*cause = xasprintf("cannot encode profile: %s", strerror(errno));
		return -1;
	}

	z_stream z;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
	int zr = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK) {
		*cause = xasprintf("cannot compress profile: zlib error %d", zr);
		free(buf);
		return -1;
	}

	enum { CHUNK = 1 << 16 };
	uint8_t *out = xmalloc(CHUNK);
	size_t done = 0;
	int ret = 0;
	for (;;) {
		/* avail_in is a uInt: feed large buffers in pieces. */
		if (z.avail_in == 0 && done < len) {
			size_t n = len - done;
			if (n > (size_t)1 << 30)
				n = (size_t)1 << 30;
			z.next_in = buf + done;
			z.avail_in = (uInt)n;
			done += n;
		}
		z.next_out = out;
		z.avail_out = CHUNK;
		zr = deflate(&z, done == len ? Z_FINISH : Z_NO_FLUSH);
		if (zr == Z_STREAM_ERROR) {
			*cause = xasprintf("cannot compress profile: %s", z.msg ? z.msg : "zlib error");
			ret = -1;
			break;
		}
		size_t have = CHUNK - z.avail_out;
		if (have && util_write_all(fd, out, have) < 0) {
			int e = errno;
			*cause = xasprintf("cannot write profile: %s", strerror(e));
			errno = e;
			ret = -1;
			break;
		}
		if (zr == Z_STREAM_END)
			break;
	}
	int e = errno;
	deflateEnd(&z);
	free(out);
	free(buf);
	errno = e;
	return ret;
}
