/*
 * unwind: registers + stack memory -> return addresses, with libunwind's remote API and our own
 * accessors (see unwind.h for the contract).
 *
 * Layout of the state:
 *   - maps: every line of /proc/PID/maps, sorted by address (the kernel's order);
 *   - modules: one per loaded ELF object (a group of mappings of one file, or the vDSO) that has
 *     an executable mapping; opened lazily the first time an unwind needs it, through
 *     /proc/PID/map_files/START-END (deleted files, other mount namespaces) or /proc/PID/root/PATH.
 *     The file is mmap'ed read-only so that libunwind's reads of .eh_frame_hdr and .eh_frame cost
 *     a memcpy, not a syscall.  When the file cannot be opened, the ELF and .eh_frame_hdr headers
 *     are read from the target's memory instead and the table is read live (slower, same result);
 *   - the stack: the caller's copy, or our own 64 KiB buffer filled with one process_vm_readv.
 *
 * The walk: libunwind (DWARF CFI from .eh_frame) for frames whose module has an .eh_frame_hdr;
 * the frame-pointer chain for frames in code without unwind info (Go, JIT, hand-written assembly)
 * and for frames where libunwind gives up.  After a frame-pointer step, libunwind takes over again
 * at the next frame that has unwind info (cursor re-initialised from ip, sp and bp).
 */
#include "unwind.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libunwind.h>

#include "util.h"

/* Exported by libunwind but not declared in its public header. */
int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
				       unw_proc_info_t *pi, int need_unwind_info, void *arg);

enum {
	UNWIND_STACK_MAX = 64 * 1024,         /* live stack read from SP */
	UNWIND_RELOAD_NS = 100 * 1000 * 1000, /* maps reread at most this often on a miss */
	UNWIND_VDSO_MAX = 64 * 1024,
	UNWIND_CACHE_ENTRIES = 1024,          /* libunwind register-state cache */
	UNWIND_NOINFO_SLOTS = 64,             /* pcs known to have no FDE (power of two) */
};

enum unwind_prot { UNWIND_PROT_R = 1, UNWIND_PROT_W = 2, UNWIND_PROT_X = 4 };

enum unwind_mod_state { UNWIND_MOD_NEW, UNWIND_MOD_READY, UNWIND_MOD_FAILED };

struct unwind_module {
	/* Identity: the file (dev, inode) and where its offset 0 would be mapped. */
	uint64_t dev, ino, key;
	char *path;              /* as in /proc/PID/maps, or "[vdso]" */
	bool vdso;
	/* The first mapping of the group: opening via map_files and the load bias. */
	uint64_t map_start, map_end, map_offset;
	bool has_exec, used;
	enum unwind_mod_state state;
	/* Cached image: the whole file (mmap) or the vDSO (malloc), indexed by file offset. */
	const uint8_t *image;
	size_t image_len;
	bool image_mmapped;
	uint64_t bias;           /* runtime address = p_vaddr + bias */
	uint64_t relro_lo, relro_hi; /* relocated at run time: never served from the file */
	bool has_table;
	unw_dyn_info_t di;
};

struct unwind_map {
	uint64_t start, end, offset;
	unsigned prot;
	struct unwind_module *mod; /* NULL: anonymous, or a file without executable code */
};

struct unwinder {
	pid_t pid;
	unw_addr_space_t as;
	long pagesz;

	struct unwind_map *maps;
	size_t nmaps, capmaps, hint;
	struct unwind_module **mods;
	size_t nmods, capmods;
	bool maps_loaded, maps_dirty;
	uint64_t last_reload_ns;
	char *mapsbuf;
	size_t mapsbuf_cap;

	/* The stack of the unwind in progress. */
	const uint8_t *stk;
	uint64_t stk_addr;
	size_t stk_len;
	uint8_t *stkbuf;

	/* Registers libunwind sees for the frame the cursor was initialised at. */
	struct unwind_regs cur;

	/* Lookup pcs without unwind info (code without CFI in a module with a table): libunwind
	 * caches only successes, and a failed search costs a binary search of the table. */
	uint64_t noinfo[UNWIND_NOINFO_SLOTS];

	struct unwind_stats stats;
};

/* Read target memory with process_vm_readv, splitting the remote range at page boundaries so a
 * fault stops the copy at the first unreadable page.  Returns bytes read or -1. */
static ssize_t unwind_mem_read(const struct unwinder *u, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote[UNWIND_STACK_MAX / 4096 + 2];
	size_t n = 0, done = 0;
	uint64_t psz = (uint64_t)u->pagesz;

	while (done < len && n < UTIL_ARRAY_LEN(remote)) {
		uint64_t a = addr + done;
		size_t chunk = (size_t)(psz - (a & (psz - 1)));
		if (chunk > len - done)
			chunk = len - done;
		remote[n].iov_base = (void *)(uintptr_t)a;
		remote[n].iov_len = chunk;
		n++;
		done += chunk;
	}
	local.iov_len = done;
	return process_vm_readv(u->pid, &local, 1, remote, n, 0);
}

/* ---- maps ---------------------------------------------------------------------------------- */

/* The mapping containing addr, or NULL. */
static const struct unwind_map *unwind_map_find(struct unwinder *u, uint64_t addr)
{
	if (u->hint < u->nmaps) {
		const struct unwind_map *m = &u->maps[u->hint];
		if (addr >= m->start && addr < m->end)
			return m;
	}
	size_t lo = 0, hi = u->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < u->maps[mid].start)
			hi = mid;
		else if (addr >= u->maps[mid].end)
			lo = mid + 1;
		else {
			u->hint = mid;
			return &u->maps[mid];
		}
	}
	return NULL;
}

