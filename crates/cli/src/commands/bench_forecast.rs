//! `relance bench forecast`: payer scoring and the cash forecast on a large ledger (issue 9).
//!
//! Builds the ledger of `bench run` (the same generated invoice file, loaded through the real
//! import), settles the invoices whose payment falls before the day with a per-customer habit,
//! then times what `relance report scores` and `relance report forecast` do: the set-based
//! reads of the store, the scoring of every customer and the prediction of every open invoice
//! with its weekly sums.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::forecast;
use relance_core::money::Money;
use relance_core::scoring::{score, Grade};
use relance_store::creditors::CreditorInput;
use relance_store::Store;

use super::bench::{peak_memory, write_csv};

pub async fn run(
    customers: usize,
    invoices: usize,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let csv_path = dir.join("bench-forecast-invoices.csv");
    let db_path = dir.join("bench-forecast.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).context("date")?;

    let started = Instant::now();
    write_csv(&csv_path, invoices, customers)?;
    let store = Store::open(&format!("sqlite://{}", db_path.display())).await?;
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Bench SAS".into(),
            ..Default::default()
        })
        .await?;
    let outcome =
        crate::commands::import_invoices_file(&store, creditor.id, &csv_path, day, false).await?;
    let (summary, _) = outcome.map_err(|p| {
        anyhow::anyhow!(
            "bench file refused: {} problems, first: {:?}",
            p.len(),
            p.first().map(|x| x.to_string())
        )
    })?;
    let settled = store.bench_settle_history(creditor.id, day).await?;
    println!(
        "ledger: {} invoices of {} customers, {settled} of them paid, built in {:.1} s",
        summary.created,
        summary.customers_created,
        started.elapsed().as_secs_f64()
    );

    let total = Instant::now();
    let started = Instant::now();
    let histories = store.payer_histories(creditor.id, day).await?;
    let read_histories = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut grades = [0usize; 5];
    for c in &histories {
        let s = score(&c.history);
        grades[Grade::ALL.iter().position(|g| *g == s.grade).unwrap_or(4)] += 1;
    }
    let scoring = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let items = store.forecast_items(creditor.id, day).await?;
    let read_items = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let predictions = super::report_cash::predict_all(&histories, &items, day);
    let paired: Vec<(Money, forecast::Prediction)> = items
        .iter()
        .zip(&predictions)
        .filter_map(|(i, p)| p.map(|p| (i.open, p)))
        .collect();
    let weeks = forecast::weekly(&paired, day, 13);
    let predicting = started.elapsed().as_secs_f64();
    let total = total.elapsed().as_secs_f64();
    println!(
        "scoring: {} customers read in {read_histories:.2} s, scored in {scoring:.3} s (A {} · B {} · C {} · D {} · E {})",
        histories.len(),
        grades[0],
        grades[1],
        grades[2],
        grades[3],
        grades[4]
    );
    println!(
        "forecast: {} open invoices read in {read_items:.2} s, predicted and summed over {} weekly lines in {predicting:.3} s",
        items.len(),
        weeks.len()
    );
    println!(
        "scoring + forecast: {total:.2} s in all (target < 3 s); peak memory {}",
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
