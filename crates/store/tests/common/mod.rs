//! Shared test helpers: a fresh database per test, on SQLite and (when configured) PostgreSQL.

#![allow(dead_code)]

use relance_store::Store;

/// A database that lives as long as the test; its folder is removed when it is dropped.
pub struct TestDb {
    pub store: Store,
    pub dir: Option<tempfile::TempDir>,
    pub url: String,
}

impl TestDb {
    /// What a test body uses; the `TestDb` itself stays with the caller so that the temporary
    /// folder outlives the body (async blocks capture fields, not whole structs).
    pub fn handle(&self) -> TestDb {
        TestDb {
            store: self.store.clone(),
            dir: None,
            url: self.url.clone(),
        }
    }
}

/// A fresh SQLite file in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    TestDb {
        store,
        dir: Some(dir),
        url,
    }
}

/// A uniquely named PostgreSQL database on the server of `RELANCE_TEST_DATABASE_URL`, or `None`
/// when the variable is unset (outside CI). Under `CI=true` a missing server is a failure.
pub async fn postgres() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "CI=true but RELANCE_TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI"
            );
        }
        eprintln!("RELANCE_TEST_DATABASE_URL unset: PostgreSQL variant skipped");
        return None;
    };
    let name = format!(
        "relance_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = Store::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL admin database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await
        .expect("create database");
    admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("database URL with a path");
    let url = format!("{base}/{name}");
    let store = Store::open(&url).await.expect("open postgres");
    Some(TestDb {
        store,
        dir: None,
        url,
    })
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
