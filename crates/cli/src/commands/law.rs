//! Commands of the late-payment law over the ledger: rate tables, the penalties report, waivers.

use std::process::ExitCode;

use chrono::NaiveDate;
use relance_core::law::{compute_penalties, prescription_warning, PenaltyInput};
use relance_store::creditors::CreditorRecord;
use relance_store::Store;

use crate::cli::{OutputFormat, RatesCommand};
use crate::context::{creditor, today_for};
use crate::output::print_rows;

/// The built-in tables completed by every imported one, in import order.
pub use relance_dispatch::law_rates as rate_table;

pub async fn rates(store: &Store, command: RatesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RatesCommand::Import { file } => {
            let table = crate::commands::penalties::read_rates(&file)?;
            let content = std::fs::read_to_string(&file)?;
            store
                .save_rate_table(&file.display().to_string(), &content)
                .await?;
            println!(
                "Imported {}: {} ECB change(s), {} legal-rate half-year(s); they apply from now on",
                file.display(),
                table.ecb_changes().len(),
                table.legal_rates().count()
            );
        }
        RatesCommand::Show => {
            let table = rate_table(store).await?;
            println!("ECB main refinancing rate (L441-10 II: + 10 points, as in force on 1 January / 1 July)");
            for change in table.ecb_changes() {
                println!(
                    "  from {}  {:>5} %   {}",
                    change.effective, change.rate, change.source
                );
            }
            if let Some(until) = table.ecb_valid_until() {
                println!("  checked through {until}");
            }
            println!("Legal interest rate (natural person / all other cases)");
            for (half, rates) in table.legal_rates() {
                println!(
                    "  {half}  {:>5} % / {:>5} %   {}",
                    rates.natural_person, rates.other, rates.source
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn waive(
    store: &Store,
    wanted: Option<&str>,
    invoice: &str,
    reason: &str,
    at: Option<NaiveDate>,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    anyhow::ensure!(!reason.trim().is_empty(), "--reason must say why");
    store
        .waive_penalties(
            creditor.id,
            invoice,
            reason.trim(),
            at.unwrap_or_else(|| today_for(&creditor)),
        )
        .await?;
    println!("Penalties and indemnity of {invoice} waived: {reason}");
    Ok(ExitCode::SUCCESS)
}

#[derive(serde::Serialize)]
struct PenaltyLine {
    number: String,
    customer: String,
    customer_name: String,
    kind: String,
    due_date: String,
    principal: String,
    open_amount: String,
    days_late: i64,
    interest: String,
    indemnity: String,
    total: String,
    currency: String,
    status: String,
    note: String,
}

/// Per late invoice: interest to the payment day (or `as_of`), the 40 € indemnity, and whether a
/// person waived them. An invoice paid late keeps what it accrued.
pub async fn penalties_report(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    customer: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let rates = rate_table(store).await?;
    let mut lines = Vec::new();
    for late in store.late_invoices(creditor.id, as_of, customer).await? {
        let paid_on = if late.open.is_zero() {
            late.payments.last().map(|(d, _)| *d)
        } else {
            None
        };
        let until = paid_on.unwrap_or(as_of).min(as_of);
        let mut input = PenaltyInput::new(late.principal, late.due_date, until);
        for (date, amount) in &late.payments {
            if *date <= until {
                input = input.with_payment(*date, *amount);
            }
        }
        let (interest, indemnity, total, note) =
            match compute_penalties(late.customer_kind, &input, &rates) {
                Ok(result) => (
                    result.interest.to_plain_string(),
                    result.indemnity.to_plain_string(),
                    result.total.to_plain_string(),
                    result
                        .note
                        .clone()
                        .unwrap_or_else(|| result.warnings.join("; ")),
                ),
                Err(e) => (String::new(), String::new(), String::new(), e.to_string()),
            };
        let status = match (&late.waived, paid_on) {
            (Some((on, reason)), _) => format!("waived on {on}: {reason}"),
            (None, Some(on)) => format!("paid late on {on}"),
            (None, None) => "open".to_string(),
        };
        lines.push(PenaltyLine {
            number: late.number,
            customer: late.customer,
            customer_name: late.customer_name,
            kind: late.customer_kind.as_str().to_string(),
            due_date: late.due_date.to_string(),
            principal: late.principal.to_plain_string(),
            open_amount: late.open.to_plain_string(),
            days_late: (until - late.due_date).num_days().max(0),
            interest: if late.waived.is_some() {
                "0.00".into()
            } else {
                interest
            },
            indemnity: if late.waived.is_some() {
                "0.00".into()
            } else {
                indemnity
            },
            total: if late.waived.is_some() {
                "0.00".into()
            } else {
                total
            },
            currency: late.principal.currency.code().to_string(),
            status,
            note,
        });
    }
    let headers = [
        "number",
        "customer",
        "due_date",
        "principal",
        "open_amount",
        "days_late",
        "interest",
        "indemnity",
        "total",
        "currency",
        "status",
    ];
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.number.clone(),
                l.customer.clone(),
                l.due_date.clone(),
                l.principal.clone(),
                l.open_amount.clone(),
                l.days_late.to_string(),
                l.interest.clone(),
                l.indemnity.clone(),
                l.total.clone(),
                l.currency.clone(),
                l.status.clone(),
            ]
        })
        .collect();
    print_rows(format, &headers, &rows, &lines)?;
    Ok(())
}

#[derive(serde::Serialize)]
struct PrescriptionLine {
    number: String,
    customer: String,
    customer_name: String,
    kind: String,
    due_date: String,
    open_amount: String,
    currency: String,
    prescription_date: String,
    days_left: i64,
    level: String,
    message: String,
}

/// Open invoices within 90 days of prescription, or past it, most urgent first.
pub async fn prescription_report(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    customer: Option<&str>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let mut lines: Vec<PrescriptionLine> = store
        .late_invoices(creditor.id, as_of, customer)
        .await?
        .into_iter()
        .filter(|late| late.open.is_positive())
        .filter_map(|late| {
            let warning = prescription_warning(late.customer_kind, late.due_date, as_of)?;
            Some(PrescriptionLine {
                number: late.number,
                customer: late.customer,
                customer_name: late.customer_name,
                kind: late.customer_kind.as_str().to_string(),
                due_date: late.due_date.to_string(),
                open_amount: late.open.to_plain_string(),
                currency: late.open.currency.code().to_string(),
                prescription_date: warning.prescription_date.to_string(),
                days_left: warning.days_left,
                level: format!("{:?}", warning.level),
                message: warning.message,
            })
        })
        .collect();
    lines.sort_by_key(|l| l.days_left);
    let headers = [
        "number",
        "customer",
        "kind",
        "due_date",
        "open_amount",
        "currency",
        "prescription_date",
        "days_left",
    ];
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.number.clone(),
                l.customer.clone(),
                l.kind.clone(),
                l.due_date.clone(),
                l.open_amount.clone(),
                l.currency.clone(),
                l.prescription_date.clone(),
                l.days_left.to_string(),
            ]
        })
        .collect();
    print_rows(format, &headers, &rows, &lines)?;
    Ok(())
}