static void unwind_module_free(struct unwind_module *m)
{
	if (!m)
		return;
	if (m->image) {
		if (m->image_mmapped)
			munmap((void *)(uintptr_t)m->image, m->image_len);
		else
			free((void *)(uintptr_t)m->image);
	}
	free(m->path);
	free(m);
}

/* Find the module of a mapping group among the current ones (reused across reloads). */
static struct unwind_module *unwind_module_lookup(struct unwinder *u, uint64_t dev, uint64_t ino,
						  uint64_t key, const char *path)
{
	for (size_t i = 0; i < u->nmods; i++) {
		struct unwind_module *m = u->mods[i];
		if (m->dev == dev && m->ino == ino && m->key == key && strcmp(m->path, path) == 0)
			return m;
	}
	return NULL;
}

static uint64_t unwind_parse_hex(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		v = v << 4 | d;
	}
	*pp = p;
	return v;
}

/* Parse one line of /proc/PID/maps (NUL-terminated, no newline).  Returns false on junk. */
static bool unwind_maps_parse_line(const char *p, struct unwind_map *m, uint64_t *dev,
				   uint64_t *ino, const char **path)
{
	m->start = unwind_parse_hex(&p);
	if (*p++ != '-')
		return false;
	m->end = unwind_parse_hex(&p);
	if (*p++ != ' ' || !p[0] || !p[1] || !p[2] || !p[3])
		return false;
	m->prot = (p[0] == 'r' ? UNWIND_PROT_R : 0u) | (p[1] == 'w' ? UNWIND_PROT_W : 0u) |
		  (p[2] == 'x' ? UNWIND_PROT_X : 0u);
	p += 4;
	if (*p++ != ' ')
		return false;
	m->offset = unwind_parse_hex(&p);
	if (*p++ != ' ')
		return false;
	uint64_t major = unwind_parse_hex(&p);
	if (*p++ != ':')
		return false;
	uint64_t minor = unwind_parse_hex(&p);
	if (*p++ != ' ')
		return false;
	*dev = major << 32 | minor;
	*ino = 0;
	while (*p >= '0' && *p <= '9')
		*ino = *ino * 10 + (uint64_t)(*p++ - '0');
	while (*p == ' ')
		p++;
	*path = p;
	m->mod = NULL;
	return m->end > m->start;
}

/* Read /proc/PID/maps into u->mapsbuf (reused).  Returns the length or -1. */
static ssize_t unwind_maps_read(struct unwinder *u)
{
	char fn[64];
	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)u->pid);
	int fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		if (u->mapsbuf_cap - len < 4096)
			util_grow((void **)&u->mapsbuf, &u->mapsbuf_cap, u->mapsbuf_cap + 65536, 1);
		ssize_t r = read(fd, u->mapsbuf + len, u->mapsbuf_cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	u->mapsbuf[len] = '\0';
	return (ssize_t)len;
}

/* Reread /proc/PID/maps; keep the modules that are still mapped at the same place. */
static int unwind_maps_reload(struct unwinder *u)
{
	u->last_reload_ns = util_now_ns();
	u->maps_dirty = false;
	u->stats.maps_reloads++;
	ssize_t len = unwind_maps_read(u);
	if (len < 0)
		return -1;
	u->maps_loaded = true;

	for (size_t i = 0; i < u->nmods; i++)
		u->mods[i]->used = false;
	u->nmaps = 0;
	u->hint = 0;

	struct unwind_module *group = NULL; /* module of the previous file-backed mapping */
	uint64_t group_off = 0, group_end = 0;
	size_t nmods_old = u->nmods;
	char *line = u->mapsbuf;
	while (*line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct unwind_map m;
		uint64_t dev, ino;
		const char *path;
		if (unwind_maps_parse_line(line, &m, &dev, &ino, &path)) {
			bool vdso = strcmp(path, "[vdso]") == 0;
			bool file = ino != 0 && path[0] == '/' && strncmp(path, "/dev/", 5) != 0;
			if (file && group && group->dev == dev && group->ino == ino &&
			    m.offset >= group_off && m.start >= group_end &&
			    strcmp(group->path, path) == 0) {
				m.mod = group;
			} else if (file || vdso) {
				uint64_t key = m.start - m.offset;
				struct unwind_module *mod = unwind_module_lookup(u, dev, ino, key, path);
				if (!mod) {
					mod = xcalloc(1, sizeof(*mod));
					mod->dev = dev;
					mod->ino = ino;
					mod->key = key;
					mod->path = xstrdup(path);
					mod->vdso = vdso;
					util_grow((void **)&u->mods, &u->capmods, u->nmods + 1,
						  sizeof(*u->mods));
					u->mods[u->nmods++] = mod;
				}
				mod->used = true;
				mod->has_exec = false;
				/* The mapping may have been split: keep a name map_files knows. */
				mod->map_start = m.start;
				mod->map_end = m.end;
				mod->map_offset = m.offset;
				m.mod = mod;
			}
			if (m.mod) {
				if (m.prot & UNWIND_PROT_X)
					m.mod->has_exec = true;
				group = vdso ? NULL : m.mod;
				group_off = m.offset;
				group_end = m.end;
			}
			util_grow((void **)&u->maps, &u->capmaps, u->nmaps + 1, sizeof(*u->maps));
			u->maps[u->nmaps++] = m;
		}
		if (!nl)
			break;
		line = nl + 1;
	}

	/* Only objects with code are modules: data files are read live, devices never opened. */
	for (size_t i = 0; i < u->nmaps; i++)
		if (u->maps[i].mod && !u->maps[i].mod->has_exec)
			u->maps[i].mod = NULL;
	bool dropped_old = false;
	size_t k = 0;
	for (size_t i = 0; i < u->nmods; i++) {
		struct unwind_module *mod = u->mods[i];
		if (mod->used && mod->has_exec) {
			u->mods[k++] = mod;
		} else {
			if (i < nmods_old)
				dropped_old = true;
			unwind_module_free(mod);
		}
	}
	u->nmods = k;
	/* Cached register states of code that is gone (dlclose) must not be reused. */
	if (dropped_old)
		unw_flush_cache(u->as, 0, 0);
	memset(u->noinfo, 0, sizeof(u->noinfo));
	return 0;
}

