# lib.sh -- helpers for the benchmark scripts in bench/ (sourced).
#   machine                  print the machine's description (CPU, cores, memory, OS, compiler)
#   measure NAME CMD...      run CMD under /usr/bin/time; sets SECS and RSS_MB (peak RSS)
#   rate N SECS              N / SECS, formatted
#   ratio A B                A / B, formatted
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
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.01; printf "%.2f", a / b }'; }
