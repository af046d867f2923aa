#!/usr/bin/env bash
# The conventions every binary shares (DESIGN §8): --help and --version exit
# 0 and print to stdout, an unknown flag exits 64, a configuration with a bad
# key exits 78 and names file, line and key, a missing configuration file
# exits 78 and names the file, and --from after --to is a usage error.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

work=$(cl_tmpdir)
bins=(extract/cl-extract-crm extract/cl-extract-ads extract/cl-extract-email
	transform/cl-transform load/cl-load)

cat >"$work/bad.ini" <<'INI'
[pipeline]
staging_dir = /nonexistent
reporting_curency = USD
INI

for b in "${bins[@]}"; do
	exe="$CL_BINARY_DIR/$b"
	name=$(basename "$b")

	out=$("$exe" --help) || cl_fail "$name --help exited $?"
	case "$out" in
		*"--config"*"--dry-run"*) ;;
		*) cl_fail "$name --help does not describe the shared options: $out" ;;
	esac

	out=$("$exe" --version) || cl_fail "$name --version exited $?"
	cl_assert_eq "$name (closedloop) " "${out%%[0-9]*}" "$name --version"

	err=$("$exe" --no-such-flag 2>&1 >/dev/null) && cl_fail "$name accepted an unknown flag"
	cl_assert_exit 64 "$exe" --no-such-flag
	case "$err" in
		*"--no-such-flag"*) ;;
		*) cl_fail "$name: the usage error does not name the flag: $err" ;;
	esac

	rc=0
	err=$("$exe" --config "$work/bad.ini" 2>&1 >/dev/null) || rc=$?
	cl_assert_eq 78 "$rc" "$name with a misspelt key"
	case "$err" in
		*"bad.ini:3"*"reporting_curency"*) ;;
		*) cl_fail "$name: the config error does not name file, line and key: $err" ;;
	esac

	rc=0
	err=$("$exe" --config "$work/missing.ini" 2>&1 >/dev/null) || rc=$?
	cl_assert_eq 78 "$rc" "$name with a missing config file"
	case "$err" in
		*"missing.ini"*) ;;
		*) cl_fail "$name: the error does not name the missing file: $err" ;;
	esac

	if [ "$name" != cl-load ]; then
		cl_assert_exit 64 "$exe" --config "$work/bad.ini" --from 2026-02-01 --to 2026-01-01
	fi
	cl_ok "$name follows the shared CLI conventions"
done
