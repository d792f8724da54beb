# lib.sh -- helpers for the benchmark scripts in bench/ (sourced).
#   machine                  print the machine's description (CPU, cores, memory, OS, compiler)
#   measure NAME CMD...      run CMD under /usr/bin/time; sets SECS and RSS_MB (peak RSS)
#   rate N SECS              N / SECS, formatted
#   ratio A B                A / B, formatted
#   cox_csv FILE ROWS        the Cox workload's CSV (time, left, 10 covariates), generated once
#   dash_store N             sets DB to the N-customer demo store of the dashboard benches, built once
#                            (above 50,000, a multiple of 50,000 is built from copies of the 50k demo)
#   texts_csv FILE N         N numbered feedback texts cycled from data/feedback/heldout.csv, made once
#   wait_port LOG [PID [SECS]]  wait until LOG (a `tenure serve`'s stderr) says "listening on
#                            http(s)://127.0.0.1:N" and set PORT; polled every 20 ms for at most SECS
#                            (60) seconds or until PID exits; else print LOG to stderr, return 1
#   dash_serve BIN LOG       BIN serve on DB, no wait budget (a page answers at once with what is
#                            cached); sets PID and U once it listens (wait_port)
#   dash_login               sets C, the session cookie of KEY on U
# Benchmarks write scratch data under ${BENCH_DIR:-build/bench} (never committed).
BENCH_DIR=${BENCH_DIR:-$PWD/build/bench}
TENURE=${TENURE:-$PWD/build/tenure}
mkdir -p "$BENCH_DIR"
machine() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r); compiler: $(cc --version | head -1)"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
measure() {
  _name=$1; shift
  /usr/bin/time -f '%e %M' -o "$BENCH_DIR/.time" "$@" >"$BENCH_DIR/.out" 2>"$BENCH_DIR/.err" || {
    echo "bench: $_name failed:" >&2; tail -5 "$BENCH_DIR/.err" >&2; return 1; }
  SECS=$(awk '{print $1}' "$BENCH_DIR/.time")
  RSS_MB=$(awk '{printf "%.1f", $2/1024}' "$BENCH_DIR/.time")
}
# The libraries a bench program (bench/*.c) links with libtenure.a, and the
# link itself: bench_link SRC LIB OUT (LIB: this build's build/libtenure.a,
# or another build's for an A/B)
TN_LIBS="-lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lmicrohttpd -lcurl -lcrypto -lpq -lm -lpthread"
bench_link() { cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Iinclude "$1" "$2" $TN_LIBS -o "$3"; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.01; printf "%.2f", a / b }'; }
cox_csv() {
  [ -f "$1" ] || { awk -v n="$2" 'BEGIN { srand(11); printf "time,left"; for (j = 1; j <= 10; j++) printf ",x%d", j; print "";
  for (i = 0; i < n; i++) { lp = 0; line = "";
    for (j = 1; j <= 10; j++) { x = (j % 2) ? int(rand() * 100) / 50 - 1 : (rand() < 0.3);
      lp += x * (j - 5.5) / 10; line = line "," x }
    t = int(-log(1 - rand()) / exp(lp) * 120) + 1; e = 1; if (t > 365) { t = 365; e = 0 }
    print t "," e line } }' >"$1.tmp" && mv "$1.tmp" "$1"; }
}
dash_store() {
  DB="$BENCH_DIR/dash-$1.db"
  if [ ! -f "$DB" ]; then
    if [ "$1" -gt 50000 ] && [ $(($1 % 50000)) -eq 0 ]; then
      [ -f "$BENCH_DIR/dash-50000.db" ] || "$TENURE" --db "$BENCH_DIR/dash-50000.db" demo --customers 50000 >/dev/null || return 1
      sh bench/replicate_demo.sh "$BENCH_DIR/dash-50000.db" "$DB" $(($1 / 50000)) || return 1
    else
      "$TENURE" --db "$DB" demo --customers "$1" >/dev/null || return 1
    fi
  fi
}
texts_csv() {
  [ -f "$1" ] || { awk -v n="$2" 'NR == 1 { next } { t[m++] = $0 }
  END { print "text,type,language,theme"
        for (i = 0; i < n; i++) { r = t[i % m]
          if (substr(r, 1, 1) == "\"") { sub(/^"/, "\"#" i " ", r); print r } else print "#" i " " r } }' \
  data/feedback/heldout.csv >"$1.tmp" && mv "$1.tmp" "$1"; }
}
wait_port() {
  PORT=""
  _tries=$((${3:-60} * 50))
  while [ "$_tries" -gt 0 ]; do
    PORT=$(sed -n 's|^listening on https\{0,1\}://127.0.0.1:\([0-9][0-9]*\)$|\1|p' "$1" 2>/dev/null)
    [ -n "$PORT" ] && return 0
    [ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || break
    sleep 0.02
    _tries=$((_tries - 1))
  done
  echo "bench: the server did not start (${1}):" >&2
  cat "$1" >&2
  return 1
}
dash_serve() {
  TENURE_WEB_WAIT_MS=0 "$1" --db "$DB" serve --listen 127.0.0.1:0 2>"$2" &
  PID=$!
  wait_port "$2" "$PID" || { kill "$PID"; exit 1; }
  U="http://127.0.0.1:$PORT"
}
dash_login() {
  C=$(curl -s -D - -o /dev/null --data-urlencode "key=$KEY" "$U/login" | sed -n 's/^Set-Cookie: \(tn_session=[0-9a-f]*\);.*/\1/p')
}
