# proftop — see README.md.  `make`, `make test`, `make sanitize`, `make demo`, `make install`.

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man/man1
SHAREDIR  ?= $(PREFIX)/share/proftop
CC        ?= cc
PKG_CONFIG ?= pkg-config

PKGS      := ncursesw libunwind-generic libproc2 libdw libelf zlib
WARN      := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
             -Wimplicit-fallthrough -Wnull-dereference -Werror
OPT       ?= -O2 -g
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP -Isrc -Isampler -Iviews \
             -DPROFTOP_SHAREDIR='"$(SHAREDIR)"' $(PKG_CFLAGS) $(CFLAGS) $(SAN)
# __cxa_demangle (C++ names) lives in libstdc++.
ALL_LIBS   = $(PKG_LIBS) -lstdc++ -lm $(LDLIBS)

B         ?= build
SRCS      := $(wildcard src/*.c sampler/*.c views/*.c)
OBJS      := $(SRCS:%.c=$(B)/%.o)
LIBOBJS   := $(filter-out $(B)/src/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)

# Fixture programs: ground truth for the end-to-end tests.  Each has its own flags.
FIX_C     := $(wildcard tests/fixtures/*.c)
FIX_BINS  := $(FIX_C:tests/fixtures/%.c=tests/bin/%)
FIX_CXX   := $(wildcard tests/fixtures/*.cc)
FIX_BINS  += $(FIX_CXX:tests/fixtures/%.cc=tests/bin/%)
FIX_GO    := $(wildcard tests/fixtures/go/*/main.go)
FIX_GOBINS := $(FIX_GO:tests/fixtures/go/%/main.go=tests/bin/go-%)
# gohot as a production image builds it: no symbol table, no DWARF (Go's own pc-line table stays).
FIX_GOBINS += tests/bin/go-gohot-stripped

.PHONY: all deps test sanitize unit fixtures demo install clean lint bench fuzz fuzz-bins

all: proftop

# Replace by rename: a running ./proftop (a test, a demo) keeps its old file.
proftop: $(B)/proftop
	cp $< $@.tmp && mv -f $@.tmp $@

$(B)/proftop: $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LIBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIBOBJS) $(ALL_LIBS)

unit: $(UNIT_BINS)

fixtures: $(FIX_BINS) $(FIX_GOBINS)

# The fixture flags are part of the ground truth: see the comment at the top of each fixture.
FIX_CFLAGS = -std=gnu11 -O2 -g -pthread -fno-omit-frame-pointer
tests/bin/%: tests/fixtures/%.c
	@mkdir -p tests/bin
	$(CC) $(FIX_CFLAGS) $(shell sed -n 's/^.*FIXTURE_CFLAGS: *//p' $<) -o $@ $< -lm
tests/bin/%: tests/fixtures/%.cc
	@mkdir -p tests/bin
	$(CXX) -std=c++17 -O2 -g -pthread -fno-omit-frame-pointer -o $@ $<
$(FIX_BINS): $(wildcard tests/fixtures/*.h)
tests/bin/hotspots_nofp: tests/fixtures/hotspots.c
tests/bin/go-%: tests/fixtures/go/%/main.go
	@mkdir -p tests/bin
	cd $(dir $<) && GOFLAGS=-mod=mod GO111MODULE=off GOCACHE=$(CURDIR)/$(B)/gocache \
	    go build $(shell sed -n 's/^.*GOBUILD_FLAGS: *//p' $<) -o $(CURDIR)/$@ main.go
tests/bin/go-gohot-stripped: tests/fixtures/go/gohot/main.go
	@mkdir -p tests/bin
	cd $(dir $<) && GOFLAGS=-mod=mod GO111MODULE=off GOCACHE=$(CURDIR)/$(B)/gocache \
	    go build -ldflags='-s -w' -o $(CURDIR)/$@ main.go

# Install only what is missing (Debian 12); sudo when not root.
BUILD_DEPS := libncurses-dev libunwind-dev libproc2-dev libdw-dev libelf-dev zlib1g-dev pkg-config g++
TEST_DEPS  := golang-go linux-perf tmux mandoc elfutils python3 procps protobuf-compiler
deps:
	@./tests/deps.sh $(BUILD_DEPS) $(TEST_DEPS)

test: deps
	@$(MAKE) --no-print-directory proftop unit fixtures
	@./tests/run.sh

# Everything again under AddressSanitizer + UBSan, in its own build directory.
sanitize: deps
	@$(MAKE) --no-print-directory B=build-san OPT='-O1 -g -fno-omit-frame-pointer' \
	    SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' build-san/proftop unit fixtures
	@PROFTOP=$(CURDIR)/build-san/proftop UNITDIR=$(CURDIR)/build-san/tests/unit \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ./tests/run.sh

lint:
	mandoc -T lint -W warning man/proftop.1

# libFuzzer on every parser (tests/fuzz/*.c): /proc files, perf records, theme files, the futex
# decoder over arbitrary memory, the pprof encoder round trip.  FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/tests/fuzz/%)
fuzz: deps
	@./tests/deps.sh clang libclang-rt-14-dev
	@$(MAKE) --no-print-directory B=build-fuzz CC=clang OPT='-O1 -g' \
	    SAN='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' fuzz-bins
	@set -e; for n in $(notdir $(FUZZ_SRCS:.c=)); do f=build-fuzz/tests/fuzz/$$n; \
	    mkdir -p build-fuzz/corpus/$$n; echo "fuzz $$n ($(FUZZ_SECONDS) s)"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=build-fuzz/$$n- \
	        build-fuzz/corpus/$$n tests/fuzz/seeds/$${n#fuzz_} 2>build-fuzz/$$n.log || \
	        { tail -40 build-fuzz/$$n.log; exit 1; }; \
	    grep -h '^Done' build-fuzz/$$n.log || true; done
fuzz-bins: $(FUZZ_BINS)
# fuzz_perf includes sampler/perf.c itself (its decoder is static).
$(B)/tests/fuzz/%: tests/fuzz/%.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(filter-out $(if $(filter fuzz_perf,$*),$(B)/sampler/perf.o),$(LIBOBJS)) $(ALL_LIBS)

demo: deps
	@$(MAKE) --no-print-directory proftop fixtures
	@./tests/demo.sh

bench: proftop fixtures $(B)/bench/ui_draw
	@for b in bench/*; do [ -x "$$b" ] && "$$b"; done

# bench/ui's draw-time half: the TUI shell drawing into a virtual screen (see bench/ui_draw.c).
$(B)/bench/ui_draw: bench/ui_draw.c $(LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBOBJS) $(ALL_LIBS)

install: proftop
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(SHAREDIR)/themes
	install -m 755 proftop $(DESTDIR)$(BINDIR)/proftop
	install -m 644 man/proftop.1 $(DESTDIR)$(MANDIR)/proftop.1
	install -m 644 themes/*.theme $(DESTDIR)$(SHAREDIR)/themes/

clean:
	rm -rf build build-san build-fuzz proftop tests/bin

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(B)/bench/ui_draw.d
