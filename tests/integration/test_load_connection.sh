#!/usr/bin/env bash
# test_load_connection.sh: how cl-load connects. Against its own cluster
# with TLS (scripts/pg-harness.sh start DIR --tls):
#   - sslmode=verify-full with the harness's CA loads, over TLS; a wrong CA,
#     a host name the certificate does not name and a missing sslrootcert
#     fail at once (exit 78, no retries) naming the TLS failure;
#   - a service file (PGSERVICEFILE) and PG* variables alone are enough;
#   - a role with a SCRAM password loads with PGPASSFILE, fails with exit 78
#     without it or with a wrong one, and the password is never logged;
#   - the configured application_name is what the server sees, and
#     statement_timeout_ms and lock_timeout_ms reach the session: a load
#     blocked by another session's ACCESS EXCLUSIVE lock ends with exit 75
#     naming the timeout, and changes nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_need openssl psql

LOAD="$CL_BINARY_DIR/load/cl-load"
HARNESS="$CL_SOURCE_DIR/scripts/pg-harness.sh"
SQL="$CL_SOURCE_DIR/sql"
DATA="$CL_SOURCE_DIR/tests/data/load/out"
RUN1=20260201T010000Z-aaaaaa
RUN2=20260215T010000Z-bbbbbb
TABLES="leads deals touches spend_daily attribution_credit attribution_daily attribution_model_stats"
PW_ROLE=cl_conn_pw
PW_SECRET="Kx7-conn-test-$RANDOM$RANDOM-secret"
tmp=$(cl_tmpdir)
pgdir="$tmp/pg"
holder_pid=""
load_pid=""

cl_on_exit "$HARNESS" stop "$pgdir"
if ! "$HARNESS" start "$pgdir" --tls 2>"$tmp/harness.log"; then
	cat "$tmp/harness.log" >&2
	cl_fail "cannot start the TLS cluster"
fi
# shellcheck disable=SC1091
. "$pgdir/pg.env"
SOCK_CONNINFO=$CL_PG_CONNINFO
PORT=$PGPORT
CA=$CL_PG_SSLROOTCERT
[ -s "$CA" ] || cl_fail "pg.env names no CA certificate (CL_PG_SSLROOTCERT=$CA)"
TLS="host=localhost port=$PORT user=closedloop sslmode=verify-full sslrootcert=$CA"
# From here on only what each run sets explicitly may reach libpq.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSERVICE \
	PGSERVICEFILE PGSSLMODE PGSSLROOTCERT PGOPTIONS PGAPPNAME PGCONNECT_TIMEOUT
# no ~/.pgpass or ~/.pg_service.conf of whoever runs the suite
export HOME="$tmp/home"
mkdir -p "$HOME"

# q DB SQL...: psql over the cluster's socket, as the superuser
q()
{
	local db=$1
	shift
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$SOCK_CONNINFO dbname=$db" -c "$@"
}

