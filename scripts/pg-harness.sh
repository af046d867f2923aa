#!/usr/bin/env bash
# pg-harness.sh: a throwaway PostgreSQL cluster for the integration tests, so
# the suite never needs a system service or a shared server.
#
#   pg-harness.sh start DIR   initdb (first time) and start; writes DIR/pg.env
#   pg-harness.sh stop DIR    stop (fast) and delete the cluster
#   pg-harness.sh env DIR     print DIR/pg.env (eval "$(pg-harness.sh env DIR)")
#
# The server listens on a Unix socket in a private directory only (no TCP),
# as user closedloop with trust authentication, and has a database closedloop.
# DIR/pg.env exports PGHOST, PGPORT, PGUSER, PGDATABASE and CL_PG_CONNINFO.
#
# PostgreSQL refuses to run as root. As root the cluster therefore runs as the
# `postgres` system user, or, where there is none, as `closedloop-pg`
# (created on first use). When that user cannot reach DIR (a parent directory
# of mode 700, such as a clone under /root), when DIR's path contains
# characters that would need quoting, or when it is too long for a socket
# path, the cluster goes to a fresh directory under /tmp and DIR/location
# records where, so that stop finds it.
#
# start and stop are idempotent: starting a running cluster and stopping a
# stopped one both succeed.
set -euo pipefail

PROG=pg-harness.sh
PG_DB_USER=closedloop
PG_DB_NAME=closedloop
FALLBACK_USER=closedloop-pg
TMP_PREFIX=/tmp/closedloop-pg.
# sun_path holds 107 bytes; the socket file adds "/.s.PGSQL.NNNNN.lock".
SOCK_DIR_MAX=80

die()
{
	echo "$PROG: $*" >&2
	exit 1
}

usage()
{
	echo "usage: $PROG start|stop|env DIR" >&2
	exit 64
}

# find_bindir prints the directory holding initdb and pg_ctl: pg_config's
# answer when it has them (with only libpq-dev installed it points at
# /usr/bin, which does not), else the newest Debian versioned directory,
# else whatever PATH has.
find_bindir()
{
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	fi
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
		sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
		return 0
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return 0
	fi
	die "no PostgreSQL server programs (initdb, pg_ctl) found; run scripts/install-deps.sh"
}

# pick_run_user sets RUN_USER: empty to run as ourselves, else the
# unprivileged account that owns the cluster.
pick_run_user()
{
	RUN_USER=
	if [ "$(id -u)" -ne 0 ]; then
		return 0
	fi
	command -v runuser >/dev/null 2>&1 ||
		die "running as root needs runuser (util-linux) to start PostgreSQL as another user"
	if getent passwd postgres >/dev/null 2>&1; then
		RUN_USER=postgres
		return 0
	fi
	if ! getent passwd "$FALLBACK_USER" >/dev/null 2>&1; then
		useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$FALLBACK_USER" ||
			die "cannot create the system user $FALLBACK_USER to run PostgreSQL"
	fi
	RUN_USER=$FALLBACK_USER
}

# as_pg runs a command as the cluster's owner.
as_pg()
{
	if [ -z "$RUN_USER" ]; then
		"$@"
	else
		runuser -u "$RUN_USER" -- "$@"
	fi
}

# base_usable tells whether the cluster can live directly in DIR.
base_usable()
{
	local base=$1
	case "$base" in
		*[!A-Za-z0-9_./+-]*) return 1 ;;
	esac
	[ "${#base}" -le $((SOCK_DIR_MAX - 5)) ] || return 1
	as_pg test -x "$base"
}

# resolve_base sets BASE: where data/ and sock/ live for DIR. A recorded
# location wins, so stop and a second start find an earlier cluster.
resolve_base()
{
	local recorded
	BASE=$DIR
	if [ -f "$DIR/location" ]; then
		recorded=$(cat "$DIR/location")
		case "$recorded" in
			"$TMP_PREFIX"*) ;;
			*) die "$DIR/location names $recorded, not a harness directory under /tmp" ;;
		esac
		BASE=$recorded
	fi
}

# own hands a path to the cluster's owner.
own()
{
	if [ -n "$RUN_USER" ]; then
		chown "$RUN_USER" "$@"
	fi
}

is_running()
{
	[ -f "$BASE/data/PG_VERSION" ] || return 1
	as_pg "$BINDIR/pg_ctl" -D "$BASE/data" status >/dev/null 2>&1
}

psql_bin()
{
	if [ -x "$BINDIR/psql" ]; then
		echo "$BINDIR/psql"
	else
		command -v psql || die "psql not found; run scripts/install-deps.sh"
	fi
}

# write_env publishes DIR/pg.env atomically.
write_env()
{
	local sock=$1 port=$2 tmp="$DIR/pg.env.tmp.$$"
	{
		echo "# written by scripts/pg-harness.sh; source it to reach the test cluster"
		# single quotes suffice: base_usable admits no quote in the path
		printf "export PGHOST='%s'\n" "$sock"
		printf "export PGPORT='%s'\n" "$port"
		printf "export PGUSER='%s'\n" "$PG_DB_USER"
		printf "export PGDATABASE='%s'\n" "$PG_DB_NAME"
		printf "export CL_PG_CONNINFO='%s'\n" \
			"host=$sock port=$port user=$PG_DB_USER dbname=$PG_DB_NAME"
	} >"$tmp"
	mv -f "$tmp" "$DIR/pg.env"
}

