#!/usr/bin/env bash
# test.sh: build closedloop and run the whole test suite, twice: once with
# warnings as errors, once more under AddressSanitizer + UBSan. This is the
# README's test command and what CI runs.
#
#   scripts/test.sh            both passes
#   scripts/test.sh --quick    the -Werror pass only
#
# The suite starts its own PostgreSQL (scripts/pg-harness.sh) and fixture
# HTTP servers on 127.0.0.1; it needs no system service.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install-deps.sh"

jobs=$(nproc 2>/dev/null || echo 2)
passes=("werror" "sanitize")
if [ "${1:-}" = "--quick" ]; then
	passes=("werror")
fi

run_pass()
{
	local name=$1
	shift
	local build="$root/build/test-$name"
	echo "==> [$name] configure and build in ${build#"$root"/}"
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCLOSEDLOOP_WERROR=ON "$@" >"$build.configure.log" 2>&1 ||
		{ cat "$build.configure.log"; return 1; }
	cmake --build "$build" -j"$jobs"
	echo "==> [$name] test suite"
	(cd "$build" && ctest --output-on-failure -j"$jobs")
}

mkdir -p "$root/build"
status=0
for pass in "${passes[@]}"; do
	case "$pass" in
		werror) run_pass werror || status=1 ;;
		sanitize) run_pass sanitize -DCLOSEDLOOP_SANITIZE=ON || status=1 ;;
	esac
done
exit $status
