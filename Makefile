# Tenure -- one Makefile.
#   make          build build/tenure (and build/libtenure.a)
#   make test     build with AddressSanitizer + UBSan and run every test
#   make demo     build, generate the demo company into demo.db, print a summary, write demo.html
#   make bench    run the benchmarks in bench/ (prints figures and the machine)
#   make fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS
#   make deps     install the Debian packages the build, tests and benches need

CC      ?= cc
STD     := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
INC     := -Iinclude -Isrc
LIBS    := -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lmicrohttpd -lcrypto -lm -lpthread
OPT     := -O2 -g -fvisibility=hidden
SAN     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 20

LIB_SRC := $(sort $(wildcard src/*.c src/server/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
HDRS    := $(wildcard include/*.h include/tenure/*.h src/*.h src/server/*.h src/cli/*.h src/cli/*.def tests/unit/*.h)

REL_OBJ := $(LIB_SRC:src/%.c=build/obj/%.o)
REL_CLI := $(CLI_SRC:src/cli/%.c=build/obj/cli/%.o)
SAN_OBJ := $(LIB_SRC:src/%.c=build/asan/obj/%.o)
SAN_CLI := $(CLI_SRC:src/cli/%.c=build/asan/obj/cli/%.o)
TESTS   := $(TEST_SRC:tests/unit/%.c=build/asan/tests/%)

.PHONY: all test demo bench fuzz deps deps-build deps-test clean check-style
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
	$(CC) $(STD) $(WARN) $(OPT) $(INC) -c $< -o $@
build/asan/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(SAN) $(INC) -c $< -o $@

build/libtenure.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^
build/asan/libtenure.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/tenure: $(REL_CLI) build/libtenure.a
	$(CC) $(OPT) -o $@ $(REL_CLI) build/libtenure.a $(LIBS)
build/asan/tenure: $(SAN_CLI) build/asan/libtenure.a
	$(CC) $(SAN) -o $@ $(SAN_CLI) build/asan/libtenure.a $(LIBS)

build/asan/tests/%: tests/unit/%.c build/asan/libtenure.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(SAN) $(INC) -Itests/unit -o $@ $< build/asan/libtenure.a $(LIBS) -lcmocka

test: deps-test build/asan/tenure build/tenure $(TESTS) check-style
	@tests/run.sh build/asan

check-style:
	@scripts/checksrc.sh

demo: all
	build/tenure demo --force
	build/tenure --db demo.db report --html demo.html
	@echo "report: demo.html (open it in a browser)"

bench: all
	@bench/run.sh

build/fuzz/%: fuzz/%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(STD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRC) $(LIBS)

fuzz: deps-test $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
	@for f in $(FUZZ_SRC:fuzz/%.c=%); do \
	  mkdir -p build/fuzz/corpus-$$f; cp fuzz/corpus/$$f/* build/fuzz/corpus-$$f/ 2>/dev/null; \
	  echo "fuzz $$f for $(FUZZ_SECONDS)s"; \
	  build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus-$$f >build/fuzz/$$f.log 2>&1 \
	    || { tail -40 build/fuzz/$$f.log; exit 1; }; \
	  grep -E '^(Done|#[0-9]+ *DONE)' build/fuzz/$$f.log | tail -1; \
	done

clean:
	rm -rf build
