#!/usr/bin/env bash
# The REST API against its own OpenAPI document, with schemathesis (PyPI): a `relance serve
# --demo` on a fresh SQLite file and a free loopback port, a bearer token of the demo user, then
# generated requests to every operation. Fails on a 5xx, a status code the document does not
# list, or a response body that does not match its schema.
#
# Usage: tests/api/schemathesis.sh [RELANCE_BIN]  (default: $CARGO_TARGET_DIR/debug/relance)
# SCHEMATHESIS_MAX_EXAMPLES (default 40) bounds the requests per operation and phase.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${1:-${RELANCE_BIN:-${CARGO_TARGET_DIR:-target}/debug/relance}}"
[ -x "$bin" ] || { echo "FAIL: no relance binary at $bin (cargo build -p relance)" >&2; exit 1; }
command -v schemathesis >/dev/null || python3 -m pip install -q 'schemathesis>=4,<5'

work="$(mktemp -d)"
server=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop EXIT

export RELANCE_DATABASE_URL="sqlite://$work/api.db"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$bin" serve --demo --no-scheduler --bind "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  python3 -c "import urllib.request; urllib.request.urlopen('$base/healthz', timeout=1)" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; echo "FAIL: the server stopped" >&2; exit 1; }
  sleep 0.5
done
token="$("$bin" token create --email demo@relance.example | tail -1)"

# Real identifiers of the demo data, so that requests reach records and not only 404s.
read -r creditor code invoice < <(python3 - "$base" "$token" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
def get(path):
    r = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(r, timeout=10))
creditor = get("/api/creditors")["data"][0]["id"]
invoice = get(f"/api/c/{creditor}/invoices?open=true&limit=1")["data"][0]
print(creditor, invoice["customer"], invoice["id"])
PY
)
echo "API at $base: creditor $creditor, customer $code, invoice $invoice"

cat > "$work/schemathesis.toml" <<TOML
[parameters]
"path.creditor" = $creditor
"path.code" = "$code"
"path.id" = $invoice
TOML

# One worker: with two, hypothesis parses lambda sources with `ast` on two threads at once, and
# CPython 3.11's parser is not thread-safe there ("AST constructor recursion depth mismatch").
schemathesis --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
  --generation-database none \
  --workers 1 \
  --seed 7 \
  --no-color
