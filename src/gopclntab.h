/*
 * gopclntab: function names and file:line of Go code from the .gopclntab section.  Go keeps that
 * table in every binary, stripped ones included (-ldflags="-s -w", the usual container build),
 * because its own tracebacks need it; so a stripped Go service still gets `main.work` and
 * main.go:42 where the ELF symbol table and DWARF are gone.
 *
 * Layout read (Go 1.18 and later: header magic 0xfffffff0, 0xfffffff1 from Go 1.20; see
 * src/runtime/symtab.go and src/debug/gosym/pclntab.go of the Go sources): a header with the
 * offsets of the function name table, the compile-unit table, the file table, the pc-value
 * tables and the function table; the function table pairs each function's entry (as an offset
 * from the start of .text) with its _func record, whose pcfile/pcln tables map a pc to a file
 * and line.  Calls inlined by the compiler are expanded into frames of their own from the
 * function's inline tree (FUNCDATA_InlTree, indexed by PCDATA_InlTreeIndex), when the tree can be
 * found: its base (moduledata.gofunc) is read from the module data, which only the Go 1.18/1.19
 * layout is known for (gopcln_set_gofunc); otherwise a pc in inlined code is named by the
 * function it was inlined into, with the inlined code's own file:line.
 *
 * The section comes from the target's binary: every offset is checked against its size.
 */
#ifndef PROFTOP_GOPCLNTAB_H
#define PROFTOP_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gopcln;

/* Parse a .gopclntab section of len bytes (borrowed: it must outlive the result).  NULL when it
 * is not a table of a supported Go version or is inconsistent. */
struct gopcln *gopcln_parse(const uint8_t *data, size_t len);
void gopcln_free(struct gopcln *p);

struct gopcln_frame {
	const char *name;  /* "main.work", pointing into the section */
	uint64_t entry;    /* the function's first instruction (link-time address) */
	const char *file;  /* source file of the pc, "" when not known */
	int line;          /* its line, 0 when not known */
	const char *decl_file; /* file and line of the function's entry */
	int decl_line;
};

/* The Go function containing vaddr (a link-time address, as in the ELF headers).  false when
 * vaddr is in no function of the table. */
bool gopcln_lookup(const struct gopcln *p, uint64_t vaddr, struct gopcln_frame *out);

/* textStart of the header: moduledata.text holds the same. */
uint64_t gopcln_text_start(const struct gopcln *p);
/* Where moduledata.gofunc sits in the module data of this generation (-1: not known). */
int gopcln_gofunc_offset(const struct gopcln *p);
/* The bytes at moduledata.gofunc (go.func.*, borrowed), which inline trees are offsets into. */
void gopcln_set_gofunc(struct gopcln *p, const uint8_t *data, size_t len);

/* The frames at vaddr, innermost first: out[0..n-1], where out[n-1] is the real function and
 * the ones before it calls inlined into it (decl_file "" for those).  Returns n (0 when vaddr is
 * in no function). */
size_t gopcln_frames(const struct gopcln *p, uint64_t vaddr, struct gopcln_frame *out, size_t max);

/* Functions in the table. */
size_t gopcln_nfuncs(const struct gopcln *p);

#endif