/* Reload the maps unless that was done less than 100 ms ago.  True when reloaded. */
static bool unwind_maps_maybe_reload(struct unwinder *u)
{
	if (util_now_ns() - u->last_reload_ns < UNWIND_RELOAD_NS)
		return false;
	unwind_maps_reload(u);
	return true;
}

/* The mapping containing addr, rereading the maps (rate-limited) on a miss. */
static const struct unwind_map *unwind_map_find_reload(struct unwinder *u, uint64_t addr)
{
	const struct unwind_map *m = unwind_map_find(u, addr);
	if (!m && unwind_maps_maybe_reload(u))
		m = unwind_map_find(u, addr);
	return m;
}

/* ---- modules ------------------------------------------------------------------------------- */

/* Open the file behind a module, checking that it is the mapped one. */
static int unwind_module_open(const struct unwinder *u, const struct unwind_module *m)
{
	char fn[4096 + 64];
	struct stat st;
	snprintf(fn, sizeof(fn), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)u->pid,
		 m->map_start, m->map_end);
	int fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			return fd;
		close(fd);
		return -1;
	}
	size_t plen = strlen(m->path);
	static const char deleted[] = " (deleted)";
	if (plen >= sizeof(deleted) - 1 &&
	    strcmp(m->path + plen - (sizeof(deleted) - 1), deleted) == 0)
		plen -= sizeof(deleted) - 1;
	snprintf(fn, sizeof(fn), "/proc/%d/root%.*s", (int)u->pid, (int)plen, m->path);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A path may name a newer file than the mapped one: the inode must match. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != m->ino) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Copy len bytes at offset off of segment ph, from the cached image or the target's memory. */
static bool unwind_module_seg_read(const struct unwinder *u, const struct unwind_module *m,
				   const Elf64_Phdr *ph, uint64_t off, void *buf, size_t len)
{
	if (off > ph->p_filesz || len > ph->p_filesz - off)
		return false;
	if (m->image) {
		if (ph->p_offset > m->image_len || off + len > m->image_len - ph->p_offset)
			return false;
		memcpy(buf, m->image + ph->p_offset + off, len);
		return true;
	}
	return unwind_mem_read(u, m->bias + ph->p_vaddr + off, buf, len) == (ssize_t)len;
}

/* Decode one DWARF pointer of the given encoding (DW_EH_PE_*, value part only). */
static bool unwind_eh_decode(uint8_t enc, const uint8_t *p, size_t avail, uint64_t *val,
			     size_t *size)
{
	switch (enc & 0x0f) {
	case 0x00: /* absptr */
	case 0x04: /* udata8 */
	case 0x0c: /* sdata8 */
		*size = 8;
		break;
	case 0x02: /* udata2 */
	case 0x0a: /* sdata2 */
		*size = 2;
		break;
	case 0x03: /* udata4 */
	case 0x0b: /* sdata4 */
		*size = 4;
		break;
	default:
		return false;
	}
	if (*size > avail)
		return false;
	uint64_t v = 0;
	memcpy(&v, p, *size); /* little-endian */
	if ((enc & 0x0f) == 0x0b)
		v = (uint64_t)(int64_t)(int32_t)v;
	else if ((enc & 0x0f) == 0x0a)
		v = (uint64_t)(int64_t)(int16_t)v;
	*val = v;
	return true;
}

/* Parse the ELF program headers (from hdr, len bytes at file offset 0): load bias, RELRO and
 * the .eh_frame_hdr binary-search table. */
