//! Loading a large first ledger fast: secondary indexes set aside, then built once.
//!
//! A first import of a million invoices into an empty ledger spent most of its time keeping five
//! B-tree indexes in order row by row (the customer index is keyed by customer, so every insert
//! lands on a random page). Building an index once over a full table is a sort, several times
//! cheaper. So when an import meets an empty table and has enough rows to be worth it, it drops
//! the table's secondary indexes inside its own transaction and re-creates them from their own
//! definitions before it commits. Both engines have transactional DDL: a failed import rolls the
//! drops back with everything else, and no other session ever sees the table without its
//! indexes (SQLite readers keep their snapshot; PostgreSQL's DROP INDEX locks the table until the
//! commit). Indexes that back a constraint (primary key, unique) are kept: they guard the data.
//!
//! On SQLite the table's triggers go aside too: those of `customers` feed the full-text index of
//! the customer search (`customers_fts`, migration 0024) row by row, several times slower than
//! the FTS5 `rebuild` run once at the end from the loaded table; those that move the data
//! revision counters (migration 0030) are replaced by one move of every counter at the end.

use sqlx::{Any, Row, Transaction};

use crate::error::Result;
use crate::Backend;

/// Moves every data revision counter: run once after a load whose row triggers were set aside.
const BUMP_REVISION: &str = "UPDATE data_revision SET n = n + 1";

/// Indexes set aside, with the statements that re-create them.
#[derive(Debug, Default)]
pub(crate) struct SuspendedIndexes {
    statements: Vec<String>,
    /// Run after the statements: the rebuild of a full-text table whose triggers were set aside.
    after: Vec<String>,
}

impl SuspendedIndexes {
    /// Drops `table`'s secondary indexes if the table holds no row at all (of any creditor).
    /// Returns what it set aside; nothing when the table is not empty.
    pub(crate) async fn suspend_if_empty(
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        table: &'static str,
    ) -> Result<SuspendedIndexes> {
        let empty: i64 = sqlx::query_scalar(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM {table} LIMIT 1) AS probe"
        ))
        .fetch_one(&mut **tx)
        .await?;
        if empty != 0 {
            return Ok(SuspendedIndexes::default());
        }
        let rows = match backend {
            Backend::Sqlite => {
                // `sql` is NULL for the automatic indexes of PRIMARY KEY and UNIQUE constraints.
                sqlx::query(
                    "SELECT type AS kind, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') \
                     AND tbl_name = $1 AND sql IS NOT NULL ORDER BY type, name",
                )
                .bind(table)
                .fetch_all(&mut **tx)
                .await?
            }
            Backend::Postgres => sqlx::query(
                "SELECT 'index' AS kind, CAST(i.indexname AS TEXT) AS name, i.indexdef AS sql FROM pg_indexes i \
                     WHERE i.schemaname = current_schema() AND i.tablename = $1 \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
                     ORDER BY i.indexname",
            )
            .bind(table)
            .fetch_all(&mut **tx)
            .await?,
        };
        let mut statements = Vec::with_capacity(rows.len());
        let mut after = Vec::new();
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let name: String = row.try_get("name")?;
            let sql: String = row.try_get("sql")?;
            let what = if kind == "trigger" {
                "TRIGGER"
            } else {
                "INDEX"
            };
            sqlx::query(&format!("DROP {what} \"{}\"", name.replace('"', "\"\"")))
                .execute(&mut **tx)
                .await?;
            statements.push(sql);
            // `customers_fts_insert` feeds `customers_fts`: rebuilt once from the loaded rows.
            if let Some(fts) = name.strip_suffix("_insert").filter(|t| t.ends_with("_fts")) {
                after.push(format!("INSERT INTO {fts} ({fts}) VALUES ('rebuild')"));
            }
            // `items_revision_insert` and the like move the data revision (migration 0030) that
            // the dashboard's cache compares: moved once for the whole load instead of per row.
            if kind == "trigger"
                && name.contains("_revision_")
                && !after.contains(&BUMP_REVISION.to_owned())
            {
                after.push(BUMP_REVISION.to_owned());
            }
        }
        if !statements.is_empty() {
            tracing::debug!(
                table,
                indexes = statements.len(),
                "indexes set aside for a bulk load"
            );
        }
        Ok(SuspendedIndexes { statements, after })
    }

    /// Builds the indexes again (each in one pass over the loaded table).
    pub(crate) async fn restore(self, tx: &mut Transaction<'static, Any>) -> Result<()> {
        for sql in self.statements.into_iter().chain(self.after) {
            let started = std::time::Instant::now();
            sqlx::query(&sql).execute(&mut **tx).await?;
            tracing::debug!(
                statement = sql.split(" ON ").next().unwrap_or(&sql),
                elapsed_ms = started.elapsed().as_millis(),
                "set aside for a bulk load, built again"
            );
        }
        Ok(())
    }

    /// True when nothing was set aside.
    pub(crate) fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
}
