#!/usr/bin/env bash
# The web application under load: N customers and M invoices (default 200,000 and 1,000,000) in
# a fresh SQLite file, `relance serve`, then wrk (Debian's) at 50 connections on the customer
# list (first page, deep page, search, overdue filter), a customer page, an API read and the
# dashboard. Prints wrk's latency distribution for each, and how long the dashboard's first
# view after the server starts takes (its figures are computed at start: the first view waits
# for them).
#
# Usage: tests/bench/web-bench.sh [--only WORD] [RELANCE_BIN] [CUSTOMERS] [INVOICES] [SECONDS]
#   --only WORD       only the routes whose name contains WORD (e.g. --only dashboard)
#   RELANCE_BENCH_DIR a folder to keep the generated database in between runs (made when
#                     missing; reused as it is when it holds one, whatever N and M)
set -euo pipefail
only=""
if [ "${1:-}" = "--only" ]; then
  only="${2:?--only needs a word}"
  shift 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../target/release/relance}"
customers="${2:-200000}"
invoices="${3:-1000000}"
seconds="${4:-10}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
if [ -n "${RELANCE_BENCH_DIR:-}" ]; then
  dir="$RELANCE_BENCH_DIR"
  mkdir -p "$dir"
  keep=1
else
  dir="$(mktemp -d)"
  keep=""
fi
export RELANCE_DATABASE_URL="sqlite://$dir/r.db"
if [ ! -s "$dir/r.db" ] || [ ! -s "$dir/token" ]; then
  rm -f "$dir"/r.db*
  "$bin" init --name "Bench SAS" >/dev/null
  python3 "$here/gen_web_db.py" "$dir/r.db" "$customers" "$invoices"
  printf 'bench-password-123\n' | "$bin" user add --email bench@x.example --role admin --password-stdin >/dev/null
  "$bin" token create --email bench@x.example >"$dir/token"
fi
token="$(cat "$dir/token")"
port="${PORT:-18181}"
"$bin" serve --no-scheduler --bind "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; [ -n "$keep" ] || rm -rf "$dir"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/jar"
csrf="$(curl -fs -c "$jar" "$base/login" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)"
curl -fs -b "$jar" -c "$jar" -o /dev/null -d "email=bench@x.example&password=bench-password-123&csrf=$csrf&next=/" "$base/login"
session="$(awk '$6 == "relance_session" { print $7 }' "$jar")"
[ -n "$session" ] || { echo "login failed" >&2; exit 1; }
deep="$(printf 'C%07d' $((customers * 3 / 4)))"
some="$(printf 'C%07d' $((customers / 2)))"
first="$(curl -fs -o /dev/null -w '%{time_total}' -b "$jar" "$base/c/1")"
echo "== dashboard, first view after the server is up: ${first} s"
grep -m1 "dashboard figures ready" "$dir/serve.log" || true
run() {
  local name="$1" url="$2"; shift 2
  case "$name" in *"$only"*) ;; *) return 0 ;; esac
  echo "== $name: $url"
  wrk -t2 -c50 -d"${seconds}s" --latency "$@" "$url" | grep -E "^\s+(50|90|99)%|Requests/sec|Non-2xx"
}
cookie=(-H "Cookie: relance_session=$session")
run "customers, first page" "$base/c/1/customers" "${cookie[@]}"
run "customers, deep page (keyset)" "$base/c/1/customers?after=$deep" "${cookie[@]}"
run "customers, by name, overdue only" "$base/c/1/customers?sort=name&overdue=1" "${cookie[@]}"
run "customers, search" "$base/c/1/customers?q=durand+1999" "${cookie[@]}"
run "customer page" "$base/c/1/customers/$some" "${cookie[@]}"
run "API customer" "$base/api/c/1/customers/$some" -H "Authorization: Bearer $token"
run "dashboard" "$base/c/1" "${cookie[@]}"
