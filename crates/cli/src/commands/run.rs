//! `relance run`: plans and carries out the reminders of a day, printed as a table or JSON lines.

use std::io::Write;
use std::process::ExitCode;

use relance_core::planner::PlannedAction;
use relance_store::cases::RunOptions;
use relance_store::Store;

use crate::cli::{OutputFormat, RunArgs};
use crate::context::{creditor, today_for};
use crate::output::print_rows;

/// One line of `relance run --json` (DESIGN.md): one per action and channel.
#[derive(Debug, serde::Serialize)]
struct JsonLine<'a> {
    date: String,
    customer: &'a str,
    step: &'a str,
    channel: &'a str,
    invoices: &'a [String],
    amount_due: String,
    currency: &'a str,
    reason: &'a str,
    key: &'a str,
}

pub async fn run(store: &Store, wanted: Option<&str>, args: RunArgs) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let options = RunOptions {
        as_of,
        dry_run: args.dry_run,
        full: args.full,
    };
    // The receivables, then the follow-ups (quotes, prospects, dormant customers) and the
    // suppliers' late deliveries and wrong invoices, into the same outbox.
    let actions = store
        .run_daily(creditor.id, options, args.dormant_months)
        .await?
        .into_actions();
    if args.json {
        print_json(&actions)?;
    } else {
        print_table(&actions)?;
        let what = if args.dry_run {
            "would be planned"
        } else {
            "planned"
        };
        eprintln!("{as_of}: {} action(s) {what}", actions.len());
    }
    if !args.dry_run && !args.no_send {
        let settings = args.delivery.settings()?;
        let mailer = std::sync::Arc::new(relance_dispatch::mailer_for(&settings)?);
        let options = relance_dispatch::DispatchOptions::new(&settings, as_of, None)?;
        let report = relance_dispatch::dispatch(store, &creditor, mailer.clone(), &options).await?;
        eprintln!("{as_of}: {} — {}", report.summary(), mailer.description());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(actions: &[PlannedAction]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for action in actions {
        for channel in &action.channels {
            let line = JsonLine {
                date: action.on.to_string(),
                customer: &action.customer_code,
                step: &action.step,
                channel: channel.as_str(),
                invoices: &action.invoices,
                amount_due: action.amount_due.to_plain_string(),
                currency: action.amount_due.currency.code(),
                reason: &action.reason,
                key: &action.key,
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

fn print_table(actions: &[PlannedAction]) -> anyhow::Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    let headers = [
        "date",
        "customer",
        "step",
        "channels",
        "invoices",
        "amount_due",
        "currency",
        "reason",
    ];
    let rows: Vec<Vec<String>> = actions
        .iter()
        .map(|a| {
            let channels: Vec<&str> = a.channels.iter().map(|c| c.as_str()).collect();
            vec![
                a.on.to_string(),
                a.customer_code.clone(),
                a.step.clone(),
                channels.join("+"),
                a.invoices.join(", "),
                a.amount_due.to_plain_string(),
                a.amount_due.currency.code().to_string(),
                a.reason.clone(),
            ]
        })
        .collect();
    let none: &[()] = &[];
    print_rows(OutputFormat::Table, &headers, &rows, none)
}
