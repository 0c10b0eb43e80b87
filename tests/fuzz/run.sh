#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ (one per parser, entry points in
# crates/formats/src/fuzzing.rs) for RELANCE_FUZZ_SECONDS each, on the stable toolchain.
#
#   RELANCE_FUZZ_SECONDS=20 bash tests/fuzz/run.sh            # every target, 20 s each
#   RELANCE_FUZZ_TARGETS="fec ofx" bash tests/fuzz/run.sh      # some targets
#
# Installs cargo-fuzz (from crates.io, pinned) into the cache folder when it is missing, builds
# all targets once (release, with debug assertions; AddressSanitizer unless
# RELANCE_FUZZ_SANITIZER=none), then fuzzes each from a seed corpus made of the test files
# (the formats and CLI tests' data, fuzz/seeds/ for the generated workbook and Factur-X PDFs and the supplier, quote and prospect CSVs,
# and the inputs that once broke a parser). The corpus grown by earlier runs is kept in the
# cache and reused. Fails on a crash (a panic, an input slower than 10 s, more than 2 GB, or a
# refused input without a positioned error), and prints the crashing input's path and how to
# replay it. Exit status: 0 all targets clean, 1 a target crashed, 2 the setup failed.
#
# RELANCE_FUZZ_CACHE (default /var/cache/relance/fuzz, or ~/.cache/relance/fuzz when that is
# not writable) holds cargo-fuzz, the build and the corpus; crashing inputs are written to
# fuzz/artifacts/TARGET/ in the checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

seconds="${RELANCE_FUZZ_SECONDS:-15}"
cache="${RELANCE_FUZZ_CACHE:-/var/cache/relance/fuzz}"
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/relance/fuzz"
  mkdir -p "$cache"
fi
target_dir="$cache/target"
cargo_fuzz_version=0.13.2

# --- cargo-fuzz, pinned, installed once into the cache.
export PATH="$cache/cargo-fuzz/bin:$PATH"
if ! cargo fuzz --version 2>/dev/null | grep -q " $cargo_fuzz_version\$"; then
  echo "installing cargo-fuzz $cargo_fuzz_version into $cache/cargo-fuzz"
  CARGO_TARGET_DIR="$cache/install-target" \
    cargo install cargo-fuzz --locked --version "$cargo_fuzz_version" --root "$cache/cargo-fuzz" ||
    { echo "FAIL: cannot install cargo-fuzz" >&2; exit 2; }
  rm -rf "$cache/install-target"
fi

# --- fuzz/Cargo.lock must not move (cargo fuzz has no --locked: check it as cargo would).
(cd fuzz && cargo metadata --locked --format-version 1 >/dev/null) ||
  { echo "FAIL: fuzz/Cargo.lock is out of date (run cargo update in fuzz/ and commit it)" >&2; exit 2; }

# cargo-fuzz passes -Z flags (sanitizer, coverage instrumentation): RUSTC_BOOTSTRAP lets the
# stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
sanitizer=(--sanitizer "${RELANCE_FUZZ_SANITIZER:-address}")
build=(-O --debug-assertions "${sanitizer[@]}" --target-dir "$target_dir")

if [ -n "${RELANCE_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$RELANCE_FUZZ_TARGETS"
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "--- cargo fuzz build (${#targets[@]} targets, target dir $target_dir)"
cargo fuzz build "${build[@]}" || { echo "FAIL: cargo fuzz build" >&2; exit 2; }

# --- seed corpus: the test files of each parser.
data=crates/formats/tests/data
seeds_of() {
  case "$1" in
    invoice_csv) ls "$data"/factures* "$data"/invoices* crates/cli/tests/data/invoices* ;;
    payment_csv) ls "$data"/reglements* "$data"/payments* crates/cli/tests/data/payments* ;;
    en16931)
      ls "$data"/en16931/*
      if [ -d ../shared/data/en16931 ]; then ls ../shared/data/en16931/*; fi ;;
    fec) ls "$data"/fec/*.txt ;;
    camt053) ls "$data"/bank/camt* ;;
    cfonb120) ls "$data"/bank/*.cfonb120 ;;
    ofx) ls "$data"/bank/*.ofx ;;
    xlsx | facturx | purchase_order_csv | supplier_invoice_csv | quote_csv | prospect_csv)
      ls fuzz/seeds/"$1"/* ;;
  esac
  ls "$data"/fuzz-regressions/"$1"-* 2>/dev/null || true
}

failed=()
for t in "${targets[@]}"; do
  corpus="$cache/corpus/$t"
  artifacts="$root/fuzz/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  count=0
  while read -r seed; do
    [ -f "$seed" ] || continue
    cp "$seed" "$corpus/seed-$(basename "$seed")"
    count=$((count + 1))
  done < <(seeds_of "$t")
  if [ "$count" -eq 0 ]; then
    echo "FAIL: $t has no seed" >&2
    exit 2
  fi
  echo "--- fuzz $t: ${seconds} s, $count seeds, corpus $corpus"
  before=$(find "$artifacts" -type f | wc -l)
  if cargo fuzz run "${build[@]}" "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
    -artifact_prefix="$artifacts" -print_final_stats=1 2>"$cache/$t.log"; then
    grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$cache/$t.log" | tail -1 || true
  else
    # The panic or sanitizer report, without libFuzzer's dump of the input's bytes.
    grep -E -A4 "panicked at|ERROR: |SUMMARY: |^Error: " "$cache/$t.log" | cut -c1-300 | head -40 >&2
    crash=""
    if [ "$(find "$artifacts" -type f | wc -l)" -gt "$before" ]; then
      crash=$(ls -t "$artifacts"* | head -1)
    fi
    echo "FAIL: $t crashed on ${crash:-an input (see the log above)}" >&2
    echo "      replay: RUSTC_BOOTSTRAP=1 cargo fuzz run ${build[*]} $t ${crash:-}" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAIL: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no crash"
