/* gopclntab: Go function names and lines from the pc-line table (see gopclntab.h). */
#include "gopclntab.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAGIC_GO118 0xfffffff0u
#define MAGIC_GO120 0xfffffff1u
#define HEADER_LEN 72 /* magic, 2 pads, minLC, ptrSize, then 8 words (ptrSize 8) */
#define FUNC_LEN 40   /* the _func fields up to nfuncdata (Go 1.18/1.19; startLine adds 4 in 1.20) */
#define PCDATA_INLTREEINDEX 2
#define FUNCDATA_INLTREE 3
#define INLCALL_LEN 20 /* Go 1.18/1.19 inlinedCall: parent, funcID, pad, file, line, func_, parentPc */

struct gopcln {
	const uint8_t *d;
	size_t len;
	uint32_t quantum;       /* minLC: pc step of the value tables (1 on x86) */
	uint64_t nfunc;
	uint64_t text;          /* textStart: what entry offsets count from */
	uint64_t funcnames, cutab, filetab, pctab, pcln; /* offsets from the section start */
	uint64_t ncu_words;     /* 32-bit words between cutab and filetab */
	int gen;                /* 118 or 120 */
	const uint8_t *gofunc;  /* go.func.*: inline trees (NULL: not expanded) */
	size_t gofunc_len;
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* A NUL-terminated string at off, or NULL when it would run off the section. */
static const char *str_at(const struct gopcln *p, uint64_t off)
{
	if (off >= p->len || !memchr(p->d + off, '\0', p->len - off))
		return NULL;
	return (const char *)p->d + off;
}

struct gopcln *gopcln_parse(const uint8_t *data, size_t len)
{
	if (!data || len < HEADER_LEN)
		return NULL;
	uint32_t magic = rd32(data);
	if ((magic != MAGIC_GO118 && magic != MAGIC_GO120) || data[4] || data[5] || data[7] != 8 ||
	    data[6] == 0)
		return NULL;
	struct gopcln p = {
		.d = data,
		.len = len,
		.gen = magic == MAGIC_GO118 ? 118 : 120,
		.quantum = data[6],
		.nfunc = rd64(data + 8),
		.text = rd64(data + 24),
		.funcnames = rd64(data + 32),
		.cutab = rd64(data + 40),
		.filetab = rd64(data + 48),
		.pctab = rd64(data + 56),
		.pcln = rd64(data + 64),
	};
	/* The tables lie in the section, in this order, and the function table (nfunc + 1 pairs
	 * of 32-bit words) fits. */
	if (p.funcnames < HEADER_LEN || p.cutab < p.funcnames || p.filetab < p.cutab ||
	    p.pctab < p.filetab || p.pcln < p.pctab || p.pcln > len || p.nfunc == 0 ||
	    p.nfunc >= (len - p.pcln) / 8)
		return NULL;
	p.ncu_words = (p.filetab - p.cutab) / 4;
	struct gopcln *r = xmalloc(sizeof *r);
	*r = p;
	return r;
}

void gopcln_free(struct gopcln *p)
{
	free(p);
}

uint64_t gopcln_text_start(const struct gopcln *p)
{
	return p ? p->text : 0;
}

int gopcln_gofunc_offset(const struct gopcln *p)
{
	/* runtime.moduledata of Go 1.18/1.19: pcHeader, six slices, findfunctab, minpc, maxpc,
	 * text .. enoptrbss, end, gcdata, gcbss, types, etypes, rodata, then gofunc.  (Go 1.20
	 * added covctrs/ecovctrs and changed the inline tree: not verified here, not used.) */
	return p && p->gen == 118 ? 304 : -1;
}

void gopcln_set_gofunc(struct gopcln *p, const uint8_t *data, size_t len)
{
	if (p && p->gen == 118) {
		p->gofunc = data;
		p->gofunc_len = len;
	}
}

size_t gopcln_nfuncs(const struct gopcln *p)
{
	return p ? (size_t)p->nfunc : 0;
}

/* Entry offset of function-table slot i (0 .. nfunc; slot nfunc is the end of the text). */
static uint32_t ft_entry(const struct gopcln *p, uint64_t i)
{
	return rd32(p->d + p->pcln + i * 8);
}

/* An unsigned LEB128 (at most 32 bits) at *off, which advances; false off the end. */
static bool uvarint(const struct gopcln *p, uint64_t *off, uint32_t *v)
{
	uint32_t r = 0;
	for (unsigned shift = 0; shift < 35; shift += 7) {
		if (*off >= p->len)
			return false;
		uint8_t b = p->d[(*off)++];
		r |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/*
 * The value of pc-value table tab (an offset into pctab) at targetpc, for the function starting
 * at entry: pairs of (value delta, zig-zag; pc delta, in quanta) from value -1 at entry, until a
 * zero value delta after the first pair.  false when targetpc is past the table.
 */
static bool pcvalue(const struct gopcln *p, uint32_t tab, uint64_t entry, uint64_t targetpc,
		    int32_t *out)
{
	if (tab == 0 || p->pctab + tab >= p->pcln)
		return false;
	uint64_t off = p->pctab + tab, pc = entry;
	int32_t val = -1;
	for (bool first = true; off < p->pcln; first = false) {
		uint32_t uv, pcd;
		if (!uvarint(p, &off, &uv) || (uv == 0 && !first))
			return false;
		uint32_t d = (uv & 1) ? ~(uv >> 1) : uv >> 1;
		val = (int32_t)((uint32_t)val + d);
		if (!uvarint(p, &off, &pcd))
			return false;
		pc += (uint64_t)pcd * p->quantum;
		if (targetpc < pc) {
			*out = val;
			return true;
		}
	}
	return false;
}

/* File and line of pc in the function whose _func record is at fn. */
static void pc_line(const struct gopcln *p, const uint8_t *fn, uint64_t entry, uint64_t pc,
		    const char **file, int *line)
{
	*file = "";
	*line = 0;
	int32_t fileno, ln;
	if (pcvalue(p, rd32(fn + 24), entry, pc, &ln) && ln > 0)
		*line = ln;
	uint32_t cu = rd32(fn + 32);
	if (!pcvalue(p, rd32(fn + 20), entry, pc, &fileno) || fileno < 0 ||
	    (uint64_t)cu + (uint64_t)fileno >= p->ncu_words)
		return;
	uint32_t foff = rd32(p->d + p->cutab + 4 * ((uint64_t)cu + (uint64_t)fileno));
	const char *f = foff == UINT32_MAX ? NULL : str_at(p, p->filetab + foff);
	if (f)
		*file = f;
}

/* The _func record of the function containing vaddr, NULL when none. */
static const uint8_t *func_at(const struct gopcln *p, uint64_t vaddr)
{
	if (!p || vaddr < p->text || vaddr - p->text >= UINT32_MAX)
		return NULL;
	uint32_t off = (uint32_t)(vaddr - p->text);
	if (off < ft_entry(p, 0) || off >= ft_entry(p, p->nfunc))
		return NULL;
	/* The last slot whose entry is <= off (entries ascend). */
	uint64_t lo = 0, hi = p->nfunc;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ft_entry(p, mid) <= off)
			lo = mid;
		else
			hi = mid;
	}
	uint64_t funcoff = rd32(p->d + p->pcln + lo * 8 + 4);
	if (funcoff > p->len - p->pcln || p->len - p->pcln - funcoff < FUNC_LEN)
		return NULL;
	return p->d + p->pcln + funcoff;
}

/* A function name at nameoff in funcnametab, NULL when it is not a string there. */
static const char *func_name(const struct gopcln *p, int32_t nameoff)
{
	if (nameoff < 0 || p->funcnames + (uint64_t)nameoff >= p->cutab)
		return NULL;
	const char *n = str_at(p, p->funcnames + (uint64_t)nameoff);
	return n && n[0] ? n : NULL;
}

/* The pcdata table k and the funcdata offset k of fn (0 / UINT32_MAX when it has none). */
static uint32_t func_pcdata(const struct gopcln *p, const uint8_t *fn, uint32_t k)
{
	uint32_t npcdata = rd32(fn + 28);
	uint64_t at = (uint64_t)(fn - p->d) + FUNC_LEN + 4ull * k;
	if (k >= npcdata || at + 4 > p->len)
		return 0;
	return rd32(p->d + at);
}

static uint32_t func_funcdata(const struct gopcln *p, const uint8_t *fn, uint32_t k)
{
	uint32_t npcdata = rd32(fn + 28), nfuncdata = fn[39];
	uint64_t at = (uint64_t)(fn - p->d) + FUNC_LEN + 4ull * npcdata + 4ull * k;
	if (k >= nfuncdata || at + 4 > p->len)
		return UINT32_MAX;
	return rd32(p->d + at);
}

/* The frame of the function fn itself (named name), at pc. */
static void real_frame(const struct gopcln *p, const uint8_t *fn, const char *name, uint64_t pc,
		       struct gopcln_frame *f)
{
	uint64_t entry = p->text + rd32(fn);
	f->name = name;
	f->entry = entry;
	pc_line(p, fn, entry, pc, &f->file, &f->line);
	pc_line(p, fn, entry, entry, &f->decl_file, &f->decl_line);
}

size_t gopcln_frames(const struct gopcln *p, uint64_t vaddr, struct gopcln_frame *out, size_t max)
{
	const uint8_t *fn = func_at(p, vaddr);
	const char *name = fn ? func_name(p, (int32_t)rd32(fn + 4)) : NULL;
	if (!name || !max)
		return 0;
	uint64_t entry = p->text + rd32(fn), pc = vaddr;
	size_t n = 0;
	/* Inlined calls, innermost first: each names the callee at pc, and moves pc to the call
	 * site in its caller (parentPc), as the Go runtime's own traceback does. */
	uint32_t tree = p->gofunc ? func_funcdata(p, fn, FUNCDATA_INLTREE) : UINT32_MAX;
	uint32_t ixtab = func_pcdata(p, fn, PCDATA_INLTREEINDEX);
	for (int depth = 0; tree != UINT32_MAX && ixtab && depth < 64 && n + 1 < max; depth++) {
		int32_t ix;
		if (!pcvalue(p, ixtab, entry, pc, &ix) || ix < 0)
			break;
		uint64_t at = (uint64_t)tree + (uint64_t)ix * INLCALL_LEN;
		if (at + INLCALL_LEN > p->gofunc_len)
			break;
		const uint8_t *ic = p->gofunc + at;
		const char *callee = func_name(p, (int32_t)rd32(ic + 12));
		if (!callee)
			break;
		struct gopcln_frame *f = &out[n++];
		f->name = callee;
		f->entry = entry;
		pc_line(p, fn, entry, pc, &f->file, &f->line);
		f->decl_file = "";
		f->decl_line = 0;
		uint64_t parent = entry + rd32(ic + 16);
		if (func_at(p, parent) != fn) /* a call site outside the function: a bad tree */
			break;
		pc = parent;
	}
	real_frame(p, fn, name, pc, &out[n++]);
	return n;
}

bool gopcln_lookup(const struct gopcln *p, uint64_t vaddr, struct gopcln_frame *out)
{
	/* The real function only: no inline expansion. */
	const uint8_t *fn = func_at(p, vaddr);
	const char *name = fn ? func_name(p, (int32_t)rd32(fn + 4)) : NULL;
	if (!name)
		return false;
	real_frame(p, fn, name, vaddr, out);
	return true;
}
