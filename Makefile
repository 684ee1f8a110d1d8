# homelab: build, test and demo.
#   make          build/homelab (and the man page when scdoc is present)
#   make check    the everyday command: unit tests on the plain build and
#                 under ASan+UBSan, the integration suite under ASan+UBSan,
#                 each fuzz target once over its corpus, clang-tidy (no
#                 clang-analyzer) and cppcheck, a short chaos soak
#                 (tests/README.md has the measured wall times). Leaks:
#                 LeakSanitizer checks the unit tests and the fuzz replay;
#                 the integration suite's leaks are valgrind's, in
#                 check-long (LSan's exit scan costs ~50 ms CPU per client
#                 start, ~50 CPU s a suite; SAN_LEAKS=1 turns it on); the
#                 integration scripts run without ASan's allocation and
#                 free stacks (SAN_STACKS=1 keeps them; tests/README.md)
#   make check-long  the long parts (CI runs them after make check): the
#                 integration suite on the plain binary under valgrind, the full chaos soak
#                 (200 ci watch + 50 deploy wait runs), timed fuzzing,
#                 clang-tidy's clang-analyzer checks
#   make fuzz     every fuzz target for FUZZ_SECONDS (60) each
#   make lint     clang-tidy (all of .clang-tidy) and cppcheck on src/
#   make valgrind every integration script under valgrind memcheck
#   make demo     the tool end to end against the bundled fakes

CC      ?= cc
PKGS     = libcurl jansson inih
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-truncation
# A missing library stops the build here, by name, instead of surfacing as
# a missing header or an undefined reference. Set-up (make bootstrap) and
# clean do not need the libraries.
ifeq ($(filter-out bootstrap deps clean,$(or $(MAKECMDGOALS),all)),)
else
PKGS_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p))))
ifneq ($(PKGS_MISSING),)
$(error pkg-config cannot find: $(PKGS_MISSING); install them (make bootstrap) or set PKG_CONFIG_PATH)
endif
endif
CPPFLAGS = -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS   = $(shell pkg-config --libs $(PKGS)) -lm
# Each object depends on the headers it includes (as the compiler saw
# them), not on every header: -MMD writes build/.../x.d, -MP keeps a
# deleted header from breaking the build.
DEPFLAGS = -MMD -MP
VERSION  = $(shell cat VERSION 2>/dev/null || echo 0.0.0)

SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B       ?= build
LIB_SRC  = $(shell find src -name '*.c' ! -name main.c | sort)
LIB_OBJ  = $(LIB_SRC:src/%.c=$(B)/obj/%.o)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all check check-long demo clean bootstrap deps unit san install uninstall fuzz fuzz-build fuzz-replay lint lint-tidy lint-tidy-deep \
        valgrind valgrind-tree lint-warm

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
BASHCOMP = $(PREFIX)/share/bash-completion/completions
ZSHCOMP  = $(PREFIX)/share/zsh/site-functions

all: $(B)/homelab $(B)/homelab.1

# The man page needs scdoc; without it the build still succeeds (with a note).
$(B)/homelab.1: docs/homelab.1.scd
	@mkdir -p $(dir $@)
	@if command -v scdoc >/dev/null; then scdoc < $< > $@; \
	else echo "note: scdoc not found; man page not built (run scripts/bootstrap)"; fi

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMP) $(DESTDIR)$(ZSHCOMP)
	install -m 755 $(B)/homelab $(DESTDIR)$(BINDIR)/homelab
	install -m 644 $(B)/homelab.1 $(DESTDIR)$(MANDIR)/homelab.1
	install -m 644 contrib/completions/homelab.bash $(DESTDIR)$(BASHCOMP)/homelab
	install -m 644 contrib/completions/_homelab $(DESTDIR)$(ZSHCOMP)/_homelab

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/homelab $(DESTDIR)$(MANDIR)/homelab.1 \
	      $(DESTDIR)$(BASHCOMP)/homelab $(DESTDIR)$(ZSHCOMP)/_homelab

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) -DHOMELAB_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
		-c $< -o $@

