/* util: allocation, buffers, time, files and the fatal-exit path (see util.h). */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		util_fatal("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		util_fatal("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		util_fatal("allocation size overflow (%zu x %zu)", nmemb, size);
	size_t n = nmemb * size;
	void *q = realloc(p, n ? n : 1);
	if (!q)
		util_fatal("out of memory (%zu bytes)", n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		util_fatal("bad format string");
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void util_grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			util_fatal("allocation size overflow");
		n *= 2;
	}
	*p = xreallocarray(*p, n, sz);
	*cap = n;
}

/* First index in [0, n) whose field is not "before" key: >= key (lower), > key (upper). */
#define UTIL_BOUND(name, type, cmp)                                                           \
	size_t name(const void *base, size_t n, size_t stride, size_t off, type key)          \
	{                                                                                     \
		size_t lo = 0, hi = n;                                                        \
		while (lo < hi) {                                                             \
			size_t mid = lo + (hi - lo) / 2;                                      \
			type v;                                                               \
			memcpy(&v, (const char *)base + mid * stride + off, sizeof v);        \
			if (v cmp key)                                                        \
				lo = mid + 1;                                                 \
			else                                                                  \
				hi = mid;                                                     \
		}                                                                             \
		return lo;                                                                    \
	}
UTIL_BOUND(util_lower_u64, uint64_t, <)
UTIL_BOUND(util_upper_u64, uint64_t, <=)
UTIL_BOUND(util_lower_i64, int64_t, <)
UTIL_BOUND(util_lower_u32, uint32_t, <)
UTIL_BOUND(util_lower_i32, int32_t, <)
#undef UTIL_BOUND

/* ---- cleanup hooks and fatal exits ---- */

#define MAX_HOOKS 16
static struct {
	util_cleanup_fn fn;
	void *arg;
} hooks[MAX_HOOKS];
static volatile sig_atomic_t nhooks;
static volatile sig_atomic_t in_cleanup;

void util_cleanup_push(util_cleanup_fn fn, void *arg)
{
	if (nhooks >= MAX_HOOKS)
		return;
	hooks[nhooks].fn = fn;
	hooks[nhooks].arg = arg;
	nhooks++;
}

void util_cleanup_remove(util_cleanup_fn fn, void *arg)
{
	for (int i = nhooks - 1; i >= 0; i--) {
		if (hooks[i].fn == fn && hooks[i].arg == arg) {
			for (int j = i; j + 1 < nhooks; j++)
				hooks[j] = hooks[j + 1];
			nhooks--;
			return;
		}
	}
}

void util_cleanup_run(void)
{
	if (in_cleanup)
		return;
	in_cleanup = 1;
	while (nhooks > 0) {
		nhooks--;
		hooks[nhooks].fn(hooks[nhooks].arg);
	}
	in_cleanup = 0;
}

