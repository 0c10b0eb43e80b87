//! `relance bench run`: the planner benchmark of the planner issue.
//!
//! Builds a ledger through the real import, then times a full planning run (`--full --dry-run`),
//! a first real run, and a typical daily run the next business day after a share of the
//! customers paid something; the peak memory of each phase is measured on its own (the kernel's
//! peak is reset between phases through `/proc/self/clear_refs`).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;

use super::bench::{peak_memory, write_csv};

pub async fn plan_run(
    customers: usize,
    invoices: usize,
    due_share: f64,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&due_share) {
        anyhow::bail!("--due-share must be between 0 and 1, not {due_share}");
    }
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let csv_path = dir.join("bench-run-invoices.csv");
    let db_path = dir.join("bench-run.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).context("date")?;
    let next_day = NaiveDate::from_ymd_opt(2026, 11, 26).context("date")?;

    // The ledger, loaded through the real import (batched).
    let started = Instant::now();
    write_csv(&csv_path, invoices, customers)?;
    let url = format!("sqlite://{}", db_path.display());
    let store = Store::open(&url).await?;
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
    println!(
        "ledger: {} open invoices of {} customers loaded in {:.2} s",
        summary.created,
        summary.customers_created,
        started.elapsed().as_secs_f64()
    );
    let cases = store.cases_due(creditor.id, None).await?;

    // Full planning run, rolled back.
    reset_peak_memory();
    let started = Instant::now();
    let actions = store
        .run_day(
            creditor.id,
            RunOptions {
                as_of: day,
                dry_run: true,
                full: true,
            },
        )
        .await?;
    let full_seconds = started.elapsed().as_secs_f64();
    let full_count = actions.len();
    drop(actions);
    println!(
        "full run (--full --dry-run) on {day}: {cases} cases, {full_count} actions in {full_seconds:.2} s; peak memory {}",
        peak_memory().unwrap_or_else(|| "unknown".into())
    );

    // A first real run gives every case its memory and next date.
    reset_peak_memory();
    let started = Instant::now();
    let actions = store
        .run_day(
            creditor.id,
            RunOptions {
                as_of: day,
                dry_run: false,
                full: false,
            },
        )
        .await?;
    println!(
        "first real run on {day}: {} actions in {:.2} s; peak memory {}",
        actions.len(),
        started.elapsed().as_secs_f64(),
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    drop(actions);

    // The next business day: a share of the customers paid something (their cases are to be
    // planned again), on top of the cases whose next step falls that day.
    let payers = ((customers as f64) * due_share).round() as usize;
    let step = customers.checked_div(payers).unwrap_or(usize::MAX);
    let mut records = Vec::with_capacity(payers);
    for n in 0..payers {
        let customer = n.saturating_mul(step) % customers;
        if store
            .customer_by_code(creditor.id, &format!("C{customer:06}"))
            .await?
            .is_none()
        {
            // The generator gave this customer no invoice.
            continue;
        }
        records.push(PaymentRecord {
            line: n as u64 + 2,
            date: next_day,
            amount: Money::eur(Decimal::new(5_000, 2)),
            reference: format!("Client {customer:06}"),
            customer_code: Some(format!("C{customer:06}")),
            invoice_number: None,
            bank_reference: Some(format!("BENCH-{n}")),
            payer_name: None,
            payer_iban: None,
        });
    }
    match store
        .import_payments(creditor.id, "bench payments", &records, next_day)
        .await?
    {
        PaymentImport::Done(_) => {}
        PaymentImport::Refused(problems) => {
            anyhow::bail!("bench payments refused: {:?}", problems.first())
        }
    }
    let payers = records.len();
    let due = store.cases_due(creditor.id, Some(next_day)).await?;
    reset_peak_memory();
    let started = Instant::now();
    let actions = store
        .run_day(
            creditor.id,
            RunOptions {
                as_of: next_day,
                dry_run: false,
                full: false,
            },
        )
        .await?;
    let daily_seconds = started.elapsed().as_secs_f64();
    println!(
        "daily run on {next_day}: {due} cases due ({payers} after a payment), {} actions in {daily_seconds:.3} s; peak memory {}",
        actions.len(),
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Resets the kernel's record of the peak resident memory (VmHWM), so that the next reading
/// is the peak of what follows. Best effort: without it the reading covers the whole process.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
