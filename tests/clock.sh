#!/bin/sh
# clock.sh [BUILD_DIR] -- the end-to-end tests at awkward wall-clock instants.
# CI runs on any date: a test (or the product) that assumes "now" is
# mid-month, mid-day or in UTC fails on some days only.  This runs the e2e
# tests (tests/run.sh, release build: ASan refuses an LD_PRELOAD ahead of it)
# under libfaketime (Debian package `faketime`) at each instant below, the
# clock started there and running, with the time zones far from UTC.
#   INSTANTS  "YYYY-MM-DD hh:mm:ss [TZ];..." in UTC (default: the first and last
#             minute of a month, a leap day's last minute, 23:59:50, in UTC,
#             Asia/Tehran (+03:30) and Pacific/Kiritimati (+14))
#   TESTS     the e2e tests to run (tests/run.sh's filter; default: those
#             that read the clock, directly or through the product)
# Prints run.sh's lines per instant and one "INSTANT: N passed, N failed"
# summary each; exit 1 when any failed.
set -u
B=${1:-build}
LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1}
[ -f "$LIB" ] || { echo "clock.sh: $LIB missing (apt-get install faketime)"; exit 2; }
INSTANTS=${INSTANTS:-"2027-01-01 00:00:30;2027-01-31 22:00:00 Asia/Tehran;2028-02-29 23:59:30;\
2027-04-30 10:30:00 Pacific/Kiritimati;2027-06-15 23:59:50;2027-03-01 00:00:30;2027-02-28 23:59:30"}
TESTS=${TESTS:-"decisions outbox serve_reads sources actions offer_plan predict_store value_retention store_analyses dashboard"}
bad=0
echo "$INSTANTS" | tr ';' '\n' >"${TMPDIR:-/tmp}/clock.$$"
while read -r day hms tz; do
  [ -n "$day" ] || continue
  at="$day $hms"
  tz=${tz:-UTC}
  target=$(TZ=UTC date -d "$at" +%s) || { echo "clock.sh: bad instant $at"; bad=1; continue; }
  # a relative offset (in seconds) so the clock runs on from the instant,
  # whatever the time zone; the monotonic clock stays real (timeouts)
  off=$((target - $(date +%s)))
  case "$off" in -*) ;; *) off="+$off" ;; esac
  out=$(LD_PRELOAD=$LIB FAKETIME="${off}" FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=$tz TESTS="$TESTS" \
    tests/run.sh "$B" </dev/null 2>&1)
  echo "$out" | sed "s|^|[$at $tz] |"
  sum=$(echo "$out" | tail -1)
  echo "== $at $tz: $sum"
  case "$sum" in *" 0 failed") ;; *) bad=1 ;; esac
done <"${TMPDIR:-/tmp}/clock.$$"
rm -f "${TMPDIR:-/tmp}/clock.$$"
exit $bad
