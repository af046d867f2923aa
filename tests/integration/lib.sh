# lib.sh: helpers for tests/integration/test_*.sh. Source it first:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Conventions: a test prints one "ok: <what>" line per checked behaviour
# (cl_ok) and exits 0; any failed check prints "FAIL: ..." and exits 1.
# Everything a test starts (fixture servers, commands registered with
# cl_on_exit) is stopped when the script exits, however it exits.
#
# Environment (set by ctest, see tests/integration/integration.cmake):
#   CL_SOURCE_DIR, CL_BINARY_DIR, CL_SHARED_DIR, CL_TEST_TMP,
#   CL_PG_DIR (the shared cluster of scripts/pg-harness.sh),
#   CL_FIXTURE_SERVER, CL_DATAGEN (the test programs).
# shellcheck shell=bash

set -euo pipefail

CL_TEST_NAME=$(basename "${0%.sh}")
: "${CL_TEST_TMP:=${TMPDIR:-/tmp}/closedloop-test-tmp}"
: "${CL_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

_CL_EXIT_CMDS=()

# cl_fail MSG: report a failed check and end the test.
cl_fail()
{
	echo "FAIL: $CL_TEST_NAME: $*" >&2
	exit 1
}

# cl_ok WHAT: report a passed check.
cl_ok()
{
	echo "ok: $*"
}

# cl_on_exit CMD...: run CMD when the test exits (last registered, first run).
cl_on_exit()
{
	local quoted
	printf -v quoted '%q ' "$@"
	_CL_EXIT_CMDS+=("$quoted")
}

