#!/usr/bin/env bash
# test_pg_harness.sh: the suite's throwaway PostgreSQL (scripts/pg-harness.sh):
# pg.env reaches it, it runs unprivileged and socket-only, a second start is a
# no-op, and a separate cluster starts, stops and stops again cleanly.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_need psql

HARNESS="$CL_SOURCE_DIR/scripts/pg-harness.sh"

cl_pg_env
for v in PGHOST PGPORT PGUSER PGDATABASE CL_PG_CONNINFO; do
	[ -n "${!v:-}" ] || cl_fail "pg.env does not export $v"
done
cl_assert_eq 1 "$(cl_psql -c 'select 1')" "select 1 through the PG* variables"
cl_assert_eq "closedloop closedloop" \
	"$(psql -X -At -v ON_ERROR_STOP=1 -d "$CL_PG_CONNINFO" -c "select current_user || ' ' || current_database()")" \
	"CL_PG_CONNINFO reaches user closedloop, database closedloop"
cl_ok "pg.env reaches the cluster (select 1)"

# The uid of the server process itself, from inside: COPY FROM PROGRAM runs
# as the server's operating-system user.
uid=$(cl_psql <<'SQL'
create temporary table server_uid (uid text);
copy server_uid from program 'id -u';
select uid from server_uid;
SQL
)
[ -n "$uid" ] || cl_fail "could not read the server's uid"
[ "$uid" != 0 ] || cl_fail "the PostgreSQL server runs as root"
cl_ok "the server runs as uid $uid, not root"

cl_assert_eq "" "$(cl_psql -c 'show listen_addresses')" "listen_addresses"
[ -d "$PGHOST" ] || cl_fail "PGHOST $PGHOST is not a socket directory"
cl_assert_eq on "$(cl_psql -c 'show fsync')" "fsync stays on"
cl_ok "socket-only server with fsync on"

started=$(cl_psql -c 'select pg_postmaster_start_time()')
"$HARNESS" start "$CL_PG_DIR" 2>/dev/null || cl_fail "a second start of a running cluster failed"
cl_assert_eq "$started" "$(cl_psql -c 'select pg_postmaster_start_time()')" \
	"a second start leaves the running server alone"
cl_assert_eq "$(cat "$CL_PG_DIR/pg.env")" "$("$HARNESS" env "$CL_PG_DIR")" "env prints pg.env"
cl_ok "start is idempotent and env prints pg.env"

# A private cluster: start, use, stop, stop again.
dir="$(cl_tmpdir)/cluster"
cl_on_exit "$HARNESS" stop "$dir"
"$HARNESS" start "$dir" 2>/dev/null || cl_fail "start of a second cluster failed"
got=$(
	unset PGHOST PGPORT PGUSER PGDATABASE CL_PG_CONNINFO
	eval "$("$HARNESS" env "$dir")"
	# shellcheck disable=SC1091
	[ "$PGHOST" != "$(. "$CL_PG_DIR/pg.env"; echo "$PGHOST")" ] || exit 3
	psql -X -At -c 'select 40 + 2'
) || cl_fail "the second cluster is not reachable or shares the first one's socket"
cl_assert_eq 42 "$got" "query on the second cluster"
"$HARNESS" stop "$dir" || cl_fail "stop failed"
if [ -e "$dir/pg.env" ] || [ -e "$dir/data" ]; then
	cl_fail "stop left the cluster behind in $dir"
fi
"$HARNESS" stop "$dir" || cl_fail "stopping a stopped cluster failed"
cl_assert_exit 1 "$HARNESS" env "$dir" 2>/dev/null
cl_ok "a separate cluster starts, stops, and stops again"
cl_assert_exit 64 "$HARNESS" restart "$dir" 2>/dev/null
cl_ok "an unknown action exits 64"
