//! `relance migrate` and `relance backup`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_store::Store;

use crate::context::redact;

pub async fn migrate(url: &str) -> anyhow::Result<ExitCode> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("cannot open {}", redact(url)))?;
    let applied = store.migrate().await?;
    println!(
        "{applied} migration(s) applied; {} is up to date",
        redact(url)
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn backup(store: &Store, file: &Path) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !file.exists(),
        "{} already exists: choose a new file name",
        file.display()
    );
    store.backup_to(file).await?;
    println!("Backup written to {}", file.display());
    Ok(ExitCode::SUCCESS)
}
