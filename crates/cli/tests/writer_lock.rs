//! Two processes on one SQLite file: the second long writer waits for the first, or, when told
//! not to wait long (`RELANCE_LOCK_WAIT`), says which process and command hold the database.
//!
//! Without the lock, a second `relance run` started while another was writing failed within
//! 50 ms with "database is locked" (measured: a deferred transaction that read first cannot
//! wait for the writer in WAL mode), naming no one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn relance(dir: &Path, wait: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_relance"));
    cmd.args(args)
        .env(
            "RELANCE_DATABASE_URL",
            format!("sqlite://{}", dir.join("relance.db").display()),
        )
        .env("RELANCE_LOCK_WAIT", wait)
        .env_remove("RELANCE_CREDITOR")
        .env_remove("RELANCE_SMTP_URL")
        .current_dir(dir);
    cmd
}

#[test]
fn a_second_writer_on_sqlite_waits_for_the_first_or_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lock = dir.path().join("relance.db.lock");
    // The first writer: a demo load long enough to be caught in the middle.
    let mut first = relance(
        dir.path(),
        "0",
        &[
            "demo",
            "--customers",
            "800",
            "--invoices",
            "8000",
            "--seed",
            "5",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start the first writer");
    let started = Instant::now();
    while !lock.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first writer never took the lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let holder = std::fs::read_to_string(&lock).unwrap_or_default();
    assert!(holder.contains(&format!("pid={}", first.id())), "{holder}");

    // A second writer told not to wait: refused at once, naming the first.
    let refused = relance(dir.path(), "0", &["run", "--no-send"])
        .output()
        .expect("run the second writer");
    assert!(
        first.try_wait().expect("poll").is_none(),
        "the first writer ended too early for this test to mean anything"
    );
    assert!(
        !refused.status.success(),
        "the second writer must not run alongside"
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(&format!("process {}", first.id())) && err.contains("demo --customers 800"),
        "{err}"
    );
    assert!(err.contains("RELANCE_LOCK_WAIT"), "{err}");

    // A second writer allowed to wait: it waits for the first, then does its work.
    let waited = relance(dir.path(), "300", &["run", "--no-send"])
        .output()
        .expect("run the waiting writer");
    let first_done = first.wait_with_output().expect("first writer");
    assert!(
        first_done.status.success(),
        "{}",
        String::from_utf8_lossy(&first_done.stderr)
    );
    let err = String::from_utf8_lossy(&waited.stderr);
    assert!(waited.status.success(), "{err}");
    assert!(err.contains("waiting for process"), "{err}");
    assert!(
        String::from_utf8_lossy(&waited.stdout).contains("action(s) planned")
            || err.contains("action(s) planned"),
        "the waiting run did its work: {err}"
    );
    assert!(
        !lock.exists(),
        "the lock file is removed when the writers end"
    );
}
