//! `relance policy`: follow-up policies as files people can version and review.

use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::planner::Policy;
use relance_store::Store;

use crate::cli::{PolicyCommand, PolicyFormat};
use crate::context::creditor;

/// A file holding several policies.
#[derive(serde::Serialize, serde::Deserialize)]
struct PolicyFile {
    policies: Vec<Policy>,
}

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    command: PolicyCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    match command {
        PolicyCommand::List => {
            for (i, p) in store.policies(creditor.id).await?.iter().enumerate() {
                let steps: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
                println!(
                    "{}. {} \"{}\" — {} step(s): {}",
                    i + 1,
                    p.id,
                    p.name,
                    steps.len(),
                    steps.join(" → ")
                );
            }
        }
        PolicyCommand::Show { id } => {
            let policy = find(store, creditor.id, &id).await?;
            println!(
                "{} \"{}\" (minimum {}, grouping {:?})",
                policy.id, policy.name, policy.minimum_amount, policy.grouping
            );
            for (i, step) in policy.steps.iter().enumerate() {
                let channels: Vec<&str> = step.channels.iter().map(|c| c.as_str()).collect();
                println!(
                    "  {}. {:<16} {:+} days from {:?}, {} (template {}, tone {:?})",
                    i + 1,
                    step.id,
                    step.offset_days,
                    step.anchor,
                    channels.join(" + "),
                    step.template,
                    step.tone
                );
            }
        }
        PolicyCommand::Export { id, format, out } => {
            let policies = match id {
                Some(id) => vec![find(store, creditor.id, &id).await?],
                None => store.policies(creditor.id).await?,
            };
            let text = match format {
                PolicyFormat::Json => {
                    serde_json::to_string_pretty(&PolicyFile { policies })? + "\n"
                }
                PolicyFormat::Toml => toml::to_string(&PolicyFile { policies })
                    .context("cannot write the policies as TOML")?,
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("Policies written to {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        PolicyCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let policies =
                parse(&text).with_context(|| format!("{} is not a policy file", file.display()))?;
            for policy in &policies {
                let created = store.save_policy(creditor.id, policy).await?;
                println!(
                    "{} policy {} \"{}\"",
                    if created { "Added" } else { "Replaced" },
                    policy.id,
                    policy.name
                );
            }
        }
        PolicyCommand::Assign {
            customer,
            policy,
            tags,
        } => {
            let tags = (!tags.is_empty()).then_some(tags);
            store
                .assign_policy(creditor.id, &customer, policy.as_deref(), tags.as_deref())
                .await?;
            match policy {
                Some(p) => println!("{customer} now follows policy {p}"),
                None => println!("{customer} follows the first policy whose conditions fit"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    id: &str,
) -> anyhow::Result<Policy> {
    let policies = store.policies(creditor).await?;
    let known: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
    policies
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| anyhow::anyhow!("no policy \"{id}\" (known: {})", known.join(", ")))
}

/// One policy or `policies = [...]`, in JSON or TOML.
fn parse(text: &str) -> anyhow::Result<Vec<Policy>> {
    let trimmed = text.trim_start();
    // A file of several policies names them under `policies`; report its own errors then.
    let several = text.contains("\"policies\"") || text.contains("[[policies");
    if trimmed.starts_with('{') || trimmed.starts_with('[') && !trimmed.starts_with("[[") {
        if several {
            return Ok(serde_json::from_str::<PolicyFile>(text)?.policies);
        }
        return Ok(vec![serde_json::from_str::<Policy>(text)?]);
    }
    if several {
        return Ok(toml::from_str::<PolicyFile>(text)?.policies);
    }
    Ok(vec![toml::from_str::<Policy>(text)?])
}
