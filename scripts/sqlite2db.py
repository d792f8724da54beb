#!/usr/bin/env python3
"""sqlite2db.py FILE... -- move C code from SQLite's own API onto the SQL
interface src/store/db.h, mechanically, in place.

What it rewrites (the rest -- SQL dialect, `what` messages, binds with an
explicit length -- is left for a person, and the compiler points at it):
  sqlite3_stmt *                   -> tn_stmt *
  tn_store_prepare / tn_store_cached -> tn_db_prepare / tn_db_cached
  sqlite3_bind_int/int64/double/null/text(.., -1, SQLITE_*)/blob(.., SQLITE_*)
                                   -> tn_db_bind_*
  sqlite3_step(st)                 -> tn_db_step(st, "reading the store", err)
  SQLITE_ROW / SQLITE_DONE         -> TN_DB_ROW / TN_DB_DONE
  tn_store_step_end(s, step, ...)  -> tn_db_step_end(step, err)
  tn_store_step_row(s, st, ...)    -> tn_db_step_row(st, ...)
  sqlite3_column_int64/int/double/text/blob/bytes, column_type == SQLITE_NULL
                                   -> tn_db_column_* (double keeps SQLite's 0
                                      for NULL: tn_db_column_double0)
  sqlite3_reset / clear_bindings / finalize -> tn_db_reset / (dropped) / tn_db_finalize
  sqlite3_changes(tn_store_sqlite(s)) -> tn_db_changes(s)
Note: tn_db_reset also clears the bindings (sqlite3_reset does not): code that
binds once and resets in a loop must bind again.
"""
import re
import sys

ARG = r'((?:[^(),]|\([^()]*\))+)'  # one argument (one level of parentheses)

RULES = [
    (r'\bsqlite3_stmt\s*\*', 'tn_stmt *'),
    (r'\btn_store_prepare\(', 'tn_db_prepare('),
    (r'\btn_store_cached\(', 'tn_db_cached('),
    (r'\bsqlite3_bind_text\(' + ARG + ',' + ARG + ',' + ARG + r',\s*-1\s*,\s*SQLITE_(?:STATIC|TRANSIENT)\s*\)',
     r'tn_db_bind_text(\1,\2,\3)'),
    (r'\bsqlite3_bind_blob\(' + ARG + ',' + ARG + ',' + ARG + ',' + ARG + r',\s*SQLITE_(?:STATIC|TRANSIENT)\s*\)',
     r'tn_db_bind_blob(\1,\2,\3, (int)(\4))'),
    (r'\bsqlite3_bind_int64\(', 'tn_db_bind_int64('),
    (r'\bsqlite3_bind_int\(', 'tn_db_bind_int64('),
    (r'\bsqlite3_bind_double\(', 'tn_db_bind_double('),
    (r'\bsqlite3_bind_null\(', 'tn_db_bind_null('),
    (r'\bsqlite3_step\(' + ARG + r'\)', r'tn_db_step(\1, "reading the store", err)'),
    (r'\bSQLITE_ROW\b', 'TN_DB_ROW'),
    (r'\bSQLITE_DONE\b', 'TN_DB_DONE'),
    (r'\btn_store_step_end\(' + ARG + ',' + ARG + ',' + ARG + ',' + ARG + r'\)', r'tn_db_step_end(\2,\4)'),
    (r'\btn_store_step_row\(' + ARG + r',\s*', 'tn_db_step_row('),
    (r'\bsqlite3_column_type\(' + ARG + ',' + ARG + r'\)\s*==\s*SQLITE_NULL', r'tn_db_column_is_null(\1,\2)'),
    (r'\bsqlite3_column_type\(' + ARG + ',' + ARG + r'\)\s*!=\s*SQLITE_NULL', r'!tn_db_column_is_null(\1,\2)'),
    (r'\(const char \*\)\s*sqlite3_column_text\(', 'tn_db_column_text('),
    (r'\bsqlite3_column_text\(', '(const unsigned char *)tn_db_column_text('),
    (r'\bsqlite3_column_int64\(', 'tn_db_column_int64('),
    (r'\bsqlite3_column_int\(', '(int)tn_db_column_int64('),
    (r'\bsqlite3_column_double\(', 'tn_db_column_double0('),
    (r'\bsqlite3_column_blob\(', 'tn_db_column_blob('),
    (r'\bsqlite3_column_bytes\(', 'tn_db_column_bytes('),
    (r'\bsqlite3_column_count\(', 'tn_db_column_count('),
    (r'^\s*sqlite3_clear_bindings\([^;]*\);\n', ''),
    (r'\bsqlite3_reset\(', 'tn_db_reset('),
    (r'\bsqlite3_finalize\(', 'tn_db_finalize('),
    (r'\bsqlite3_changes(?:64)?\(tn_store_sqlite\(' + ARG + r'\)\)', r'tn_db_changes(\1)'),
]


def convert(text):
    for pat, rep in RULES:
        text = re.sub(pat, rep, text, flags=re.M)
    if ('tn_db_' in text or 'tn_stmt' in text) and '"store/db.h"' not in text:
        text = re.sub(r'(#include "store/store_sqlite.h"\n)', r'#include "store/db.h"\n\1', text, count=1)
    return text


def main():
    for path in sys.argv[1:]:
        with open(path) as f:
            old = f.read()
        new = convert(old)
        if new != old:
            with open(path, 'w') as f:
                f.write(new)
            left = len(re.findall(r'\bsqlite3_\w+', new))
            print(f'{path}: converted; {left} sqlite3_ names left')


if __name__ == '__main__':
    main()
