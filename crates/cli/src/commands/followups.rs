//! `relance import quotes`, `relance quote accept|refuse|list`, `relance prospect add`,
//! `relance contact reply|optout`: the follow-ups beyond receivables that `relance run` plans.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::party::{CustomerCode, EmailAddress, Language};
use relance_formats::{read_prospects_csv, read_quotes_csv, Severity};
use relance_store::followups::{ContactInput, ProspectInput, QuoteInput};
use relance_store::Store;

use crate::cli::{ContactCommand, OutputFormat, ProspectCommand, QuoteCommand};
use crate::context::{creditor, today_for};
use crate::output::print_rows;

/// `relance import quotes FILE`: all or nothing, every problem with its line and column.
pub async fn import_quotes(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut rows = Vec::new();
    let report = read_quotes_csv(&source, &bytes, &mut |row| rows.push(row));
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!("{source}: refused, {errors} error(s); nothing was imported");
        return Ok(ExitCode::FAILURE);
    }
    let quotes: Vec<QuoteInput> = rows
        .into_iter()
        .map(|row| QuoteInput {
            contact: ContactInput {
                code: row.customer_code.as_str().to_string(),
                name: row.customer_name,
                email: row.email,
                language: None,
                kind: None,
            },
            number: row.number,
            sent_on: row.sent_on,
            valid_until: row.valid_until,
            amount: row.amount,
        })
        .collect();
    let done = store.import_quotes(creditor.id, &quotes, &source).await?;
    println!(
        "Imported {source}: {} quote(s), {} new, {} already known",
        quotes.len(),
        done.created,
        done.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

/// `relance import prospects FILE`: all or nothing, every problem with its line and column.
pub async fn import_prospects(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut rows = Vec::new();
    let report = read_prospects_csv(&source, &bytes, &mut |row| rows.push(row));
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!("{source}: refused, {errors} error(s); nothing was imported");
        return Ok(ExitCode::FAILURE);
    }
    let prospects: Vec<ProspectInput> = rows
        .into_iter()
        .map(|row| ProspectInput {
            contact: ContactInput {
                code: row.code.as_str().to_string(),
                name: Some(row.name),
                email: row.email,
                language: row.language,
                kind: None,
            },
            phone: row.phone,
            met_on: row.first_contact,
            notes: row.notes,
        })
        .collect();
    let done = store
        .import_prospects(creditor.id, &prospects, &source)
        .await?;
    println!(
        "Imported {source}: {} prospect(s), {} new, {} already followed, {} opted out (not followed)",
        prospects.len(),
        done.created,
        done.unchanged,
        done.opted_out
    );
    Ok(ExitCode::SUCCESS)
}

/// `relance quote accept|refuse|list`.
pub async fn quote(
    store: &Store,
    wanted: Option<&str>,
    command: QuoteCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = today_for(&creditor);
    match command {
        QuoteCommand::Accept { quote, at } => {
            let at = at.unwrap_or(today);
            store.quote_decision(creditor.id, &quote, true, at).await?;
            println!("{at}: quote {quote} accepted; its follow-up stops");
        }
        QuoteCommand::Refuse { quote, at } => {
            let at = at.unwrap_or(today);
            store.quote_decision(creditor.id, &quote, false, at).await?;
            println!("{at}: quote {quote} refused; its follow-up stops");
        }
        QuoteCommand::List { customer, json } => {
            let list = store.followups(creditor.id, customer.as_deref()).await?;
            let headers = [
                "customer",
                "kind",
                "reference",
                "started_on",
                "valid_until",
                "amount",
                "status",
                "next_action_on",
            ];
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|f| {
                    vec![
                        f.customer_code.clone(),
                        f.kind.as_str().to_string(),
                        f.reference.clone(),
                        f.started_on.to_string(),
                        f.valid_until.map(|d| d.to_string()).unwrap_or_default(),
                        f.amount.to_plain_string(),
                        f.status.as_str().to_string(),
                        f.next_action_on.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let format = if json {
                OutputFormat::Json
            } else {
                OutputFormat::Table
            };
            print_rows(format, &headers, &rows, &list)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `relance prospect add`.
pub async fn prospect(
    store: &Store,
    wanted: Option<&str>,
    command: ProspectCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let ProspectCommand::Add {
        code,
        name,
        email,
        language,
        met_on,
    } = command;
    let code =
        CustomerCode::parse(&code).map_err(|e| anyhow::anyhow!("customer code \"{code}\": {e}"))?;
    if let Some(email) = &email {
        EmailAddress::parse(email).map_err(|e| anyhow::anyhow!("--email \"{email}\": {e}"))?;
    }
    let language = language
        .as_deref()
        .map(|l| Language::parse(l).with_context(|| format!("--language \"{l}\": fr or en")))
        .transpose()?;
    let met_on = met_on.unwrap_or_else(|| today_for(&creditor));
    store
        .add_prospect(
            creditor.id,
            &ContactInput {
                code: code.as_str().to_string(),
                name,
                email,
                language,
                kind: None,
            },
            met_on,
        )
        .await?;
    println!(
        "{met_on}: prospect {} followed (a message the next business day, another 7–10 days later, then a call)",
        code.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// `relance contact reply|optout`.
pub async fn contact(
    store: &Store,
    wanted: Option<&str>,
    command: ContactCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = today_for(&creditor);
    match command {
        ContactCommand::Reply { customer, at } => {
            let at = at.unwrap_or(today);
            let stopped = store.contact_reply(creditor.id, &customer, at).await?;
            println!("{at}: {customer} answered; {stopped} follow-up(s) stopped");
        }
        ContactCommand::Optout { customer, at } => {
            let at = at.unwrap_or(today);
            if store.opt_out(creditor.id, &customer, at, "command").await? {
                println!(
                    "{at}: {customer} opted out of commercial messages; reminders of unpaid invoices go on"
                );
            } else {
                println!("{customer} had already opted out");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
