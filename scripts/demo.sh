#!/usr/bin/env bash
# The whole custody path on a real sample image, on the embedded default:
# serve, take the first administrator's token, add an analyst and an auditor,
# create a case, upload with a declared hash, show, download, verify, prove a
# byte range, report, timeline, audit export and offline audit.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${DEMO_IMAGE:-../shared/fixtures/images/dfvfs/image.dd}
declared=${DEMO_EXPECT:-md5:d73c51f10c7ee6a681b7b619ccc6f1c4}
if [ ! -f "$image" ]; then
    echo "error: sample image $image not found; put the shared fixtures beside the repository or set DEMO_IMAGE (and DEMO_EXPECT)" >&2
    exit 1
fi

out=demo-out
rm -rf "$out"
mkdir -p "$out"
export VAULT_DATA_DIR="$out/vault-data"
export VAULT_PORT=${VAULT_PORT:-0}
export AWS_EC2_METADATA_DISABLED=true
ev=".venv/bin/evidence-vault"

run() { echo; echo "\$ evidence-vault $*"; "$ev" "$@"; }

"$ev" serve >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    [ -f "$VAULT_DATA_DIR/server.json" ] && break
    kill -0 $server 2>/dev/null || { cat "$out/serve.log" >&2; echo "error: the vault did not start" >&2; exit 1; }
    sleep 0.5
done
[ -f "$VAULT_DATA_DIR/server.json" ] || { cat "$out/serve.log" >&2; echo "error: the vault did not start within 60 s" >&2; exit 1; }
cat "$out/serve.log"

# The first start wrote the administrator's token to an owner-only file; the CLI reads it from there.
export VAULT_TOKEN_FILE="$VAULT_DATA_DIR/admin-token"
run admin user add analyst.alice --role analyst --display-name "Alice Analyst"
run admin user add auditor.carol --role auditor --display-name "Carol Auditor"
# Tokens travel in VAULT_TOKEN, never on a command line.
analyst_token=$("$ev" admin token create analyst.alice --label demo)
auditor_token=$("$ev" admin token create auditor.carol --label demo)
export VAULT_TOKEN="$analyst_token"
run whoami

run case create IR-2026-014 --title "Workstation compromise" --classification "system compromise"
item=$("$ev" upload "$image" --case IR-2026-014 --expect "$declared" --description "demo image" --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo; echo "uploaded $image as item $item"
run show "$item"
run download "$item" -o "$out/copy.dd"
run verify "$item"
run verify-range "$item" --offset 1000 --length 5000
run report "$item" -o "$out/custody.pdf"
run log "$item"
VAULT_TOKEN="$auditor_token" run audit export -o "$out/bundle"
run audit verify "$out/bundle" --key "$out/bundle/key.vkey"
echo
echo "refused on purpose: a wrong declared hash"
"$ev" upload "$image" --case IR-2026-014 --expect md5:00000000000000000000000000000000 || true
echo
echo "refused on purpose: the auditor is not a member of the case, so the item looks like no item (and the attempt is on record)"
VAULT_TOKEN="$auditor_token" "$ev" download "$item" -o "$out/refused.dd" || true
echo
echo "demo finished: report in $out/custody.pdf, audit bundle in $out/bundle"
