#!/bin/sh
# deps.sh -- the Debian packages Tenure needs, installed idempotently.
#   scripts/deps.sh check    exit 1 (quietly) if any package is missing
#   scripts/deps.sh install  apt-get install what is missing; silent when all present
# Groups: build (compile + link), test (unit/e2e tests, R comparisons, fuzzing, the
# report in headless Chromium through puppeteer-core: tests/browser),
# bench (peers measured in the same run: sqlite3 shell, R, Python; wrk for the server).
set -eu
BUILD="gcc make pkg-config libsqlite3-dev libcjson-dev libutf8proc-dev libnlopt-dev libxgboost-dev libmicrohttpd-dev libssl-dev libcurl4-openssl-dev libpq-dev"
TEST="libcmocka-dev sqlite3 curl openssl python3-cryptography clang libclang-rt-14-dev r-base-core r-cran-survival python3 locales libc6-dev-arm64-cross groff-base man-db chromium nodejs postgresql-15 faketime"
BENCH="python3-sklearn python3-xgboost python3-numpy time wrk python3-pandas python3-scipy"
case "${2:-all}" in
  build) PKGS="$BUILD" ;;
  test) PKGS="$BUILD $TEST" ;;
  *) PKGS="$BUILD $TEST $BENCH" ;;
esac
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
case "${1:-check}" in
  check) [ -z "$missing" ] ;;
  install)
    [ -z "$missing" ] && exit 0
    echo "installing:$missing" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    ;;
  *) echo "usage: $0 check|install [build|test|all]" >&2; exit 2 ;;
esac
