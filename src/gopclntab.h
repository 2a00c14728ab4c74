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
 * and line.  Inlined calls are not expanded: a pc in inlined code is named by the function it
 * was inlined into, with the inlined code's own file:line.
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

/* Functions in the table. */
size_t gopcln_nfuncs(const struct gopcln *p);

#endif
