#!/bin/sh
# bench_serve.sh -- `tenure serve` under load (issue: tenure serve), with wrk
# (Lua scripts bench/serve_*.lua) on loopback against the 50,000-customer demo:
#   * ingest: POST /v1/events in batches of 500 new events for INGEST_SECS
#     (default 60): events/s, latency, the server's RSS sampled every second
#     (first/peak/last), and the server's CPU time (user+sys from /proc) per
#     event;
#   * reads: GET /v1/customers/{id} for SECS (default 20): requests/s,
#     p50/p99/p999 (wrk --latency), CPU time per request;
#   * paced reads: GET /v1/customers/{id} open loop at READ_RATE (default
#     20,000) requests/s over PACED_CONNS (128) connections (serve_read.lua
#     RATE): achieved rate, p50/p90/p99/p99.9/max, and how many requests left
#     more than 1 ms behind their slot (coordinated omission), with a verdict;
#   * reads while a background ingest runs at BG_RATE (default 50,000)
#     events/s (paced on a fixed schedule, serve_ingest.lua): the reads' own
#     wrk gives their p99; the ingest rate reached, the server's CPU per
#     request, each wrk's own CPU and the read cache's hits are printed.
# Targets (issue 12, docs/api.md): >= 200,000 events/s with flat RSS; >= 20,000
# reads/s with p99 < 5 ms, p99 < 10 ms during a 50,000 events/s ingest.
# The machine is shared: the load average is printed with each phase, and the
# CPU time per event/request (less sensitive to other load) with the rates.
# Env: INGEST_SECS, SECS, CONNS (read connections, 32), INGEST_CONNS (64),
# BG_RATE, BG_CONNS (200 paced connections: a write waits for its group
# commit, so a paced rate needs many), THREADS (HTTP threads; default the
# server's), PHASES (default "ingest reads bg"; e.g. PHASES=reads for the
# read phase alone, on the pristine demo), READ_WARM (the reads phase first
# reads every customer once, in order, stopping after at most READ_WARM
# seconds, default 300; 0: no warm-up, the phase starts on a cold read cache),
# READ_THREADS (wrk's threads for the reads, 2), FOLD_WAIT (after the ingest,
# wait at most this many seconds, default 120, for the journal's folds to
# finish, so the fold's CPU per event folded covers whole folds; 0: no wait),
# SETTLE (wait at most this many seconds, default 0, for the server's
# start-up work -- the events keys' filter -- to end before the phases).  The reads phase prints the
# read cache's hits and misses, and wrk's own CPU per request.
set -eu
. bench/lib.sh
INGEST_SECS=${INGEST_SECS:-60}
SECS=${SECS:-20}
CONNS=${CONNS:-32}
INGEST_CONNS=${INGEST_CONNS:-64}
BG_RATE=${BG_RATE:-50000}
BG_CONNS=${BG_CONNS:-200}
PHASES=${PHASES:-ingest reads paced bg}
READ_RATE=${READ_RATE:-20000}
PACED_CONNS=${PACED_CONNS:-128}
READ_WARM=${READ_WARM:-300}
CUSTOMERS=${CUSTOMERS:-50000} # the demo's (serve_read.lua reads it too)
export CUSTOMERS
READ_THREADS=${READ_THREADS:-2}
FOLD_WAIT=${FOLD_WAIT:-120}
phase() { case " $PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
D=$BENCH_DIR/serve
mkdir -p "$D"
[ -x "$TENURE" ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/deps.sh install all" >&2; exit 1; }
machine
echo "load generator: $(wrk -v 2>&1 | head -1) on the same machine"
# a pristine demo for each run (the ingest phase adds millions of events)
[ -f "$D/demo.orig.db" ] || "$TENURE" --db "$D/demo.orig.db" --quiet demo >/dev/null
rm -f "$D/demo.db" "$D/demo.db-wal" "$D/demo.db-shm"
cp "$D/demo.orig.db" "$D/demo.db"
INGEST=$("$TENURE" --db "$D/demo.db" keys create --scope ingest --name bench 2>/dev/null)
READ=$("$TENURE" --db "$D/demo.db" keys create --scope read --name bench 2>/dev/null)

"$TENURE" --db "$D/demo.db" serve --listen 127.0.0.1:0 --per-ip 4096 --max-conns 4096 \
  ${THREADS:+--threads "$THREADS"} 2>"$D/serve.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
wait_port "$D/serve.log" "$PID" || exit 1
URL=http://127.0.0.1:$PORT
TICK=$(getconf CLK_TCK)
rss() { awk '/VmRSS/ {printf "%.0f\n", $2/1024}' /proc/$PID/status; }
cpu() { awk '{print $14 + $15}' /proc/$PID/stat; } # user+sys ticks
wbytes() { awk '/^write_bytes/ {print $2}' /proc/$PID/io; } # bytes the server sent to the disk
load() { cut -d' ' -f1-3 /proc/loadavg; }
threads() { for t in /proc/$PID/task/*; do awk '{print FILENAME, $14 + $15}' "$t/stat" 2>/dev/null; done | sed 's|/proc/[0-9]*/task/||; s|/stat||'; }
busiest() { # the thread with the most CPU ticks between snapshots $1 and $2: "ticks", and the others' sum
  awk 'NR == FNR {a[$1] = $2; next} {d = $2 - a[$1]; t += d; if (d > m) m = d} END {print m + 0, t - m}' "$1" "$2"; }
foldcpu() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" | # "CPU-seconds rows"
  awk '/^tenure_journal_fold_cpu_seconds_total/ {c = $2} /^tenure_journal_fold_rows_total/ {r = $2} END {print c + 0, r + 0}'; }
rows() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" | awk '/^tenure_rows_ingested_total/ {print $2}'; }
reqs() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_http_requests_total\{route="\/v1\/customers\/\{id\}",status="200"\}/ {s += $2} END {print s + 0}'; }
hits() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_read_cache_(hits_total|misses_total|bytes)/ {v[$1] = $2} END {
    printf "%d %d %d\n", v["tenure_read_cache_hits_total"], v["tenure_read_cache_misses_total"], v["tenure_read_cache_bytes"]}'; }
per() { # per N TICKS -> microseconds of CPU per item
  awk -v t="$2" -v n="$1" -v hz="$TICK" 'BEGIN { if (n <= 0) print "n/a"; else printf "%.1f", t / hz * 1e6 / n }'; }
sample_rss() { # the server's RSS every second for N seconds, into $D/rss.txt
  i=0; : >"$D/rss.txt"
  while [ $i -lt "$1" ]; do rss >>"$D/rss.txt"; sleep 1; i=$((i + 1)); done
}
# "Flat" RSS (issue 12), from the per-second samples of a run: after a
# 10 s warm-up (the writer's and the readers' page caches fill, the events
# keys' filter and the journal's first generation are built), the peak may
# exceed the 10 s value by at most FLAT_PCT percent (default 10: one group
# commit's request bodies and parsed rows, ~10 MB at 64 connections of 500
# events, come and go), and the least-squares slope of the last 30 s must be
# under FLAT_SLOPE MB/s (default 0.05: 3 MB a minute, a tenth of the
# writer's cache an hour)
FLAT_PCT=${FLAT_PCT:-10}
FLAT_SLOPE=${FLAT_SLOPE:-0.05}
rss_verdict() {
  awk -v pct="$FLAT_PCT" -v lim="$FLAT_SLOPE" '{v[NR - 1] = $1; n = NR} END {
    if (n < 40) { print "RSS verdict: n/a (fewer than 40 samples; INGEST_SECS >= 40)"; exit }
    m = 0; for (i = 10; i < n; i++) if (v[i] > m) m = v[i]
    sx = sy = sxx = sxy = 0; k = 0
    for (i = n - 30; i < n; i++) { sx += i; sy += v[i]; sxx += i * i; sxy += i * v[i]; k++ }
    slope = (k * sxy - sx * sy) / (k * sxx - sx * sx)
    ok = (m - v[10] <= v[10] * pct / 100) && (slope < lim)
    printf "RSS verdict: %s (at 10 s %d MB, peak after it %d MB: +%d MB, limit +%d%%; slope of the last 30 s %+.3f MB/s, limit %.2f)\n",
      ok ? "flat" : "NOT flat", v[10], m, m - v[10], pct, slope, lim }' "$1"
}
echo "server: $URL, RSS at start $(rss) MB"
# SETTLE=N: before the phases, wait (N s at most) until the server's CPU
# stops moving for a second: the writer's start-up work (the events keys'
# filter, loaded in steps between group commits) done first, so that a
# loaded machine, where those steps would spread over the whole ingest,
# measures the ingest the idle machine sees after its first seconds
if [ "${SETTLE:-0}" -gt 0 ]; then
  i=0; c0=$(cpu); sleep 1; c1=$(cpu)
  while [ "$c1" != "$c0" ] && [ $i -lt "$SETTLE" ]; do c0=$c1; sleep 1; c1=$(cpu); i=$((i + 1)); done
  echo "  (settled after $((i + 1)) s: server CPU $(awk -v t="$c1" -v hz="$TICK" 'BEGIN { printf "%.1f", t / hz }') s so far, RSS $(rss) MB)"
fi

if phase ingest; then
echo "-- ingest: POST /v1/events, 500 events a request, $INGEST_CONNS connections, ${INGEST_SECS}s (load $(load))"
sample_rss "$INGEST_SECS" &
S=$!
R0=$(rows); C0=$(cpu); B0=$(wbytes); F0=$(foldcpu); threads >"$D/threads0.txt"
TENURE_KEY=$INGEST BATCH=500 /usr/bin/time -f '%U %S' -o "$D/wrk_time.txt" wrk -t2 -c"$INGEST_CONNS" \
  -d"${INGEST_SECS}s" --timeout 30s -s bench/serve_ingest.lua "$URL" | grep -E '^ingest:|Non-2xx'
wait $S
R1=$(rows); C1=$(cpu); B1=$(wbytes); F1=$(foldcpu); threads >"$D/threads1.txt"
awk 'NR == 1 {f = $1} {if ($1 > p) p = $1; l = $1} END {printf "server RSS (MB): first %s, peak %s, last %s (each second: ", f, p, l}' "$D/rss.txt"
tr '\n' ' ' <"$D/rss.txt" | sed 's/ $//'; echo ")"
rss_verdict "$D/rss.txt"
echo "server CPU per event: $(per $((R1 - R0)) $((C1 - C0))) us (user+sys, $((R1 - R0)) events committed)"
set -- $(busiest "$D/threads0.txt" "$D/threads1.txt")
echo "  of which the writer thread (the busiest; one core at most): $(per $((R1 - R0)) "$1") us, the other threads (HTTP: parsing, answering): $(per $((R1 - R0)) "$2") us"
if [ "$FOLD_WAIT" -gt 0 ]; then # let the fold under way, and the idle fold of the rest, finish (wall time apart)
  steps() { curl -s -H "Authorization: Bearer $READ" "$URL/metrics" | awk '/^tenure_journal_fold_steps_total/ {print $2}'; }
  i=0; same=0; last=$(steps)
  while [ $i -lt $((FOLD_WAIT * 2)) ] && [ $same -lt 10 ]; do
    sleep 0.5; i=$((i + 1)); now=$(steps)
    if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
    last=$now
  done
  F1=$(foldcpu)
  echo "  (after the ingest, waited $((i / 2)) s for the journal's folds to finish: every ingested event folded)"
fi
echo "$F0 $F1" | awk -v n=$((R1 - R0)) '{ c = $3 - $1; r = $4 - $2; pi = "n/a"; pf = "n/a"
  if (n > 0) pi = sprintf("%.1f", c * 1e6 / n); if (r > 0) pf = sprintf("%.1f", c * 1e6 / r)
  printf "  of the writer%ss, the journal%ss fold steps: %s us per event ingested; %s us per event folded (%d folded)\n", q, q, pi, pf, r }' q="'"