static void unwind_module_parse(const struct unwinder *u, struct unwind_module *m,
				const uint8_t *hdr, size_t len)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh))
		return;
	memcpy(&eh, hdr, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return;

	uint64_t psz = (uint64_t)u->pagesz;
	const Elf64_Phdr *ph_eh = NULL;
	Elf64_Phdr phs[64];
	size_t n = eh.e_phnum < UTIL_ARRAY_LEN(phs) ? eh.e_phnum : UTIL_ARRAY_LEN(phs);
	memcpy(phs, hdr + eh.e_phoff, n * sizeof(Elf64_Phdr));
	bool have_bias = false, have_load = false;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		const Elf64_Phdr *ph = &phs[i];
		if (ph->p_type == PT_LOAD) {
			have_load = true;
			if (ph->p_vaddr < lo)
				lo = ph->p_vaddr;
			if (ph->p_vaddr + ph->p_memsz > hi)
				hi = ph->p_vaddr + ph->p_memsz;
			uint64_t seg_off = ph->p_offset & ~(psz - 1);
			if (!have_bias && m->map_offset >= seg_off &&
			    m->map_offset < ph->p_offset + ph->p_filesz) {
				m->bias = m->map_start - m->map_offset - (ph->p_vaddr - ph->p_offset);
				have_bias = true;
			}
		} else if (ph->p_type == PT_GNU_EH_FRAME) {
			ph_eh = ph;
		}
	}
	if (!have_bias || !have_load)
		return;
	for (size_t i = 0; i < n; i++) {
		if (phs[i].p_type == PT_GNU_RELRO) {
			m->relro_lo = phs[i].p_vaddr + m->bias;
			m->relro_hi = m->relro_lo + phs[i].p_memsz;
		}
	}
	if (!ph_eh)
		return;

	/* .eh_frame_hdr: version, eh_frame_ptr_enc, fde_count_enc, table_enc, then the values. */
	uint8_t h[4 + 8 + 8];
	size_t hlen = ph_eh->p_filesz < sizeof(h) ? (size_t)ph_eh->p_filesz : sizeof(h);
	if (hlen < 4 + 4 + 4 || !unwind_module_seg_read(u, m, ph_eh, 0, h, hlen))
		return;
	if (h[0] != 1 || h[1] == 0xff || h[2] == 0xff || h[3] != 0x3b /* datarel|sdata4 */)
		return;
	uint64_t v, fde_count;
	size_t s1, s2;
	if (!unwind_eh_decode(h[1], h + 4, hlen - 4, &v, &s1) ||
	    !unwind_eh_decode(h[2], h + 4 + s1, hlen - 4 - s1, &fde_count, &s2))
		return;
	uint64_t table_off = 4 + s1 + s2;
	if (fde_count == 0 || fde_count > (ph_eh->p_filesz - table_off) / 8)
		return;

	uint64_t segbase = ph_eh->p_vaddr + m->bias;
	memset(&m->di, 0, sizeof(m->di));
	m->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	m->di.start_ip = lo + m->bias;
	m->di.end_ip = hi + m->bias;
	m->di.u.rti.name_ptr = 0;
	m->di.u.rti.segbase = segbase;
	m->di.u.rti.table_data = segbase + table_off;
	m->di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
	m->has_table = true;
}

/* Map the module's file (or copy the vDSO) and parse its headers; once per module. */
static void unwind_module_load(struct unwinder *u, struct unwind_module *m)
{
	if (m->state != UNWIND_MOD_NEW)
		return;
	m->state = UNWIND_MOD_FAILED;
	if (m->vdso) {
		size_t len = (size_t)(m->map_end - m->map_start);
		if (len > UNWIND_VDSO_MAX)
			return;
		uint8_t *img = xmalloc(len);
		if (unwind_mem_read(u, m->map_start, img, len) != (ssize_t)len) {
			free(img);
			return;
		}
		m->image = img;
		m->image_len = len;
		m->image_mmapped = false;
	} else {
		int fd = unwind_module_open(u, m);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
		    (uint64_t)st.st_size <= SIZE_MAX) {
			void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (p != MAP_FAILED) {
				m->image = p;
				m->image_len = (size_t)st.st_size;
				m->image_mmapped = true;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	m->state = UNWIND_MOD_READY;
	if (m->image) {
		unwind_module_parse(u, m, m->image, m->image_len);
		return;
	}
	/* No file: the ELF header and program headers are mapped at offset 0 of the object. */
	if (m->map_offset != 0)
		return;
	uint8_t hdr[4096];
	size_t len = sizeof(hdr);
	if (m->map_end - m->map_start < len)
		len = (size_t)(m->map_end - m->map_start);
	ssize_t r = unwind_mem_read(u, m->map_start, hdr, len);
	if (r > 0)
		unwind_module_parse(u, m, hdr, (size_t)r);
}

/* The module of the code at ip, loaded, or NULL. */
static struct unwind_module *unwind_module_at(struct unwinder *u, uint64_t ip)
{
	const struct unwind_map *map = unwind_map_find(u, ip);
	if (!map || !map->mod)
		return NULL;
	unwind_module_load(u, map->mod);
	return map->mod;
}

/* ---- memory -------------------------------------------------------------------------------- */

/* Read len (<= 64) bytes of target memory: stack copy, then file image, then the live process. */
static bool unwind_read(struct unwinder *u, uint64_t addr, void *buf, size_t len)
{
	uint64_t d = addr - u->stk_addr;
	if (d < u->stk_len && u->stk_len - d >= len) {
		memcpy(buf, u->stk + d, len);
		return true;
	}
	const struct unwind_map *map = unwind_map_find(u, addr);
	if (map && map->mod && !(map->prot & UNWIND_PROT_W) && addr + len <= map->end) {
		struct unwind_module *m = map->mod;
		unwind_module_load(u, m);
		uint64_t off = addr - map->start + map->offset;
		if (m->image && off < m->image_len && m->image_len - off >= len &&
		    (addr + len <= m->relro_lo || addr >= m->relro_hi)) {
			memcpy(buf, m->image + off, len);
			return true;
		}
	}
	u->stats.mem_reads++;
	return unwind_mem_read(u, addr, buf, len) == (ssize_t)len;
}

/* Load the stack of a live thread from sp (bulk read into our buffer). */
static void unwind_stack_load_live(struct unwinder *u, uint64_t sp)
{
	size_t len = UNWIND_STACK_MAX;
	const struct unwind_map *map = unwind_map_find_reload(u, sp);
	if (map && map->end - sp < len)
		len = (size_t)(map->end - sp);
	u->stk = u->stkbuf;
	u->stk_addr = sp;
	ssize_t r = unwind_mem_read(u, sp, u->stkbuf, len);
	u->stk_len = r > 0 ? (size_t)r : 0;
}

/* ---- libunwind accessors ------------------------------------------------------------------- */

static int unwind_acc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
				     int need_unwind_info, void *arg)
{
	struct unwinder *u = arg;
	/* Not -UNW_ENOINFO: that would make libunwind guess a frame by itself; we want the
	 * failure so that our checked frame-pointer walk takes over. */
	uint64_t *slot = &u->noinfo[util_hash64(ip) & (UNWIND_NOINFO_SLOTS - 1)];
	if (*slot == ip && ip)
		return -UNW_EUNSPEC;
	struct unwind_module *m = unwind_module_at(u, ip);
	if (!m || !m->has_table || ip < m->di.start_ip || ip >= m->di.end_ip)
		return -UNW_EUNSPEC;
	int ret = _Ux86_64_dwarf_search_unwind_table(as, ip, &m->di, pi, need_unwind_info, u);
	if (ret == -UNW_ENOINFO) {
		*slot = ip;
		return -UNW_EUNSPEC;
	}
	return ret;
}

static void unwind_acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	/* libunwind frees what dwarf_search_unwind_table allocated (format TABLE). */
	(void)as;
	(void)pi;
	(void)arg;
}

