//! Connecting, migrating and backing up the database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::error::{Result, StoreError};

/// Which engine is behind the pool: a few statements (backup, locking) differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle every repository function takes.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating the SQLite file when needed) and migrates the database at `url`.
    #[tracing::instrument(skip_all, fields(backend))]
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens without migrating (used by `relance migrate` to report what it applies).
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool_options = match backend {
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _meta| Box::pin(sqlite_settings(conn, true))),
            Backend::Postgres => AnyPoolOptions::new().max_connections(8),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Store { pool, backend })
    }

    /// SQLite: a pool of one connection to the same database that does not check foreign
    /// keys, for the first load of a ledger (`imports/first_load.rs`). SQLite ignores
    /// `PRAGMA foreign_keys` inside a transaction, so the setting needs a connection of its own;
    /// the import closes the pool when it ends, and no other code ever gets that connection.
    /// `None` for an in-memory database, which a second connection would not see.
    pub(crate) async fn first_load_pool(&self) -> Result<Option<AnyPool>> {
        let options = (*self.pool.connect_options()).clone();
        let url = options.database_url.as_str();
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Ok(None);
        }
        Ok(Some(
            AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _meta| Box::pin(sqlite_settings(conn, false)))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?,
        ))
    }

    /// Applies the embedded migrations that are not applied yet; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let before: i64 = self.applied_migrations().await.unwrap_or(0);
        migrator.run(&self.pool).await?;
        let after = self.applied_migrations().await?;
        Ok(usize::try_from(after - before).unwrap_or(0))
    }

    async fn applied_migrations(&self) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM _sqlx_migrations WHERE success = TRUE",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying pool, for crates that add their own tables (outbox, sessions).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// An online, consistent copy of a SQLite database while it is in use (`VACUUM INTO`).
    /// PostgreSQL has its own tool for that: pg_dump.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let target = path.to_string_lossy().replace('\'', "''");
                sqlx::query(&format!("VACUUM INTO '{target}'")).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Unsupported(
                "on PostgreSQL, back up with pg_dump (for example: pg_dump -Fc -f relance.dump DATABASE_URL)".into(),
            )),
        }
    }

    /// Copies SQLite's write-ahead log into the database file (nothing to do on PostgreSQL).
    ///
    /// Commits only append to the log; SQLite copies it once it holds 64 MiB (see
    /// `wal_autocheckpoint` above), inside whichever commit passes that size. A daily run
    /// leaves tens of megabytes there: its command (`Store::close`) and the web server's
    /// scheduler call this once their run is over, so that the copy (each page written a
    /// second time, two fsyncs) is neither inside the run nor inside a later user's request.
    /// PASSIVE: readers in progress are not waited for; what they still use is copied next time.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Closes the pool. On SQLite the write-ahead log is first copied into the database and
    /// emptied (TRUNCATE), so that a process that ends leaves one self-contained file behind
    /// (a copy of it is then a whole database).
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite && !self.pool.is_closed() {
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %e, "write-ahead log not checkpointed at close");
            }
        }
        self.pool.close().await;
    }
}

/// A database URL safe to print: the password is replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `($1,$2,$3),($4,$5,$6)…` for a multi-row insert of `rows` rows of `cols` columns.
///
/// SQLite gets anonymous `?` placeholders instead: it looks named ones (`$N`) up by a linear
/// search, which makes a statement with thousands of them quadratic (seen in a profile of the
/// import benchmark: 80 % of the time in `sqlite3_bind_parameter_name`).
pub(crate) fn value_rows(backend: Backend, rows: usize, cols: usize) -> String {
    if backend == Backend::Sqlite {
        let row = format!("({})", vec!["?"; cols].join(","));
        return vec![row; rows].join(",");
    }
    let mut out = String::with_capacity(rows * cols * 6);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push(',');
            }
            out.push('$');
            out.push_str(&n.to_string());
            n += 1;
        }
        out.push(')');
    }
    out
}

/// Splits `items` into the parts of multi-row statements: `max` rows at a time, then the rest
/// in powers of two (…, 4, 2, 1).
///
/// A multi-row statement's text depends on its row count, and the database parses each new text
/// again: rows written in parts of any size made a daily run parse a statement of a new size for
/// every batch (7% of its instructions, on SQLite). With these sizes a connection's statement
/// cache (sqlx keeps each connection's prepared statements) soon holds every text it needs.
pub(crate) fn statement_parts<T>(items: &[T], max: usize) -> Vec<&[T]> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let size = if rest.len() >= max {
            max
        } else {
            1 << rest.len().ilog2()
        };
        let (part, tail) = rest.split_at(size);
        parts.push(part);
        rest = tail;
    }
    parts
}

