#!/usr/bin/env bash
# The web server's tests on days when a daily run plans nothing: a Saturday, a Sunday night
# (already Monday in Paris) and Christmas Day. The tests pin "today" to the last business day
# (`relance_server::pin_today_to_a_business_day`); this makes sure they keep doing so. The test
# binaries are built with the real clock, then run under libfaketime (only the test processes
# see the faked date, never cargo's build).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v faketime >/dev/null ||
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null)
binaries=$(cargo test -p relance-server --locked --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])')
[ -n "$binaries" ] || { echo "FAIL: no test binary of relance-server" >&2; exit 1; }
for day in "2026-11-28 12:00:00" "2026-11-29 23:30:00" "2026-12-25 10:00:00"; do
  echo "server tests as if it were $day UTC"
  for binary in $binaries; do
    (cd crates/server && faketime "$day" "$binary" --quiet)
  done
done
