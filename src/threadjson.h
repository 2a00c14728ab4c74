/*
 * threadjson: the JSON of threads and of what their waits form, shared by `proftop dump --json`
 * and snapshots (the schema is in man/proftop.1, "dump --json").
 */
#ifndef PROFTOP_THREADJSON_H
#define PROFTOP_THREADJSON_H

#include "symbols.h"
#include "threadmodel.h"
#include "util.h"

/* The array of threads: [{"tid":..,"name":..,"state":..,"wait":{..},"stack":[..]},..]. */
void threadjson_threads(const struct threadmodel *tm, struct symbols *sym, struct strbuf *out);
/* The members "deadlocks":[..],"owner_died":[..],"long_waits":[..] (no braces around). */
void threadjson_locks(const struct threadmodel *tm, struct strbuf *out);

#endif
