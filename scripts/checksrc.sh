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
exit 0
