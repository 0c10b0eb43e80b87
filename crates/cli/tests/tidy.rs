//! Tidy checks: the architecture's invariants, enforced by a test (after rust-analyzer's tidy).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_crate_depends_on_no_io_crate() {
    let manifest =
        std::fs::read_to_string(workspace().join("crates/core/Cargo.toml")).expect("core manifest");
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [dependencies] table");
    for forbidden in [
        "sqlx",
        "tokio",
        "reqwest",
        "hyper",
        "axum",
        "lettre",
        "async-std",
        "rusqlite",
        "postgres",
        "std-fs",
    ] {
        assert!(
            !dependencies
                .lines()
                .any(|l| l.trim_start().starts_with(forbidden)),
            "relance-core must stay pure, but depends on {forbidden}"
        );
    }
}

#[test]
fn the_core_crate_reads_no_clock_and_no_file() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates/core/src"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for forbidden in [
            "Utc::now",
            "Local::now",
            "SystemTime::now",
            "std::fs::",
            "File::open",
            "Instant::now",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}: core takes dates and data as arguments",
                file.display()
            );
        }
    }
}

#[test]
fn every_source_file_says_its_job_on_its_first_line() {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "src"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! first line: {missing:?}"
    );
}
