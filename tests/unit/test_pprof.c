/*
 * Unit test of pprof: build a small profile, then have real consumers read it —
 * `go tool pprof -raw` and `-top -lines`, and `protoc --decode` against a profile.proto written
 * here from the field numbers — and check what they report.  A tiny decoder in this file checks
 * the wire format itself (varints, packed fields, string_table[0] == ""), and a 100k-sample
 * profile checks deduplication and speed.  A missing `go` or `protoc` is a failure, not a skip.
 */
#include "pprof.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"
#include "check.h"

static char tmpdir[] = "/tmp/test_pprof.XXXXXX";

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* Check that out contains needle; the report shows it on one line, shortened. */
static void check_has(const char *what, const char *out, const char *needle)
{
	struct strbuf sb = { 0 };
	strbuf_puts(&sb, "");
	for (const char *c = needle; *c && sb.len < 72; c++) {
		if (*c == '\n')
			strbuf_puts(&sb, "\\n");
		else if (*c != ' ' || (c > needle && c[-1] != ' '))
			strbuf_putc(&sb, *c);
	}
	check(contains(out, needle), "%s shows \"%s%s\"", what, sb.s,
	      strlen(needle) > sb.len ? "..." : "");
	strbuf_done(&sb);
}

/* Run cmd through the shell; returns its stdout+stderr (caller frees), *status the exit code. */
static char *run(const char *cmd, int *status)
{
	char *full = xasprintf("%s 2>&1", cmd);
	FILE *f = popen(full, "r");
	free(full);
	if (!f) {
		*status = -1;
		return xstrdup("");
	}
	struct strbuf sb = { 0 };
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		strbuf_putn(&sb, buf, n);
	int st = pclose(f);
	*status = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (!sb.s)
		strbuf_puts(&sb, "");
	return sb.s;
}

