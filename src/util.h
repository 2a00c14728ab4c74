/*
 * util: allocation, growable buffers, time, small file helpers and the fatal-exit path.
 *
 * Allocation wrappers never return NULL: on exhaustion or size overflow they call util_fatal(),
 * which runs the registered cleanup hooks (restore the terminal, detach from the target) and exits.
 * Nothing here writes to stdout/stderr while a cleanup hook says the terminal is in curses mode;
 * util_fatal() runs the hooks first, then prints.
 */
#ifndef PROFTOP_UTIL_H
#define PROFTOP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define UTIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* realloc of nmemb*size bytes, with overflow check. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Grow *p (holding *cap elements of size sz) so that it holds at least need elements. */
void util_grow(void **p, size_t *cap, size_t need, size_t sz);

/*
 * Binary search in an array sorted (ascending) by an integer field: util_lower_* gives the first
 * index whose field is >= key, util_upper_* the first whose field is > key; n when there is none.
 * The field is at byte offset off of each stride-byte element; UTIL_FIELD(array, field) gives
 * both, e.g.  util_lower_i32(v, n, UTIL_FIELD(v, tid), tid).  Suffix: the field's type
 * (u64 uint64_t, i64 int64_t, u32 uint32_t, i32 int32_t and pid_t).
 */
#define UTIL_FIELD(arr, field) sizeof *(arr), offsetof(__typeof__(*(arr)), field)
size_t util_lower_u64(const void *base, size_t n, size_t stride, size_t off, uint64_t key);
size_t util_upper_u64(const void *base, size_t n, size_t stride, size_t off, uint64_t key);
size_t util_lower_i64(const void *base, size_t n, size_t stride, size_t off, int64_t key);
size_t util_lower_u32(const void *base, size_t n, size_t stride, size_t off, uint32_t key);
size_t util_lower_i32(const void *base, size_t n, size_t stride, size_t off, int32_t key);

/* A cleanup hook runs on util_fatal() (not on crash signals); hooks run newest first. */
typedef void (*util_cleanup_fn)(void *arg);
void util_cleanup_push(util_cleanup_fn fn, void *arg);
void util_cleanup_remove(util_cleanup_fn fn, void *arg);
void util_cleanup_run(void);
/* Run the cleanup hooks, print "proftop: MESSAGE" to stderr and exit(1). */
void util_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Save the terminal's modes (when stdout is a terminal) and install SIGSEGV/SIGBUS/SIGFPE/SIGILL/
 * SIGABRT handlers.  Call first thing in main(), before curses.  The handlers do only
 * async-signal-safe work: if the terminal's modes changed since the call (the TUI was on), they
 * leave the alternate screen, show the cursor and restore the saved modes; then they re-raise the
 * signal with its default action.  They run no cleanup hooks: the kernel detaches the ptrace
 * tracees and closes the perf events of a dying process. */
void util_crash_handlers_install(void);

/* Diagnostics log (-v FILE): util_log() appends a timestamped line when a log is open, and does
 * nothing otherwise.  The only way anything reaches a file while curses owns the terminal. */
int util_log_open(const char *path, char **cause);
void util_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void util_log_close(void);

/* Monotonic and real time in nanoseconds. */
uint64_t util_now_ns(void);
uint64_t util_realtime_ns(void);

/* Read a whole (small, /proc-like) file into a NUL-terminated buffer owned by the caller.
 * Returns NULL with errno set on failure; *len (optional) gets the byte count. */
char *util_read_file(const char *path, size_t *len);
/* Read into buf (size n, NUL-terminated); returns bytes read or -1. For hot /proc reads. */
ssize_t util_read_small(const char *path, char *buf, size_t n);
/* Read a file whose path or content another process controls (the target's perf map, source
 * files named by its debug info): opened non-blocking, so a FIFO cannot hang us, and read only if
 * fstat says it is a regular file (else NULL with errno EISDIR or EINVAL); at most max bytes are
 * read (a bigger file comes back cut short).  Returns a NUL-terminated buffer owned by the caller,
 * or NULL with errno set; *len and *st (both optional) get the byte count and the fstat. */
char *util_read_regular(const char *path, size_t max, size_t *len, struct stat *st);

/*
 * Atomic file output: util_atomic_open() creates a hidden temporary file beside path;
 * util_atomic_commit() fsyncs, closes and renames it over path (or, with no_clobber, links it
 * to path and fails with EEXIST if path exists); util_atomic_abort() removes the temporary.
 * On failure *cause gets a one-line message owned by the caller.
 */
struct util_atomic {
	int fd;
	char *path;
	char *tmp;
};
int util_atomic_open(struct util_atomic *a, const char *path, char **cause);
int util_atomic_commit(struct util_atomic *a, bool no_clobber, char **cause);
void util_atomic_abort(struct util_atomic *a);
/* Write all of buf; returns 0 or -1 with errno. */
int util_write_all(int fd, const void *buf, size_t n);

/* Growable string buffer. sb.s is always NUL-terminated after the first append. */
struct strbuf {
	char *s;
	size_t len, cap;
};
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putn(struct strbuf *sb, const char *s, size_t n);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259 requires. */
void strbuf_json_str(struct strbuf *sb, const char *s);
void strbuf_reset(struct strbuf *sb);
void strbuf_done(struct strbuf *sb);

/* Bump allocator: many small objects freed at once. */
struct arena_block;
struct arena {
	struct arena_block *head;
	size_t used, cap;
};
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_done(struct arena *a);

/* String interning: equal strings get one pointer, valid until strtab_done(). */
struct strtab {
	struct arena arena;
	const char **slots;
	size_t nslots, count;
};
const char *strtab_intern(struct strtab *t, const char *s);
void strtab_done(struct strtab *t);

/* 64-bit hashing for open-addressing tables. */
uint64_t util_hash64(uint64_t x);
uint64_t util_hash_bytes(const void *p, size_t n, uint64_t seed);

/* Human-readable byte size into buf ("84.0 MiB"). Returns buf. */
const char *util_fmt_bytes(char *buf, size_t n, double bytes);

/* The longest duration util_parse_seconds() accepts (about 116 days). */
#define UTIL_SECONDS_MAX 1e7
/* Parse a non-negative integer; -1 on junk. */
long util_parse_long(const char *s);
/* Parse a duration in seconds ("2", "0.5", "30s", "5m") from 0 to UTIL_SECONDS_MAX; -1 on junk,
 * a sign, inf, nan or anything larger. */
double util_parse_seconds(const char *s);

/* Read /proc/PID/comm (without the newline) into buf; returns buf or "?" on failure. */
const char *util_proc_comm(pid_t pid, pid_t tid, char *buf, size_t n);

#endif
