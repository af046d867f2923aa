#!/usr/bin/env bash
# pg-harness.sh: a throwaway PostgreSQL cluster for the integration tests, so
# the suite never needs a system service or a shared server.
#
#   pg-harness.sh start DIR   initdb (first time) and start; writes DIR/pg.env
#   pg-harness.sh start DIR --tls
#                             the same, plus TLS over TCP on 127.0.0.1 (below)
#   pg-harness.sh stop DIR    stop (fast) and delete the cluster
#   pg-harness.sh env DIR     print DIR/pg.env (eval "$(pg-harness.sh env DIR)")
#
# The server listens on a Unix socket in a private directory only (no TCP),
# as user closedloop with trust authentication, and has a database closedloop.
# DIR/pg.env exports PGHOST, PGPORT, PGUSER, PGDATABASE and CL_PG_CONNINFO.
#
# With --tls (given when the cluster is created) the server also listens on
# 127.0.0.1, same port, with ssl = on and a certificate for localhost and
# 127.0.0.1 signed by a CA the harness generates with the openssl program.
# TCP connections must use TLS: the closedloop user is trusted, every other
# role needs its SCRAM password (for testing passfiles). DIR/pg.env also
# exports CL_PG_SSLROOTCERT (the CA certificate) and CL_PG_TLS_CONNINFO
# (host=localhost ... sslmode=verify-full).
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
	echo "usage: $PROG start DIR [--tls] | stop DIR | env DIR" >&2
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
	local sock=$1 port=$2 tmp="$DIR/pg.env.tmp.$$" ca="$BASE/tls/ca.crt"
	{
		echo "# written by scripts/pg-harness.sh; source it to reach the test cluster"
		# single quotes suffice: base_usable admits no quote in the path
		printf "export PGHOST='%s'\n" "$sock"
		printf "export PGPORT='%s'\n" "$port"
		printf "export PGUSER='%s'\n" "$PG_DB_USER"
		printf "export PGDATABASE='%s'\n" "$PG_DB_NAME"
		printf "export CL_PG_CONNINFO='%s'\n" \
			"host=$sock port=$port user=$PG_DB_USER dbname=$PG_DB_NAME"
		if tls_enabled; then
			printf "export CL_PG_SSLROOTCERT='%s'\n" "$ca"
			printf "export CL_PG_TLS_CONNINFO='%s'\n" \
				"host=localhost port=$port user=$PG_DB_USER dbname=$PG_DB_NAME sslmode=verify-full sslrootcert=$ca"
		fi
	} >"$tmp"
	mv -f "$tmp" "$DIR/pg.env"
}

tls_enabled()
{
	grep -q "^ssl = on\$" "$BASE/data/closedloop-harness.conf" 2>/dev/null
}

# tcp_port_free tells whether nothing accepts connections on 127.0.0.1:PORT.
tcp_port_free()
{
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# make_certs writes BASE/tls/ca.crt and a server certificate and key for
# localhost and 127.0.0.1, valid for a few days: the cluster is throwaway.
make_certs()
{
	local tls="$BASE/tls" data=$1 ext
	command -v openssl >/dev/null 2>&1 ||
		die "--tls needs the openssl program; run scripts/install-deps.sh"
	mkdir -p "$tls"
	chmod 755 "$tls"
	ext="$tls/server.ext"
	printf '%s\n' "basicConstraints = CA:FALSE" \
		"keyUsage = digitalSignature, keyEncipherment" \
		"extendedKeyUsage = serverAuth" \
		"subjectAltName = DNS:localhost, IP:127.0.0.1" >"$ext"
	if ! {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$tls/ca.key" -out "$tls/ca.crt" -days 7 \
			-subj "/CN=closedloop test CA" &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" &&
			openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
				-CAcreateserial -days 7 -extfile "$ext" -out "$tls/server.crt"
	} >"$tls/openssl.log" 2>&1; then
		cat "$tls/openssl.log" >&2
		die "cannot generate the test certificates in $tls"
	fi
	chmod 600 "$tls/ca.key"
	chmod 644 "$tls/ca.crt"
	# the server refuses a key that others can read
	install -m 600 "$tls/server.key" "$data/server.key"
	install -m 644 "$tls/server.crt" "$data/server.crt"
	own "$data/server.key" "$data/server.crt"
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
	# With TLS the port is also a TCP port on 127.0.0.1: it must be free there.
	for _ in $(seq 1 50); do
		port=$((5433 + RANDOM % 20000))
		[ -e "$sock/.s.PGSQL.$port" ] && continue
		[ "$TLS" = 1 ] && ! tcp_port_free "$port" && continue
		break
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
	if [ "$TLS" = 1 ]; then
		make_certs "$data"
		cat >>"$data/closedloop-harness.conf" <<-EOF
			# --tls: TCP on loopback, TLS only (pg_hba.conf has hostssl lines only)
			listen_addresses = '127.0.0.1'
			ssl = on
			ssl_cert_file = 'server.crt'
			ssl_key_file = 'server.key'
		EOF
		cat >"$data/pg_hba.conf" <<-EOF
			# scripts/pg-harness.sh --tls: the socket trusts everyone; TCP only over
			# TLS, $PG_DB_USER trusted, every other role with its SCRAM password
			local   all  all                          trust
			hostssl all  $PG_DB_USER  127.0.0.1/32  trust
			hostssl all  all          127.0.0.1/32  scram-sha-256
		EOF
		own "$data/pg_hba.conf"
	fi
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
	if [ "$TLS" = 1 ] && ! tls_enabled; then
		die "$DIR holds a cluster made without --tls; run $PROG stop $DIR first"
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
		rm -rf "$BASE/sock" "$BASE/tls"
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

[ $# -ge 2 ] || usage
ACTION=$1
DIR=$2
[ -n "$DIR" ] || usage
TLS=0
if [ $# -eq 3 ] && [ "$ACTION" = start ] && [ "$3" = --tls ]; then
	TLS=1
elif [ $# -ne 2 ]; then
	usage
fi

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