echo "load generator (wrk, Lua building the bodies) CPU per event: $(awk -v n=$((R1 - R0)) '{ if (n > 0) printf "%.1f", ($1 + $2) * 1e6 / n; else print "n/a" }' "$D/wrk_time.txt") us (user+sys; it shares the two cores with the server)"
echo "server disk writes per event: $(awk -v b=$((B1 - B0)) -v n=$((R1 - R0)) 'BEGIN { if (n > 0) printf "%.0f", b / n; else print "n/a" }') bytes (write_bytes of /proc/PID/io: log, checkpoints, journal folds)"
curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_commit_duration_seconds_(sum|count)/ {v[$1] = $2} END {
    if (v["tenure_commit_duration_seconds_count"] > 0)
      printf "group commits: %d, mean %.0f ms\n", v["tenure_commit_duration_seconds_count"],
        1000 * v["tenure_commit_duration_seconds_sum"] / v["tenure_commit_duration_seconds_count"] }'
curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_journal_fold/ {v[$1] = $2} END {
    printf "events journal folds finished: %d, %.1f s in all; fold steps (a fold under way counts too): %d, longest %.2f s\n",
      v["tenure_journal_folds_total"], v["tenure_journal_fold_seconds_total"], v["tenure_journal_fold_steps_total"],
      v["tenure_journal_fold_step_max_seconds"] }'
fi

warm() { # read every customer once, in order (the read cache's warm-up)
  echo "-- reads warm-up: GET /v1/customers/{id} for each customer once, in order ($CONNS connections, at most ${READ_WARM}s; READ_WARM=0: none)"
  C0=$(cpu); H0=$(hits)
  TENURE_KEY=$READ ORDER=seq wrk -t1 -c"$CONNS" -d"${READ_WARM}s" -s bench/serve_read.lua "$URL" >"$D/warm.txt" &
  W=$!
  n0=$(echo "$H0" | awk '{print $1 + $2}')
  while kill -0 $W 2>/dev/null; do # stop wrk (SIGINT: it reports and exits) once every customer was read
    sleep 0.5
    [ $(($(hits | awk '{print $1 + $2}') - n0)) -ge "$CUSTOMERS" ] && { kill -INT $W 2>/dev/null; break; }
  done
  wait $W || true
  grep -E '^reads:|Non-2xx' "$D/warm.txt"
  C1=$(cpu); H1=$(hits)
  echo "warm-up: server CPU per read $(per $(( $(echo "$H1" | cut -d' ' -f1) + $(echo "$H1" | cut -d' ' -f2) - $(echo "$H0" | cut -d' ' -f1) - $(echo "$H0" | cut -d' ' -f2) )) $((C1 - C0))) us; read cache (hits misses bytes) now: $H1"
}