stop_background()
{
	local pid
	for pid in $holder_pid $load_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cl_on_exit stop_background

# write_config FILE CONNINFO [database-key=value ...]
write_config()
{
	local file=$1 conninfo=$2 kv
	shift 2
	{
		echo "[pipeline]"
		echo "staging_dir = $tmp/staging"
		echo "[database]"
		echo "conninfo = $conninfo"
		echo "migrations_dir = $SQL"
		echo "lock_wait_seconds = 5"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
		echo "[attribution]"
		echo "output_dir = $DATA"
	} >"$file"
}

# run_load [VAR=VALUE...] -- ARGS...: cl-load with the given environment;
# sets rc, elapsed_ms and leaves its output in $tmp/out.log and $tmp/err.log
run_load()
{
	local vars=() start
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	start=$(cl_now_ms)
	set +e
	env "${vars[@]}" "$LOAD" "$@" >"$tmp/out.log" 2>"$tmp/err.log"
	rc=$?
	set -e
	elapsed_ms=$(($(cl_now_ms) - start))
	cat "$tmp/out.log" "$tmp/err.log" >>"$tmp/all-output.log"
}

# expect_log PATTERN...: every PATTERN is in the last run's stderr
expect_log()
{
	local pattern
	for pattern in "$@"; do
		grep -q -- "$pattern" "$tmp/err.log" ||
			cl_fail "the log lacks '$pattern': $(cat "$tmp/err.log")"
	done
}

# expect_no_retry: the last run gave up at the first attempt
expect_no_retry()
{
	if grep -q "; retrying (up to" "$tmp/err.log"; then
		cl_fail "a permanent failure was retried: $(cat "$tmp/err.log")"
	fi
	[ "$elapsed_ms" -lt 5000 ] || cl_fail "giving up took $elapsed_ms ms"
}

fingerprint()
{
	local db=$1 t out=""
	for t in $TABLES; do
		out+="$t=$(q "$db" "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-')
			FROM attribution.$t x") "
	done
	echo "$out"
}

run_status()
{
	q "$1" "SELECT coalesce((SELECT status FROM etl.runs WHERE run_id = '$2'), 'none')"
}

for db in cl_tls cl_service cl_pgvars; do
	q postgres "CREATE DATABASE $db"
done

# --- 1. TLS: verify-full against the harness's CA
write_config "$tmp/tls.ini" "$CL_PG_TLS_CONNINFO dbname=cl_tls" "connect_retries=5"
run_load -- --config "$tmp/tls.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "load over sslmode=verify-full ($(cat "$tmp/err.log"))"
cl_assert_eq succeeded "$(run_status cl_tls "$RUN1")" "etl.runs after the verify-full load"
cl_ok "sslmode=verify-full with the cluster's CA loads $RUN1"

# another CA, which did not sign the server's certificate
mkdir -p "$tmp/other-ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$tmp/other-ca/ca.key" -out "$tmp/other-ca/ca.crt" -days 2 \
	-subj "/CN=some other CA" >"$tmp/other-ca/openssl.log" 2>&1 ||
	cl_fail "cannot generate a second CA: $(cat "$tmp/other-ca/openssl.log")"
write_config "$tmp/wrong-ca.ini" \
	"host=localhost port=$PORT user=closedloop dbname=cl_tls sslmode=verify-full sslrootcert=$tmp/other-ca/ca.crt" \
	"connect_retries=5"
run_load -- --config "$tmp/wrong-ca.ini" --run "$RUN2"
cl_assert_eq 78 "$rc" "exit status with a CA that did not sign the server certificate ($(cat "$tmp/err.log"))"
expect_log "certificate verify failed" "not retrying"
expect_no_retry
cl_ok "a server certificate from another CA: exit 78 at once, 'certificate verify failed'"

# the right CA, but a host name the certificate does not name (hostaddr
# still reaches the server, verify-full checks host)
write_config "$tmp/wrong-host.ini" \
	"host=db.closedloop.invalid hostaddr=127.0.0.1 port=$PORT user=closedloop dbname=cl_tls sslmode=verify-full sslrootcert=$CA" \
	"connect_retries=5"
run_load -- --config "$tmp/wrong-host.ini" --run "$RUN2"
cl_assert_eq 78 "$rc" "exit status with a host name the certificate does not name ($(cat "$tmp/err.log"))"
expect_log "does not match host name \"db.closedloop.invalid\""
expect_no_retry
cl_ok "verify-full to a host the certificate does not name: exit 78 at once, names the mismatch"

# the certificate also names 127.0.0.1: verify-full by address works
write_config "$tmp/by-ip.ini" \
	"host=127.0.0.1 port=$PORT user=closedloop dbname=cl_tls sslmode=verify-full sslrootcert=$CA" \
	"connect_retries=5"
run_load -- --config "$tmp/by-ip.ini" --migrate-only
cl_assert_eq 0 "$rc" "verify-full to 127.0.0.1 ($(cat "$tmp/err.log"))"

write_config "$tmp/no-ca.ini" \
	"host=localhost port=$PORT user=closedloop dbname=cl_tls sslmode=verify-full sslrootcert=$tmp/missing-ca.crt" \
	"connect_retries=5"
run_load -- --config "$tmp/no-ca.ini" --run "$RUN2"
cl_assert_eq 78 "$rc" "exit status with a missing sslrootcert ($(cat "$tmp/err.log"))"
expect_log "root certificate file \"$tmp/missing-ca.crt\" does not exist"
expect_no_retry
cl_ok "verify-full by IP address loads; a missing sslrootcert: exit 78 at once, names the file"

# TCP without TLS is refused by the cluster: the loads above did use TLS
write_config "$tmp/plain.ini" \
	"host=localhost port=$PORT user=closedloop dbname=cl_tls sslmode=disable" "connect_retries=1"
run_load -- --config "$tmp/plain.ini" --migrate-only
[ "$rc" != 0 ] || cl_fail "the cluster accepted a TCP connection without TLS"

# --- 2. a service file alone (TLS settings included), then PG* variables alone
cat >"$tmp/pg_service.conf" <<EOF
[closedloop_test]
host=localhost
port=$PORT
dbname=cl_service
user=closedloop
sslmode=verify-full
sslrootcert=$CA
EOF
write_config "$tmp/service.ini" "service=closedloop_test"
run_load "PGSERVICEFILE=$tmp/pg_service.conf" -- --config "$tmp/service.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "load with service=closedloop_test ($(cat "$tmp/err.log"))"
cl_assert_eq succeeded "$(run_status cl_service "$RUN1")" "etl.runs of the database the service names"
run_load "PGSERVICEFILE=$tmp/missing_service.conf" -- --config "$tmp/service.ini" --run "$RUN1"
cl_assert_eq 78 "$rc" "service file missing ($(cat "$tmp/err.log"))"
expect_log "service file \"$tmp/missing_service.conf\" not found" "not retrying"
cl_ok "service=closedloop_test with PGSERVICEFILE loads into the service's database; a missing service file: exit 78 at once"

write_config "$tmp/pgvars.ini" "connect_timeout=10"
run_load PGHOST=localhost "PGPORT=$PORT" PGUSER=closedloop PGDATABASE=cl_pgvars \
	PGSSLMODE=verify-full "PGSSLROOTCERT=$CA" -- --config "$tmp/pgvars.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "load with PG* variables ($(cat "$tmp/err.log"))"
cl_assert_eq succeeded "$(run_status cl_pgvars "$RUN1")" "etl.runs of PGDATABASE"
run_load PGHOST=localhost "PGPORT=$PORT" PGUSER=closedloop PGDATABASE=cl_pgvars \
	PGSSLMODE=verify-full "PGSSLROOTCERT=$tmp/other-ca/ca.crt" -- --config "$tmp/pgvars.ini" --run "$RUN2"
cl_assert_eq 78 "$rc" "PGSSLROOTCERT naming the wrong CA ($(cat "$tmp/err.log"))"
cl_ok "PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGSSLROOTCERT are honoured"

# --- 3. a role with a password: PGPASSFILE
q postgres "SET client_min_messages = warning" \
	-c "CREATE ROLE $PW_ROLE LOGIN PASSWORD '$PW_SECRET'" \
	-c "CREATE DATABASE $PW_ROLE OWNER $PW_ROLE"
write_config "$tmp/pw.ini" \
	"host=localhost port=$PORT user=$PW_ROLE dbname=$PW_ROLE sslmode=verify-full sslrootcert=$CA" \
	"connect_retries=5"
run_load "PGPASSFILE=$tmp/missing.pgpass" -- --config "$tmp/pw.ini" --run "$RUN1"
cl_assert_eq 78 "$rc" "password role without a passfile ($(cat "$tmp/err.log"))"
expect_log "password" "PGPASSFILE"
expect_no_retry
cl_ok "a password role without a passfile: exit 78 at once, says where the password goes"

printf 'localhost:%s:%s:%s:%s\n' "$PORT" "$PW_ROLE" "$PW_ROLE" "wrong-$PW_SECRET" >"$tmp/wrong.pgpass"
chmod 600 "$tmp/wrong.pgpass"
run_load "PGPASSFILE=$tmp/wrong.pgpass" -- --config "$tmp/pw.ini" --run "$RUN1"
cl_assert_eq 78 "$rc" "password role with a wrong password ($(cat "$tmp/err.log"))"
expect_log "password authentication failed for user \"$PW_ROLE\""
expect_no_retry
cl_ok "a wrong password: exit 78 at once, 'password authentication failed'"

printf 'localhost:%s:%s:%s:%s\n' "$PORT" "$PW_ROLE" "$PW_ROLE" "$PW_SECRET" >"$tmp/pgpass"
chmod 600 "$tmp/pgpass"
run_load "PGPASSFILE=$tmp/pgpass" -- --config "$tmp/pw.ini" -vvvv --run "$RUN1"
cl_assert_eq 0 "$rc" "password role with PGPASSFILE ($(cat "$tmp/err.log"))"
cl_assert_eq "succeeded|$PW_ROLE" \
	"$(q "$PW_ROLE" "SELECT status || '|' || tableowner FROM etl.runs, pg_tables
		WHERE run_id = '$RUN1' AND schemaname = 'attribution' AND tablename = 'leads'")" \
	"the load as $PW_ROLE"
[ -s "$tmp/err.log" ] || cl_fail "the verbose load logged nothing: the password check below would prove nothing"
if grep -qF -- "$PW_SECRET" "$tmp/all-output.log"; then
	cl_fail "the password appears in cl-load's output"
fi
cl_ok "a password role loads with PGPASSFILE (0600); the password is in none of cl-load's output"

# --- 4. application_name, statement_timeout and lock_timeout
baseline=$(fingerprint cl_tls)
PGAPPNAME=cl_conn_holder psql -X -q -At -v ON_ERROR_STOP=1 -d "$SOCK_CONNINFO dbname=cl_tls" \
	-c "BEGIN" -c "LOCK TABLE attribution.leads IN ACCESS EXCLUSIVE MODE" \
	-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
holder_pid=$!
for ((i = 0; i < 200; i++)); do
	# in cl_tls: pg_class is per database
	held=$(q cl_tls "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'cl_conn_holder' AND l.mode = 'AccessExclusiveLock'
		  AND l.granted AND l.relation = (SELECT oid FROM pg_class WHERE relname = 'leads'
		    AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'attribution'))
		  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")
	[ "$held" = 1 ] && break
	kill -0 "$holder_pid" 2>/dev/null || cl_fail "the lock holder exited"
	sleep 0.05
done
cl_assert_eq 1 "$held" "another session holds ACCESS EXCLUSIVE on attribution.leads"

APP="cl-conn-test-$$"
write_config "$tmp/stmt.ini" "$TLS dbname=cl_tls" "application_name=$APP" \
	"statement_timeout_ms=3000" "lock_timeout_ms=0" "connect_retries=1"
"$LOAD" --config "$tmp/stmt.ini" --run "$RUN2" >"$tmp/stmt.out" 2>"$tmp/stmt.err" &
load_pid=$!
seen=""
for ((i = 0; i < 400; i++)); do
	seen=$(q postgres "SELECT a.wait_event_type || '|' || s.ssl || '|' || host(a.client_addr)
		FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
		WHERE a.application_name = '$APP' AND a.wait_event_type = 'Lock'")
	[ -n "$seen" ] && break
	kill -0 "$load_pid" 2>/dev/null || break
	sleep 0.05
done
cl_assert_eq "Lock|true|127.0.0.1" "$seen" \
	"the waiting load in pg_stat_activity under application_name $APP, with pg_stat_ssl"
cl_ok "while it waits, the server sees application_name '$APP' on a TLS session from 127.0.0.1"
rc=0
wait "$load_pid" || rc=$?
load_pid=""
cl_assert_eq 75 "$rc" "exit status after statement_timeout_ms=3000 ($(cat "$tmp/stmt.err"))"
grep -q "canceling statement due to statement timeout" "$tmp/stmt.err" ||
	cl_fail "the log does not name the statement timeout: $(cat "$tmp/stmt.err")"
cl_ok "statement_timeout_ms=3000: the blocked load ends with exit 75, naming the statement timeout"

write_config "$tmp/lock.ini" "$TLS dbname=cl_tls" "application_name=$APP" \
	"statement_timeout_ms=0" "lock_timeout_ms=500" "connect_retries=1"
run_load -- --config "$tmp/lock.ini" --run "$RUN2"
cl_assert_eq 75 "$rc" "exit status after lock_timeout_ms=500 ($(cat "$tmp/err.log"))"
expect_log "canceling statement due to lock timeout" "SQLSTATE 55P03"
[ "$elapsed_ms" -lt 10000 ] || cl_fail "the lock timeout of 500 ms took $elapsed_ms ms to end the load"
kill -0 "$holder_pid" 2>/dev/null || cl_fail "the lock holder ended before the load did: the timeout proves nothing"
cl_ok "lock_timeout_ms=500: the blocked load ends with exit 75 within $elapsed_ms ms, naming the lock timeout"

cl_assert_eq t "$(q postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
	WHERE application_name = 'cl_conn_holder'")" "ending the lock holder"
wait "$holder_pid" 2>/dev/null || true
holder_pid=""
cl_assert_eq "$baseline" "$(fingerprint cl_tls)" "tables after the timed-out loads"
cl_assert_eq failed "$(run_status cl_tls "$RUN2")" "etl.runs of the timed-out $RUN2"
run_load -- --config "$tmp/lock.ini" --run "$RUN2"
cl_assert_eq 0 "$rc" "the same load once the lock is free ($(cat "$tmp/err.log"))"
cl_assert_eq succeeded "$(run_status cl_tls "$RUN2")" "etl.runs of $RUN2 after the lock is free"
cl_ok "the timed-out loads changed nothing; once the lock is free the same load succeeds"
