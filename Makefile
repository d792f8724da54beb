# Tenure -- one Makefile.
#   make          build build/tenure (and build/libtenure.a)
#   make test     build with AddressSanitizer + UBSan and run every test
#   make demo     build, generate the demo company into demo.db, print a summary, write demo.html
#   make bench    run the benchmarks in bench/ (prints figures and the machine)
#   make fuzz     build the libFuzzer targets and replay each for its executions in fuzz/runs.txt (seed
#                 FUZZ_SEED, default 1), as CI does; FUZZ_SECONDS=S runs each S seconds with a random seed
#                 instead (long runs); FUZZ_TARGETS="fuzz_csv ..." some only (scripts/fuzz.sh)
#   make install  install bin/tenure, lib/libtenure.a, include/ and the man page under
#                 $(DESTDIR)$(PREFIX) (PREFIX defaults to /usr/local)
#   make deps     install the Debian packages the build, tests and benches need
# CFLAGS, CPPFLAGS and LDFLAGS given on the command line or in the environment are
# added after the project's flags (so a user's -O0 or -I wins); LDLIBS after the libraries.

CC      ?= cc
STD     := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
INC     := -Iinclude -Isrc $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
LIBS    := -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lmicrohttpd -lcurl -lcrypto -lpq -lm -lpthread
OPT     := -O2 -g -fvisibility=hidden
SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
INSTALL ?= install
# the compile and link lines: ours first, then the user's CPPFLAGS/CFLAGS/LDFLAGS
CC_REL  = $(CC) $(STD) $(INC) $(CPPFLAGS) $(WARN) $(OPT) $(CFLAGS)
CC_SAN  = $(CC) $(STD) $(INC) $(CPPFLAGS) $(WARN) $(SAN) $(CFLAGS)

