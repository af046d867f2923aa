#!/usr/bin/env bash
# write-demo-config.sh: write the configuration that points every vendor of
# a cl-datagen company at a fixture server, for the demo and the end-to-end
# test. Secrets are ${VAR} references; source the printed exports.
#
#   write-demo-config.sh OUT.ini STAGING_DIR API_URL CONNINFO SQL_DIR VENDOR_DIR
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: $0 OUT.ini STAGING_DIR API_URL CONNINFO SQL_DIR VENDOR_DIR" >&2; exit 64; }
out=$1 staging=$2 api=$3 conninfo=$4 sqldir=$5 vendors=$6

customer_ids=$(find "$vendors/google_ads" -maxdepth 1 -name '[0-9]*.ndjson' -printf '%f\n' |
	sed 's/\.ndjson$//' | sort | paste -sd, -)
[ -n "$customer_ids" ] || { echo "$0: no Google Ads customers under $vendors" >&2; exit 65; }

cat >"$out" <<INI
; Written by scripts/write-demo-config.sh: every vendor points at the
; fixture server on loopback. config.example.ini documents every key.
[pipeline]
staging_dir = $staging
reporting_currency = USD
timezone = UTC

[database]
conninfo = $conninfo
migrations_dir = $sqldir

[attribution]
; models is left unset: the default list applies (config.example.ini)
lookback_days = 90

[crm.hubspot]
enabled = true
base_url = $api
token = \${DEMO_HUBSPOT_TOKEN}

[ads.google_ads]
enabled = true
base_url = $api
token_url = $api/google/token
client_id = demo-client
client_secret = \${DEMO_GOOGLE_CLIENT_SECRET}
refresh_token = \${DEMO_GOOGLE_REFRESH_TOKEN}
developer_token = \${DEMO_GOOGLE_DEVELOPER_TOKEN}
customer_ids = $customer_ids

[email.mailchimp]
enabled = true
base_url = $api/3.0
api_key = \${DEMO_MAILCHIMP_KEY}
INI

cat <<'ENV'
export DEMO_HUBSPOT_TOKEN=demo-hubspot-token
export DEMO_GOOGLE_CLIENT_SECRET=demo-client-secret
export DEMO_GOOGLE_REFRESH_TOKEN=demo-refresh-token
export DEMO_GOOGLE_DEVELOPER_TOKEN=demo-developer-token
export DEMO_MAILCHIMP_KEY=demo-mailchimp-key-us1
ENV