/// The `n`th parameter: `$n`, or `?` on SQLite (see [`value_rows`]: never both in one
/// statement, so a statement built with `?` binds in the order its parameters appear).
pub(crate) fn param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `$start,$start+1,…` for an `IN (…)` list (`?,?,…` on SQLite, see [`value_rows`]; the list
/// must then be the last placeholders of the statement, numbered after the explicit ones).
pub(crate) fn placeholder_list(backend: Backend, start: usize, count: usize) -> String {
    if backend == Backend::Sqlite {
        return vec!["?"; count].join(",");
    }
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The settings of every SQLite connection. `foreign_keys` is false only for the connection of
/// a first load (see [`Store::first_load_pool`]).
async fn sqlite_settings(
    conn: &mut sqlx::AnyConnection,
    foreign_keys: bool,
) -> std::result::Result<(), sqlx::Error> {
    // WAL: readers never block the writer; busy_timeout: a second
    // writer waits instead of failing at once.
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA busy_timeout = 10000").await?;
    conn.execute(if foreign_keys {
        "PRAGMA foreign_keys = ON"
    } else {
        "PRAGMA foreign_keys = OFF"
    })
    .await?;
    conn.execute("PRAGMA synchronous = NORMAL").await?;
    // 32 MiB of page cache (allocated only as used): a reader of the
    // whole ledger (a full run, a report) finds the rest in the system's
    // file cache, and a process's memory stays small with several
    // connections. An import raises its own (`IMPORT_PAGE_CACHE`).
    conn.execute("PRAGMA cache_size = -32768").await?;
    conn.execute("PRAGMA temp_store = MEMORY").await?;
    // Copy the write-ahead log into the database once it holds 64 MiB
    // rather than SQLite's 4 MiB: a daily run commits a transaction per
    // thousand cases, each touching pages all over the cases, actions
    // and events; at 4 MiB each commit also paid a checkpoint (two
    // fsyncs and every page written twice), 70 ms of a chunk's 190. A
    // real run leaves the copy to `Store::checkpoint`, after its work.
    conn.execute("PRAGMA wal_autocheckpoint = 16384").await?;
    Ok(())
}

/// The page cache of a connection that imports (SQLite; up to 96 MiB, allocated only as used):
/// most of a large import stays in memory until its commit instead of spilling to the WAL, and
/// the bulk load's index builds sort in memory. Kept by the connection afterwards. With 192 MiB
/// a million-line first import peaked at 562 MB (the allocator keeps the file's freed buffer
/// resident while the indexes are built); with 96 MiB at 460 MB, under the 500 MB it must
/// stay within, for about the same time.
pub(crate) const IMPORT_PAGE_CACHE: &str = "PRAGMA cache_size = -98304";

/// Now, as stored in `*_at` columns (UTC, RFC 3339).
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs `inner` (whose columns are `columns`, in order) and returns its rows as one JSON array
/// of arrays, decoded into `T` (a tuple). sqlx hands SQLite rows over one by one between
/// threads, which at 200,000 customers or a million items cost more than SQLite's own work: one
/// row carrying the whole result as text is several times faster. Row order is not kept.
pub(crate) async fn json_rows<'e, T, E>(
    executor: E,
    backend: Backend,
    inner: &str,
    columns: &str,
    binds: &[JsonBind<'_>],
) -> Result<Vec<T>>
where
    T: serde::de::DeserializeOwned,
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    match json_text(executor, backend, inner, columns, binds).await? {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("aggregate of {columns}: {e}"))),
    }
}

/// The JSON text [`json_rows`] decodes (`None` for no rows), for a caller that decodes rows
/// borrowing their strings from it rather than allocating each (`Cow` fields with
/// `#[serde(borrow)]`).
pub(crate) async fn json_text<'e, E>(
    executor: E,
    backend: Backend,
    inner: &str,
    columns: &str,
    binds: &[JsonBind<'_>],
) -> Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = match backend {
        Backend::Sqlite => {
            format!("SELECT json_group_array(json_array({columns})) FROM ({inner}) q")
        }
        Backend::Postgres => {
            format!("SELECT CAST(json_agg(json_build_array({columns})) AS TEXT) FROM ({inner}) q")
        }
    };
    let mut query = sqlx::query_scalar::<_, Option<String>>(&sql);
    for bind in binds {
        query = match bind {
            JsonBind::Int(v) => query.bind(*v),
            JsonBind::Text(v) => query.bind(*v),
        };
    }
    Ok(query.fetch_one(executor).await?)
}

/// A parameter of [`json_rows`]'s statement.
pub(crate) enum JsonBind<'a> {
    Int(i64),
    Text(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_in_urls() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("sqlite://relance.db"), "sqlite://relance.db");
    }

    #[test]
    fn splits_rows_into_parts_of_few_sizes() {
        let rows: Vec<usize> = (0..1000).collect();
        let parts = statement_parts(&rows, 256);
        let sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [256, 256, 256, 128, 64, 32, 8]);
        // In order, nothing lost or repeated.
        assert_eq!(parts.concat(), rows);
        // Any count gives sizes among `max` and the powers of two below it.
        for n in 0..600 {
            let rows: Vec<usize> = (0..n).collect();
            let parts = statement_parts(&rows, 256);
            assert_eq!(parts.concat(), rows);
            assert!(parts
                .iter()
                .all(|p| p.len() == 256 || (p.len() < 256 && p.len().is_power_of_two())));
        }
        assert!(statement_parts::<u8>(&[], 256).is_empty());
    }

    #[test]
    fn builds_numbered_placeholders() {
        assert_eq!(value_rows(Backend::Postgres, 2, 2), "($1,$2),($3,$4)");
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?,?),(?,?)");
        assert_eq!(placeholder_list(Backend::Postgres, 3, 2), "$3,$4");
    }
}