# the library: every module folder under src/ except the command line
LIB_SRC := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
HDRS    := $(wildcard include/*.h include/tenure/*.h src/*/*.h src/cli/*.def tests/unit/*.h fuzz/*.h)

# the dashboard's assets (src/web/assets), embedded in the library as C arrays
WEB_ASSETS := $(sort $(wildcard src/web/assets/*))
REL_OBJ := $(LIB_SRC:src/%.c=build/obj/%.o) build/obj/gen/web_assets.o
REL_CLI := $(CLI_SRC:src/cli/%.c=build/obj/cli/%.o)
SAN_OBJ := $(LIB_SRC:src/%.c=build/asan/obj/%.o) build/asan/obj/gen/web_assets.o
SAN_CLI := $(CLI_SRC:src/cli/%.c=build/asan/obj/cli/%.o)
UNIT_TESTS := $(TEST_SRC:tests/unit/%.c=build/asan/tests/%)
# `make test TESTS="serve journal"` runs only the tests whose name is a substring of $(TESTS), as tests/run.sh does
# (it reads TESTS itself), and builds only those unit programs; without TESTS, every one
TESTS ?=
TEST_BINS := $(if $(strip $(TESTS)),$(foreach t,$(UNIT_TESTS),$(if $(findstring $(notdir $(t)),$(TESTS)),$(t))),$(UNIT_TESTS))

.PHONY: all test demo bench fuzz deps deps-build deps-test clean check-style install
.DEFAULT_GOAL := all

all: deps-build build/tenure

deps:
	@scripts/deps.sh install all
deps-build:
	@scripts/deps.sh check build || scripts/deps.sh install build
deps-test:
	@scripts/deps.sh check test || scripts/deps.sh install test

build/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC_REL) -c $< -o $@
build/asan/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC_SAN) -c $< -o $@

build/gen/web_assets.c: $(WEB_ASSETS) scripts/embed_assets.sh
	@mkdir -p $(dir $@)
	scripts/embed_assets.sh $(WEB_ASSETS) > $@.tmp && mv $@.tmp $@
build/obj/gen/web_assets.o: build/gen/web_assets.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC_REL) -c $< -o $@
build/asan/obj/gen/web_assets.o: build/gen/web_assets.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC_SAN) -c $< -o $@

build/libtenure.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/asan/libtenure.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/tenure: $(REL_CLI) build/libtenure.a
	$(CC) $(OPT) $(CFLAGS) $(LDFLAGS) -o $@ $(REL_CLI) build/libtenure.a $(LIBS) $(LDLIBS)
build/asan/tenure: $(SAN_CLI) build/asan/libtenure.a
	$(CC) $(SAN) $(CFLAGS) $(LDFLAGS) -o $@ $(SAN_CLI) build/asan/libtenure.a $(LIBS) $(LDLIBS)

build/asan/tests/%: tests/unit/%.c build/asan/libtenure.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC_SAN) -Itests/unit $(LDFLAGS) -o $@ $< build/asan/libtenure.a $(LIBS) -lcmocka $(LDLIBS)

# unit tests and end-to-end tests on the sanitizer build, then the end-to-end
# tests again on the release build; one "N passed, N failed" line for all
# (TESTS, when given, is passed on as run.sh's filter)
test: deps-test build/asan/tenure build/tenure $(TEST_BINS) check-style
	@$(if $(strip $(TESTS)),TESTS='$(strip $(TESTS))' )tests/run.sh build/asan build

check-style:
	@scripts/checksrc.sh
	@scripts/check-cross.sh

demo: all
	build/tenure demo --force
	build/tenure --db demo.db report --html demo.html
	@echo "report: demo.html (open it in a browser)"

bench: all
	@bench/run.sh

# the library compiled once with the fuzzer's coverage and the sanitizers, linked into each target.  Two things
# that make what an input covers depend on addresses (ASLR, the size of the environment) are off, so that a replay
# (scripts/fuzz.sh) is exact: clang's stack-depth feature (the deepest stack offset, which depends on where the
# stack starts, ASan realigning frames) and UBSan's pointer-overflow check (it compares addresses as integers, and
# libFuzzer keeps compared integers to put into inputs); `make test`'s build keeps the check.  The targets are
# linked at a fixed address (-no-pie): the importer's spec look-up hashes its string literals' addresses
# (import.c, spec_index), so under a PIE's random base which names collide differed from run to run
FUZZ_SAN := -g -O1 -fsanitize=address,undefined -fno-sanitize=pointer-overflow -fno-sanitize-coverage=stack-depth
FUZZ_OBJ := $(LIB_SRC:src/%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/web_assets.o
build/fuzz/obj/gen/web_assets.o: build/gen/web_assets.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(STD) $(INC) $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CFLAGS) -c $< -o $@
build/fuzz/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(STD) $(INC) $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CFLAGS) -c $< -o $@
build/fuzz/libtenure.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/fuzz/%: fuzz/%.c build/fuzz/libtenure.a $(HDRS)
	@mkdir -p $(dir $@)
	clang $(STD) $(INC) $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -no-pie $(CFLAGS) $(LDFLAGS) -o $@ $< build/fuzz/libtenure.a $(LIBS) $(LDLIBS)

FUZZ_TARGETS ?= $(FUZZ_SRC:fuzz/%.c=%)
fuzz: deps-test $(FUZZ_TARGETS:%=build/fuzz/%)
	@FUZZ_TARGETS='$(FUZZ_TARGETS)' FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_SEED='$(FUZZ_SEED)' FUZZ_TWICE='$(FUZZ_TWICE)' \
	  scripts/fuzz.sh

# the man page, generated from the CLI's own --help texts
build/tenure.1: build/tenure scripts/manpage.sh
	scripts/manpage.sh build/tenure > $@.tmp && mv $@.tmp $@

install: all build/libtenure.a build/tenure.1
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/tenure $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 755 build/tenure $(DESTDIR)$(BINDIR)/tenure
	$(INSTALL) -m 644 build/libtenure.a $(DESTDIR)$(LIBDIR)/libtenure.a
	$(INSTALL) -m 644 include/tenure.h $(DESTDIR)$(INCLUDEDIR)/tenure.h
	$(INSTALL) -m 644 include/tenure/*.h $(DESTDIR)$(INCLUDEDIR)/tenure/
	$(INSTALL) -m 644 build/tenure.1 $(DESTDIR)$(MANDIR)/man1/tenure.1

clean:
	rm -rf build