static int unwind_acc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int unwind_acc_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
				 int write, void *arg)
{
	(void)as;
	if (write)
		return -UNW_EINVAL;
	return unwind_read(arg, addr, val, sizeof(*val)) ? 0 : -UNW_EINVAL;
}

/* UNW_X86_64_* (DWARF order) to perf's numbering. */
static const int8_t unwind_reg_from_unw[] = {
	[UNW_X86_64_RAX] = UNWIND_AX, [UNW_X86_64_RDX] = UNWIND_DX, [UNW_X86_64_RCX] = UNWIND_CX,
	[UNW_X86_64_RBX] = UNWIND_BX, [UNW_X86_64_RSI] = UNWIND_SI, [UNW_X86_64_RDI] = UNWIND_DI,
	[UNW_X86_64_RBP] = UNWIND_BP, [UNW_X86_64_RSP] = UNWIND_SP, [UNW_X86_64_R8] = UNWIND_R8,
	[UNW_X86_64_R9] = UNWIND_R9, [UNW_X86_64_R10] = UNWIND_R10, [UNW_X86_64_R11] = UNWIND_R11,
	[UNW_X86_64_R12] = UNWIND_R12, [UNW_X86_64_R13] = UNWIND_R13, [UNW_X86_64_R14] = UNWIND_R14,
	[UNW_X86_64_R15] = UNWIND_R15, [UNW_X86_64_RIP] = UNWIND_IP,
};

static int unwind_acc_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
				 int write, void *arg)
{
	const struct unwinder *u = arg;
	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	if (reg < 0 || (size_t)reg >= UTIL_ARRAY_LEN(unwind_reg_from_unw))
		return -UNW_EBADREG;
	int r = unwind_reg_from_unw[reg];
	if (!(u->cur.valid & (1ULL << r)))
		return -UNW_EBADREG;
	*val = u->cur.r[r];
	return 0;
}

static int unwind_acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
				   int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int unwind_acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;
}

static int unwind_acc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf,
				    size_t len, unw_word_t *off, void *arg)
{
	(void)as;
	(void)addr;
	(void)buf;
	(void)len;
	(void)off;
	(void)arg;
	return -UNW_ENOINFO;
}

static unw_accessors_t unwind_accessors = {
	.find_proc_info = unwind_acc_find_proc_info,
	.put_unwind_info = unwind_acc_put_unwind_info,
	.get_dyn_info_list_addr = unwind_acc_get_dyn_info_list_addr,
	.access_mem = unwind_acc_access_mem,
	.access_reg = unwind_acc_access_reg,
	.access_fpreg = unwind_acc_access_fpreg,
	.resume = unwind_acc_resume,
	.get_proc_name = unwind_acc_get_proc_name,
};

/* ---- public -------------------------------------------------------------------------------- */

struct unwinder *unwinder_new(pid_t pid)
{
	unw_addr_space_t as = unw_create_addr_space(&unwind_accessors, 0);
	if (!as) {
		errno = ENOMEM;
		return NULL;
	}
	unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
	unw_set_cache_size(as, UNWIND_CACHE_ENTRIES, 0); /* refused by some builds: harmless */
	struct unwinder *u = xcalloc(1, sizeof(*u));
	u->pid = pid;
	u->as = as;
	u->pagesz = sysconf(_SC_PAGESIZE);
	if (u->pagesz <= 0 || (u->pagesz & (u->pagesz - 1)))
		u->pagesz = 4096;
	u->stkbuf = xmalloc(UNWIND_STACK_MAX);
	unwind_maps_reload(u); /* a failure is retried at the first unwind */
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	unw_destroy_addr_space(u->as);
	for (size_t i = 0; i < u->nmods; i++)
		unwind_module_free(u->mods[i]);
	free(u->mods);
	free(u->maps);
	free(u->mapsbuf);
	free(u->stkbuf);
	free(u);
}

void unwinder_maps_changed(struct unwinder *u)
{
	u->maps_dirty = true;
}

const struct unwind_stats *unwinder_stats(const struct unwinder *u)
{
	return &u->stats;
}

/* Whether ip can be code: inside an executable mapping (maps reread on a miss). */
static bool unwind_ip_plausible(struct unwinder *u, uint64_t ip)
{
	const struct unwind_map *m = unwind_map_find_reload(u, ip);
	return m && (m->prot & UNWIND_PROT_X);
}

