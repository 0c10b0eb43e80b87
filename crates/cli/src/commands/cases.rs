//! `relance promise`, `dispute`, `resolve` and `hold`: what people record about a case, dated `--at`.

use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::money::parse_amount;
use relance_store::Store;

use crate::cli::{DisputeArgs, HoldArgs, PromiseArgs, ResolveArgs};
use crate::context::{creditor, today_for};

pub async fn promise(
    store: &Store,
    wanted: Option<&str>,
    args: PromiseArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let at = args.at.unwrap_or_else(|| today_for(&creditor));
    let amount = args
        .amount
        .as_deref()
        .map(|a| parse_amount(a).with_context(|| format!("--amount \"{a}\"")))
        .transpose()?;
    if args.on < at {
        anyhow::bail!(
            "--on {} is before the day the promise was made ({at})",
            args.on
        );
    }
    if amount.is_some_and(|a| a <= rust_decimal::Decimal::ZERO) {
        anyhow::bail!("--amount must be positive");
    }
    let summary = store
        .promise_to_pay(creditor.id, &args.invoice, args.on, amount, at)
        .await?;
    println!("{at}: {summary}");
    Ok(ExitCode::SUCCESS)
}

pub async fn dispute(
    store: &Store,
    wanted: Option<&str>,
    args: DisputeArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let at = args.at.unwrap_or_else(|| today_for(&creditor));
    let summary = store
        .open_dispute(creditor.id, &args.invoice, &args.reason, at)
        .await?;
    println!("{at}: {summary}");
    Ok(ExitCode::SUCCESS)
}

pub async fn resolve(
    store: &Store,
    wanted: Option<&str>,
    args: ResolveArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let at = args.at.unwrap_or_else(|| today_for(&creditor));
    let summary = store
        .resolve_dispute(creditor.id, &args.invoice, at)
        .await?;
    println!("{at}: {summary}");
    Ok(ExitCode::SUCCESS)
}

pub async fn hold(store: &Store, wanted: Option<&str>, args: HoldArgs) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let at = args.at.unwrap_or_else(|| today_for(&creditor));
    if args.until <= at {
        anyhow::bail!(
            "--until {} must be after the start of the hold ({at})",
            args.until
        );
    }
    let summary = store
        .hold(creditor.id, &args.customer, args.until, &args.reason, at)
        .await?;
    println!("{at}: {summary}");
    Ok(ExitCode::SUCCESS)
}
