#!/bin/sh
# ab_serve_ingest.sh -- A/B of two tenure binaries on the ingest phase of
# bench_serve.sh (POST /v1/events, batches of 500, the journal's folds waited
# for): BASE=/path/to/old/tenure (required) against TENURE (default
# build/tenure), ROUNDS (default 2) rounds in the order A B, B A, ... so a
# load that drifts weighs on both alike.  Each run gets a fresh copy of the
# demo (its own BENCH_DIR under $BENCH_DIR/ingest_ab).  Per run: events/s,
# the server's, the writer thread's and the folds' CPU per event, RSS each
# second and its peak (VmHWM, after the folds: a spike between two samples
# shows there).  On a shared machine the CPU per event is the figure to
# compare.
# Env: INGEST_SECS (default 30), FOLD_WAIT and SETTLE (bench_serve.sh's), ROUNDS.
# Not run by `make bench` (it needs a second binary); without BASE it says so.
# A baseline from main: git worktree add /tmp/tenure-base main && make -C /tmp/tenure-base build/tenure
set -eu
. bench/lib.sh
if [ -z "${BASE:-}" ]; then
  echo "ab_serve_ingest.sh: set BASE=/path/to/the/baseline/tenure (e.g. main's build) to compare it with $TENURE"
  exit 0
fi
ROUNDS=${ROUNDS:-2}
INGEST_SECS=${INGEST_SECS:-30}
export INGEST_SECS
D=$BENCH_DIR/ingest_ab
mkdir -p "$D/A" "$D/B"
NEW=$TENURE
run() { # $1 = A|B
  if [ "$1" = A ]; then bin=$BASE; else bin=$NEW; fi
  echo "== $1: $bin (load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S))"
  TENURE=$bin BENCH_DIR=$D/$1 PHASES=ingest sh bench/bench_serve.sh 2>&1 |
    grep -E '^ingest:|settled after|RSS \(MB\)|RSS verdict|CPU per event|writer thread|fold steps:|disk writes|group commits|peak RSS' | sed 's/^/  /'
}
machine
i=0
while [ $i -lt "$ROUNDS" ]; do
  if [ $((i % 2)) -eq 0 ]; then run A; run B; else run B; run A; fi
  i=$((i + 1))
done
