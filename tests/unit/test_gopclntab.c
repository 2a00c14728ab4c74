/* gopclntab against the truth of the same binary: for every function in the ELF symbol table of
 * the unstripped Go fixture (tests/bin/go-gohot), the pc-line table names the same function with
 * the same entry, at its entry and in its middle; and the lines it gives agree with DWARF's line
 * table.  Then end to end through symbols: the running stripped build (go-gohot-stripped, the
 * same code at the same addresses) is symbolized from .gopclntab, inlined calls expanded, as the
 * running unstripped build is from DWARF.  Inconsistent tables are refused, and lookups outside
 * the text fail. */
#include "gopclntab.h"
#include "elfsec.h"
#include "symbols.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"

/* The compile units and their address ranges (Go writes no .debug_aranges). */
struct cu_range {
	uint64_t lo, hi;
	Dwarf_Die cu;
};
static struct cu_range *cus;
static size_t ncus;

static void cus_load(Dwarf *dw)
{
	Dwarf_Off off = 0, next;
	size_t hsize, cap = 0;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu;
		if (dwarf_offdie(dw, off + hsize, &cu)) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t it = 0;
			while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0) {
				util_grow((void **)&cus, &cap, ncus + 1, sizeof *cus);
				cus[ncus++] = (struct cu_range){ lo, hi, cu };
			}
		}
		off = next;
	}
}

/* DWARF's line of pc, 0 when it has none. */
static int dwarf_line(uint64_t pc)
{
	for (size_t i = 0; i < ncus; i++) {
		if (pc < cus[i].lo || pc >= cus[i].hi)
			continue;
		Dwarf_Line *l = dwarf_getsrc_die(&cus[i].cu, pc);
		int line = 0;
		if (l && dwarf_lineno(l, &line) == 0)
			return line;
	}
	return 0;
}

/* The name Go's tracebacks use for an ELF symbol: no ".abi0" of assembly functions, array
 * lengths of generated type..eq functions shown as "...". */
static void go_name(const char *elf_name, char *buf, size_t n)
{
	size_t k = 0;
	for (const char *c = elf_name; *c && k + 4 < n; c++) {
		if (*c == '[' && c[1] >= '0' && c[1] <= '9') {
			const char *e = c + 1;
			while (*e >= '0' && *e <= '9')
				e++;
			if (*e == ']') {
				memcpy(buf + k, "[...]", 5);
				k += 5;
				c = e;
				continue;
			}
		}
		buf[k++] = *c;
	}
	buf[k] = '\0';
	size_t len = strlen(buf);
	if (len > 5 && !strcmp(buf + len - 5, ".abi0"))
		buf[len - 5] = '\0';
}

