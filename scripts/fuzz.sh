#!/bin/sh
# fuzz.sh -- runs the libFuzzer targets that `make fuzz` built (build/fuzz/NAME) one after another; stops at the
# first finding and prints the end of its log (the input is kept as build/fuzz/NAME-crash-*, -leak-*, ...).
#
#   scripts/fuzz.sh                    replay (CI's fuzz step): each target runs the number of executions
#                                      fuzz/runs.txt gives it, with seed FUZZ_SEED (default 1), from the committed
#                                      seeds in fuzz/corpus/NAME alone
#   FUZZ_SECONDS=600 scripts/fuzz.sh   long runs: S seconds per target, seed FUZZ_SEED or a random one, from the
#                                      committed seeds plus build/fuzz/corpus-NAME, which grows from run to run
#   FUZZ_TWICE=1                       replay each target twice; fail unless both runs end on the same line
#   FUZZ_TARGETS="fuzz_csv fuzz_text"  only these targets
#
# A replay executes the same inputs in the same order wherever the same build runs on the same kind of CPU, so it
# ends on the same "#N DONE cov: C ft: F corp: K/B lim: L" line here and on CI (exec/s and rss differ).  It takes:
#  - a number of executions (-runs), not a time: a time runs more inputs on a faster machine, fewer under load;
#  - the seeds as a name-sorted, comma-separated list (-seed_inputs=@LIST), not a directory: libFuzzer takes a
#    directory's files in readdir order, which differs between file systems, and its sort by size keeps that
#    order among equal sizes;
#  - no output directory (the inputs an earlier run added would be other seeds) and -reload=0 (libFuzzer rereads
#    its corpus directories once a second otherwise);
#  - a build whose coverage does not depend on addresses (FUZZ_SAN in the Makefile);
#  - targets whose coverage depends on the input alone, not on the clock, a thread's timing or random bytes
#    (the server targets pin them, fuzz/fuzz_server.h): fuzz/runs.txt marks fuzz_web, whose dashboard threads
#    still compute beside the requests, as not repeatable.
set -eu
cd "$(dirname "$0")/.."
targets=${FUZZ_TARGETS:-$(ls fuzz/fuzz_*.c | sed 's|^fuzz/||; s|\.c$||')}
seconds=${FUZZ_SECONDS:-}
seed=${FUZZ_SEED:-}
[ -n "$seconds" ] || seed=${seed:-1}

# the executions for target $1 in fuzz/runs.txt
runs_of() {
	n=$(awk -v t="$1" '$1 == t { print $2 }' fuzz/runs.txt)
	[ -n "$n" ] || { echo "fuzz: $1 has no line in fuzz/runs.txt (NAME EXECUTIONS REPEATABLE)" >&2; exit 1; }
	echo "$n"
}

# run target $1 with log $2 and libFuzzer's extra arguments after them; a finding stops everything
run() {
	f=$1 log=$2
	shift 2
	if ! build/fuzz/$f -max_len=4096 -artifact_prefix=build/fuzz/$f- ${seed:+-seed=$seed} "$@" >"$log" 2>&1; then
		tail -40 "$log"
		echo "fuzz $f: a finding (input saved as build/fuzz/$f-*; log $log)"
		exit 1
	fi
}

# the last "#N DONE ..." line of log $1 without its machine-dependent exec/s and rss
done_line() { grep -E '^#[0-9]+[[:space:]]+DONE' "$1" | tail -1 | sed 's/[[:space:]]*exec\/s:.*//; s/[[:space:]]\{1,\}/ /g'; }

for f in $targets; do
	[ -x build/fuzz/$f ] || { echo "fuzz: build/fuzz/$f is not built (make build/fuzz/$f)" >&2; exit 1; }
	if [ -n "$seconds" ]; then
		mkdir -p build/fuzz/corpus-$f
		cp fuzz/corpus/$f/* build/fuzz/corpus-$f/ 2>/dev/null || true
		echo "fuzz $f for ${seconds}s${seed:+ (seed $seed)}"
		run $f build/fuzz/$f.log -max_total_time="$seconds" build/fuzz/corpus-$f
		grep -E '^Done' build/fuzz/$f.log | tail -1
		continue
	fi
	n=$(runs_of $f)
	list=build/fuzz/$f.seeds
	mkdir -p build/fuzz
	# one line, comma-separated: libFuzzer splits the list at commas (a newline would be part of a name)
	find fuzz/corpus/$f -type f 2>/dev/null | LC_ALL=C sort | paste -sd, - | tr -d '\n' >$list
	nseeds=$(find fuzz/corpus/$f -type f 2>/dev/null | wc -l)
	if find fuzz/corpus/$f -type f -name '*,*' 2>/dev/null | grep -q .; then
		echo "fuzz: a seed's name in fuzz/corpus/$f has a comma (libFuzzer's -seed_inputs splits at commas)" >&2
		exit 1
	fi
	seeds=
	[ -s $list ] && seeds=-seed_inputs=@$list
	echo "fuzz $f: $n executions, seed $seed"
	run $f build/fuzz/$f.log -runs="$n" -reload=0 $seeds
	# every seed was read (a name libFuzzer cannot open is skipped without an error)
	nread=$(sed -n 's/^INFO: seed corpus: files: \([0-9]*\).*/\1/p' build/fuzz/$f.log)
	if [ "${nread:-0}" -ne "$nseeds" ]; then
		echo "fuzz $f: libFuzzer read ${nread:-0} of the $nseeds seeds listed in $list" >&2
		exit 1
	fi
	first=$(done_line build/fuzz/$f.log)
	echo "$first"
	if [ "${FUZZ_TWICE:-}" = 1 ] && [ "$(awk -v t="$f" '$1 == t { print $3 }' fuzz/runs.txt)" != yes ]; then
		echo "  (not run twice: fuzz/runs.txt says it is not repeatable)"
	elif [ "${FUZZ_TWICE:-}" = 1 ]; then
		run $f build/fuzz/$f.2.log -runs="$n" -reload=0 $seeds
		second=$(done_line build/fuzz/$f.2.log)
		if [ "$first" != "$second" ]; then
			echo "fuzz $f: the replay is not repeatable: the second run ended on" >&2
			echo "$second" >&2
			exit 1
		fi
		echo "  (the second run ended on the same line)"
	fi
done