if phase reads; then
[ "$READ_WARM" -gt 0 ] && warm
echo "-- reads: GET /v1/customers/{id}, random customers, $CONNS connections, wrk -t$READ_THREADS, ${SECS}s (load $(load))"
Q0=$(reqs); C0=$(cpu); H0=$(hits)
TENURE_KEY=$READ wrk -t"$READ_THREADS" -c"$CONNS" -d"${SECS}s" --latency -s bench/serve_read.lua "$URL" | grep -E '^reads|Non-2xx'
Q1=$(reqs); C1=$(cpu); H1=$(hits)
echo "server CPU per read: $(per $((Q1 - Q0)) $((C1 - C0))) us (user+sys; load after: $(load))"
echo "$H0 $H1" | awk '{h = $4 - $1; m = $5 - $2; printf "read cache in the phase: %d hits, %d misses (%.1f%% hits), %.1f MB held\n", h, m, h + m ? 100 * h / (h + m) : 0, $6 / 1048576}'
fi

if phase paced; then
phase reads || [ "$READ_WARM" -le 0 ] || warm
echo "-- reads paced at $READ_RATE req/s (open loop, serve_read.lua RATE): random customers, $PACED_CONNS connections, wrk -t$READ_THREADS, ${SECS}s (load $(load))"
Q0=$(reqs); C0=$(cpu); H0=$(hits)
TENURE_KEY=$READ RATE=$READ_RATE WRK_THREADS=$READ_THREADS wrk -t"$READ_THREADS" -c"$PACED_CONNS" -d"${SECS}s" \
  --latency -s bench/serve_read.lua "$URL" >"$D/paced.txt"
