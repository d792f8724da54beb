#!/bin/sh
# checksrc.sh -- mechanical style checks (curl's checksrc in miniature):
# no sprintf/strcpy/strcat/strtok/atoi/gets in our C sources.
bad=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' src/*/*.c 2>/dev/null \
      | grep -vE 'snprintf|vsnprintf')
if [ -n "$bad" ]; then
  echo "checksrc: banned functions (use snprintf, memcpy with lengths, strtol):" >&2
  echo "$bad" >&2
  exit 1
fi
# no exit() outside main.c: `tenure serve` runs the analysis commands in its
# own process (cmd_serve.c run_cli), where an exit() would stop the server;
# library and command code return an error status instead
bad=$(grep -nE '(^|[^_a-zA-Z0-9])(exit|_Exit|quick_exit)\(' src/*/*.c 2>/dev/null | grep -v '^src/cli/main.c:' \
      | grep -vE ':[0-9]+:\s*(/?\*|//)')
if [ -n "$bad" ]; then
  echo "checksrc: exit() outside src/cli/main.c (return an error status instead):" >&2
  echo "$bad" >&2
  exit 1
fi
exit 0