static bool have_tool(const char *name)
{
	char *cmd = xasprintf("command -v %s >/dev/null", name);
	int st = system(cmd);
	free(cmd);
	return st == 0;
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void write_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || util_write_all(fd, buf, n) < 0)
		util_fatal("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

/* ---- a tiny protobuf decoder ---- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

/* One field: its number, and either a varint value or a length-delimited body in *sub. */
static bool rd_field(struct rd *r, unsigned *field, uint64_t *v, struct rd *sub)
{
	if (r->bad || r->p >= r->end)
		return false;
	uint64_t tag = rd_varint(r);
	*field = (unsigned)(tag >> 3);
	switch (tag & 7) {
	case 0:
		*v = rd_varint(r);
		sub->p = sub->end = NULL;
		break;
	case 2:
		*v = rd_varint(r);
		if (r->bad || *v > (uint64_t)(r->end - r->p)) {
			r->bad = true;
			return false;
		}
		sub->p = r->p;
		sub->end = r->p + *v;
		sub->bad = false;
		r->p += *v;
		break;
	default:
		r->bad = true;
		return false;
	}
	return !r->bad;
}

/* Decode a packed varint body into out (at most max); returns the count or -1. */
static int rd_packed(struct rd sub, uint64_t *out, int max)
{
	int n = 0;
	while (sub.p < sub.end && n < max)
		out[n++] = rd_varint(&sub);
	return sub.bad || sub.p != sub.end ? -1 : n;
}

/* What the C decoder extracts from a whole Profile. */
struct decoded {
	int nsample_types, nsamples, nmappings, nlocations, nfunctions, nstrings, ncomments;
	bool string0_empty;
	uint64_t first_locs[8];
	int nfirst_locs;
	uint64_t first_vals[8];
	int nfirst_vals;
	int first_nlabels;
	uint64_t time_nanos, duration_nanos, period, default_sample_type;
	int max_lines; /* most Line entries in one Location */
	uint64_t mapping_flags; /* fields 7..10 of the first mapping, as bits */
	bool bad;
};

static void decode_profile(const uint8_t *buf, size_t len, struct decoded *d)
{
	memset(d, 0, sizeof *d);
	struct rd r = { buf, buf + len, false };
	unsigned field;
	uint64_t v;
	struct rd sub;
	while (rd_field(&r, &field, &v, &sub)) {
		unsigned f2;
		uint64_t v2;
		struct rd sub2;
		switch (field) {
		case 1:
			d->nsample_types++;
			break;
		case 2:
			if (d->nsamples++ == 0) {
				while (rd_field(&sub, &f2, &v2, &sub2)) {
					if (f2 == 1)
						d->nfirst_locs = rd_packed(sub2, d->first_locs, 8);
					else if (f2 == 2)
						d->nfirst_vals = rd_packed(sub2, d->first_vals, 8);
					else if (f2 == 3)
						d->first_nlabels++;
				}
				d->bad |= sub.bad;
			}
			break;
		case 3:
			if (d->nmappings++ == 0) {
				while (rd_field(&sub, &f2, &v2, &sub2))
					if (f2 >= 7 && f2 <= 10 && v2 == 1)
						d->mapping_flags |= 1u << f2;
			}
			break;
		case 4: {
			d->nlocations++;
			int nl = 0;
			while (rd_field(&sub, &f2, &v2, &sub2))
				nl += f2 == 4;
			if (nl > d->max_lines)
				d->max_lines = nl;
			break;
		}
		case 5:
			d->nfunctions++;
			break;
		case 6:
			if (d->nstrings++ == 0)
				d->string0_empty = v == 0;
			break;
		case 9:
			d->time_nanos = v;
			break;
		case 10:
			d->duration_nanos = v;
			break;
		case 12:
			d->period = v;
			break;
		case 13: {
			uint64_t c[16];
			int n = rd_packed(sub, c, 16);
			d->ncomments += n < 0 ? 0 : n;
			break;
		}
		case 14:
			d->default_sample_type = v;
			break;
		default:
			break;
		}
	}
	d->bad |= r.bad || r.p != r.end;
}

/* ---- the .proto for protoc, written from the field numbers of profile.proto ---- */

static const char proto_text[] =
	"syntax = \"proto3\";\n"
	"package perftools.profiles;\n"
	"message Profile {\n"
	"  repeated ValueType sample_type = 1;\n"
	"  repeated Sample sample = 2;\n"
	"  repeated Mapping mapping = 3;\n"
	"  repeated Location location = 4;\n"
	"  repeated Function function = 5;\n"
	"  repeated string string_table = 6;\n"
	"  int64 drop_frames = 7;\n"
	"  int64 keep_frames = 8;\n"
	"  int64 time_nanos = 9;\n"
	"  int64 duration_nanos = 10;\n"
	"  ValueType period_type = 11;\n"
	"  int64 period = 12;\n"
	"  repeated int64 comment = 13;\n"
	"  int64 default_sample_type = 14;\n"
	"}\n"
	"message ValueType { int64 type = 1; int64 unit = 2; }\n"
	"message Sample {\n"
	"  repeated uint64 location_id = 1;\n"
	"  repeated int64 value = 2;\n"
	"  repeated Label label = 3;\n"
	"}\n"
	"message Label { int64 key = 1; int64 str = 2; int64 num = 3; int64 num_unit = 4; }\n"
	"message Mapping {\n"
	"  uint64 id = 1;\n"
	"  uint64 memory_start = 2;\n"
	"  uint64 memory_limit = 3;\n"
	"  uint64 file_offset = 4;\n"
	"  int64 filename = 5;\n"
	"  int64 build_id = 6;\n"
	"  bool has_functions = 7;\n"
	"  bool has_filenames = 8;\n"
	"  bool has_line_numbers = 9;\n"
	"  bool has_inline_frames = 10;\n"
	"}\n"
	"message Location {\n"
	"  uint64 id = 1;\n"
	"  uint64 mapping_id = 2;\n"
	"  uint64 address = 3;\n"
	"  repeated Line line = 4;\n"
	"  bool is_folded = 5;\n"
	"}\n"
	"message Line { uint64 function_id = 1; int64 line = 2; }\n"
	"message Function {\n"
	"  uint64 id = 1;\n"
	"  int64 name = 2;\n"
	"  int64 system_name = 3;\n"
	"  int64 filename = 4;\n"
	"  int64 start_line = 5;\n"
	"}\n";

/* ---- the small profile ---- */

#define BUILD_ID "4f2a9c0d1e3b5a7c"
#define TIME_NS 1700000000123456789LL

struct small {
	struct pprof *p;
	uint64_t map, f_leaf, f_helper, f_caller, f_main, l_leaf, l_caller, l_main;
};

static void build_small(struct small *s)
{
	struct pprof *p = s->p = pprof_new();
	pprof_add_sample_type(p, "samples", "count");
	pprof_add_sample_type(p, "cpu", "nanoseconds");
	pprof_set_period(p, "cpu", "nanoseconds", 10000000);
	pprof_set_time(p, TIME_NS, 2500000000LL);
	pprof_add_comment(p, "proftop unit test");
	pprof_set_default_sample_type(p, "cpu");

	s->map = pprof_add_mapping(p, 0x400000, 0x500000, 0x1000, "/usr/bin/fixture-app", BUILD_ID,
				   true, true, true, true);
	check(s->map == 1, "first mapping id is 1 (got %llu)", (unsigned long long)s->map);

	s->f_leaf = pprof_add_function(p, "leaf_work", "leaf_work", "/src/leaf.c", 10);
	s->f_helper = pprof_add_function(p, "inline_helper", "_Z13inline_helperv", "/src/helper.h", 5);
	s->f_caller = pprof_add_function(p, "caller", "caller", "/src/main.c", 30);
	s->f_main = pprof_add_function(p, "main", "main", "/src/main.c", 50);
	check(s->f_leaf == 1 && s->f_main == 4, "function ids are dense from 1");
	check(pprof_add_function(p, "leaf_work", "leaf_work", "/src/leaf.c", 10) == s->f_leaf,
	      "pprof_add_function deduplicates an equal function");
	check(pprof_add_function(p, "caller", "caller", "/src/main.c", 31) != s->f_caller,
	      "a different start_line is a different function");

	/* Innermost inlined frame first: inline_helper was inlined into leaf_work. */
	struct pprof_line leaf_lines[] = { { s->f_helper, 7 }, { s->f_leaf, 12 } };
	struct pprof_line caller_lines[] = { { s->f_caller, 33 } };
	struct pprof_line main_lines[] = { { s->f_main, 55 } };
	s->l_leaf = pprof_add_location(p, s->map, 0x401010, leaf_lines, 2);
	s->l_caller = pprof_add_location(p, s->map, 0x401100, caller_lines, 1);
	s->l_main = pprof_add_location(p, s->map, 0x401200, main_lines, 1);
	check(s->l_leaf == 1 && s->l_main == 3, "location ids are dense from 1");
	struct pprof_line same[] = { { s->f_helper, 7 }, { s->f_leaf, 12 } };
	check(pprof_add_location(p, s->map, 0x401010, same, 2) == s->l_leaf,
	      "pprof_add_location deduplicates equal (mapping, address, lines)");
	check(pprof_add_location(p, s->map, 0x401010, leaf_lines, 1) != s->l_leaf,
	      "different lines make a different location");
	check(pprof_add_location(p, s->map, 0x401014, leaf_lines, 2) != s->l_leaf,
	      "a different address makes a different location");

	uint64_t st1[] = { s->l_leaf, s->l_caller, s->l_main };
	int64_t v1[] = { 3, 30000000 };
	struct pprof_label lb1[] = { { .key = "thread", .str = "main" }, { .key = "tid", .num = 4242 } };
	pprof_add_sample(p, st1, 3, v1, 2, lb1, 2);
	uint64_t st2[] = { s->l_caller, s->l_main };
	int64_t v2[] = { 1, 10000000 };
	struct pprof_label lb2[] = { { .key = "thread", .str = "worker-1" },
				     { .key = "tid", .num = 4243, .num_unit = "id" } };
	pprof_add_sample(p, st2, 2, v2, 2, lb2, 2);
}

static void test_wire(const uint8_t *raw, size_t len, const struct small *s)
{
	struct decoded d;
	decode_profile(raw, len, &d);
	check(!d.bad, "C decoder reads the whole encoding (%zu bytes)", len);
	check(len > 0 && raw[0] == (1 << 3 | 2), "first field is sample_type, length-delimited");
	check(d.nsample_types == 2, "2 sample types (got %d)", d.nsample_types);
	check(d.nsamples == 2, "2 samples (got %d)", d.nsamples);
	check(d.nmappings == 1, "1 mapping (got %d)", d.nmappings);
	check(d.nlocations == 5 && d.max_lines == 2, "5 locations, one with 2 lines (got %d, %d)",
	      d.nlocations, d.max_lines);
	check(d.nfunctions == 5, "5 functions (got %d)", d.nfunctions);
	check(d.string0_empty, "string_table[0] is \"\"");
	check(d.nfirst_locs == 3 && d.first_locs[0] == s->l_leaf && d.first_locs[1] == s->l_caller &&
		      d.first_locs[2] == s->l_main,
	      "packed location_id decodes to leaf, caller, main");
	check(d.nfirst_vals == 2 && d.first_vals[0] == 3 && d.first_vals[1] == 30000000,
	      "packed value decodes to 3, 30000000 (multi-byte varint)");
	check(d.first_nlabels == 2, "first sample has 2 labels");
	check(d.time_nanos == (uint64_t)TIME_NS, "time_nanos round-trips a 9-byte varint");
	check(d.duration_nanos == 2500000000u && d.period == 10000000, "duration and period");
	check(d.ncomments == 1 && d.default_sample_type != 0, "comment and default_sample_type set");
	check(d.mapping_flags == (1u << 7 | 1u << 8 | 1u << 9 | 1u << 10), "mapping has_* flags all set");
}

/* Negative int64 values take 10 bytes; zero-valued scalars are omitted. */
static void test_varints(void)
{
	struct pprof *p = pprof_new();
	pprof_add_sample_type(p, "delta", "count");
	int64_t v[] = { -5 };
	uint64_t loc[] = { 300 };
	pprof_add_sample(p, loc, 1, v, 1, NULL, 0);
	uint8_t *buf;
	size_t len;
	check(pprof_encode(p, &buf, &len) == 0, "pprof_encode succeeds");
	/* sample_type {1:1 2:2}, then sample {1:[300] 2:[-5]}, then "", "delta", "count". */
	static const uint8_t want[] = {
		0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
		0x12, 0x10, 0x0a, 0x02, 0xac, 0x02,
		0x12, 0x0a, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
		0x32, 0x00, 0x32, 0x05, 'd', 'e', 'l', 't', 'a', 0x32, 0x05, 'c', 'o', 'u', 'n', 't',
	};
	check(len == sizeof want && memcmp(buf, want, len) == 0,
	      "exact bytes: packed varint 300, 10-byte -5, string_table[0] empty, zeros omitted");
	struct rd r = { buf + 8, buf + 8 + 0x10, false };
	unsigned field;
	uint64_t val;
	struct rd sub;
	uint64_t got[2] = { 0 };
	bool ok = rd_field(&r, &field, &val, &sub) && field == 1 && rd_packed(sub, got, 2) == 1 &&
		  got[0] == 300 && rd_field(&r, &field, &val, &sub) && field == 2 &&
		  rd_packed(sub, got, 2) == 1 && (int64_t)got[0] == -5;
	check(ok, "C decoder round-trips varint 300 and packed -5");
	free(buf);
	pprof_free(p);
	pprof_free(NULL);
}

static char *gunzip_file(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return NULL;
	struct strbuf sb = { 0 };
	char buf[8192];
	int n;
	while ((n = gzread(gz, buf, sizeof buf)) > 0)
		strbuf_putn(&sb, buf, (size_t)n);
	gzclose(gz);
	*len = sb.len;
	if (!sb.s)
		strbuf_puts(&sb, "");
	return sb.s;
}

static const char *go_env(void)
{
	static char env[512];
	snprintf(env, sizeof env, "HOME=%s GOCACHE=%s/gocache PPROF_TMPDIR=%s PPROF_BINARY_PATH=%s",
		 tmpdir, tmpdir, tmpdir, tmpdir);
	return env;
}

static void test_go(const char *gzpath)
{
	bool have = have_tool("go");
	check(have, "go is installed (make test installs golang-go)");
	if (!have)
		return;
	int st;
	char *cmd = xasprintf("env %s go tool pprof -raw %s", go_env(), gzpath);
	char *out = run(cmd, &st);
	free(cmd);
	check(st == 0, "go tool pprof -raw exits 0 (%d)", st);
	const char *want[] = {
		"PeriodType: cpu nanoseconds",
		"Period: 10000000",
		"Duration: 2.5s",
		"samples/count cpu/nanoseconds[dflt]",
		"3   30000000: 1 2 3",
		"1   10000000: 2 3",
		"thread:[main]",
		"tid:[4242]",
		"thread:[worker-1]",
		"tid:[4243 id]",
		"0x401010 M=1 inline_helper /src/helper.h:7 s=5",
		"leaf_work /src/leaf.c:12 s=10",
		"caller /src/main.c:33 s=30",
		"main /src/main.c:55 s=50",
		("/usr/bin/fixture-app " BUILD_ID),
		"[FN][FL][LN][IN]",
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(want); i++)
		check_has("pprof -raw", out, want[i]);
	check(!contains(out, "symbolize") && !contains(out, "rror"),
	      "pprof -raw reads it without symbolizing or errors");
	if (failures)
		printf("--- go tool pprof -raw:\n%s---\n", out);
	free(out);

	cmd = xasprintf("env %s go tool pprof -top -lines %s", go_env(), gzpath);
	out = run(cmd, &st);
	free(cmd);
	check(st == 0, "go tool pprof -top -lines exits 0 (%d)", st);
	/* Default sample type cpu: 40ms in total, 30ms flat in the inlined helper's line. */
	const char *want_top[] = {
		"Type: cpu",
		"40ms total",
		"inline_helper /src/helper.h:7 (inline)",
		"leaf_work /src/leaf.c:12",
		"caller /src/main.c:33",
		"main /src/main.c:55",
		"30ms 75.00% 75.00%       30ms 75.00%",
		"10ms 25.00%   100%       40ms   100%",
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(want_top); i++)
		check_has("pprof -top -lines", out, want_top[i]);
	if (failures)
		printf("--- go tool pprof -top -lines:\n%s---\n", out);
	free(out);

	cmd = xasprintf("env %s go tool pprof -top -sample_index=samples -tagfocus=thread=main %s",
			go_env(), gzpath);
	out = run(cmd, &st);
	free(cmd);
	bool ok = st == 0 && contains(out, "Type: samples") &&
		  contains(out, "accounting for 3, 75.00% of 4 total") && contains(out, "inline_helper");
	check(ok, "pprof -tagfocus=thread=main on samples/count sees 3 of 4 samples");
	if (!ok)
		printf("--- go tool pprof -tagfocus:\n%s---\n", out);
	free(out);
}

/* String-table index of s in p (already interned, so this adds nothing). */
static long long sx(const struct small *s, const char *str)
{
	return (long long)pprof_string(s->p, str);
}

static void test_protoc(const char *rawpath, const struct small *s)
{
	bool have = have_tool("protoc");
	check(have, "protoc is installed (make test installs protobuf-compiler)");
	if (!have)
		return;
	char *proto = xasprintf("%s/profile.proto", tmpdir);
	write_file(proto, proto_text, sizeof proto_text - 1);
	int st;
	char *cmd = xasprintf("protoc --proto_path=%s --decode=perftools.profiles.Profile %s < %s",
			      tmpdir, proto, rawpath);
	char *out = run(cmd, &st);
	free(cmd);
	free(proto);
	check(st == 0, "protoc --decode exits 0 (%d)", st);
	char *want[] = {
		xasprintf("sample_type {\n  type: %lld\n  unit: %lld\n}\n"
			  "sample_type {\n  type: %lld\n  unit: %lld\n}\n",
			  sx(s, "samples"), sx(s, "count"), sx(s, "cpu"), sx(s, "nanoseconds")),
		xasprintf("sample {\n  location_id: %llu\n  location_id: %llu\n  location_id: %llu\n"
			  "  value: 3\n  value: 30000000\n"
			  "  label {\n    key: %lld\n    str: %lld\n  }\n"
			  "  label {\n    key: %lld\n    num: 4242\n  }\n}\n",
			  (unsigned long long)s->l_leaf, (unsigned long long)s->l_caller,
			  (unsigned long long)s->l_main, sx(s, "thread"), sx(s, "main"), sx(s, "tid")),
		xasprintf("  label {\n    key: %lld\n    num: 4243\n    num_unit: %lld\n  }\n",
			  sx(s, "tid"), sx(s, "id")),
		xasprintf("mapping {\n  id: 1\n  memory_start: 4194304\n  memory_limit: 5242880\n"
			  "  file_offset: 4096\n  filename: %lld\n  build_id: %lld\n"
			  "  has_functions: true\n  has_filenames: true\n  has_line_numbers: true\n"
			  "  has_inline_frames: true\n}\n",
			  sx(s, "/usr/bin/fixture-app"), sx(s, BUILD_ID)),
		xasprintf("location {\n  id: %llu\n  mapping_id: 1\n  address: 4198416\n  line {\n"
			  "    function_id: %llu\n    line: 7\n  }\n  line {\n    function_id: %llu\n"
			  "    line: 12\n  }\n}\n",
			  (unsigned long long)s->l_leaf, (unsigned long long)s->f_helper,
			  (unsigned long long)s->f_leaf),
		xasprintf("function {\n  id: %llu\n  name: %lld\n  system_name: %lld\n"
			  "  filename: %lld\n  start_line: 5\n}\n",
			  (unsigned long long)s->f_helper, sx(s, "inline_helper"),
			  sx(s, "_Z13inline_helperv"), sx(s, "/src/helper.h")),
		xasprintf("string_table: \"\"\nstring_table: \"samples\"\n"),
		xasprintf("string_table: \"%s\"\n", BUILD_ID),
		xasprintf("time_nanos: %lld\nduration_nanos: 2500000000\n"
			  "period_type {\n  type: %lld\n  unit: %lld\n}\nperiod: 10000000\n"
			  "comment: %lld\ndefault_sample_type: %lld\n",
			  TIME_NS, sx(s, "cpu"), sx(s, "nanoseconds"), sx(s, "proftop unit test"),
			  sx(s, "cpu")),
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(want); i++) {
		check_has("protoc --decode", out, want[i]);
		free(want[i]);
	}
	check(!contains(out, "is_folded"), "protoc: zero-valued is_folded omitted");
	if (failures)
		printf("--- protoc --decode:\n%s---\n", out);
	free(out);
}

static double now_s(void)
{
	return (double)util_now_ns() / 1e9;
}

/* 100k samples over 2000 locations: dedup holds at scale, the output is sound and quick. */
static void test_large(void)
{
	double t0 = now_s();
	struct pprof *p = pprof_new();
	pprof_add_sample_type(p, "samples", "count");
	pprof_add_sample_type(p, "cpu", "nanoseconds");
	pprof_set_period(p, "cpu", "nanoseconds", 1000000);
	uint64_t map = pprof_add_mapping(p, 0x400000, 0x800000, 0, "/usr/bin/big", "", true, true,
					 true, false);
	uint64_t rng = 0x12345678;
	bool dedup_ok = true;
	uint64_t *id_of = xcalloc(2000, sizeof *id_of);
	char name[64], file[64];
	for (int i = 0; i < 100000; i++) {
		uint64_t locs[16];
		size_t depth = 4 + i % 12;
		for (size_t k = 0; k < depth; k++) {
			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			unsigned fn = (unsigned)(rng >> 33) % 2000;
			snprintf(name, sizeof name, "func_%u", fn);
			snprintf(file, sizeof file, "/src/file_%u.c", fn / 50);
			uint64_t f = pprof_add_function(p, name, NULL, file, (int64_t)fn);
			dedup_ok &= f <= 2000 && (!id_of[fn] || id_of[fn] == f);
			id_of[fn] = f;
			struct pprof_line ln = { f, (int64_t)fn + 3 };
			locs[k] = pprof_add_location(p, map, 0x400000 + 16 * (uint64_t)fn, &ln, 1);
		}
		int64_t vals[] = { 1, 1000000 };
		char tname[32];
		snprintf(tname, sizeof tname, "worker-%d", i % 8);
		struct pprof_label lb[] = { { .key = "thread", .str = tname },
					    { .key = "tid", .num = 1000 + i % 8 } };
		pprof_add_sample(p, locs, depth, vals, 2, lb, 2);
	}
	double t1 = now_s();
	char *path = xasprintf("%s/big.pb.gz", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char *cause = NULL;
	int r = fd >= 0 ? pprof_write_gz(p, fd, &cause) : -1;
	if (fd >= 0)
		close(fd);
	double t2 = now_s();
	check(r == 0, "pprof_write_gz of 100k samples succeeds%s%s", cause ? ": " : "",
	      cause ? cause : "");
	free(cause);
	check(dedup_ok, "functions deduplicated: one id per function, at most 2000 ids");
	printf("# 100k samples: build %.3f s, encode+gzip %.3f s\n", t1 - t0, t2 - t1);
	check(t2 - t0 < 10.0, "100k samples built and written in under 10 s (%.3f s)", t2 - t0);

	size_t len = 0;
	char *raw = gunzip_file(path, &len);
	struct decoded d;
	decode_profile((const uint8_t *)raw, len, &d);
	check(!d.bad && d.nsamples == 100000, "gunzipped: 100000 samples (got %d)", d.nsamples);
	check(d.nfunctions <= 2000 && d.nlocations == d.nfunctions,
	      "gunzipped: %d functions, %d locations (deduplicated)", d.nfunctions, d.nlocations);
	free(raw);

	if (have_tool("go")) {
		int st;
		char *cmd = xasprintf("env %s go tool pprof -top -sample_index=samples -nodecount=1 %s",
				      go_env(), path);
		char *out = run(cmd, &st);
		free(cmd);
		check(st == 0 && contains(out, "100000 total"),
		      "go tool pprof reads the 100k profile: 100000 samples in total");
		if (st != 0 || !contains(out, "100000 total"))
			printf("--- go tool pprof (100k):\n%s---\n", out);
		free(out);
	}
	free(path);
	free(id_of);
	pprof_free(p);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	test_varints();

	struct small s;
	build_small(&s);
	uint8_t *raw;
	size_t len;
	check(pprof_encode(s.p, &raw, &len) == 0, "pprof_encode of the small profile");
	test_wire(raw, len, &s);

	char *rawpath = xasprintf("%s/small.pb", tmpdir);
	write_file(rawpath, raw, len);
	char *gzpath = xasprintf("%s/small.pb.gz", tmpdir);
	int fd = open(gzpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char *cause = NULL;
	check(fd >= 0 && pprof_write_gz(s.p, fd, &cause) == 0, "pprof_write_gz succeeds%s%s",
	      cause ? ": " : "", cause ? cause : "");
	free(cause);
	if (fd >= 0)
		close(fd);

	unsigned char magic[2] = { 0 };
	FILE *f = fopen(gzpath, "rb");
	if (f) {
		if (fread(magic, 1, 2, f) != 2)
			magic[0] = 0;
		fclose(f);
	}
	check(magic[0] == 0x1f && magic[1] == 0x8b, "output is gzip (magic 1f 8b)");
	size_t glen = 0;
	char *gun = gunzip_file(gzpath, &glen);
	check(gun && glen == len && memcmp(gun, raw, len) == 0,
	      "gunzipped output equals pprof_encode's bytes");
	free(gun);

	char *cause2 = NULL;
	int wr = pprof_write_gz(s.p, -1, &cause2);
	check(wr == -1 && cause2 && strstr(cause2, "cannot write"),
	      "pprof_write_gz on a bad fd fails with a cause (%s)", cause2 ? cause2 : "none");
	free(cause2);

	test_go(gzpath);
	test_protoc(rawpath, &s);
	test_large();

	free(raw);
	free(rawpath);
	free(gzpath);
	pprof_free(s.p);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	if (failures) {
		printf("FAIL test_pprof: %d check(s) failed\n", failures);
		return 1;
	}
	printf("ok test_pprof: all checks passed\n");
	return 0;
}
