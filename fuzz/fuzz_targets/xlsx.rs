#![no_main]
//! cargo-fuzz target for the xlsx reader: no panic, and every refused input positioned.
//!
//! The reader catches calamine's panics on purpose (`read_sheet`: a damaged workbook must get
//! an error naming it; `tests/data/fuzz-regressions/xlsx-cell-reference-overflow.bin` overflows
//! calamine's cell-reference arithmetic when overflow checks are on). libfuzzer-sys's panic
//! hook aborts on every panic, caught or not, so this target puts back a hook that only prints:
//! a panic that escapes the reader still aborts the run (libfuzzer-sys aborts when the input's
//! call unwinds) and is reported as a crash with its input.

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use relance_formats::fuzzing::{run, unpositioned};

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    });
    if let Some(report) = run("xlsx", data) {
        if let Some(problem) = unpositioned(&report) {
            panic!("an error without a position: {problem}");
        }
    }
});
