//! `relance export invoices|payments|actions|aging --out FILE`: the same rows as the reports,
//! written to a file as CSV, JSON lines or an Excel workbook (chosen by `--format`, else by the
//! file's extension). Amounts go to Excel as numbers with two decimals, dates as dates.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_store::reports::InvoiceFilter;
use relance_store::Store;
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::cli::{ExportArgs, ExportFormat, ExportKind, OutputFormat};
use crate::commands::report::{aging_table, invoice_table, AgingTable};
use crate::context::{creditor, today_for};
use crate::output::write_rows;

/// Columns that hold amounts (numbers in a workbook) and dates.
const AMOUNT_COLUMNS: &[&str] = &[
    "amount",
    "paid",
    "open_amount",
    "unallocated",
    "not_due",
    "1_30",
    "31_60",
    "61_90",
    "over_90",
    "total",
];
const DATE_COLUMNS: &[&str] = &["issue_date", "due_date", "received_on", "planned_on"];

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

/// Rows ready to write: cells as text, each row also as JSON.
struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    json: Vec<serde_json::Value>,
    /// For the aged balance: per currency, the bucket sums then the grand total.
    totals: Vec<(String, Vec<Decimal>)>,
}

impl Table {
    fn new<T: serde::Serialize>(
        headers: Vec<&'static str>,
        rows: Vec<Vec<String>>,
        json: &[T],
    ) -> anyhow::Result<Table> {
        Ok(Table {
            headers,
            rows,
            json: json
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<_, _>>()?,
            totals: Vec::new(),
        })
    }
}

fn write_xlsx(path: &Path, title: &str, table: &Table) -> anyhow::Result<()> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(title)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let money_bold = Format::new().set_num_format("#,##0.00").set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, header) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col(c)?, *header, &bold)?;
    }
    let mut r = 0u32;
    for row in &table.rows {
        r += 1;
        for (c, (cell, header)) in row.iter().zip(&table.headers).enumerate() {
            let c = col(c)?;
            if cell.is_empty() {
                continue;
            }
            if AMOUNT_COLUMNS.contains(header) {
                if let Some(n) = number(cell) {
                    sheet.write_number_with_format(r, c, n, &money)?;
                    continue;
                }
            }
            if DATE_COLUMNS.contains(header) {
                if let Ok(d) = ExcelDateTime::parse_from_str(cell) {
                    sheet.write_datetime_with_format(r, c, &d, &date)?;
                    continue;
                }
            }
            sheet.write_string(r, c, cell)?;
        }
    }
    // The aged balance's totals, one line per currency under a blank line.
    if !table.totals.is_empty() {
        r += 1;
        for (currency, sums) in &table.totals {
            r += 1;
            sheet.write_string_with_format(r, 0, "TOTAL", &bold)?;
            sheet.write_string_with_format(r, 2, currency, &bold)?;
            for (i, sum) in sums.iter().enumerate() {
                let n = sum.to_f64().context("amount out of range")?;
                sheet.write_number_with_format(r, col(3 + i)?, n, &money_bold)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    for (c, header) in table.headers.iter().enumerate() {
        let width = table
            .rows
            .iter()
            .filter_map(|row| row.get(c))
            .map(|cell| cell.chars().count())
            .chain(std::iter::once(header.len()))
            .max()
            .unwrap_or(8)
            .clamp(8, 60);
        sheet.set_column_width(col(c)?, width as f64 + 2.0)?;
    }
    book.save(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn col(index: usize) -> anyhow::Result<u16> {
    u16::try_from(index).context("too many columns for a worksheet")
}

/// A plain amount (`-1234.56`) as the number Excel stores.
fn number(cell: &str) -> Option<f64> {
    cell.parse::<Decimal>().ok()?.to_f64()
}
