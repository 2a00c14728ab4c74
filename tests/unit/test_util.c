/* Unit test of util: JSON strings stay valid JSON whatever bytes come in (bad UTF-8 becomes
 * U+FFFD, good UTF-8 passes through), durations reject inf, nan, signs and huge values, files
 * another process controls are read only when regular and only up to a cap, and atomic output
 * refuses a directory or a device before anything is written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "check.h"

/* strbuf_json_str(in) is want. */
static void json_is(const char *in, const char *want, const char *what)
{
	struct strbuf sb = { 0 };
	strbuf_json_str(&sb, in);
	int ok = !strcmp(sb.s, want);
	check(ok, "%s", what);
	if (!ok)
		printf("     got %s, want %s\n", sb.s, want);
	strbuf_done(&sb);
}

static void test_json(void)
{
	json_is("plain", "\"plain\"", "ASCII passes through");
	json_is("a\"b\\c\n\t\x01\x7f", "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"",
		"escapes and controls");
	json_is(NULL, "\"\"", "NULL is the empty string");
	json_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 \xf4\x8f\xbf\xbf",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 \xf4\x8f\xbf\xbf\"",
		"2-, 3- and 4-byte UTF-8 and U+10FFFF pass through");
	json_is("a\xff" "b", "\"a\\ufffdb\"", "0xff is U+FFFD");
	json_is("\x80x", "\"\\ufffdx\"", "a stray continuation byte is U+FFFD");
	json_is("t\xc3", "\"t\\ufffd\"", "a sequence cut by the end of the string");
	json_is("\xe2\x82" "x", "\"\\ufffd\\ufffdx\"", "a truncated 3-byte sequence, one per byte");
	json_is("\xc0\xaf", "\"\\ufffd\\ufffd\"", "overlong 2-byte '/' is rejected");
	json_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"", "overlong 3-byte form is rejected");
	json_is("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "overlong 4-byte form");
	json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "a UTF-16 surrogate is rejected");
	json_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "beyond U+10FFFF");
	json_is("\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"", "5-byte forms");
	json_is("\xc3\xa9\xff\xc3\xa9", "\"\xc3\xa9\\ufffd\xc3\xa9\"", "good, bad, good");
}

static void test_seconds(void)
{
	check(util_parse_seconds("3") == 3, "3");
	check(util_parse_seconds("0.5") == 0.5, "0.5");
	check(util_parse_seconds(".5") == 0.5, ".5");
	check(util_parse_seconds("0") == 0, "0");
	check(util_parse_seconds("30s") == 30, "30s");
	check(util_parse_seconds("2m") == 120, "2m");
	check(util_parse_seconds("10000000") == 1e7, "the maximum, 1e7");
	static const char *bad[] = { "", "inf", "INF", "infinity", "nan", "NAN", "-1", "-0", "+3",
				     " 3", "3 ", "1e8", "10000001", "1e300", "1e999", "200000m",
				     "3x", "3ss", "m", "s", "abc" };
	for (size_t i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		check(util_parse_seconds(bad[i]) < 0, "'%s' rejected", bad[i]);
	}
	check(util_parse_seconds(NULL) < 0, "NULL rejected");
}

static void test_read_regular(const char *dir)
{
	char path[256];
	snprintf(path, sizeof path, "%s/f", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char big[10000];
	memset(big, 'x', sizeof big);
	check(fd >= 0 && util_write_all(fd, big, sizeof big) == 0, "write a 10000-byte file");
	close(fd);
	size_t len = 0;
	struct stat st;
	char *s = util_read_regular(path, 1 << 20, &len, &st);
	check(s && len == sizeof big && strlen(s) == len && st.st_size == (off_t)len,
	      "a regular file is read whole under the cap");
	free(s);
	s = util_read_regular(path, 100, &len, NULL);
	check(s && len == 100 && strlen(s) == 100, "a bigger file is cut at the cap");
	free(s);

	snprintf(path, sizeof path, "%s/fifo", dir);
	check(mkfifo(path, 0600) == 0, "mkfifo");
	errno = 0;
	s = util_read_regular(path, 100, &len, NULL); /* would hang without O_NONBLOCK */
	check(!s && errno == EINVAL, "a FIFO is refused at once");
	free(s);
	errno = 0;
	s = util_read_regular("/dev/zero", 100, &len, NULL);
	check(!s && errno == EINVAL, "/dev/zero is refused");
	free(s);
	errno = 0;
	s = util_read_regular(dir, 100, &len, NULL);
	check(!s && errno == EISDIR, "a directory is refused with EISDIR");
	free(s);
	snprintf(path, sizeof path, "%s/none", dir);
	errno = 0;
	s = util_read_regular(path, 100, &len, NULL);
	check(!s && errno == ENOENT, "a missing file is ENOENT");
	free(s);
}

static void test_atomic_open(const char *dir)
{
	struct util_atomic a;
	char *cause = NULL;
	check(util_atomic_open(&a, dir, &cause) < 0 && cause && strstr(cause, ": is a directory"),
	      "atomic output onto a directory is refused");
	if (cause)
		printf("     %s\n", cause);
	free(cause);
	cause = NULL;
	char path[256];
	snprintf(path, sizeof path, "%s/", dir);
	check(util_atomic_open(&a, path, &cause) < 0 && cause && strstr(cause, "is a directory"),
	      "a path ending in / is refused");
	free(cause);
	cause = NULL;
	check(util_atomic_open(&a, "/dev/null", &cause) < 0 && cause &&
		      strstr(cause, "not a regular file"),
	      "atomic output onto /dev/null is refused");
	free(cause);
	cause = NULL;
	snprintf(path, sizeof path, "%s/out.txt", dir);
	int r = util_atomic_open(&a, path, &cause);
	check(r == 0, "atomic output to a new file in a writable directory");
	if (r == 0) {
		util_write_all(a.fd, "hi\n", 3);
		check(util_atomic_commit(&a, false, &cause) == 0, "commit");
		size_t len = 0;
		char *s = util_read_file(path, &len);
		check(s && !strcmp(s, "hi\n"), "the committed file holds what was written");
		free(s);
		r = util_atomic_open(&a, path, &cause);
		check(r == 0, "an existing regular file may be replaced");
		if (r == 0)
			util_atomic_abort(&a);
		unlink(path);
	}
	free(cause);
}

int main(void)
{
	test_json();
	test_seconds();
	char dir[] = "/tmp/proftop-test-util.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_read_regular(dir);
	test_atomic_open(dir);
	char path[256];
	snprintf(path, sizeof path, "%s/f", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/fifo", dir);
	unlink(path);
	rmdir(dir);
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures != 0;
}
