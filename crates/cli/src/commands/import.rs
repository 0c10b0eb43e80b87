//! `relance import invoices|payments`: read a file, refuse it whole if anything is wrong,
//! otherwise write it in one transaction.
//!
//! Parsing runs on a blocking thread and streams rows in batches to the database writer, so a
//! million-line file is read and written at the same time on two cores, in bounded memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use relance_core::ledger::ItemKind;
use relance_formats::{
    detect_invoice_syntax, detect_payment_syntax, BankEntry, InvoiceRow, InvoiceSyntax, PaymentRow,
    PaymentSyntax, Problem, ReadReport, StatementSummary,
};
use relance_store::customers::CustomerFields;
use relance_store::imports::{ImportSummary, InvoiceRecord};
use relance_store::payments::{PaymentImport, PaymentRecord, PaymentSummary};
use relance_store::Store;

use crate::cli::{InvoiceFormat, PaymentFormat};
use crate::context::{creditor, today_for};

const CHANNEL_BATCH: usize = 2000;

pub async fn invoices(
    store: &Store,
    wanted: Option<&str>,
    inputs: &[PathBuf],
    format: Option<InvoiceFormat>,
    default_term: i64,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (0..=365).contains(&default_term),
        "--default-term must be between 0 and 365 days"
    );
    let creditor = creditor(store, wanted).await?;
    let files = expand_inputs(inputs)?;
    let label = if files.len() == 1 {
        files[0].display().to_string()
    } else {
        format!("{} files", files.len())
    };
    let started = Instant::now();
    match import_invoice_files(
        store,
        creditor.id,
        &files,
        format,
        default_term,
        today_for(&creditor),
        true,
    )
    .await?
    {
        Ok((summary, warnings)) => {
            print_problems(&warnings);
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "Imported {label}: {} rows, {} new, {} updated, {} unchanged; {} new customers, {} updated ({:.0} rows/s)",
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
            eprintln!("{label}: refused, {errors} error(s); nothing was imported");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_problems(problems: &[Problem]) {
    for p in problems {
        eprintln!("{p}");
    }
}

/// Files named, and the files of folders named (sorted, hidden files left out).
fn expand_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read the folder {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_importable(p))
                .collect();
            inside.sort();
            anyhow::ensure!(
                !inside.is_empty(),
                "the folder {} holds no file",
                input.display()
            );
            files.extend(inside);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Files of a folder worth reading: data files, not notes or hidden files.
fn is_importable(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    !hidden
        && matches!(
            extension.as_deref(),
            Some("csv" | "tsv" | "txt" | "xml" | "pdf" | "xlsx")
        )
}

/// Imports one invoice file (see [`import_invoice_files`]).
pub async fn import_invoices_file(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    file: &Path,
    today: chrono::NaiveDate,
    progress: bool,
) -> anyhow::Result<Result<(ImportSummary, Vec<Problem>), Vec<Problem>>> {
    import_invoice_files(
        store,
        creditor,
        &[file.to_path_buf()],
        None,
        30,
        today,
        progress,
    )
    .await
}

/// Imports invoice files in one transaction: `Ok(Ok((summary, warnings)))` when written,
/// `Ok(Err(problems))` when refused (nothing written). Each file's format is detected from its
/// first bytes unless `format` says it.
pub async fn import_invoice_files(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    files: &[PathBuf],
    format: Option<InvoiceFormat>,
    default_term: i64,
    today: chrono::NaiveDate,
    progress: bool,
) -> anyhow::Result<Result<(ImportSummary, Vec<Problem>), Vec<Problem>>> {
    let source = match files {
        [one] => one.display().to_string(),
        _ => format!("{} files", files.len()),
    };
    let mut session = store.begin_invoice_import(creditor, &source, today).await?;
    let mut problems = Vec::new();
    // Across several files the same number may not appear twice (within a CSV the reader checks).
    let mut seen: Option<HashMap<(ItemKind, String), String>> =
        (files.len() > 1).then(HashMap::new);
    for file in files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.display().to_string();
        let syntax = match format {
            Some(InvoiceFormat::Csv) => InvoiceSyntax::Csv,
            Some(InvoiceFormat::Ubl) => InvoiceSyntax::Ubl,
            Some(InvoiceFormat::Cii) => InvoiceSyntax::Cii,
            Some(InvoiceFormat::Fec) => InvoiceSyntax::Fec,
            Some(InvoiceFormat::Xlsx) => InvoiceSyntax::Xlsx,
            None => detect_invoice_syntax(&bytes),
        };
        let (rows, report) = match syntax {
            InvoiceSyntax::Csv => {
                let report = stream_csv(
                    &mut session,
                    &name,
                    bytes,
                    progress,
                    &mut seen,
                    &mut problems,
                )
                .await;
                (Vec::new(), report?)
            }
            InvoiceSyntax::Fec => {
                let mut rows = Vec::new();
                let report = relance_formats::read_fec(&name, &bytes, default_term, &mut |row| {
                    rows.push(row)
                });
                (rows, report)
            }
            InvoiceSyntax::Xlsx => {
                let mut rows = Vec::new();
                let report =
                    relance_formats::read_invoices_xlsx(&name, &bytes, &mut |row| rows.push(row));
                (rows, report)
            }
            InvoiceSyntax::Ubl | InvoiceSyntax::Cii => {
                let mut rows = Vec::new();
                let report =
                    relance_formats::read_invoice_xml(&name, &bytes, &mut |row| rows.push(row));
                (rows, report)
            }
            InvoiceSyntax::Pdf => {
                let mut rows = Vec::new();
                let report =
                    relance_formats::read_invoice_pdf(&name, &bytes, &mut |row| rows.push(row));
                (rows, report)
            }
        };
        problems.extend(report.problems);
        for row in rows {
            if check_across_files(&mut seen, &row, &name, &mut problems) {
                session.push(to_invoice_record(row)).await?;
            }
        }
    }
    if problems
        .iter()
        .any(|p| p.severity == relance_formats::Severity::Error)
    {
        session.rollback().await?;
        return Ok(Err(problems));
    }
    let summary = session.commit(problems.len() as u64).await?;
    Ok(Ok((summary, problems)))
}

/// Records `row`'s number; false (with an error) when another file already had it.
fn check_across_files(
    seen: &mut Option<HashMap<(ItemKind, String), String>>,
    row: &InvoiceRow,
    name: &str,
    problems: &mut Vec<Problem>,
) -> bool {
    let Some(seen) = seen else { return true };
    match seen.entry((row.kind, row.number.clone())) {
        std::collections::hash_map::Entry::Occupied(first) => {
            problems.push(Problem {
                source: name.to_string(),
                line: row.line,
                column: Some("invoice_number".into()),
                value: Some(row.number.clone()),
                message: format!("\"{}\" is also in {}", row.number, first.get()),
                severity: relance_formats::Severity::Error,
            });
            false
        }
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(name.to_string());
            true
        }
    }
}