$(B)/libhomelab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/homelab: $(B)/obj/main.o $(B)/libhomelab.a
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libhomelab.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) -Itests/unit $(WARN) -Wno-missing-prototypes $(CFLAGS) \
		$(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(B)/libhomelab.a $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

# The tests' client for the fakes' control ports (tests/lib.sh runs it; a
# curl over TLS costs some 40 ms of CPU a call). Always build/, whatever B.
FAKECTL = build/fakectl
$(FAKECTL): tests/fakectl.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

# How the tests wait for a line in a file or a request in a fake's log
# (tests/lib.sh): one process where a shell loop ran a sleep, a grep and a
# sed every 50 ms. Always build/, like fakectl.
WAITFOR = build/waitfor
$(WAITFOR): tests/waitfor.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(WARN) $(CFLAGS) $(shell pkg-config --cflags jansson) -o $@ $< \
		$(shell pkg-config --libs jansson)

# The `python3` of the integration scripts' inline programs (tests/run puts
# it on their PATH): a fork of one interpreter that tests/forkpy.py keeps
# for the suite, not a new one each (some 500 a suite). Always build/.
FORKPY = build/forkpy
$(FORKPY): tests/forkpy.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $<

-include $(wildcard $(B)/obj/*.d $(B)/obj/*/*.d $(B)/tests/*.d $(B)/fuzz/*.d)

# Set-up installs what is missing (it may use sudo); test targets only
# check (deps) and say what to run when something is missing.
bootstrap:
	@./scripts/bootstrap

deps:
	@./scripts/bootstrap --check

# The sanitizer build lives in its own tree so both can be tested in one run.
# It also links each fuzz target with tests/fuzz/replay.c (a main() that
# runs it once per input, no libFuzzer): `make check` replays the corpora
# with those, so it needs no clang fuzz tree.
# -g1 (line tables only) is all a sanitizer's report needs for file:line
# in its stack traces, and compiles in about a fifth less CPU than -g.
# Its programs start some 1,000 times a suite, and a start is mostly the
# dynamic loader's work: SAN_LDFLAGS links them without position
# independence (ASan's descriptors of the globals are 41,000 relocations a
# start in a PIE) and with the sanitizer runtimes linked in, not loaded:
# `build/san/homelab ci status` 3,058 page faults and 106 ms of CPU
# (median of 30) as a PIE, 2,756 and 92 ms so.
SAN_LDFLAGS = -no-pie -static-libasan -static-libubsan
san:
	@$(MAKE) --no-print-directory B=build/san CFLAGS="-O1 -g1" EXTRA_CFLAGS="$(SAN)" \
		EXTRA_LDFLAGS="$(SAN_LDFLAGS)" \
		FUZZ_DRIVER=build/san/fuzz/replay.o build/san/homelab unit fuzz-replay

# tests/run runs the CPU-bound jobs (fuzz replay, lint) only after the
# unit and integration tests, never beside them. The two trees and the
# clang-tidy stamps (lint-warm) build in one make, one compiler per CPU, so
# no CPU waits for the other's last link or for clang-tidy alone at the end.
NPROC ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all unit san lint-warm $(FAKECTL) $(WAITFOR) $(FORKPY)
	@tests/run build:unit build/san tests/lint.sh

# One long part after the other, so the soak (which checks deadlines) never
# shares the CPU with valgrind or the fuzzers. Each prints its own summary.
CHAOS_RUNS        ?= 200
CHAOS_DEPLOY_RUNS ?= 50
check-long: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@$(MAKE) --no-print-directory -j$(NPROC) fuzz-build
	@$(MAKE) --no-print-directory valgrind-tree VG_TREE=build/valgrind VG_ONLY=
	@RETRY_FAILED=1 tests/run build/valgrind
	@bench/chaos --runs $(CHAOS_RUNS) --deploy-runs $(CHAOS_DEPLOY_RUNS)
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_NAMES)
	@LINT_DEEP=1 tests/lint.sh

# ---- fuzzing: libFuzzer targets in tests/fuzz/ (clang, ASan + UBSan) ----
# For timed fuzzing the library is built again with clang and coverage
# instrumentation in build/fuzz (warnings shown, not fatal: gcc's build is
# the -Werror one). `make fuzz` (and `make check-long`) runs each target for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/NAME). `make check`
# runs each once over that corpus (no timed fuzzing: every input replayed
# once, a fixed amount of work) through tests/run, which counts each as one
# test; it uses build/san's copies (`make san`: gcc, ASan + UBSan, -Werror),
# linked with the plain driver FUZZ_DRIVER instead of libFuzzer.
# tests/fuzz/README.md has the targets and what they check.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRC      = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES    = $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

FUZZ_DRIVER  ?=

$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(B)/libhomelab.a $(FUZZ_DRIVER)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) -Itests/fuzz $(WARN) -Wno-missing-prototypes $(CFLAGS) \
		$(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< $(or $(FUZZ_DRIVER),-fsanitize=fuzzer) $(B)/libhomelab.a $(LDLIBS)

fuzz-replay: $(FUZZ_NAMES:%=$(B)/fuzz/%)

$(B)/fuzz/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

fuzz-build:
	@$(MAKE) --no-print-directory B=build/fuzz CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
		WARN="$(filter-out -Werror,$(WARN)) -Wno-unknown-warning-option" \
		EXTRA_CFLAGS="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" $(FUZZ_NAMES:%=build/fuzz/fuzz/%)

fuzz: deps fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_NAMES)

# ---- static analysis: clang-tidy (.clang-tidy) and cppcheck (scripts/lint/) ----
# tests/lint.sh runs both and reports TAP lines; lint-tidy is its clang-tidy
# half, one stamp per source file so unchanged files are not checked again.
# The clang-analyzer checks (path-sensitive: 93% of clang-tidy's time, about
# 3.5 CPU minutes over src/) run in `make check-long` (LINT_DEEP=1,
# lint-tidy-deep); `make check` runs every other check of .clang-tidy, which
# takes 20 CPU seconds.
TIDY      ?= clang-tidy
TIDY_SRC   = $(shell find src -name '*.c' | sort)
TIDY_STAMP = $(TIDY_SRC:src/%.c=build/lint/%.ok)
TIDY_DEEP_STAMP = $(TIDY_SRC:src/%.c=build/lint-deep/%.ok)
TIDY_QUICK = '--checks=-clang-analyzer-*'

# tidy STAMP SOURCE [OPTIONS]: clang-tidy on SOURCE; the stamp on no finding
tidy = @mkdir -p $(dir $(1)); \
	$(TIDY) --quiet $(3) $(2) -- $(CPPFLAGS) -DHOMELAB_VERSION='"lint"' -std=c11 2>&1 | \
		grep -v -E '^[0-9]+ warnings?( and [0-9]+ errors?)? generated' >$(1).log; \
	if grep -qE '(error|warning): ' $(1).log; then cat $(1).log; exit 1; fi; \
	touch $(1)

build/lint/%.ok: src/%.c .clang-tidy $(shell find src -name '*.h')
	$(call tidy,$@,$<,$(TIDY_QUICK))
build/lint-deep/%.ok: src/%.c .clang-tidy $(shell find src -name '*.h')
	$(call tidy,$@,$<,)

lint-tidy: $(TIDY_STAMP)
lint-tidy-deep: $(TIDY_DEEP_STAMP)

# make check's build step checks every source beside the compilers, quietly
# and never failing: a file with a finding gets no stamp, so tests/lint.sh
# checks it again and reports the finding as a "not ok" line (and says so
# when clang-tidy is missing).
lint-warm:
	-@$(MAKE) --no-print-directory -k lint-tidy >/dev/null 2>&1

lint: deps
	@LINT_DEEP=1 tests/lint.sh

# ---- valgrind: the integration suite under memcheck ----
# A tree whose "homelab" is tests/valgrind/homelab (valgrind around
# build/homelab) and whose "report" is tests/valgrind/report (reads the
# memcheck logs after the suite, as one more test). `make valgrind` (and
# `make check-long`) runs every integration script under it; `make check`
# does not (ASan and LSan cover every script in build/san there).
VG_TREE  ?= build/valgrind

valgrind-tree: all $(FAKECTL) $(WAITFOR) $(FORKPY)
	@mkdir -p $(VG_TREE)
	@ln -sf ../../tests/valgrind/homelab $(VG_TREE)/homelab
	@ln -sf ../../tests/valgrind/report $(VG_TREE)/report
	@rm -rf $(VG_TREE)/logs
	@if [ -n "$(VG_ONLY)" ]; then printf '%s\n' $(VG_ONLY) >$(VG_TREE)/integration.only; \
	else rm -f $(VG_TREE)/integration.only; fi

valgrind: deps
	@$(MAKE) --no-print-directory valgrind-tree VG_TREE=build/valgrind VG_ONLY=
	@RETRY_FAILED=1 tests/run build/valgrind

demo: deps all $(FAKECTL) $(WAITFOR)
	@tests/demo.sh

clean:
	rm -rf build
