//! `relance report aging|invoices|cases|timeline|penalties|prescription` (the cash reports are
//! in `report_cash`).

use std::process::ExitCode;

use relance_core::aging::BUCKET_LABELS;
use relance_store::reports::InvoiceFilter;
use relance_store::Store;
use rust_decimal::Decimal;

use crate::cli::{OutputFormat, ReportArgs, ReportKind};
use crate::context::{creditor, today_for};
use crate::output::print_rows;

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    args: ReportArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    match args.kind {
        ReportKind::Invoices => {
            let filter = InvoiceFilter {
                customer: args.customer.clone(),
                open_only: args.open,
            };
            let lines = store.invoice_lines(creditor.id, &filter).await?;
            let (headers, rows) = invoice_table(&lines);
            print_rows(args.format, &headers, &rows, &lines)?;
        }
        ReportKind::Prescription => {
            crate::commands::law::prescription_report(
                store,
                &creditor,
                as_of,
                args.customer.as_deref(),
                args.format,
            )
            .await?
        }
        ReportKind::Penalties => {
            crate::commands::law::penalties_report(
                store,
                &creditor,
                as_of,
                args.customer.as_deref(),
                args.format,
            )
            .await?
        }
        ReportKind::Forecast => {
            super::report_cash::forecast(store, &creditor, as_of, &args).await?
        }
        ReportKind::Dso => super::report_cash::dso(store, &creditor, as_of, &args).await?,
        ReportKind::Steps => super::report_cash::steps(store, &creditor, as_of, &args).await?,
        ReportKind::Scores => super::report_cash::scores(store, &creditor, as_of, &args).await?,
        ReportKind::Aging => {
            aging(
                store,
                &creditor,
                as_of,
                args.customer.as_deref(),
                args.format,
            )
            .await?
        }
        ReportKind::Cases => {
            let lines = store
                .case_lines(creditor.id, as_of, args.customer.as_deref())
                .await?;
            let headers = [
                "customer",
                "customer_name",
                "status",
                "cycle",
                "last_step",
                "next_action_on",
                "amount_overdue",
                "currency",
            ];
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    vec![
                        l.customer.clone(),
                        l.customer_name.clone(),
                        l.status.clone(),
                        l.cycle.to_string(),
                        l.last_step.clone().unwrap_or_default(),
                        l.next_action_on.clone().unwrap_or_default(),
                        l.amount_overdue.clone(),
                        l.currency.clone(),
                    ]
                })
                .collect();
            print_rows(args.format, &headers, &rows, &lines)?;
        }
        ReportKind::Timeline => {
            let events = store
                .timeline(creditor.id, args.customer.as_deref())
                .await?;
            let headers = ["date", "customer", "invoice", "kind", "summary"];
            let rows: Vec<Vec<String>> = events
                .iter()
                .map(|e| {
                    vec![
                        e.occurred_on.clone(),
                        e.customer.clone().unwrap_or_default(),
                        e.item.clone().unwrap_or_default(),
                        e.kind.clone(),
                        e.summary.clone(),
                    ]
                })
                .collect();
            print_rows(args.format, &headers, &rows, &events)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The invoice list's columns and cells.
pub(crate) fn invoice_table(
    lines: &[relance_store::reports::InvoiceLine],
) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        "number",
        "kind",
        "customer",
        "customer_name",
        "issue_date",
        "due_date",
        "amount",
        "paid",
        "open_amount",
        "currency",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.number.clone(),
                l.kind.clone(),
                l.customer.clone(),
                l.customer_name.clone(),
                l.issue_date.clone(),
                l.due_date.clone(),
                l.amount.clone(),
                l.paid.clone(),
                l.open_amount.clone(),
                l.currency.clone(),
            ]
        })
        .collect();
    (headers, rows)
}

/// One line of the aged balance as JSON.
#[derive(serde::Serialize)]
pub(crate) struct AgingJson {
    customer: String,
    customer_name: String,
    currency: String,
    not_due: String,
    #[serde(rename = "1_30")]
    d1_30: String,
    #[serde(rename = "31_60")]
    d31_60: String,
    #[serde(rename = "61_90")]
    d61_90: String,
    over_90: String,
    total: String,
    as_of: String,
}

/// The aged balance: columns, one row per customer and currency, the same as JSON, and the
/// totals per currency (bucket sums then the grand total).
pub(crate) struct AgingTable {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub json: Vec<AgingJson>,
    pub totals: std::collections::BTreeMap<String, [Decimal; 6]>,
}

pub(crate) async fn aging_table(
    store: &Store,
    creditor: &relance_store::creditors::CreditorRecord,
    as_of: chrono::NaiveDate,
    customer: Option<&str>,
) -> anyhow::Result<AgingTable> {
    let lines = store.aging(creditor.id, as_of, customer).await?;
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

/// Prints the aged balance with a total line per currency.
pub async fn aging(
    store: &Store,
    creditor: &relance_store::creditors::CreditorRecord,
    as_of: chrono::NaiveDate,
    customer: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let AgingTable {
        headers,
        mut rows,
        json,
        totals,
    } = aging_table(store, creditor, as_of, customer).await?;
    if format == OutputFormat::Table {
        for (currency, t) in &totals {
            let mut row = vec![
                "TOTAL".to_string(),
                format!("aged balance on {as_of}"),
                currency.clone(),
            ];
            row.extend(t.iter().map(|x| x.to_string()));
            rows.push(row);
        }
    }
    print_rows(format, &headers, &rows, &json)?;
    Ok(())
}
