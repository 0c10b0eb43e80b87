#![no_main]
//! cargo-fuzz target for the prospect_csv reader: no panic, and every refused input positioned.

use libfuzzer_sys::fuzz_target;
use relance_formats::fuzzing::{run, unpositioned};

fuzz_target!(|data: &[u8]| {
    if let Some(report) = run("prospect_csv", data) {
        if let Some(problem) = unpositioned(&report) {
            panic!("an error without a position: {problem}");
        }
    }
});