void util_fatal(const char *fmt, ...)
{
	util_cleanup_run();
	va_list ap;
	va_start(ap, fmt);
	fputs("proftop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* The terminal's modes at startup, before curses changed them; the crash handler puts them back. */
static struct termios crash_tio;
static volatile sig_atomic_t crash_tio_saved;

/* Did curses (or anything) change the terminal's modes since startup?  Plain field compares:
 * async-signal-safe. */
static bool crash_tio_changed(const struct termios *now)
{
	return now->c_lflag != crash_tio.c_lflag || now->c_iflag != crash_tio.c_iflag ||
	       now->c_oflag != crash_tio.c_oflag || now->c_cflag != crash_tio.c_cflag;
}

/*
 * A crash signal: only async-signal-safe work.  The cleanup hooks do not run here (they free
 * memory, waitpid and endwin, none of it safe in a handler that interrupted malloc or curses).
 * The target is safe without them: when we die the kernel detaches every ptrace tracee (seized,
 * so each one just runs on) and our perf events go away with our file descriptors.  All that is
 * left is the terminal: when its modes differ from the ones saved at startup (the TUI was on),
 * leave the alternate screen, stop mouse reporting, show the cursor and restore the modes; then
 * die of the same signal with the default action (a core dump where enabled).
 */
static void crash_handler(int sig)
{
	if (crash_tio_saved) {
		struct termios now;
		if (tcgetattr(STDOUT_FILENO, &now) == 0 && crash_tio_changed(&now)) {
			static const char reset[] = "\033[?1000l\033[?1002l\033[?1003l\033[?1006l"
						    "\033[0m\033[?1049l\033[?1l\033>\033[?25h\r\n";
			ssize_t w = write(STDOUT_FILENO, reset, sizeof reset - 1);
			(void)w;
			tcsetattr(STDOUT_FILENO, TCSANOW, &crash_tio);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void util_crash_handlers_install(void)
{
	if (isatty(STDOUT_FILENO) && tcgetattr(STDOUT_FILENO, &crash_tio) == 0)
		crash_tio_saved = 1;
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = crash_handler;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < UTIL_ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* ---- log ---- */

static FILE *log_file;

int util_log_open(const char *path, char **cause)
{
	log_file = fopen(path, "ae");
	if (!log_file) {
		*cause = xasprintf("cannot write the log %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	return 0;
}

void util_log(const char *fmt, ...)
{
	if (!log_file)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	fprintf(log_file, "%s.%03ld [%d] ", stamp, ts.tv_nsec / 1000000, (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	vfprintf(log_file, fmt, ap);
	va_end(ap);
	fputc('\n', log_file);
}

void util_log_close(void)
{
	if (log_file)
		fclose(log_file);
	log_file = NULL;
}

/* ---- time ---- */

uint64_t util_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t util_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- files ---- */

/* Read fd to its end or to max bytes, NUL-terminated; closes fd.  cap is the first buffer size.
 * NULL with errno set on a read error. */
static char *read_fd(int fd, size_t max, size_t cap, size_t *len)
{
	if (cap > max + 1)
		cap = max + 1;
	size_t n = 0;
	char *buf = xmalloc(cap);
	while (n < max) {
		if (n + 1 >= cap) {
			cap = cap > max / 2 ? max + 1 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		size_t want = cap - n - 1;
		if (want > max - n)
			want = max - n;
		ssize_t r = read(fd, buf + n, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *util_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	return read_fd(fd, SIZE_MAX - 1, 4096, len); /* procfs files report no size: grow */
}

ssize_t util_read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r;
	do
		r = read(fd, buf, n - 1);
	while (r < 0 && errno == EINTR);
	int e = errno;
	close(fd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	buf[r] = '\0';
	return r;
}

char *util_read_regular(const char *path, size_t max, size_t *len, struct stat *st)
{
	/* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat sb;
	int e = 0;
	if (fstat(fd, &sb) < 0)
		e = errno;
	else if (!S_ISREG(sb.st_mode))
		e = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
	if (e) {
		close(fd);
		errno = e;
		return NULL;
	}
	size_t cap = sb.st_size > 0 && (uint64_t)sb.st_size < max ? (size_t)sb.st_size + 1 : 4096;
	char *buf = read_fd(fd, max, cap, len);
	if (buf && st)
		*st = sb;
	return buf;
}

int util_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int util_atomic_open(struct util_atomic *a, const char *path, char **cause)
{
	a->fd = -1;
	a->tmp = a->path = NULL;
	/* The rename at commit would fail on a directory and replace a device node or a FIFO:
	 * say so now, before anything is attached. */
	struct stat st;
	size_t plen = strlen(path);
	bool exists = stat(path, &st) == 0;
	if ((exists && S_ISDIR(st.st_mode)) || (plen && path[plen - 1] == '/')) {
		*cause = xasprintf("cannot write %s: is a directory", path);
		errno = EISDIR;
		return -1;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		*cause = xasprintf("cannot write %s: not a regular file", path);
		errno = EINVAL;
		return -1;
	}
	a->path = xstrdup(path);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *dir = path_dir(path);
	a->tmp = xasprintf("%s/.%s.XXXXXX", dir, base);
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0) {
		int e = errno;
		*cause = xasprintf("cannot write %s: %s%s", path, strerror(e),
				   e == EACCES || e == EROFS ? " (choose a writable directory)" : "");
		free(dir);
		free(a->tmp);
		free(a->path);
		a->tmp = a->path = NULL;
		errno = e;
		return -1;
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(a->fd, 0666 & ~mask);
	free(dir);
	return 0;
}

int util_atomic_commit(struct util_atomic *a, bool no_clobber, char **cause)
{
	int e = 0;
	if (fsync(a->fd) < 0 && errno != EINVAL)
		e = errno;
	if (close(a->fd) < 0 && !e)
		e = errno;
	a->fd = -1;
	if (!e) {
		if (no_clobber) {
			if (link(a->tmp, a->path) < 0)
				e = errno;
			unlink(a->tmp);
		} else if (rename(a->tmp, a->path) < 0) {
			e = errno;
		}
	}
	if (e) {
		*cause = xasprintf("cannot write %s: %s", a->path, strerror(e));
		unlink(a->tmp);
	}
	free(a->tmp);
	free(a->path);
	a->tmp = a->path = NULL;
	errno = e;
	return e ? -1 : 0;
}

void util_atomic_abort(struct util_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp)
		unlink(a->tmp);
	free(a->tmp);
	free(a->path);
	a->fd = -1;
	a->tmp = a->path = NULL;
}

/* ---- strbuf ---- */

void strbuf_putn(struct strbuf *sb, const char *s, size_t n)
{
	util_grow((void **)&sb->s, &sb->cap, sb->len + n + 1, 1);
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_putn(sb, &c, 1);
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_putn(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, aq;
	va_start(ap, fmt);
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n > 0) {
		util_grow((void **)&sb->s, &sb->cap, sb->len + (size_t)n + 1, 1);
		vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
		sb->len += (size_t)n;
	}
	va_end(ap);
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when it is not one: a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate or beyond U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void strbuf_json_str(struct strbuf *sb, const char *s)
{
	strbuf_putc(sb, '"');
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		size_t n = 1;
		switch (*p) {
		case '"': strbuf_puts(sb, "\\\""); break;
		case '\\': strbuf_puts(sb, "\\\\"); break;
		case '\n': strbuf_puts(sb, "\\n"); break;
		case '\r': strbuf_puts(sb, "\\r"); break;
		case '\t': strbuf_puts(sb, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				strbuf_printf(sb, "\\u%04x", *p);
			} else if (*p < 0x80) {
				strbuf_putc(sb, (char)*p);
			} else if ((n = utf8_seq_len(p)) > 0) {
				strbuf_putn(sb, (const char *)p, n);
			} else {
				/* Not UTF-8 (a thread name or path from the target): one U+FFFD per
				 * bad byte keeps the document valid JSON. */
				strbuf_puts(sb, "\\ufffd");
				n = 1;
			}
		}
		p += n;
	}
	strbuf_putc(sb, '"');
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s)
		sb->s[0] = '\0';
}

void strbuf_done(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->used + n > a->cap) {
		size_t cap = n > 65536 ? n : 65536;
		struct arena_block *b = xmalloc(sizeof *b + cap);
		b->next = a->head;
		a->head = b;
		a->used = 0;
		a->cap = cap;
	}
	void *p = (char *)a->head->data + a->used;
	a->used += n;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);
	memcpy(p, s, n);
	return p;
}

void arena_done(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = a->cap = 0;
}

/* ---- strtab ---- */

const char *strtab_intern(struct strtab *t, const char *s)
{
	if (t->count * 2 >= t->nslots) {
		size_t n = t->nslots ? t->nslots * 2 : 256;
		const char **slots = xcalloc(n, sizeof *slots);
		for (size_t i = 0; i < t->nslots; i++) {
			if (!t->slots[i])
				continue;
			size_t h = util_hash_bytes(t->slots[i], strlen(t->slots[i]), 0) & (n - 1);
			while (slots[h])
				h = (h + 1) & (n - 1);
			slots[h] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = n;
	}
	size_t h = util_hash_bytes(s, strlen(s), 0) & (t->nslots - 1);
	while (t->slots[h]) {
		if (strcmp(t->slots[h], s) == 0)
			return t->slots[h];
		h = (h + 1) & (t->nslots - 1);
	}
	t->slots[h] = arena_strdup(&t->arena, s);
	t->count++;
	return t->slots[h];
}

void strtab_done(struct strtab *t)
{
	free(t->slots);
	arena_done(&t->arena);
	t->slots = NULL;
	t->nslots = t->count = 0;
}

/* ---- hashing ---- */

uint64_t util_hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t util_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	/* FNV-1a, then a final mix. */
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return util_hash64(h);
}

/* ---- formatting and parsing ---- */

const char *util_fmt_bytes(char *buf, size_t n, double bytes)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes < 0 ? -bytes : bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < UTIL_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%s%.0f %s", bytes < 0 ? "-" : "", v, units[u]);
	else
		snprintf(buf, n, "%s%.1f %s", bytes < 0 ? "-" : "", v, units[u]);
	return buf;
}

long util_parse_long(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		return -1;
	return v;
}

double util_parse_seconds(const char *s)
{
	/* A digit or a point first: no sign, no blanks, no "inf" or "nan". */
	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	if (*end == 'm' && end[1] == '\0')
		v *= 60;
	else if (*end && !(*end == 's' && end[1] == '\0'))
		return -1;
	if (v > UTIL_SECONDS_MAX)
		return -1;
	return v;
}

const char *util_proc_comm(pid_t pid, pid_t tid, char *buf, size_t n)
{
	char path[64];
	if (tid > 0)
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	else
		snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	ssize_t r = util_read_small(path, buf, n);
	if (r <= 0) {
		snprintf(buf, n, "?");
		return buf;
	}
	if (buf[r - 1] == '\n')
		buf[r - 1] = '\0';
	return buf;
}
