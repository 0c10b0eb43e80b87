//! Shared test helpers: a fresh database per test, on SQLite and (when configured) PostgreSQL.

#![allow(dead_code)]

pub use relance_store::testing::{sqlite, TestDb};

/// A fresh PostgreSQL database, or `None` outside CI when `RELANCE_TEST_DATABASE_URL` is unset.
pub async fn postgres() -> Option<TestDb> {
    relance_store::testing::postgres("store").await
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn on_sqlite() {
                let db = common::sqlite().await;
                ($body)(db.handle()).await;
                drop(db);
            }
            #[tokio::test]
            async fn on_postgres() {
                if let Some(db) = common::postgres().await {
                    ($body)(db.handle()).await;
                }
            }
        }
    };
}
