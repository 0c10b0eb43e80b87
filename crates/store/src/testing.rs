//! Fresh databases for tests, on SQLite and PostgreSQL (feature `testing`).
//!
//! Every crate's integration tests need the same two things: a throw-away SQLite file, and a
//! uniquely named PostgreSQL database on the server of `RELANCE_TEST_DATABASE_URL` that is dropped
//! afterwards. They used to be copied into each test file; they live here once.
//!
//! Under `CI=true` a missing `RELANCE_TEST_DATABASE_URL` is a failure, so that CI never passes
//! with the PostgreSQL half silently skipped.

use crate::Store;

/// A database that lives as long as the test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    /// The SQLite file's folder, removed when the `TestDb` is dropped.
    pub dir: Option<tempfile::TempDir>,
    /// The PostgreSQL server's admin URL and the database's name, for [`TestDb::finish`].
    scratch: Option<(String, String)>,
}

impl TestDb {
    /// What a test body uses; the `TestDb` itself stays with the caller so that the temporary
    /// folder outlives the body (async blocks capture fields, not whole structs).
    pub fn handle(&self) -> TestDb {
        TestDb {
            store: self.store.clone(),
            url: self.url.clone(),
            dir: None,
            scratch: None,
        }
    }

    /// Closes the store and drops the PostgreSQL database (the SQLite folder goes on drop).
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = &self.scratch {
            if let Ok(admin) = Store::connect(admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(admin.pool())
                    .await;
                admin.close().await;
            }
        }
    }
}

/// A fresh SQLite file, migrated, in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    TestDb {
        store,
        url,
        dir: Some(dir),
        scratch: None,
    }
}

/// The admin URL of the PostgreSQL server tests use, or `None` outside CI when it is unset.
///
/// # Panics
/// Under `CI=true` when `RELANCE_TEST_DATABASE_URL` is unset.
pub fn postgres_url() -> Option<String> {
    match std::env::var("RELANCE_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but RELANCE_TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI"
            );
            eprintln!("RELANCE_TEST_DATABASE_URL unset: PostgreSQL variant skipped");
            None
        }
    }
}

/// A fresh, migrated PostgreSQL database named `relance_test_{label}_{pid}_{nanos}`, or `None`
/// when no server is configured (outside CI). Call [`TestDb::finish`] to drop it.
pub async fn postgres(label: &str) -> Option<TestDb> {
    let admin_url = postgres_url()?;
    let name = format!(
        "relance_test_{label}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = Store::connect(&admin_url)
        .await
        .expect("connect to the PostgreSQL admin database");
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
        url,
        dir: None,
        scratch: Some((admin_url, name)),
    })
}
