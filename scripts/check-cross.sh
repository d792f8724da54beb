#!/bin/sh
# check-cross.sh -- every C source compiles for a non-x86 target (aarch64),
# syntax only: the x86-only paths (AVX in value_bgnbd.c) must stay behind
# their guards.  Needs clang and the Debian package libc6-dev-arm64-cross
# (scripts/deps.sh, group test).
set -u
cd "$(dirname "$0")/.."
SYS=/usr/aarch64-linux-gnu/include
if [ ! -f "$SYS/stdio.h" ]; then
  echo "check-cross: $SYS is missing: install libc6-dev-arm64-cross (scripts/deps.sh install test)" >&2
  exit 1
fi
RES=$(clang -print-resource-dir)
# Debian's -dev packages keep a few generated configuration headers (OpenSSL's
# opensslconf.h) under the host's multiarch folder only: take them from there,
# after everything else, so a syntax check of the aarch64 build can see them.
HOSTINC=/usr/include/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
bad=0
for f in src/*/*.c; do
  [ -f "$f" ] || continue
  clang --target=aarch64-linux-gnu -nostdinc -isystem "$RES/include" -isystem "$SYS" -idirafter /usr/include -idirafter "$HOSTINC" -idirafter /usr/include/postgresql \
    -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Isrc \
    -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -fsyntax-only "$f" || bad=1
done
[ "$bad" -eq 0 ] || echo "check-cross: the sources above do not compile for aarch64" >&2
exit "$bad"
