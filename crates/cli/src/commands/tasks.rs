//! `relance tasks` and `relance call`: the collector's side of the policy. A call step is not
//! sent by a machine; it waits in the task list with its call script and the customer's
//! history, and the outcome the collector records feeds the planner (a promise pauses the case,
//! a dispute takes the invoice out, "paid" waits a few days for the bank statement).

use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::calendar::BusinessCalendar;
use relance_core::calls::{next_send_window, within_send_window, CallOutcome};
use relance_core::money::parse_amount;
use relance_dispatch::calls::{call_tasks_with_scripts, record_call_outcome, CallError, CallInput};
use relance_store::Store;

use crate::cli::{CallArgs, OutputFormat, TasksArgs};
use crate::context::{creditor, today_for};

pub async fn tasks(
    store: &Store,
    wanted: Option<&str>,
    args: TasksArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let due_by = (args.today || args.as_of.is_some()).then_some(today);
    let views = call_tasks_with_scripts(store, &creditor, due_by, today).await?;
    if args.format == OutputFormat::Json {
        for v in &views {
            println!("{}", serde_json::to_string(v)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.as_of.is_none() {
        let calendar = BusinessCalendar::new(creditor.alsace_moselle);
        let tz: chrono_tz::Tz = creditor
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Europe::Paris);
        let now = chrono::Utc::now().with_timezone(&tz).naive_local();
        if !within_send_window(now, &calendar) {
            println!(
                "Outside the call window (08:00–20:00, not on Sundays or public holidays); it opens again at {}.",
                next_send_window(now, &calendar).format("%Y-%m-%d %H:%M")
            );
        }
    }
    if views.is_empty() {
        println!("No call to make.");
        return Ok(ExitCode::SUCCESS);
    }
    for v in &views {
        let t = &v.task;
        println!(
            "#{}  {} — {}  ☎ {}  due {}  {} {}  ({})",
            t.action_id,
            t.customer,
            t.customer_name,
            if t.phones.is_empty() {
                "no number on file".to_string()
            } else {
                t.phones.join(", ")
            },
            t.due_on,
            t.amount,
            t.currency,
            t.invoices.join(", ")
        );
        if let Some(last) = &t.last_call {
            println!("    last call: {last}");
        }
        for line in v.script.lines() {
            println!("    {line}");
        }
        println!();
    }
    println!(
        "{} call(s). Record each outcome with: relance call CUSTOMER --outcome promised|dispute|no_answer|wrong_number|paid",
        views.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn call(store: &Store, wanted: Option<&str>, args: CallArgs) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let at = args.at.unwrap_or_else(|| today_for(&creditor));
    let outcome = CallOutcome::parse(&args.outcome).with_context(|| {
        format!(
            "--outcome \"{}\": expected one of {}",
            args.outcome,
            CallOutcome::ALL
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let amount = args
        .amount
        .as_deref()
        .map(|a| parse_amount(a).with_context(|| format!("--amount \"{a}\"")))
        .transpose()?;
    let input = CallInput {
        customer: args.customer.clone(),
        outcome,
        on: args.on,
        amount,
        invoice: args.invoice.clone(),
        note: args.note.clone().unwrap_or_default(),
        at,
    };
    // The command line names its flags in the messages.
    let done = match record_call_outcome(store, &creditor, &input).await {
        Ok(done) => done,
        Err(CallError::PromiseNeedsDate) => {
            anyhow::bail!("--outcome promised needs --on DATE, the day the customer will pay by")
        }
        Err(CallError::PromiseBeforeCall { on, at }) => {
            anyhow::bail!("--on {on} is before the day of the call ({at})")
        }
        Err(CallError::AmountNotPositive) => anyhow::bail!("--amount must be positive"),
        Err(CallError::DisputeNeedsNote) => {
            anyhow::bail!("--outcome dispute needs --note saying what the customer contests")
        }
        Err(CallError::NoOverdueInvoice { customer, at }) => {
            anyhow::bail!("{customer} has no overdue invoice on {at}: name one with --invoice")
        }
        Err(e) => return Err(e.into()),
    };
    let (record, consequence) = (done.record, done.consequence);
    println!("{at}: {}", record.summary);
    if let Some(c) = consequence {
        println!("{at}: {c}");
    }
    match (outcome.reached_someone(), record.closed_tasks.len()) {
        (true, 0) => println!(
            "No call task was open for {}: the call is on the timeline.",
            args.customer
        ),
        (true, n) => println!("{n} call task(s) done."),
        (false, _) => println!("The call task stays open for another try."),
    }
    if outcome == CallOutcome::WrongNumber {
        println!(
            "Check {}'s phone number: the next import or `relance init` of the customer file can correct it.",
            args.customer
        );
    }
    Ok(ExitCode::SUCCESS)
}
