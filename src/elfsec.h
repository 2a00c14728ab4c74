/*
 * elfsec: the two ways proftop looks into a binary's sections with libelf: a section by name,
 * and the bytes behind a link-time address.
 */
#ifndef PROFTOP_ELFSEC_H
#define PROFTOP_ELFSEC_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* The section called name (its header in *sh), NULL when there is none. */
Elf_Scn *elfsec_named(Elf *elf, const char *name, GElf_Shdr *sh);
/* The file bytes at link-time address vaddr, to the end of the allocated section holding them
 * (*len of them, borrowed from elf); NULL when no section with file contents holds vaddr. */
const uint8_t *elfsec_bytes_at(Elf *elf, uint64_t vaddr, size_t *len);

#endif
