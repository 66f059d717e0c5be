#!/usr/bin/env bash
# An admin at work, with curl and jq: bootstrap an admin client (unless
# ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET are given), register a client,
# update it, list its versions, roll it back, and rotate the RS256 signing
# key in two stages (a next key is published first, then activated).
#
#   ISSUER=http://localhost:8080 examples/admin.sh
#
# PORTCULLIS is the command that runs the server binary for the bootstrap
# (default: cargo run -q --release --), with the same database as the server.
set -euo pipefail

issuer=${ISSUER:-http://localhost:8080}
portcullis=${PORTCULLIS:-cargo run -q --release --}

step() { printf '\n== %s\n' "$*" >&2; }

if [ -z "${ADMIN_CLIENT_ID:-}" ] || [ -z "${ADMIN_CLIENT_SECRET:-}" ]; then
    step "bootstrap the admin client (its secret is printed only this once)"
    admin=$($portcullis bootstrap)
    ADMIN_CLIENT_ID=$(jq -r .client_id <<<"$admin")
    ADMIN_CLIENT_SECRET=$(jq -r .client_secret <<<"$admin")
fi

step "get an admin token (client credentials, scope admin)"
token=$(curl -sS --fail-with-body -u "$ADMIN_CLIENT_ID:$ADMIN_CLIENT_SECRET" \
    -d grant_type=client_credentials -d scope=admin "$issuer/token" | jq -r .access_token)

# admin METHOD PATH [JSON] [extra curl arguments…]: one admin API call.
admin() {
    local method=$1 path=$2 body=${3:-}
    shift 3 || shift $#
    local args=(-sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" "$@")
    if [ -n "$body" ]; then args+=(-H 'Content-Type: application/json' --data "$body"); fi
    curl "${args[@]}" "$issuer/admin/v1$path"
}

step "register a client"
created=$(admin POST /clients '{"client_name": "reports", "scope": "read write"}')
client_id=$(jq -r .client_id <<<"$created")
jq '{client_id, version, scope, client_secret_shown_once: (.client_secret != null)}' <<<"$created"

step "narrow its scope, naming the version the change is based on"
admin PATCH "/clients/$client_id" '{"scope": "read"}' -H 'If-Match: "1"' | jq '{version, scope}'

step "its history"
admin GET "/clients/$client_id/versions" | jq -c '.versions[] | {version, author, summary}'

step "roll back to version 1"
admin POST "/clients/$client_id/rollback" '{"version": 1}' | jq '{version, scope}'

step "stage a next RS256 key: published in the JWKS, not signing yet"
next=$(admin POST /keys '{"alg": "RS256"}')
kid=$(jq -r .kid <<<"$next")
curl -sS "$issuer/jwks" | jq --arg kid "$kid" '{next_key_published: ([.keys[].kid] | index($kid) != null)}'

step "activate it: it signs from now on, the previous key is retired"
admin POST "/keys/$kid/activate" | jq -c '.keys[] | select(.alg == "RS256") | {kid, state, published}'

step "the audit log records every step"
admin GET "/audit-logs?actor=$ADMIN_CLIENT_ID" | jq -c '.entries[] | {seq, action, target, outcome}'

jq -n --arg client_id "$client_id" --arg kid "$kid" '{client_id: $client_id, rolled_back_to: 1, active_rs256_kid: $kid}'
