/* gopclntab: Go function names and lines from the pc-line table (see gopclntab.h). */
#include "gopclntab.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAGIC_GO118 0xfffffff0u
#define MAGIC_GO120 0xfffffff1u
#define HEADER_LEN 72 /* magic, 2 pads, minLC, ptrSize, then 8 words (ptrSize 8) */
#define FUNC_LEN 36   /* the _func fields read: entryOff .. cuOffset */

struct gopcln {
	const uint8_t *d;
	size_t len;
	uint32_t quantum;       /* minLC: pc step of the value tables (1 on x86) */
	uint64_t nfunc;
	uint64_t text;          /* textStart: what entry offsets count from */
	uint64_t funcnames, cutab, filetab, pctab, pcln; /* offsets from the section start */
	uint64_t ncu_words;     /* 32-bit words between cutab and filetab */
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

bool gopcln_lookup(const struct gopcln *p, uint64_t vaddr, struct gopcln_frame *out)
{
	if (!p || vaddr < p->text || vaddr - p->text >= UINT32_MAX)
		return false;
	uint32_t off = (uint32_t)(vaddr - p->text);
	if (off < ft_entry(p, 0) || off >= ft_entry(p, p->nfunc))
		return false;
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
		return false;
	const uint8_t *fn = p->d + p->pcln + funcoff;
	int32_t nameoff = (int32_t)rd32(fn + 4);
	const char *name = nameoff < 0 || p->funcnames + (uint64_t)nameoff >= p->cutab
				   ? NULL
				   : str_at(p, p->funcnames + (uint64_t)nameoff);
	if (!name || !name[0])
		return false;
	uint64_t entry = p->text + rd32(fn);
	out->name = name;
	out->entry = entry;
	pc_line(p, fn, entry, vaddr, &out->file, &out->line);
	pc_line(p, fn, entry, entry, &out->decl_file, &out->decl_line);
	return true;
}