int main(void)
{
	elf_version(EV_CURRENT);
	char path[512];
	snprintf(path, sizeof path, "%s/go-gohot", fixture_dir());
	int fd = open(path, O_RDONLY);
	check(fd >= 0, "open %s (make fixtures)", path);
	if (fd < 0)
		return 1;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	GElf_Shdr pclsh;
	Elf_Scn *pclscn = elfsec_named(elf, ".gopclntab", &pclsh);
	Elf_Data *pcl = pclscn ? elf_getdata(pclscn, NULL) : NULL, *symtab = NULL;
	check(pcl && dw, "the fixture has .gopclntab and DWARF");
	if (!pcl || !dw)
		return 1;
	struct gopcln *p = gopcln_parse(pcl->d_buf, pcl->d_size);
	check(p && gopcln_nfuncs(p) > 500, "parsed: %zu functions", gopcln_nfuncs(p));
	if (!p)
		return 1;
	cus_load(dw);

	/* Every text function of the symbol table. */
	Elf_Scn *scn = NULL;
	GElf_Shdr symsh;
	while ((scn = elf_nextscn(elf, scn)) != NULL)
		if (gelf_getshdr(scn, &symsh) && symsh.sh_type == SHT_SYMTAB) {
			symtab = elf_getdata(scn, NULL);
			break;
		}
	check(symtab != NULL, "the fixture has a symbol table");
	if (!symtab)
		return 1;
	size_t nsym = symsh.sh_size / symsh.sh_entsize, funcs = 0, named = 0, mid_named = 0;
	size_t lines = 0, lines_agree = 0;
	bool saw_work = false;
	for (size_t i = 0; i < nsym; i++) {
		GElf_Sym s;
		if (!gelf_getsym(symtab, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_size)
			continue;
		const char *raw = elf_strptr(elf, symsh.sh_link, s.st_name);
		if (!raw)
			continue;
		char name[512];
		go_name(raw, name, sizeof name);
		funcs++;
		struct gopcln_frame f;
		if (gopcln_lookup(p, s.st_value, &f) && !strcmp(f.name, name) && f.entry == s.st_value)
			named++;
		else if (funcs - named <= 5)
			printf("     not named: %s at %#lx: %s\n", name, (unsigned long)s.st_value,
			       gopcln_lookup(p, s.st_value, &f) ? f.name : "(none)");
		uint64_t mid = s.st_value + s.st_size / 2;
		if (gopcln_lookup(p, mid, &f) && !strcmp(f.name, name)) {
			mid_named++;
			int dl = dwarf_line(mid);
			if (dl > 0 && f.line > 0) {
				lines++;
				lines_agree += dl == f.line;
			}
		}
		if (!strcmp(name, "main.work") && gopcln_lookup(p, mid, &f)) {
			saw_work = true;
			/* Its middle may be in the inlined mixStep: a line of that body. */
			check(strstr(f.file, "gohot/main.go") && f.decl_line > 0 && f.line > 0 &&
				      strstr(f.decl_file, "gohot/main.go"),
			      "main.work: %s:%d, declared at line %d", f.file, f.line, f.decl_line);
		}
	}
	check(funcs > 500, "%zu functions in the symbol table", funcs);
	check(named == funcs, "each is named at its entry, with that entry: %zu of %zu", named, funcs);
	check(mid_named == funcs, "and in its middle: %zu of %zu", mid_named, funcs);
	check(lines > funcs / 2 && lines_agree * 100 >= lines * 99,
	      "lines agree with DWARF at %zu of %zu pcs", lines_agree, lines);
	check(saw_work, "main.work seen");

	/* Both builds running: every function's pcs at 0, 1/4, 1/2 and 3/4 of it, symbolized
	 * from DWARF in one and from .gopclntab (with its inline trees) in the other. */
	struct fixture fu = { .pid = -1, .out = -1 }, fs = { .pid = -1, .out = -1 };
	if (fixture_start(&fu, "go-gohot", NULL, NULL) && fixture_start(&fs, "go-gohot-stripped", NULL, NULL)) {
		char *cause = NULL;
		struct symbols *su = symbols_new(fu.pid, &cause), *ss = symbols_new(fs.pid, &cause);
		check(su && ss, "symbols of both builds: %s", cause ? cause : "ok");
		size_t pcs = 0, same = 0, inl = 0, inl_same = 0;
		for (size_t i = 0; su && ss && i < nsym; i++) {
			GElf_Sym s;
			if (!gelf_getsym(symtab, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_size)
				continue;
			for (int q = 0; q < 4; q++) {
				uint64_t pc = s.st_value + s.st_size * (uint64_t)q / 4;
				const struct sym_loc *a = symbols_lookup(su, pc), *b = symbols_lookup(ss, pc);
				bool ok = a->nlines == b->nlines;
				for (uint32_t j = 0; ok && j < a->nlines; j++) {
					char an[512];
					go_name(symbols_func(su, a->lines[j].func)->name, an, sizeof an);
					ok = !strcmp(an, symbols_func(ss, b->lines[j].func)->name) &&
					     a->lines[j].line == b->lines[j].line;
				}
				pcs++;
				same += ok;
				if (a->nlines > 1) {
					inl++;
					inl_same += ok;
				}
				if (!ok && pcs - same <= 3)
					printf("     %#lx: DWARF %s:%d (%u frames), gopclntab %s:%d (%u)\n",
					       (unsigned long)pc, symbols_func(su, a->lines[0].func)->name,
					       a->lines[0].line, a->nlines,
					       symbols_func(ss, b->lines[0].func)->name, b->lines[0].line,
					       b->nlines);
			}
		}
		check(pcs > 2000 && same * 100 >= pcs * 99,
		      "stripped build named as the DWARF build, frames and lines: %zu of %zu pcs", same,
		      pcs);
		check(inl > 100 && inl_same * 100 >= inl * 98,
		      "with inlined calls as frames: %zu of %zu pcs in inlined code", inl_same, inl);
		symbols_free(su);
		symbols_free(ss);
	}
	fixture_stop(&fu);
	fixture_stop(&fs);

	/* Outside the text, and broken tables. */
	struct gopcln_frame f;
	check(!gopcln_lookup(p, 0x1000, &f), "an address below the text is no function");
	check(!gopcln_lookup(p, UINT64_MAX - 16, &f), "an address far above is no function");
	gopcln_free(p);
	uint8_t *copy = malloc(pcl->d_size);
	memcpy(copy, pcl->d_buf, pcl->d_size);
	copy[0] ^= 0x10;
	check(!gopcln_parse(copy, pcl->d_size), "a wrong magic is refused");
	copy[0] ^= 0x10;
	check(!gopcln_parse(copy, 100), "a table cut short is refused");
	memset(copy + 64, 0xff, 8); /* pclnOffset past the end */
	check(!gopcln_parse(copy, pcl->d_size), "a function table past the end is refused");
	free(copy);
	free(cus);
	dwarf_end(dw);
	elf_end(elf);
	close(fd);
	return failures != 0;
}
