# pg.sh -- start and stop throwaway PostgreSQL 15 instances for tests and
# benches; sourced (not run).  Each instance lives in its own temporary
# directory, runs as an unprivileged user (the server refuses root), listens
# on a free loopback port and on a Unix socket in its directory, and takes a
# password (scram-sha-256) over TCP, so that tests can check wrong-password
# errors.
#   pg_available                 0 when the server binaries are installed
#   pg_start NAME [DIR]          start instance NAME; sets PG_URL_<NAME> (with
#                                the password), PG_PORT_<NAME>, PG_DIR_<NAME>.
#                                With DIR, the instance lives in DIR and is kept:
#                                made there the first time, started again on its
#                                data (and its password, DIR/pw) on a fresh free
#                                port after (a bench that resumes later)
#   pg_stop NAME                 stop it (fast shutdown) and remove its directory
#                                (a DIR given to pg_start is kept)
#   pg_stop_all                  stop every instance this shell started
#   pg_psql NAME SQL [DB]        run SQL through psql as the superuser (database postgres)
# The superuser is "tenure", its password $PG_PASSWORD (default made here).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PASSWORD=${PG_PASSWORD:-tn-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')}
PG_STARTED=""

pg_available() { [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }

# the unprivileged account the server runs as: Debian's "postgres" when the
# package made it, else a dedicated one
pg_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  id tenurepg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin tenurepg
  echo tenurepg
}

pg_as() {
  u=$(pg_user)
  if [ "$(id -u)" -ne 0 ]; then "$@"; else runuser -u "$u" -- "$@"; fi
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
  name=$1
  keep=""
  if [ -n "${2:-}" ]; then
    dir=$2; keep=1
    mkdir -p "$dir" || return 1
  else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/tenure-pg-$name.XXXXXX") || return 1
  fi
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$(pg_user)" "$dir"
  if [ -n "$keep" ] && [ -f "$dir/data/PG_VERSION" ]; then
    # a kept instance: its superuser's password is the one it was made with
    pw=$(cat "$dir/pw") || return 1
  else
    pw=$PG_PASSWORD
    rm -rf "$dir/data"
    printf '%s\n' "$pw" >"$dir/pw"
    [ "$(id -u)" -eq 0 ] && chown "$(pg_user)" "$dir/pw"
    if ! pg_as "$PG_BIN/initdb" -D "$dir/data" -U tenure --pwfile="$dir/pw" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2; return 1
    fi
  fi
  for _ in 1 2 3 4 5; do
    port=$(pg_free_port)
    # fsync off: a test instance is thrown away; max_prepared_transactions for
    # postgres_fdw's two-phase-free commits is not needed
    if pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB" \
        start >"$dir/pg_ctl.out" 2>&1; then
      eval "PG_URL_$name=\"postgresql://tenure:$pw@127.0.0.1:$port/postgres\""
      eval "PG_PORT_$name=$port"
      eval "PG_DIR_$name=\"$dir\""
      eval "PG_KEEP_$name=$keep"
      PG_STARTED="$PG_STARTED $name"
      return 0
    fi
  done
  cat "$dir/pg_ctl.out" "$dir/log" >&2
  return 1
}

pg_stop() {
  eval "dir=\${PG_DIR_$1:-}"
  [ -n "$dir" ] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  eval "keep=\${PG_KEEP_$1:-}"
  [ -n "$keep" ] || rm -rf "$dir"
  eval "PG_DIR_$1="
}

pg_stop_all() { for n in $PG_STARTED; do pg_stop "$n"; done; PG_STARTED=""; }

pg_psql() {
  eval "dir=\${PG_DIR_$1:-}; port=\${PG_PORT_$1:-}"
  # from / : the server's account may not enter the caller's directory
  (cd / && pg_as "$PG_BIN/psql" -X -q -A -t -h "$dir" -p "$port" -U tenure -d "${3:-postgres}" -v ON_ERROR_STOP=1 -c "$2")
}

# The analyses every comparison of two stores runs (postgres.sh: SQLite and
# PostgreSQL; cluster.sh: SQLite and a cluster), one list for both.  The caller
# defines `same NAME ARGS...` (run the command on both stores, compare the
# JSON) and AS_OF.
same_analyses() {
  same "summary" summary
  same "churn rate" churn rate
  same "churn rate by plan" churn rate --by plan
  same "churn rate quarterly" churn rate --period quarter
  same "churn status" churn status --as-of "$AS_OF"
  same "cohorts" cohorts
  same "cohorts revenue" cohorts --revenue
  same "survival" survival
  same "survival all spells" survival --all-spells
  same "drivers" drivers
  same "value summary" value summary
  same "value score" value score
  same "value retention" value retention
  same "value profitability" value profitability
  same "predict features" predict features --as-of "$AS_OF" --horizon 30
  same "feedback scores" feedback scores
  same "points balance" points balance
  same "points tiers" points tiers
  same "points check" points check
  same "journey funnel" journey funnel
  same "journey churn" journey churn
  same "journey stuck" journey stuck --days 14
  same "value at-risk" value at-risk
  same "points at-risk" points at-risk
  same "predict backtest" predict backtest --as-of "$AS_OF" --horizon 30
  same "feedback classify" feedback classify
  same "feedback impact" feedback impact
  same "feedback matrix" feedback matrix
  same "alerts" alerts --as-of "$AS_OF"
  same "alerts again (no new episode)" alerts --as-of "$AS_OF"
  same "offers plan" offers plan --now "$AS_OF"
  same "offers ending" offers ending --now "$AS_OF"
  same "offers plans" offers plans
  same "offers report" offers report
  same "winback schedule" winback schedule --now "$AS_OF" --seed 3
  same "winback report" winback report
  same "winback reasons" winback reasons
}
