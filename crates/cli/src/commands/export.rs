//! `relance export invoices|payments|actions|aging --out FILE`: the same rows as the reports,
//! written to a file as CSV, JSON lines or an Excel workbook (chosen by `--format`, else by the
//! file's extension). Amounts go to Excel as numbers with two decimals, dates as dates.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_dispatch::tables::Table;
use relance_store::reports::InvoiceFilter;
use relance_store::Store;

use crate::cli::{ExportArgs, ExportFormat, ExportKind, OutputFormat};
use crate::commands::report::{aging_table, invoice_table, AgingTable};
use crate::context::{creditor, today_for};
use crate::output::write_rows;

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    args: ExportArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let format = match args.format {
        Some(format) => format,
        None => format_of(&args.out)?,
    };
    let customer = args.customer.as_deref();
    let (title, table) = match args.kind {
        ExportKind::Invoices => {
            let filter = InvoiceFilter {
                customer: args.customer.clone(),
                open_only: args.open,
            };
            let lines = store.invoice_lines(creditor.id, &filter).await?;
            let (headers, rows) = invoice_table(&lines);
            ("Invoices".to_string(), Table::new(headers, rows, &lines)?)
        }
        ExportKind::Payments => {
            let lines = store.payment_lines(creditor.id, customer).await?;
            let headers = vec![
                "received_on",
                "customer",
                "customer_name",
                "amount",
                "unallocated",
                "currency",
                "reference",
                "invoice_number",
                "bank_reference",
                "source",
            ];
            let rows = lines
                .iter()
                .map(|l| {
                    vec![
                        l.received_on.clone(),
                        l.customer.clone(),
                        l.customer_name.clone(),
                        l.amount.clone(),
                        l.unallocated.clone(),
                        l.currency.clone(),
                        l.reference.clone(),
                        l.invoice_number.clone(),
                        l.bank_reference.clone(),
                        l.source.clone(),
                    ]
                })
                .collect();
            ("Payments".to_string(), Table::new(headers, rows, &lines)?)
        }
        ExportKind::Actions => {
            let lines = store.action_rows(creditor.id, customer).await?;
            let headers = vec![
                "planned_on",
                "customer",
                "step",
                "channel",
                "status",
                "invoices",
                "key",
            ];
            let rows = lines
                .iter()
                .map(|l| {
                    vec![
                        l.planned_on.clone(),
                        l.customer.clone(),
                        l.step.clone(),
                        l.channel.clone(),
                        l.status.clone(),
                        l.invoices.join(" "),
                        l.key.clone(),
                    ]
                })
                .collect();
            ("Actions".to_string(), Table::new(headers, rows, &lines)?)
        }
        ExportKind::Aging => {
            let AgingTable {
                headers,
                rows,
                json,
                totals,
            } = aging_table(store, &creditor, as_of, customer).await?;
            let mut table = Table::new(headers, rows, &json)?;
            table.totals = totals
                .into_iter()
                .map(|(currency, t)| (currency, t.to_vec()))
                .collect();
            (format!("Aged balance {as_of}"), table)
        }
    };
    let count = table.rows.len();
    match format {
        ExportFormat::Csv | ExportFormat::Json => {
            let output = if format == ExportFormat::Csv {
                OutputFormat::Csv
            } else {
                OutputFormat::Json
            };
            let file = std::fs::File::create(&args.out)
                .with_context(|| format!("cannot create {}", args.out.display()))?;
            let mut out = std::io::BufWriter::new(file);
            write_rows(&mut out, output, &table.headers, &table.rows, &table.json)?;
            out.flush()
                .with_context(|| format!("cannot write {}", args.out.display()))?;
        }
        ExportFormat::Xlsx => write_xlsx(&args.out, &title, &table)?,
    }
    println!("Wrote {count} rows to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The format named by the file's extension.
fn format_of(path: &Path) -> anyhow::Result<ExportFormat> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(ExportFormat::Csv),
        Some("json" | "jsonl") => Ok(ExportFormat::Json),
        Some("xlsx") => Ok(ExportFormat::Xlsx),
        _ => anyhow::bail!(
            "cannot tell the format of {} from its extension: name it .csv, .json or .xlsx, or give --format",
            path.display()
        ),
    }
}

fn write_xlsx(path: &Path, title: &str, table: &Table) -> anyhow::Result<()> {
    let bytes = table.xlsx(title)?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
