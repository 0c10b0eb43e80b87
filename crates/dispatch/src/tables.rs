//! Report tables as files: the same rows `relance export` writes and the web application's
//! reports page downloads, as CSV or as an Excel workbook (rust_xlsxwriter), so a figure never
//! differs between the two. Amounts go to Excel as numbers with two decimals, dates as dates.

use anyhow::Context as _;
use relance_core::aging::BUCKET_LABELS;
use relance_store::Store;
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::Decimal;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// Columns that hold amounts (numbers in a workbook) and dates.
pub const AMOUNT_COLUMNS: &[&str] = &[
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
    "sales",
    "receivables",
    "low",
    "expected",
    "high",
    "cumulative_low",
    "cumulative_expected",
    "cumulative_high",
];
pub const DATE_COLUMNS: &[&str] = &["issue_date", "due_date", "received_on", "planned_on"];

/// Rows ready to write: cells as text, each row also as JSON.
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub json: Vec<serde_json::Value>,
    /// For the aged balance: per currency, the bucket sums then the grand total.
    pub totals: Vec<(String, Vec<Decimal>)>,
}

impl Table {
    pub fn new<T: serde::Serialize>(
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

impl Table {
    /// The rows as CSV (a header line, then one line per row; totals are not part of it).
    pub fn csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&self.headers)?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("CSV: {}", e.error()))
    }

    /// An Excel workbook of one sheet named `title`: a bold header line, amounts as numbers
    /// with two decimals, dates as dates, and the totals (if any) under a blank line.
    pub fn xlsx(&self, title: &str) -> anyhow::Result<Vec<u8>> {
        let table = self;
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
        Ok(book.save_to_buffer()?)
    }
}

fn col(index: usize) -> anyhow::Result<u16> {
    u16::try_from(index).context("too many columns for a worksheet")
}

/// A plain amount (`-1234.56`) as the number Excel stores.
fn number(cell: &str) -> Option<f64> {
    cell.parse::<Decimal>().ok()?.to_f64()
}

/// One line of the aged balance as JSON.
#[derive(serde::Serialize)]
pub struct AgingJson {
    pub customer: String,
    pub customer_name: String,
    pub currency: String,
    pub not_due: String,
    #[serde(rename = "1_30")]
    pub d1_30: String,
    #[serde(rename = "31_60")]
    pub d31_60: String,
    #[serde(rename = "61_90")]
    pub d61_90: String,
    pub over_90: String,
    pub total: String,
    pub as_of: String,
}

/// The aged balance: columns, one row per customer and currency, the same as JSON, and the
/// totals per currency (bucket sums then the grand total).
pub struct AgingTable {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub json: Vec<AgingJson>,
    pub totals: std::collections::BTreeMap<String, [Decimal; 6]>,
}

/// Customers read per statement when a whole aged balance is exported.
pub const AGING_BATCH: u32 = 1000;

/// The aged balance of `customer`, or of every customer read in keyset batches.
pub async fn aging_table(
    store: &Store,
    creditor: &relance_store::creditors::CreditorRecord,
    as_of: chrono::NaiveDate,
    customer: Option<&str>,
) -> anyhow::Result<AgingTable> {
    // The whole creditor is read a thousand customers at a time (keyset pages, each a few
    // index walks), not in one statement that groups every open item at once.
    let lines = match customer {
        Some(_) => store.aging(creditor.id, as_of, customer).await?,
        None => {
            let mut lines = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = store
                    .aging_page(creditor.id, as_of, after.as_deref(), AGING_BATCH)
                    .await?;
                lines.extend(page.lines);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            lines
        }
    };
    let mut headers = vec!["customer", "customer_name", "currency"];
    headers.extend(BUCKET_LABELS);
    headers.push("total");
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(lines.len() + 1);
    let mut totals: std::collections::BTreeMap<String, [Decimal; 6]> = Default::default();
    let mut json = Vec::with_capacity(lines.len());
    for l in &lines {
        let t = totals
            .entry(l.currency.clone())
            .or_insert([Decimal::ZERO; 6]);
        for (i, b) in l.buckets.iter().enumerate() {
            t[i] += *b;
        }
        t[5] += l.total();
        let mut row = vec![
            l.customer.clone(),
            l.customer_name.clone(),
            l.currency.clone(),
        ];
        row.extend(l.buckets.iter().map(|b| b.to_string()));
        row.push(l.total().to_string());
        json.push(AgingJson {
            customer: l.customer.clone(),
            customer_name: l.customer_name.clone(),
            currency: l.currency.clone(),
            not_due: l.buckets[0].to_string(),
            d1_30: l.buckets[1].to_string(),
            d31_60: l.buckets[2].to_string(),
            d61_90: l.buckets[3].to_string(),
            over_90: l.buckets[4].to_string(),
            total: l.total().to_string(),
            as_of: as_of.to_string(),
        });
        rows.push(row);
    }
    Ok(AgingTable {
        headers,
        rows,
        json,
        totals,
    })
}

/// The columns and cells of the weekly forecast (`relance report forecast`, the web's forecast
/// page and its downloads): per week and currency, the low, expected and high cash-in, and
/// their running totals.
pub fn forecast_rows(
    weeks: &[relance_core::forecast::WeekLine],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        "week",
        "starts_on",
        "currency",
        "low",
        "expected",
        "high",
        "cumulative_low",
        "cumulative_expected",
        "cumulative_high",
        "invoices",
    ];
    let rows = weeks
        .iter()
        .map(|w| {
            vec![
                w.week.clone(),
                w.starts_on.clone(),
                w.currency.clone(),
                w.low.to_string(),
                w.expected.to_string(),
                w.high.to_string(),
                w.cumulative_low.to_string(),
                w.cumulative_expected.to_string(),
                w.cumulative_high.to_string(),
                w.invoices.to_string(),
            ]
        })
        .collect();
    (headers, rows)
}

/// The columns and cells of the suppliers report (`relance report suppliers`, the web's
/// suppliers download): the late deliveries and the supplier invoices to check.
pub fn supplier_rows(
    lines: &[relance_store::suppliers::SupplierReportLine],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        "supplier",
        "name",
        "document",
        "number",
        "date",
        "amount",
        "currency",
        "status",
        "days_late",
        "detail",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.supplier.clone(),
                l.supplier_name.clone(),
                l.document.clone(),
                l.number.clone(),
                l.date.clone(),
                l.amount.clone(),
                l.currency.clone(),
                l.status.clone(),
                l.days_late.to_string(),
                l.detail.clone(),
            ]
        })
        .collect();
    (headers, rows)
}
