//! `relance reconcile`: the payments a person must match, and confirming them.

use std::process::ExitCode;

use relance_store::Store;

use crate::cli::ReconcileArgs;
use crate::context::{creditor, today_for};
use crate::output::print_rows;

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    args: ReconcileArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    if let (Some(id), Some(customer)) = (args.confirm, args.customer.as_deref()) {
        let summary = store
            .confirm_payment(
                creditor.id,
                id,
                customer,
                args.invoice.as_deref(),
                today_for(&creditor),
            )
            .await?;
        println!("{summary}");
        return Ok(ExitCode::SUCCESS);
    }
    let queue = store.unmatched_payments(creditor.id).await?;
    let headers = [
        "id",
        "date",
        "amount",
        "currency",
        "reference",
        "payer",
        "iban",
        "suggested",
        "confidence",
        "reason",
    ];
    let rows: Vec<Vec<String>> = queue
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.date.clone(),
                p.amount.clone(),
                p.currency.clone(),
                p.reference.clone(),
                p.payer_name.clone().unwrap_or_default(),
                p.payer_iban.clone().unwrap_or_default(),
                p.suggested_customer.clone().unwrap_or_default(),
                p.confidence.to_string(),
                p.reason.clone(),
            ]
        })
        .collect();
    print_rows(args.format, &headers, &rows, &queue)?;
    if queue.is_empty() && args.format == crate::cli::OutputFormat::Table {
        println!("Nothing to reconcile: every payment is matched.");
    }
    Ok(ExitCode::SUCCESS)
}