/// Parses a CSV on a blocking thread and streams its rows into the import as they come.
async fn stream_csv(
    session: &mut relance_store::imports::InvoiceImport,
    name: &str,
    bytes: Vec<u8>,
    progress: bool,
    seen: &mut Option<HashMap<(ItemKind, String), String>>,
    problems: &mut Vec<Problem>,
) -> anyhow::Result<ReadReport> {
    let bar = progress_bar(progress, bytes.len());
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<InvoiceRow>>(8);
    let parse_source = name.to_string();
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
    let mut written_error = None;
    while let Some(rows) = receiver.recv().await {
        if written_error.is_some() {
            continue;
        }
        bar.inc(rows.len() as u64);
        for row in rows {
            if !check_across_files(seen, &row, name, problems) {
                continue;
            }
            if let Err(e) = session.push(to_invoice_record(row)).await {
                written_error = Some(e);
                break;
            }
        }
    }
    let report = parser.await.context("the parser thread failed")?;
    bar.finish_and_clear();
    if let Some(e) = written_error {
        return Err(e.into());
    }
    Ok(report)
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
    format: Option<PaymentFormat>,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    match import_payments_file(store, creditor.id, file, format, today_for(&creditor)).await? {
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
            if summary.matched_automatically + summary.to_reconcile > 0 {
                println!(
                    "  {} bank credit(s) matched automatically, {} waiting for a person: see `relance reconcile`",
                    summary.matched_automatically, summary.to_reconcile
                );
            }
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
    format: Option<PaymentFormat>,
    today: chrono::NaiveDate,
) -> anyhow::Result<Result<(PaymentSummary, Vec<Problem>), Vec<Problem>>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut records = Vec::new();
    let syntax = match format {
        Some(PaymentFormat::Csv) => PaymentSyntax::Csv,
        Some(PaymentFormat::Camt053) => PaymentSyntax::Camt053,
        Some(PaymentFormat::Cfonb120) => PaymentSyntax::Cfonb120,
        Some(PaymentFormat::Ofx) => PaymentSyntax::Ofx,
        Some(PaymentFormat::Xlsx) => PaymentSyntax::Xlsx,
        None => detect_payment_syntax(&bytes),
    };
    let mut bank_entry = |entry: BankEntry| {
        records.push(PaymentRecord {
            line: entry.line,
            date: entry.booking_date,
            amount: entry.amount,
            reference: entry.remittance,
            customer_code: None,
            invoice_number: None,
            bank_reference: Some(entry.bank_reference),
            payer_name: entry.payer_name,
            payer_iban: entry.payer_iban,
        });
    };
    let (report, statement) = match syntax {
        PaymentSyntax::Camt053 => relance_formats::read_camt053(&source, &bytes, &mut bank_entry),
        PaymentSyntax::Cfonb120 => relance_formats::read_cfonb120(&source, &bytes, &mut bank_entry),
        PaymentSyntax::Ofx => relance_formats::read_ofx(&source, &bytes, &mut bank_entry),
        PaymentSyntax::Csv | PaymentSyntax::Xlsx => {
            let read = if syntax == PaymentSyntax::Xlsx {
                relance_formats::read_payments_xlsx
            } else {
                relance_formats::read_payments_csv
            };
            let report = read(&source, &bytes, &mut |row: PaymentRow| {
                records.push(PaymentRecord {
                    line: row.line,
                    date: row.date,
                    amount: row.amount,
                    reference: row.reference,
                    customer_code: row.customer_code.map(|c| c.as_str().to_string()),
                    invoice_number: row.invoice_number,
                    bank_reference: row.bank_reference,
                    payer_name: None,
                    payer_iban: None,
                });
            });
            (report, StatementSummary::default())
        }
    };
    if statement.debits_ignored + statement.reversals_ignored + statement.others_ignored > 0 {
        println!(
            "{}: {} credit(s) read; {} debit(s), {} reversal(s) and {} other entries left aside",
            source,
            statement.credits,
            statement.debits_ignored,
            statement.reversals_ignored,
            statement.others_ignored
        );
    }
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
                message: if r.value.is_empty() {
                    r.message
                } else {
                    format!("\"{}\" {}", r.value, r.message)
                },
                value: Some(r.value),
                severity: relance_formats::Severity::Error,
            })
            .collect())),
    }
}
