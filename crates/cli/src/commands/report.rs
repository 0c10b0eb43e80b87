//! `relance report aging|invoices|cases|timeline|penalties|prescription` (the cash reports are
//! in `report_cash`).

use std::process::ExitCode;

pub(crate) use relance_dispatch::tables::{aging_table, AgingTable};
use relance_store::reports::InvoiceFilter;
use relance_store::Store;

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
        ReportKind::Suppliers => {
            super::suppliers::report(store, &creditor, as_of, args.format).await?
        }
        ReportKind::Experiment => {
            super::report_cash::experiment(store, &creditor, as_of, &args).await?
        }
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
