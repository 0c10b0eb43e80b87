//! `relance penalties`: what the law allows on one late amount, period by period.
//!
//! Business debtors: Code de commerce L441-10 II (ECB rate + 10 points, or the contractual rate)
//! and the 40 € indemnity of D441-5. Consumers: legal interest from the formal notice (Code civil
//! 1231-6, 1344-1). The computation is `relance_core::law`; this module only reads and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::law::{compute_penalties, PenaltyInput, RateTable};
use relance_core::money::{parse_amount, Currency, Money};
use relance_core::party::CustomerKind;

use crate::cli::PenaltiesArgs;

pub async fn run(store: &relance_store::Store, args: PenaltiesArgs) -> anyhow::Result<ExitCode> {
    let currency = Currency::parse(&args.currency)?;
    let principal = Money::new(parse_amount(&args.amount).context("--amount")?, currency);
    let kind = CustomerKind::parse(&args.kind)?;
    let mut input = PenaltyInput::new(principal, args.due, args.as_of);
    if let Some(notice) = args.formal_notice {
        input = input.with_formal_notice(notice);
    }
    if let Some(rate) = &args.rate {
        input = input.with_contractual_rate(parse_amount(rate).context("--rate")?);
    }
    for payment in &args.payments {
        let (date, amount) = parse_payment(payment).with_context(|| {
            format!("--payment \"{payment}\": expected DATE=AMOUNT, e.g. 2026-03-15=500.00")
        })?;
        input = input.with_payment(date, Money::new(amount, currency));
    }
    let mut rates = crate::commands::law::rate_table(store).await?;
    if let Some(path) = &args.rates {
        rates.merge(read_rates(path)?);
    }
    let result = compute_penalties(kind, &input, &rates)?;
    for warning in &result.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        println!("{}", serde_json::to_string(&result.summary())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("principal {}", result.principal.format_en());
    for p in &result.periods {
        println!(
            "  {} → {}  {:>4} days  at {:>6} %  on {:>14}  = {:>12}",
            p.from,
            p.to,
            p.days,
            p.rate,
            p.principal.to_plain_string(),
            p.amount.to_plain_string()
        );
    }
    println!("interest  {}", result.interest.format_en());
    println!("indemnity {}", result.indemnity.format_en());
    println!("total     {}", result.total.format_en());
    if let Some(note) = &result.note {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_payment(text: &str) -> anyhow::Result<(NaiveDate, rust_decimal::Decimal)> {
    let (date, amount) = text.split_once('=').context("no '='")?;
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").context("date")?;
    Ok((date, parse_amount(amount)?))
}

/// A TOML rate file, validated.
pub fn read_rates(path: &PathBuf) -> anyhow::Result<RateTable> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    RateTable::parse_toml(&text)
        .with_context(|| format!("{} is not a valid rate table", path.display()))
}
