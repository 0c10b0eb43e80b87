//! One long writer at a time on a SQLite file: the lock lives in `relance_dispatch::writer_lock`
//! so that `relance serve`'s scheduler takes the same one as `relance run`, `send`, `import` and
//! `demo`.

pub use relance_dispatch::writer_lock::{explain_locked, wait_from_env, WriterLock};
