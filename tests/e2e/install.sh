# install.sh -- `make install` into a temporary DESTDIR: the binary, the
# library, the headers and the man page generated from the CLI's --help texts
# land under PREFIX (default /usr/local); the installed binary runs, a program
# builds against the installed header and library, and the man page renders.
. "$REPO/tests/e2e/lib.sh"
D=$PWD/dest
# a make of its own (not the jobserver of a `make -j2 test` around us)
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$REPO" "$@"; }

check "make install DESTDIR=..." mk install DESTDIR="$D"
P=$D/usr/local
for f in bin/tenure lib/libtenure.a include/tenure.h include/tenure/store.h share/man/man1/tenure.1; do
  check "installed $f" test -s "$P/$f"
done
check "the binary is executable" test -x "$P/bin/tenure"
check_eq "the installed binary runs" "$("$P/bin/tenure" --version)" "$($TENURE --version)"
check "the installed binary fits a model" "$P/bin/tenure" --format csv value fit --model sbg \
  --survivors 1000,631,468,382,326,289,262,241
check_contains "sBG alpha (Fader & Hardie 2007: 0.704)" check.out "alpha,0.704"

# a program built against what was installed, nothing from the source tree
cat > use.c <<'EOF2'
#include <stdio.h>
#include <tenure.h>
int main(void)
{
	printf("%s\n", tn_version());
	return 0;
}
EOF2
check "a program compiles against the installed header and library" \
  cc -std=c17 -I"$P/include" use.c -o use "$P/lib/libtenure.a" -lsqlite3 -lcjson -lutf8proc -lnlopt -lxgboost -lm -lpthread
check_eq "and runs" "$(./use) " "$($TENURE --version | sed 's/^tenure //') "

# the man page: every command's --help text is in it, and it renders cleanly
M=$P/share/man/man1/tenure.1
check_contains "man page: NAME" "$M" ".SH NAME"
check_contains "man page: SYNOPSIS" "$M" ".SH SYNOPSIS"
check_contains "man page: COMMANDS" "$M" ".SH COMMANDS"
check_contains "man page: EXIT STATUS" "$M" '.SH "EXIT STATUS"'
missing=""
for cmd in $($TENURE help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} /^$/ {on = 0}'); do
  [ "$cmd" = help ] && continue
  grep -qF ".SS \"tenure $cmd\"" "$M" || missing="$missing $cmd"
done
check_eq "man page has a section for every command" "$missing" ""
$TENURE survival --help > survival.help
check_eq "the survival section is its --help text" \
  "$(awk '/^\.SS "tenure survival"/ {on = 1; next} on && /^\.fi/ {exit} on && !/^\.nf/' "$M" | sed 's/\\e/\\/g')" \
  "$(cat survival.help)"
if command -v groff >/dev/null 2>&1; then
  check "groff renders the man page without warnings" sh -c "groff -man -Tutf8 -ww -z '$M' 2>&1 | (! grep .)"
fi
if command -v man >/dev/null 2>&1; then
  check "man -l renders it" sh -c "MANWIDTH=80 man -l '$M' > man.txt 2>man.err && test ! -s man.err"
  check_contains "rendered: the name line" man.txt "tenure - customer-retention engine"
  check_contains "rendered: an option of a command" man.txt "--bin W"
else
  not_ok "man -l" "man is not installed (Debian package man-db, scripts/deps.sh)"
fi

# PREFIX moves everything
check "make install PREFIX=/opt/tenure" mk install DESTDIR="$D" PREFIX=/opt/tenure
check "under PREFIX: bin" test -x "$D/opt/tenure/bin/tenure"
check "under PREFIX: man page" test -s "$D/opt/tenure/share/man/man1/tenure.1"

# the user's CPPFLAGS, CFLAGS, LDFLAGS and LDLIBS reach the compile and link lines, after the project's own
mk -n -B build/obj/base/version.o build/tenure CPPFLAGS=-DTN_FLAG_PROBE=1 CFLAGS=-O0 LDFLAGS=-L/tn-probe LDLIBS=-lm > flags.txt
check_eq "CPPFLAGS and CFLAGS on the compile line, CFLAGS after -O2" \
  "$(grep -c -e '-DTN_FLAG_PROBE=1 .*-O2 .* -O0 -c src/base/version.c' flags.txt)" 1
check_eq "LDFLAGS and LDLIBS on the link line" "$(grep -c -e '-L/tn-probe -o build/tenure .* -lm$' flags.txt)" 1
