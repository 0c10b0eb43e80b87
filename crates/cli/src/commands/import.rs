//! `relance import invoices|payments`: read a file, refuse it whole if anything is wrong,
//! otherwise write it in one transaction.
//!
//! Parsing runs on a blocking thread and streams rows in batches to the database writer, so a
//! million-line file is read and written at the same time on two cores, in bounded memory.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use relance_formats::{InvoiceRow, PaymentRow, Problem, ReadReport};
use relance_store::customers::CustomerFields;
use relance_store::imports::{ImportSummary, InvoiceRecord};
use relance_store::payments::{PaymentImport, PaymentRecord, PaymentSummary};
use relance_store::Store;

use crate::context::{creditor, today_for};

const CHANNEL_BATCH: usize = 2000;

pub async fn invoices(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let started = Instant::now();
    match import_invoices_file(store, creditor.id, file, today_for(&creditor), true).await? {
        Ok((summary, warnings)) => {
            print_problems(&warnings);
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "Imported {}: {} rows, {} new, {} updated, {} unchanged; {} new customers, {} updated ({:.0} rows/s)",
                file.display(),
                summary.rows,
                summary.created,
                summary.updated,
                summary.unchanged,
                summary.customers_created,
                summary.customers_updated,
                summary.rows as f64 / seconds.max(1e-9)
            );
            for change in summary.changes.iter().take(50) {
                println!("  changed: {change}");
            }
            if summary.changes.len() > 50 {
                println!(
                    "  … and {} more changes (see `relance report timeline`)",
                    summary.changes.len() - 50
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            print_problems(&problems);
            let errors = problems
                .iter()
                .filter(|p| p.severity == relance_formats::Severity::Error)
                .count();
            eprintln!(
                "{}: refused, {errors} error(s); nothing was imported",
                file.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_problems(problems: &[Problem]) {
    for p in problems {
        eprintln!("{p}");
    }
}

/// Imports an invoice file: `Ok(Ok(summary, warnings))` when written, `Ok(Err(problems))` when
/// refused (nothing written).
pub async fn import_invoices_file(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    file: &Path,
    today: chrono::NaiveDate,
    progress: bool,
) -> anyhow::Result<Result<(ImportSummary, Vec<Problem>), Vec<Problem>>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let bar = progress_bar(progress, bytes.len());
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<InvoiceRow>>(8);
    let parse_source = source.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(CHANNEL_BATCH);
        let mut send_failed = false;
        let report = relance_formats::read_invoices_csv(&parse_source, &bytes, &mut |row| {
            batch.push(row);
            if batch.len() >= CHANNEL_BATCH && !send_failed {
                send_failed = sender
                    .blocking_send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(CHANNEL_BATCH),
                    ))
                    .is_err();
            }
        });
        if !batch.is_empty() && !send_failed {
            let _ = sender.blocking_send(batch);
        }
        report
    });
    let mut session = store.begin_invoice_import(creditor, &source, today).await?;
    let mut written_error = None;
    while let Some(rows) = receiver.recv().await {
        if written_error.is_some() {
            continue;
        }
        bar.inc(rows.len() as u64);
        for row in rows {
            if let Err(e) = session.push(to_invoice_record(row)).await {
                written_error = Some(e);
                break;
            }
        }
    }
    let report: ReadReport = parser.await.context("the parser thread failed")?;
    bar.finish_and_clear();
    if let Some(e) = written_error {
        session.rollback().await?;
        return Err(e.into());
    }
    if report.has_errors() {
        session.rollback().await?;
        return Ok(Err(report.problems));
    }
    let warnings = report.problems.len() as u64;
    let summary = session.commit(warnings).await?;
    Ok(Ok((summary, report.problems)))
}

fn progress_bar(enabled: bool, _bytes: usize) -> ProgressBar {
    // indicatif hides itself when stderr is not a terminal (pipes, CI).
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {human_pos} rows imported ({per_sec}) {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn to_invoice_record(row: InvoiceRow) -> InvoiceRecord {
    InvoiceRecord {
        line: row.line,
        kind: row.kind,
        number: row.number,
        customer: CustomerFields {
            code: row.customer_code.as_str().to_string(),
            name: row.customer_name,
            kind: row.customer_kind,
            emails: row.emails.iter().map(|e| e.as_str().to_string()).collect(),
            phone: row.phone,
            address: row.address,
            siren: row.siren.map(|s| s.as_str().to_string()),
            language: row.language,
        },
        issue_date: row.issue_date,
        due_date: row.due_date,
        total: row.total,
        paid: row.paid,
    }
}

pub async fn payments(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    match import_payments_file(store, creditor.id, file, today_for(&creditor)).await? {
        Ok((summary, warnings)) => {
            print_problems(&warnings);
            println!(
                "Imported {}: {} rows, {} new payments, {} already imported; {} allocated, {} kept as credit",
                file.display(),
                summary.rows,
                summary.created,
                summary.duplicates,
                relance_core::Money::from_minor(summary.allocated_minor, relance_core::Currency::EUR).to_plain_string(),
                relance_core::Money::from_minor(summary.unallocated_minor, relance_core::Currency::EUR).to_plain_string(),
            );
            for line in summary.lines.iter().take(50) {
                println!("  {line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            print_problems(&problems);
            let errors = problems
                .iter()
                .filter(|p| p.severity == relance_formats::Severity::Error)
                .count();
            eprintln!(
                "{}: refused, {errors} error(s); nothing was imported",
                file.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Imports a payment file; same contract as [`import_invoices_file`].
pub async fn import_payments_file(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    file: &Path,
    today: chrono::NaiveDate,
) -> anyhow::Result<Result<(PaymentSummary, Vec<Problem>), Vec<Problem>>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut records = Vec::new();
    let report = relance_formats::read_payments_csv(&source, &bytes, &mut |row: PaymentRow| {
        records.push(PaymentRecord {
            line: row.line,
            date: row.date,
            amount: row.amount,
            reference: row.reference,
            customer_code: row.customer_code.map(|c| c.as_str().to_string()),
            invoice_number: row.invoice_number,
            bank_reference: row.bank_reference,
        });
    });
    if report.has_errors() {
        return Ok(Err(report.problems));
    }
    match store
        .import_payments(creditor, &source, &records, today)
        .await?
    {
        PaymentImport::Done(summary) => Ok(Ok((summary, report.problems))),
        PaymentImport::Refused(rows) => Ok(Err(rows
            .into_iter()
            .map(|r| Problem {
                source: source.clone(),
                line: r.line,
                column: Some(r.column.to_string()),
                value: Some(r.value),
                message: r.message,
                severity: relance_formats::Severity::Error,
            })
            .collect())),
    }
}
