#!/usr/bin/env bash
# check-banned.sh: fail when C sources call functions the house style bans
# (unbounded copies and unchecked conversions). A line may opt out with a
# comment containing IGNORE-BANNED and a reason.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pattern='(^|[^_[:alnum:]])(strcpy|strcat|sprintf|vsprintf|strncpy|strncat|gets|atoi|atol|atoll|strtok)[[:space:]]*\('
hits=$(git ls-files -- '*.c' '*.h' 2>/dev/null | xargs -r grep -nE "$pattern" | grep -v 'IGNORE-BANNED' || true)
if [ -n "$hits" ]; then
	echo "banned functions (use snprintf, strtoll with checks, strtok_r):"
	echo "$hits"
	exit 1
fi
echo "ok: no banned function in $(git ls-files -- '*.c' '*.h' | wc -l) C files"