_cl_exit()
{
	local rc=$? i
	for ((i = ${#_CL_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${_CL_EXIT_CMDS[$i]}" || true
	done
	exit "$rc"
}
trap _cl_exit EXIT

# cl_assert_eq EXPECTED ACTUAL MESSAGE
cl_assert_eq()
{
	if [ "$1" != "$2" ]; then
		cl_fail "$3: expected '$1', got '$2'"
	fi
}

# cl_assert_exit CODE CMD...: CMD must exit with CODE. Its output is passed
# through, so the test log shows it.
cl_assert_exit()
{
	local want=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" != "$want" ]; then
		cl_fail "expected exit $want, got $rc from: $*"
	fi
}

# cl_need CMD...: fail clearly when a required program is missing.
cl_need()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			cl_fail "the test needs '$c' (see scripts/install-deps.sh)"
	done
}

# cl_tmpdir: print a fresh directory under $CL_TEST_TMP. It is kept after the
# test, for looking into failures; the build tree holds it.
cl_tmpdir()
{
	mkdir -p "$CL_TEST_TMP"
	mktemp -d "$CL_TEST_TMP/$CL_TEST_NAME.XXXXXX"
}

# cl_now_ms: a monotonic-enough wall clock in milliseconds, for ratios.
cl_now_ms()
{
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# cl_json EXPR [FILE]: evaluate a Python expression over the JSON document
# on stdin (or FILE), bound to d; prints the result (None prints nothing,
# True/False print true/false, containers print as JSON).
cl_json()
{
	python3 -c '
import json, sys
src = open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin
d = json.load(src)
v = eval(sys.argv[1], {"d": d, "json": json})
if v is None:
    pass
elif isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (dict, list)):
    print(json.dumps(v, separators=(",", ":")))
else:
    print(v)
' "$@"
}

# cl_fixture_start ROUTES [ARGS...]: start $CL_FIXTURE_SERVER on a free
# loopback port and wait (up to 10 s) until it listens. Exports FIXTURE_PORT,
# FIXTURE_URL, FIXTURE_PID and FIXTURE_STDERR; the server is stopped when
# the test exits. Starting a second server overwrites the FIXTURE_* values.
cl_fixture_start()
{
	local routes=$1 dir portfile pid i
	shift
	if [ -z "${CL_FIXTURE_SERVER:-}" ] || [ ! -x "$CL_FIXTURE_SERVER" ]; then
		cl_fail "CL_FIXTURE_SERVER is not set to the cl-fixture-server program"
	fi
	dir=$(cl_tmpdir)
	portfile="$dir/port"
	"$CL_FIXTURE_SERVER" --routes "$routes" --port 0 --port-file "$portfile" "$@" \
		2>"$dir/server.stderr" &
	pid=$!
	cl_on_exit _cl_fixture_kill "$pid"
	for ((i = 0; i < 200; i++)); do
		if [ -s "$portfile" ]; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$dir/server.stderr" >&2
			cl_fail "cl-fixture-server exited at start (routes $routes)"
		fi
		sleep 0.05
	done
	[ -s "$portfile" ] || cl_fail "cl-fixture-server did not listen within 10 s"
	FIXTURE_PORT=$(cat "$portfile")
	FIXTURE_URL="http://127.0.0.1:$FIXTURE_PORT"
	FIXTURE_PID=$pid
	FIXTURE_STDERR="$dir/server.stderr"
	export FIXTURE_PORT FIXTURE_URL FIXTURE_PID FIXTURE_STDERR
}

# _cl_fixture_kill PID: stop one server we started (TERM, then KILL after
# 5 s). Returns the server's exit status.
declare -A _CL_REAPED=()
_cl_fixture_kill()
{
	local pid=$1 i rc=0
	# once reaped, the pid may belong to someone else: never signal it again
	if [ -n "${_CL_REAPED[$pid]:-}" ]; then
		return 0
	fi
	_CL_REAPED[$pid]=1
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# cl_fixture_stop: stop the current server now; fails the test unless it
# shuts down cleanly (exit 0: under the sanitizers that includes no leaks).
cl_fixture_stop()
{
	local rc=0
	_cl_fixture_kill "$FIXTURE_PID" || rc=$?
	if [ "$rc" != 0 ]; then
		cat "$FIXTURE_STDERR" >&2
		cl_fail "cl-fixture-server exited with $rc on SIGTERM"
	fi
}

# cl_fixture_fault PATH KIND [KEY=VALUE...]: queue a fault for the next
# requests under PATH (times=N, retry_after=..., delay_ms=..., status=...).
cl_fixture_fault()
{
	local path=$1 kind=$2 kv
	local args=(--data-urlencode "path=$path" --data-urlencode "kind=$kind")
	shift 2
	for kv in "$@"; do
		args+=(--data-urlencode "$kv")
	done
	curl -sS -f -o /dev/null -G -X POST "${args[@]}" "$FIXTURE_URL/_fixture/fault" ||
		cl_fail "cannot queue fault $kind on $path"
}

# cl_fixture_requests: print the server's request log (NDJSON).
cl_fixture_requests()
{
	curl -sS -f "$FIXTURE_URL/_fixture/requests" || cl_fail "cannot read the request log"
}

# cl_fixture_reset: clear queued faults and the request log.
cl_fixture_reset()
{
	curl -sS -f -o /dev/null -X POST "$FIXTURE_URL/_fixture/reset" ||
		cl_fail "cannot reset the fixture server"
}

# cl_pg_env: export the connection settings of the suite's PostgreSQL.
cl_pg_env()
{
	[ -n "${CL_PG_DIR:-}" ] || cl_fail "CL_PG_DIR is not set (run the test through ctest)"
	[ -f "$CL_PG_DIR/pg.env" ] ||
		cl_fail "no $CL_PG_DIR/pg.env: the PostgreSQL fixture is not running (scripts/pg-harness.sh start $CL_PG_DIR)"
	# shellcheck disable=SC1091
	. "$CL_PG_DIR/pg.env"
}

# cl_psql ARGS...: psql against the suite's database, quiet, unaligned,
# stopping at the first error.
cl_psql()
{
	if [ -z "${CL_PG_CONNINFO:-}" ]; then
		cl_pg_env
	fi
	psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

cl_need curl