/* Whether the code at ip is the x86-64 Linux rt_sigreturn trampoline (mov $15,%rax; syscall). */
static bool unwind_is_sigreturn(struct unwinder *u, uint64_t ip)
{
	static const uint8_t tramp[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	uint8_t b[sizeof(tramp)];
	return unwind_read(u, ip, b, sizeof(b)) && memcmp(b, tramp, sizeof(b)) == 0;
}

/* Where the innermost frame's return address is when its ip is at a function's first
 * instruction or in a PLT stub: 0 (at [sp]), 8 (after push %rbp, at [sp+8]), or -1. */
static int unwind_entry_ret_offset(struct unwinder *u, uint64_t ip)
{
	uint8_t b[4];
	if (!unwind_read(u, ip, b, sizeof(b)))
		return -1;
	if ((b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa) || /* endbr64 */
	    (b[0] == 0xff && b[1] == 0x25) ||                               /* jmp *x(%rip) */
	    (b[0] == 0xf2 && b[1] == 0xff && b[2] == 0x25) ||               /* bnd jmp */
	    b[0] == 0x55)                                                   /* push %rbp */
		return 0;
	if (b[0] == 0x48 && b[1] == 0x89 && b[2] == 0xe5) /* mov %rsp,%rbp */
		return 8;
	return -1;
}

enum unwind_call { UNWIND_CALL_NONE, UNWIND_CALL_DIRECT, UNWIND_CALL_INDIRECT };

/* Decode the instruction just before ret: a direct call (e8 rel32, *target set), an indirect
 * one (ff /2, any operand) or none. */
static enum unwind_call unwind_call_before(struct unwinder *u, uint64_t ret, uint64_t *target)
{
	uint8_t b[8];
	if (ret < sizeof(b) || !unwind_read(u, ret - sizeof(b), b, sizeof(b)))
		return UNWIND_CALL_NONE;
	if (b[3] == 0xe8) {
		int32_t rel;
		memcpy(&rel, b + 4, sizeof(rel));
		*target = ret + (uint64_t)(int64_t)rel;
		return UNWIND_CALL_DIRECT;
	}
	for (size_t k = 2; k <= 7; k++) {
		size_t at = sizeof(b) - k;
		uint8_t modrm = b[at + 1];
		if (b[at] != 0xff || ((modrm >> 3) & 7) != 2)
			continue;
		unsigned mod = modrm >> 6, rm = modrm & 7;
		size_t len = 2;
		if (mod != 3 && rm == 4) {
			if (at + 2 >= sizeof(b))
				continue;
			len++;
			if (mod == 0 && (b[at + 2] & 7) == 5)
				len += 4;
		}
		if (mod == 0 && rm == 5)
			len += 4;
		else if (mod == 1)
			len += 1;
		else if (mod == 2)
			len += 4;
		if (len == k)
			return UNWIND_CALL_INDIRECT;
	}
	return UNWIND_CALL_NONE;
}

/* One hop through a stub at target: a PLT entry ([endbr64] [bnd] jmp *slot(%rip): the function
 * its GOT slot holds) or a jump stub (jmp rel32).  False when target is not a stub. */
static bool unwind_stub_hop(struct unwinder *u, uint64_t target, uint64_t *next)
{
	uint8_t b[16];
	if (!unwind_read(u, target, b, sizeof(b)))
		return false;
	size_t i = 0;
	if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		i = 4;
	if (b[i] == 0xf2)
		i++;
	int32_t disp;
	if (b[i] == 0xff && b[i + 1] == 0x25) {
		memcpy(&disp, b + i + 2, sizeof(disp));
		return unwind_read(u, target + i + 6 + (uint64_t)(int64_t)disp, next, sizeof(*next));
	}
	if (b[i] == 0xe9) {
		memcpy(&disp, b + i + 1, sizeof(disp));
		*next = target + i + 5 + (uint64_t)(int64_t)disp;
		return true;
	}
	return false;
}

/* Where a call to target lands after a few stub hops. */
static uint64_t unwind_call_target(struct unwinder *u, uint64_t target)
{
	for (int hop = 0; hop < 4 && unwind_stub_hop(u, target, &target); hop++)
		;
	return target;
}

/* Whether a call to target reaches fn: directly, through stubs, or by a jump to fn within the
 * first 64 bytes of the function called (split functions such as "f.part.0", thunks, tail
 * calls at entry).  The jump must hit fn exactly, so a byte pattern is enough. */
static bool unwind_call_reaches(struct unwinder *u, uint64_t target, uint64_t fn)
{
	for (int hop = 0; target != fn; hop++) {
		if (hop < 4 && unwind_stub_hop(u, target, &target))
			continue;
		uint8_t b[64 + 6];
		if (!unwind_read(u, target, b, sizeof(b)))
			return false;
		for (size_t i = 0; i < 64; i++) {
			int32_t disp;
			if (b[i] == 0xe9) {
				memcpy(&disp, b + i + 1, sizeof(disp));
				if (target + i + 5 + (uint64_t)(int64_t)disp == fn)
					return true;
			} else if (b[i] == 0x0f && (b[i + 1] & 0xf0) == 0x80) {
				memcpy(&disp, b + i + 2, sizeof(disp));
				if (target + i + 6 + (uint64_t)(int64_t)disp == fn)
					return true;
			}
		}
		return false;
	}
	return true;
}

/*
 * Find the frame pointer of a frame whose code uses rbp when no register set gave rbp (sp and
 * pc from /proc/PID/syscall).  A candidate is a slot at or above sp holding a saved rbp that
 * does not point down the stack, under a return address that follows a call instruction.
 * Stale return addresses (even whole stale frame records) lie around in a frame's unused
 * slots, so the candidates rank:
 *   1. the call goes to fn_start (the frame's function, when its FDE told us);
 *   2. the saved rbp continues a frame-pointer chain (it points up the stack at a slot under
 *      another return address that follows a call): callers built with frame pointers, Go.
 *      Among these, a direct call to the highest address at or below ip wins (the function
 *      containing ip starts above any other function called from there), then the lowest
 *      indirect call;
 *   3. the lowest 16-byte-aligned candidate (the ABI aligns frame pointers so).
 * Searches 16 KiB (4 KiB past the lowest candidate when fn_start is unknown); false when
 * nothing is plausible.
 */
static bool unwind_scan_bp(struct unwinder *u, uint64_t ip, uint64_t sp, uint64_t fn_start,
			   uint64_t *bp)
{
	const struct unwind_map *sm = unwind_map_find(u, sp);
	if (!sm)
		return false;
	uint64_t lo = sm->start, hi = sm->end;
	uint64_t end = hi - sp > 16384 ? sp + 16384 : hi;
	uint64_t chain_direct = 0, best_target = 0, chain_indirect = 0, first = 0;
	for (uint64_t x = (sp + 7) & ~(uint64_t)7; x + 16 <= end; x += 8) {
		if (first && !fn_start && x - first > 4096)
			break; /* stale slots lie inside the frame, not 4 KiB above its first */
		uint64_t w[2];
		if (!unwind_read(u, x, w, sizeof(w)))
			break;
		if (w[0] >= lo && w[0] <= x)
			continue;
		const struct unwind_map *cm = unwind_map_find(u, w[1]);
		uint64_t target = 0;
		if (!cm || !(cm->prot & UNWIND_PROT_X))
			continue;
		enum unwind_call call = unwind_call_before(u, w[1], &target);
		if (call == UNWIND_CALL_NONE)
			continue;
		if (fn_start && call == UNWIND_CALL_DIRECT && unwind_call_reaches(u, target, fn_start)) {
			*bp = x;
			return true;
		}
		if (!first && !(x & 15))
			first = x;
		if (w[0] >= hi || (w[0] & 7) || hi - w[0] < 16)
			continue;
		if (call == UNWIND_CALL_DIRECT) {
			target = unwind_call_target(u, target);
			if (target > ip || ip - target >= (1u << 20) || (chain_direct && target <= best_target))
				continue;
		} else if (chain_indirect) {
			continue;
		}
		uint64_t r2, t2;
		const struct unwind_map *m2;
		if (!unwind_read(u, w[0] + 8, &r2, sizeof(r2)) || !(m2 = unwind_map_find(u, r2)) ||
		    !(m2->prot & UNWIND_PROT_X) || unwind_call_before(u, r2, &t2) == UNWIND_CALL_NONE)
			continue;
		if (call == UNWIND_CALL_DIRECT) {
			chain_direct = x;
			best_target = target;
		} else {
			chain_indirect = x;
		}
	}
	*bp = chain_direct ? chain_direct : chain_indirect ? chain_indirect : first;
	return *bp != 0;
}

/*
 * For an innermost frame without unwind info: whether it is a leaf that set up no frame (Go's
 * NOFRAME functions, small assembly routines), so that its return address is at [sp].  The word
 * there must follow a direct call whose target starts at most 16 KiB before ip, and must not
 * itself lie between that target and ip (a stale return address inside the function).
 */
static bool unwind_leaf_ret(struct unwinder *u, uint64_t ip, uint64_t sp, uint64_t *ret)
{
	uint64_t r, target = 0;
	if (!unwind_read(u, sp, &r, sizeof(r)))
		return false;
	const struct unwind_map *m = unwind_map_find(u, r);
	if (!m || !(m->prot & UNWIND_PROT_X) ||
	    unwind_call_before(u, r, &target) != UNWIND_CALL_DIRECT)
		return false;
	if (target > ip || ip - target >= 16384 || (r >= target && r <= ip))
		return false;
	*ret = r;
	return true;
}

/* Append pc; false (and *trunc) when pcs is full. */
static bool unwind_push(uint64_t *pcs, int max, int *n, uint64_t pc, bool *trunc)
{
	if (*n >= max) {
		*trunc = true;
		return false;
	}
	pcs[(*n)++] = pc;
	return true;
}

int unwinder_unwind(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
		    size_t stack_len, uint64_t stack_addr, uint64_t *pcs, int max, bool *truncated)
{
	bool trunc = false;
	int n = 0;
	if (truncated)
		*truncated = false;
	if (!u || !regs || !pcs || max <= 0 || !(regs->valid & (1ULL << UNWIND_IP)))
		return 0;
	u->stats.unwinds++;
	if (u->maps_dirty)
		unwind_maps_reload(u);
	else if (!u->maps_loaded)
		unwind_maps_maybe_reload(u);

	uint64_t ip = regs->r[UNWIND_IP];
	pcs[n++] = ip;
	if (!(regs->valid & (1ULL << UNWIND_SP))) {
		trunc = true;
		goto out;
	}
	uint64_t sp = regs->r[UNWIND_SP];
	if (stack) {
		u->stk = stack;
		u->stk_addr = stack_addr;
		u->stk_len = stack_len;
	} else {
		unwind_stack_load_live(u, sp);
	}
	unwind_ip_plausible(u, ip); /* rereads the maps if ip is in code we do not know yet */

	u->cur = *regs;
	unw_cursor_t cursor;
	bool have_cursor = false; /* cursor is at the current frame */
	bool bp_known = (regs->valid & (1ULL << UNWIND_BP)) != 0;
	uint64_t bp = regs->r[UNWIND_BP];
	bool innermost = true;

	for (;;) {
		struct unwind_module *m = unwind_module_at(u, innermost ? ip : ip - 1);
		bool dwarf_failed = false;
		uint64_t fn_start = 0; /* of the frame's function, when known */
		if (m && m->has_table) {
			if (!have_cursor) {
				/* Re-enter libunwind after frame-pointer steps.  For a caller frame,
				 * ip - 1 selects the CFI row of the call instruction. */
				if (!innermost) {
					u->cur.valid = 1ULL << UNWIND_IP | 1ULL << UNWIND_SP |
						       (bp_known ? 1ULL << UNWIND_BP : 0);
					u->cur.r[UNWIND_IP] = ip - 1;
					u->cur.r[UNWIND_SP] = sp;
					u->cur.r[UNWIND_BP] = bp;
				}
				if (unw_init_remote(&cursor, u->as, u) < 0) {
					trunc = true;
					break;
				}
				have_cursor = true;
			}
			int ret = unw_step(&cursor);
			if (ret == 0)
				break; /* outermost frame (CFI says the return address is undefined) */
			if (ret > 0) {
				unw_word_t nip = 0, nsp = 0;
				if (unw_get_reg(&cursor, UNW_REG_IP, &nip) < 0 ||
				    unw_get_reg(&cursor, UNW_REG_SP, &nsp) < 0) {
					trunc = true;
					break;
				}
				if (nip == 0)
					break;
				/* The stack grows down: a caller's sp is higher, except across a
				 * signal frame (the handler may run on an alternate stack). */
				if (nsp <= sp && !(nsp != sp && unwind_is_sigreturn(u, ip))) {
					trunc = true;
					break;
				}
				if (!unwind_ip_plausible(u, nip)) {
					trunc = true;
					break;
				}
				if (!unwind_push(pcs, max, &n, nip, &trunc))
					break;
				u->stats.frames++;
				ip = nip;
				sp = nsp;
				bp_known = false;
				innermost = false;
				continue;
			}
			/* libunwind failed on this frame (no CFI, or its CFA is rbp-based and rbp is
			 * unknown): take its rbp and walk the chain. */
			unw_word_t rbp = 0;
			bp_known = unw_get_reg(&cursor, UNW_X86_64_RBP, &rbp) >= 0;
			bp = rbp;
			dwarf_failed = true;
			/* (Without an FDE, libunwind makes up [ip, ip + 1): not a function.) */
			unw_proc_info_t pi;
			if (!bp_known && unw_get_proc_info(&cursor, &pi) == 0 &&
			    pi.end_ip > pi.start_ip + 1)
				fn_start = pi.start_ip;
		} else if (have_cursor) {
			unw_word_t rbp = 0;
			bp_known = unw_get_reg(&cursor, UNW_X86_64_RBP, &rbp) >= 0;
			bp = rbp;
		}
		have_cursor = false;

		/* Frame-pointer step: next_bp = [bp], return address = [bp + 8]. */
		u->stats.fp_fallbacks++;
		uint64_t ret_addr, nsp;
		if (innermost && unwind_entry_ret_offset(u, ip) >= 0) {
			/* At a function entry or in a PLT stub no frame is set up yet. */
			uint64_t at = sp + (uint64_t)unwind_entry_ret_offset(u, ip);
			if (!unwind_read(u, at, &ret_addr, sizeof(ret_addr))) {
				trunc = true;
				break;
			}
			nsp = at + 8;
		} else if (innermost && !fn_start && unwind_leaf_ret(u, ip, sp, &ret_addr)) {
			nsp = sp + 8; /* rbp untouched: still the caller's */
		} else {
			if (!bp_known && !(regs->valid & (1ULL << UNWIND_BP)))
				bp_known = unwind_scan_bp(u, ip, sp, fn_start, &bp);
			if (!bp_known || bp == 0) {
				/* bp == 0 ends a frame-pointer chain; after a DWARF failure it is
				 * only rbp used as a general register. */
				trunc = !bp_known || dwarf_failed;
				break;
			}
			const struct unwind_map *sm = unwind_map_find(u, sp);
			uint64_t hi = sm ? sm->end : sp + 8 * 1024 * 1024;
			if ((bp & 7) || bp < sp || bp > hi - 16) {
				trunc = true;
				break;
			}
			uint64_t w[2];
			if (!unwind_read(u, bp, w, sizeof(w))) {
				trunc = true;
				break;
			}
			ret_addr = w[1];
			nsp = bp + 16;
			/* The chain must go up the stack; anything else is junk or a loop. */
			bp_known = w[0] == 0 || w[0] > bp;
			bp = w[0];
		}
		if (ret_addr == 0)
			break;
		/* A return address follows a call, or is a signal trampoline the kernel pushed, or
		 * Go's goroutine root (runtime.goexit + 1, just after a nop). */
		uint64_t target;
		uint8_t before = 0;
		if (!unwind_ip_plausible(u, ret_addr) ||
		    (unwind_call_before(u, ret_addr, &target) == UNWIND_CALL_NONE &&
		     !unwind_is_sigreturn(u, ret_addr) &&
		     !(unwind_read(u, ret_addr - 1, &before, 1) && before == 0x90))) {
			trunc = true;
			break;
		}
		if (!unwind_push(pcs, max, &n, ret_addr, &trunc))
			break;
		u->stats.frames++;
		ip = ret_addr;
		sp = nsp;
		innermost = false;
	}
out:
	u->stk_len = 0; /* the caller's copy is not ours to keep */
	if (truncated)
		*truncated = trunc;
	return n;
}