# init_cluster creates BASE/data with our settings and a free port.
init_cluster()
{
	local data="$BASE/data" sock="$BASE/sock" port
	mkdir -p "$data" "$sock"
	chmod 700 "$data"
	chmod 755 "$sock"
	: >"$BASE/postgres.log"
	own "$data" "$sock" "$BASE/postgres.log"
	# -N: the files of a cluster that lives for one test run need no sync;
	# the running server keeps fsync on (below) for the loader's crash tests.
	if ! as_pg "$BINDIR/initdb" -D "$data" -U "$PG_DB_USER" --auth=trust -E UTF8 \
		--locale=C -N >"$BASE/initdb.log" 2>&1; then
		cat "$BASE/initdb.log" >&2
		die "initdb failed in $data"
	fi
	# The socket directory is private, so any port number is free; it still
	# names the socket file. Pick one at random anyway, so two clusters never
	# look alike in ps or in logs.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((5433 + RANDOM % 20000))
		[ -e "$sock/.s.PGSQL.$port" ] || break
	done
	cat >"$data/closedloop-harness.conf" <<-EOF
		# scripts/pg-harness.sh: socket only, small, durable but not synchronous
		listen_addresses = ''
		port = $port
		unix_socket_directories = '$sock'
		unix_socket_permissions = 0777
		fsync = on
		synchronous_commit = off
		shared_buffers = 16MB
		max_connections = 40
		max_wal_size = 256MB
		logging_collector = off
	EOF
	own "$data/closedloop-harness.conf"
	echo "include = 'closedloop-harness.conf'" >>"$data/postgresql.conf"
}

cmd_start()
{
	local port sock psql have_db
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd -P)
	exec 9>"$DIR/.lock"
	flock 9
	resolve_base
	if [ "$BASE" = "$DIR" ] && [ ! -f "$DIR/data/PG_VERSION" ] && ! base_usable "$DIR"; then
		BASE=$(mktemp -d "${TMP_PREFIX}XXXXXXXX")
		chmod 755 "$BASE"
		echo "$BASE" >"$DIR/location"
	fi
	[ -d "$BASE" ] || die "$BASE (from $DIR/location) is gone; run $PROG stop $DIR first"
	if [ ! -f "$BASE/data/PG_VERSION" ]; then
		init_cluster
	fi
	sock="$BASE/sock"
	port=$(sed -n 's/^port = \([0-9][0-9]*\)$/\1/p' "$BASE/data/closedloop-harness.conf")
	[ -n "$port" ] || die "no port in $BASE/data/closedloop-harness.conf"
	if ! is_running; then
		# 9>&-: the server must not inherit the lock, or it would hold it
		# for its whole life and the next start or stop would wait forever
		if ! as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -l "$BASE/postgres.log" -w -t 30 \
			start >/dev/null 9>&-; then
			tail -n 20 "$BASE/postgres.log" >&2 || true
			die "PostgreSQL did not start from $BASE/data (log: $BASE/postgres.log)"
		fi
	fi
	psql=$(psql_bin)
	have_db=$("$psql" -X -At -h "$sock" -p "$port" -U "$PG_DB_USER" -d postgres \
		-c "select count(*) from pg_database where datname = '$PG_DB_NAME'") ||
		die "cannot query the cluster on $sock port $port"
	if [ "$have_db" = 0 ]; then
		"$psql" -X -q -h "$sock" -p "$port" -U "$PG_DB_USER" -d postgres \
			-v ON_ERROR_STOP=1 -c "create database $PG_DB_NAME" ||
			die "cannot create database $PG_DB_NAME"
	fi
	write_env "$sock" "$port"
	echo "$PROG: PostgreSQL running on $sock port $port (env: $DIR/pg.env)" >&2
}

cmd_stop()
{
	if [ ! -d "$DIR" ]; then
		return 0
	fi
	DIR=$(cd "$DIR" && pwd -P)
	exec 9>"$DIR/.lock"
	flock 9
	resolve_base
	rm -f "$DIR/pg.env"
	if [ -d "$BASE" ]; then
		if is_running; then
			as_pg "$BINDIR/pg_ctl" -D "$BASE/data" -m fast -w -t 30 stop >/dev/null ||
				die "PostgreSQL in $BASE/data did not stop"
		fi
		if [ -f "$BASE/data/PG_VERSION" ] || [ -d "$BASE/data" ]; then
			rm -rf "$BASE/data"
		fi
		rm -rf "$BASE/sock"
		rm -f "$BASE/postgres.log" "$BASE/initdb.log"
		if [ "$BASE" != "$DIR" ]; then
			rmdir "$BASE" 2>/dev/null || true
		fi
	fi
	rm -f "$DIR/location" "$DIR/.lock"
	rmdir "$DIR" 2>/dev/null || true
}

cmd_env()
{
	[ -f "$DIR/pg.env" ] || die "no $DIR/pg.env: run $PROG start $DIR first"
	cat "$DIR/pg.env"
}

[ $# -eq 2 ] || usage
ACTION=$1
DIR=$2
[ -n "$DIR" ] || usage

case "$ACTION" in
	start)
		BINDIR=$(find_bindir)
		pick_run_user
		cmd_start
		;;
	stop)
		BINDIR=$(find_bindir)
		pick_run_user
		cmd_stop
		;;
	env)
		cmd_env
		;;
	*)
		usage
		;;
esac
