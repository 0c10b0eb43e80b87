//! `relance init`: the creditor's identity, validated before it is stored.

use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::party::{EmailAddress, Iban, Siren};
use relance_store::creditors::CreditorInput;
use relance_store::Store;

use crate::cli::InitArgs;

pub async fn run(store: &Store, args: InitArgs) -> anyhow::Result<ExitCode> {
    let siren = args
        .siren
        .as_deref()
        .map(Siren::parse)
        .transpose()
        .context("--siren")?;
    let iban = args
        .iban
        .as_deref()
        .map(Iban::parse)
        .transpose()
        .context("--iban")?;
    let email = args
        .email
        .as_deref()
        .map(EmailAddress::parse)
        .transpose()
        .context("--email")?;
    if let Some(tz) = &args.time_zone {
        tz.parse::<chrono_tz::Tz>().map_err(|_| {
            anyhow::anyhow!("--time-zone: \"{tz}\" is not an IANA time zone (e.g. Europe/Paris)")
        })?;
    }
    let input = CreditorInput {
        name: args.name.trim().to_string(),
        siren: siren.map(|s| s.as_str().to_string()),
        iban: iban.map(|i| i.as_str().to_string()),
        bic: args.bic,
        address: args
            .address
            .map(|a| relance_core::party::PostalAddress::from_text(&a).to_text()),
        email: email.map(|e| e.as_str().to_string()),
        time_zone: args.time_zone,
        alsace_moselle: args.alsace_moselle.then_some(true),
    };
    anyhow::ensure!(!input.name.is_empty(), "--name must not be empty");
    let (creditor, created) = store.upsert_creditor(&input).await?;
    println!(
        "{} creditor {} \"{}\"{}",
        if created { "Created" } else { "Updated" },
        creditor.id,
        creditor.name,
        creditor
            .siren
            .map(|s| format!(" (SIREN {s})"))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
