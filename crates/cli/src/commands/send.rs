//! `relance send` and `relance outbox list|retry|cancel`.

use std::process::ExitCode;
use std::sync::Arc;

use relance_store::Store;

use crate::cli::{OutboxCommand, SendArgs};
use crate::context::{creditor, today_for};
use crate::output::print_rows;
use relance_dispatch::{dispatch, mailer_for, DispatchOptions};

pub async fn send(store: &Store, wanted: Option<&str>, args: SendArgs) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let settings = args.delivery.settings()?;
    let mailer = Arc::new(mailer_for(&settings)?);
    let options = DispatchOptions::new(&settings, today, args.limit)?;
    tracing::info!(worker = %options.worker, to = mailer.description(), "dispatching");
    let report = dispatch(store, &creditor, mailer.clone(), &options).await?;
    eprintln!("{today}: {} — {}", report.summary(), mailer.description());
    Ok(ExitCode::SUCCESS)
}

pub async fn outbox(
    store: &Store,
    wanted: Option<&str>,
    command: OutboxCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = today_for(&creditor);
    match command {
        OutboxCommand::List {
            status,
            in_doubt,
            format,
        } => {
            let lines = store
                .outbox_lines(creditor.id, status.as_deref(), in_doubt)
                .await?;
            let headers = [
                "id", "customer", "step", "channel", "status", "attempts", "due_on", "sent_at",
                "invoices", "note",
            ];
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    vec![
                        l.id.to_string(),
                        l.customer.clone(),
                        l.step.clone(),
                        l.channel.clone(),
                        if l.in_doubt {
                            format!("{} (in doubt)", l.status)
                        } else {
                            l.status.clone()
                        },
                        l.attempts.to_string(),
                        l.due_on.clone(),
                        l.sent_at.clone().unwrap_or_default(),
                        l.invoices.join(", "),
                        l.last_error
                            .clone()
                            .or_else(|| l.document_path.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(format, &headers, &rows, &lines)?;
            if in_doubt && !lines.is_empty() {
                eprintln!(
                    "{} message(s) in doubt: sending started but was never confirmed. Check with the mail server or the customer, then `relance outbox retry ID` or `relance outbox cancel ID`.",
                    lines.len()
                );
            }
        }
        OutboxCommand::Retry { id, note } => {
            println!(
                "{}",
                store.outbox_retry(creditor.id, id, &note, today).await?
            );
        }
        OutboxCommand::Cancel { id, note } => {
            println!(
                "{}",
                store.outbox_cancel(creditor.id, id, &note, today).await?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