grep -E '^reads paced|^reads load|Non-2xx' "$D/paced.txt"
Q1=$(reqs); C1=$(cpu); H1=$(hits)
echo "server CPU per read: $(per $((Q1 - Q0)) $((C1 - C0))) us (user+sys; load after: $(load))"
echo "$H0 $H1" | awk '{h = $4 - $1; m = $5 - $2; printf "read cache in the phase: %d hits, %d misses (%.1f%% hits)\n", h, m, h + m ? 100 * h / (h + m) : 0}'
awk -v r="$READ_RATE" '/^reads paced at/ {a = $9; p = $19} /behind schedule/ {late = $3} END {
  printf "paced reads verdict: %s (achieved %s req/s of %d, p99 %s ms, goal >= 20,000/s with p99 < 5 ms; %s sent late)\n",
    (a >= 0.98 * r && p + 0 < 5) ? "met" : "NOT met", a, r, p, late }' "$D/paced.txt"
fi

if phase bg; then
phase reads || [ "$READ_WARM" -le 0 ] || warm
echo "-- reads while ingest runs at $BG_RATE events/s (paced; $BG_CONNS ingest connections, wrk -t1; reads: $CONNS connections, wrk -t1; ${SECS}s; load $(load))"
Q0=$(reqs); R0=$(rows); C0=$(cpu); H0=$(hits); threads >"$D/threads0.txt"
TENURE_KEY=$INGEST BATCH=500 RATE=$BG_RATE CONNS=$BG_CONNS /usr/bin/time -f '%U %S' -o "$D/wrk_bg_time.txt" \
  wrk -t1 -c"$BG_CONNS" -d"${SECS}s" --timeout 30s -s bench/serve_ingest.lua "$URL" >"$D/ingest_bg.txt" &
W=$!
TENURE_KEY=$READ wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s bench/serve_read.lua "$URL" >"$D/reads_bg.txt"
grep -E '^reads|Non-2xx' "$D/reads_bg.txt"
wait $W
Q1=$(reqs); R1=$(rows); C1=$(cpu); H1=$(hits); threads >"$D/threads1.txt"
sed 's/^ingest:/background ingest:/' "$D/ingest_bg.txt" | grep -E '^background ingest:|Non-2xx'
echo "background ingest load generator (wrk) CPU per event: $(awk -v n=$((R1 - R0)) '{ if (n > 0) printf "%.1f", ($1 + $2) * 1e6 / n; else print "n/a" }' "$D/wrk_bg_time.txt") us"
echo "server CPU in the phase: $(awk -v t=$((C1 - C0)) -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz}') s for $((Q1 - Q0)) reads and $((R1 - R0)) events (the two are not separable: $(per $((Q1 - Q0)) $((C1 - C0))) us a read with the events' share included)"
set -- $(busiest "$D/threads0.txt" "$D/threads1.txt")
echo "  of which the busiest thread (the writer): $(awk -v t="$1" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz}') s, the others (HTTP, the value model): $(awk -v t="$2" -v hz="$TICK" 'BEGIN {printf "%.2f", t / hz}') s"
echo "$H0 $H1" | awk '{h = $4 - $1; m = $5 - $2; printf "read cache in the phase: %d hits, %d misses (%.1f%% hits)\n", h, m, h + m ? 100 * h / (h + m) : 0}'
curl -s -H "Authorization: Bearer $READ" "$URL/metrics" |
  awk '/^tenure_journal_fold_steps_total|^tenure_commit_duration_seconds_count/ {printf "%s %s; ", $1, $2} END {print ""}'
awk -v r="$BG_RATE" 'FNR == NR && /^reads:/ {p = $17} FNR != NR && /^ingest:/ {a = $10} END {
  printf "reads during ingest verdict: %s (reads p99 %s ms, goal < 10 ms; ingest %s events/s of %d)\n",
    (p + 0 < 10 && a >= 0.98 * r) ? "met" : "NOT met", p, a, r }' "$D/reads_bg.txt" "$D/ingest_bg.txt"
echo "load after: $(load)"
fi
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$PID/status) MB"
