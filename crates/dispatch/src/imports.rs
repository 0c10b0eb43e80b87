//! Importing invoice and payment files: the one code path behind `relance import` and the web
//! application's imports page. A file is read with `relance-formats` (format detected from its
//! first bytes unless named), every problem is collected, and the file is refused whole if any
//! is an error; otherwise it is written in one transaction by `relance-store`.
//!
//! A CSV parses on a blocking thread and streams its rows in batches to the database writer, so
//! a million-line file is read and written at the same time on two cores, in bounded memory.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_formats::{
    detect_invoice_syntax, detect_payment_syntax, BankEntry, InvoiceRow, InvoiceSyntax, PaymentRow,
    PaymentSyntax, Problem, ReadReport, Severity, StatementSummary,
};
use relance_store::customers::CustomerFields;
use relance_store::imports::{ImportSummary, InvoiceImport, InvoiceRecord};
use relance_store::payments::{PaymentImport, PaymentRecord, PaymentSummary};
use relance_store::Store;

const CHANNEL_BATCH: usize = 2000;

/// A file to import: a path read when its turn comes (the command line), or bytes already in
/// memory under a name used in the problems (an upload).
#[derive(Debug, Clone)]
pub enum Input {
    Path(PathBuf),
    Bytes { name: String, bytes: Vec<u8> },
}

impl Input {
    /// The name the problems are reported under.
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }

    fn read(self) -> anyhow::Result<(String, Vec<u8>)> {
        match self {
            Input::Path(p) => {
                let bytes =
                    std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
                Ok((p.display().to_string(), bytes))
            }
            Input::Bytes { name, bytes } => Ok((name, bytes)),
        }
    }
}

/// `Ok((what was written, warnings))`, or `Err(problems)` when the file was refused and nothing
/// was written.
pub type Outcome<T> = Result<(T, Vec<Problem>), Vec<Problem>>;

/// The number of errors among `problems`.
pub fn error_count(problems: &[Problem]) -> usize {
    problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count()
}

/// Imports invoice files in one transaction. Each file's format is detected from its first
/// bytes unless `syntax` says it; `progress` is told how many rows of a CSV were written.
pub async fn import_invoices(
    store: &Store,
    creditor: CreditorId,
    inputs: Vec<Input>,
    syntax: Option<InvoiceSyntax>,
    default_term: i64,
    today: NaiveDate,
    progress: &(dyn Fn(u64) + Sync),
) -> anyhow::Result<Outcome<ImportSummary>> {
    let source = match inputs.as_slice() {
        [one] => one.name(),
        _ => format!("{} files", inputs.len()),
    };
    let mut session = store.begin_invoice_import(creditor, &source, today).await?;
    let mut problems = Vec::new();
    // Across several files the same number may not appear twice (within a CSV the reader checks).
    let mut seen: Option<HashMap<(ItemKind, String), String>> =
        (inputs.len() > 1).then(HashMap::new);
    for input in inputs {
        let (name, bytes) = input.read()?;
        let syntax = syntax.unwrap_or_else(|| detect_invoice_syntax(&bytes));
        let mut rows = Vec::new();
        let report = match syntax {
            InvoiceSyntax::Csv => {
                stream_csv(
                    &mut session,
                    &name,
                    bytes,
                    progress,
                    &mut seen,
                    &mut problems,
                )
                .await?
            }
            InvoiceSyntax::Fec => {
                relance_formats::read_fec(&name, &bytes, default_term, &mut |row| rows.push(row))
            }
            InvoiceSyntax::Xlsx => {
                relance_formats::read_invoices_xlsx(&name, &bytes, &mut |row| rows.push(row))
            }
            InvoiceSyntax::Ubl | InvoiceSyntax::Cii => {
                relance_formats::read_invoice_xml(&name, &bytes, &mut |row| rows.push(row))
            }
            InvoiceSyntax::Pdf => {
                relance_formats::read_invoice_pdf(&name, &bytes, &mut |row| rows.push(row))
            }
        };
        problems.extend(report.problems);
        for row in rows {
            if check_across_files(&mut seen, &row, &name, &mut problems) {
                session.push(to_invoice_record(row)).await?;
            }
        }
    }
    if error_count(&problems) > 0 {
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
                severity: Severity::Error,
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
    session: &mut InvoiceImport,
    name: &str,
    bytes: Vec<u8>,
    progress: &(dyn Fn(u64) + Sync),
    seen: &mut Option<HashMap<(ItemKind, String), String>>,
    problems: &mut Vec<Problem>,
) -> anyhow::Result<ReadReport> {
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
        progress(rows.len() as u64);
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
    if let Some(e) = written_error {
        return Err(e.into());
    }
    Ok(report)
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

/// Imports a payment file (CSV, XLSX, camt.053, CFONB 120, OFX) in one transaction; same
/// contract as [`import_invoices`]. Also returns what a bank statement held besides credits.
pub async fn import_payments(
    store: &Store,
    creditor: CreditorId,
    input: Input,
    syntax: Option<PaymentSyntax>,
    today: NaiveDate,
) -> anyhow::Result<(Outcome<PaymentSummary>, StatementSummary)> {
    let (source, bytes) = input.read()?;
    let mut records = Vec::new();
    let syntax = syntax.unwrap_or_else(|| detect_payment_syntax(&bytes));
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
    if report.has_errors() {
        return Ok((Err(report.problems), statement));
    }
    let outcome = match store
        .import_payments(creditor, &source, &records, today)
        .await?
    {
        PaymentImport::Done(summary) => Ok((summary, report.problems)),
        PaymentImport::Refused(rows) => Err(rows
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
                severity: Severity::Error,
            })
            .collect()),
    };
    Ok((outcome, statement))
}
