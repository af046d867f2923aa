#!/usr/bin/env bash
# install-deps.sh: install the Debian packages that building, testing and the
# demo need, when they are missing. As root it runs apt-get itself; otherwise
# it prints the exact command to run and fails, so nothing half-works later.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	libcurl4-openssl-dev libyajl-dev libpq-dev libinih-dev
	libcmocka-dev libmicrohttpd-dev
	postgresql postgresql-client
	python3 curl tzdata jq openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
		"install ok installed") ;;
		*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "closedloop needs these Debian packages: ${missing[*]}" >&2
	echo "run as root:  apt-get update && $cmd" >&2
	exit 1
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd
