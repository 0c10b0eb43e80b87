//! One long writer at a time on a SQLite file, and a clear word when another holds it.
//!
//! Shared by the binary (`relance run`, `send`, `import`, `demo`) and `relance serve`'s
//! scheduler, which takes the lock for each of its checks (the daily run and the dispatch) and
//! skips a check while another process holds it ([`WriterLock::try_acquire`]): the two never
//! write to one SQLite file at once.
//!
//! SQLite allows one writing transaction at a time; a second writer waits `busy_timeout`
//! (10 s, see `relance_store::db`) and then fails with "database is locked", which says neither
//! who holds it nor for how long. The commands that write in long batches (`run`, `send`,
//! `import`, `demo`) therefore take turns on a lock file next to the database,
//! `relance.db.lock`, holding the holder's process id, command line and start time: a second
//! one waits for the first to finish (`RELANCE_LOCK_WAIT` seconds, default 600) and, if it
//! gives up, names the holder. A lock file left by a process that no longer exists (killed) is
//! taken over. PostgreSQL needs none of this: its row locks let several writers work at once.
//!
//! The file appears atomically (written under a name of our own, then hard-linked under the
//! lock's name, which fails if it exists) and is removed when the guard is dropped; it is advisory — short commands rely on `busy_timeout` alone, and an error
//! "database is locked" from any command is completed with the holder's name
//! ([`explain_locked`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Held while a long writer works; removes its lock file when dropped.
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
    content: String,
}

/// The lock file of a SQLite URL (`sqlite://relance.db?mode=rwc` → `relance.db.lock`), or
/// `None` for PostgreSQL and in-memory databases.
pub fn lock_path(url: &str) -> Option<PathBuf> {
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = file.split('?').next().unwrap_or(file);
    if file.is_empty() || file.contains(":memory:") {
        return None;
    }
    // The same file under another name (a symbolic link, a relative path) has the same lock.
    let file = std::fs::canonicalize(file).unwrap_or_else(|_| PathBuf::from(file));
    let mut path = file.into_os_string();
    path.push(".lock");
    Some(PathBuf::from(path))
}

/// Who holds a lock file, in words ("process 1234 (relance run --as-of 2026-03-11), since …").
fn holder_of(path: &Path) -> Option<(Option<u32>, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("?")
            .to_string()
    };
    let pid = field("pid=").parse().ok();
    Some((
        pid,
        format!(
            "process {} ({}), since {}",
            field("pid="),
            field("command="),
            field("since=")
        ),
    ))
}

/// What one attempt at the lock found.
enum Attempt {
    Taken(WriterLock),
    /// No lock file is possible (a read-only folder): `busy_timeout` alone applies.
    Unavailable,
    /// Held by another live process, described.
    Held(String),
}

/// Whether a process is known to be gone: only where `/proc` tells (Linux); elsewhere a lock
/// is never assumed stale.
fn is_gone(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}

impl WriterLock {
    /// Takes the lock of the SQLite database at `url` for `command`, waiting up to `wait` for
    /// another writer to finish. `Ok(None)` on PostgreSQL.
    pub fn acquire(url: &str, command: &str, wait: Duration) -> anyhow::Result<Option<WriterLock>> {
        let Some(path) = lock_path(url) else {
            return Ok(None);
        };
        let started = Instant::now();
        let mut said = false;
        loop {
            let who = match attempt(&path, command) {
                Attempt::Taken(lock) => return Ok(Some(lock)),
                Attempt::Unavailable => return Ok(None),
                Attempt::Held(who) => who,
            };
            if started.elapsed() >= wait {
                anyhow::bail!(
                    "the database is being written by {who}; waited {} s (RELANCE_LOCK_WAIT). Try again when it has finished. If that process is gone, remove {}",
                    wait.as_secs(),
                    path.display()
                );
            }
            if !said {
                eprintln!("waiting for {who} to finish writing to the database…");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// One attempt, without waiting (the scheduler of `relance serve`, which looks again at
    /// its next check): `Ok(Some(lock))` taken, `Ok(None)` no lock needed (PostgreSQL, or no
    /// lock file possible), `Err(holder)` another process writes, described.
    pub fn try_acquire(url: &str, command: &str) -> Result<Option<WriterLock>, String> {
        let Some(path) = lock_path(url) else {
            return Ok(None);
        };
        match attempt(&path, command) {
            Attempt::Taken(lock) => Ok(Some(lock)),
            Attempt::Unavailable => Ok(None),
            Attempt::Held(who) => Err(who),
        }
    }
}

/// Tries once to create the lock file at `path` (taking over one left by a dead process).
fn attempt(path: &Path, command: &str) -> Attempt {
    let content = format!(
        "pid={}\ncommand={command}\nsince={}\n",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );
    // The content is written to a file of our own first, then linked under the lock's
    // name: `hard_link` fails if the name exists, so the lock appears atomically and never
    // empty to a process reading it.
    let mut own = path.to_path_buf().into_os_string();
    own.push(format!(".{}", std::process::id()));
    let own = PathBuf::from(own);
    if let Err(e) = std::fs::write(&own, content.as_bytes()) {
        // A read-only folder: no lock file possible; busy_timeout still applies.
        tracing::warn!(path = %own.display(), error = %e, "cannot create the writer lock file");
        return Attempt::Unavailable;
    }
    // Twice at most: once more after removing a dead process's lock.
    for _ in 0..2 {
        match std::fs::hard_link(&own, path) {
            Ok(()) => {
                let _ = std::fs::remove_file(&own);
                return Attempt::Taken(WriterLock {
                    path: path.to_path_buf(),
                    content,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot create the writer lock file");
                let _ = std::fs::remove_file(&own);
                return Attempt::Unavailable;
            }
        }
        let holder = holder_of(path);
        if let Some((Some(pid), who)) = &holder {
            if is_gone(*pid) {
                eprintln!("taking over the lock of {who}: that process no longer exists");
                // Two processes may see the same stale file at once; the second removal
                // then fails or removes a fresh lock one instant old — a window of
                // microseconds after a crash, accepted.
                let _ = std::fs::remove_file(path);
                continue;
            }
        }
        let _ = std::fs::remove_file(&own);
        return Attempt::Held(
            holder
                .map(|(_, who)| who)
                .unwrap_or_else(|| "another process".into()),
        );
    }
    let _ = std::fs::remove_file(&own);
    Attempt::Held("another process".into())
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Only our own file: never one another process took over meanwhile.
        if std::fs::read_to_string(&self.path).is_ok_and(|c| c == self.content) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How long a long writer waits for another: `RELANCE_LOCK_WAIT` seconds, default 600.
pub fn wait_from_env() -> Duration {
    Duration::from_secs(
        std::env::var("RELANCE_LOCK_WAIT")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(600),
    )
}

/// Completes a "database is locked" error with who holds the lock file, when one does.
pub fn explain_locked(error: anyhow::Error, url: &str) -> anyhow::Error {
    let locked = error
        .chain()
        .any(|e| e.to_string().contains("database is locked"));
    let holder = lock_path(url)
        .filter(|_| locked)
        .and_then(|p| holder_of(&p))
        .filter(|(pid, _)| *pid != Some(std::process::id()));
    match holder {
        Some((_, who)) => error.context(format!(
            "the database is busy: {who} is writing to it (one writer at a time on SQLite)"
        )),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_next_to_the_sqlite_file() {
        assert_eq!(
            lock_path("sqlite://no-such-folder/relance.db?mode=rwc"),
            Some(PathBuf::from("no-such-folder/relance.db.lock"))
        );
        assert_eq!(
            lock_path("sqlite:no-such-folder/relance.db"),
            Some(PathBuf::from("no-such-folder/relance.db.lock"))
        );
        // A symbolic link to the database shares its lock.
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("real.db");
        std::fs::write(&real, b"").expect("db file");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.db");
            std::os::unix::fs::symlink(&real, &link).expect("symlink");
            assert_eq!(
                lock_path(&format!("sqlite://{}", link.display())),
                lock_path(&format!("sqlite://{}", real.display()))
            );
        }
        assert_eq!(lock_path("sqlite::memory:"), None);
        assert_eq!(lock_path("postgres://u@h/db"), None);
    }

    #[test]
    fn a_second_writer_waits_then_names_the_first_and_a_dead_holder_is_taken_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let first = WriterLock::acquire(&url, "relance run", Duration::ZERO)
            .expect("first")
            .expect("a lock on SQLite");
        let started = Instant::now();
        let err = WriterLock::acquire(&url, "relance send", Duration::from_millis(500))
            .expect_err("the second must give up");
        assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
        let text = format!("{err:#}");
        assert!(
            text.contains(&format!("process {}", std::process::id()))
                && text.contains("relance run"),
            "{text}"
        );
        drop(first);
        assert!(
            !dir.path().join("t.db.lock").exists(),
            "removed when dropped"
        );
        // A lock left by a process that does not exist any more (only checkable with /proc).
        if Path::new("/proc/self").exists() {
            std::fs::write(
                dir.path().join("t.db.lock"),
                "pid=4294967295\ncommand=relance run\nsince=then\n",
            )
            .expect("write stale lock");
            let taken =
                WriterLock::acquire(&url, "relance run", Duration::ZERO).expect("taken over");
            assert!(taken.is_some());
        }
    }
}
