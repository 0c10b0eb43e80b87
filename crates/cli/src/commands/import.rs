//! `relance import invoices|payments`: read a file, refuse it whole if anything is wrong,
//! otherwise write it in one transaction.
//!
//! The import itself is `relance_dispatch::imports`, shared with the web application's imports
//! page; this module reads the command line and prints the outcome.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use relance_dispatch::imports::{error_count, Input, Outcome};
use relance_formats::{InvoiceSyntax, PaymentSyntax, Problem};
use relance_store::imports::ImportSummary;
use relance_store::payments::PaymentSummary;
use relance_store::Store;

use crate::cli::{InvoiceFormat, PaymentFormat};
use crate::context::{creditor, today_for};

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
            let errors = error_count(&problems);
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
) -> anyhow::Result<Outcome<ImportSummary>> {
    let syntax = format.map(|f| match f {
        InvoiceFormat::Csv => InvoiceSyntax::Csv,
        InvoiceFormat::Ubl => InvoiceSyntax::Ubl,
        InvoiceFormat::Cii => InvoiceSyntax::Cii,
        InvoiceFormat::Fec => InvoiceSyntax::Fec,
        InvoiceFormat::Xlsx => InvoiceSyntax::Xlsx,
    });
    let bar = progress_bar(progress);
    let inputs = files.iter().cloned().map(Input::Path).collect();
    let outcome = relance_dispatch::imports::import_invoices(
        store,
        creditor,
        inputs,
        syntax,
        default_term,
        today,
        &|rows| bar.inc(rows),
    )
    .await;
    bar.finish_and_clear();
    outcome
}

fn progress_bar(enabled: bool) -> ProgressBar {
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
            let errors = error_count(&problems);
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
) -> anyhow::Result<Outcome<PaymentSummary>> {
    let syntax = format.map(|f| match f {
        PaymentFormat::Csv => PaymentSyntax::Csv,
        PaymentFormat::Camt053 => PaymentSyntax::Camt053,
        PaymentFormat::Cfonb120 => PaymentSyntax::Cfonb120,
        PaymentFormat::Ofx => PaymentSyntax::Ofx,
        PaymentFormat::Xlsx => PaymentSyntax::Xlsx,
    });
    let (outcome, statement) = relance_dispatch::imports::import_payments(
        store,
        creditor,
        Input::Path(file.to_path_buf()),
        syntax,
        today,
    )
    .await?;
    if statement.debits_ignored + statement.reversals_ignored + statement.others_ignored > 0 {
        println!(
            "{}: {} credit(s) read; {} debit(s), {} reversal(s) and {} other entries left aside",
            file.display(),
            statement.credits,
            statement.debits_ignored,
            statement.reversals_ignored,
            statement.others_ignored
        );
    }
    Ok(outcome)
}
