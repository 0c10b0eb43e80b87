//! relance-dispatch: the delivery pipeline that both `relance send`/`relance run` and the
//! scheduler of `relance serve` drive — claim → build what a message says → render → send →
//! record (`dispatch`), and the assembly of a letter's data from the ledger (`letters`).
//!
//! It sits above `store`, `render` and `deliver` and below the two edges (`cli`, `server`). Like
//! those edges it reports errors with `anyhow` and context: a failed dispatch is logged or
//! printed, never matched on.
//!
//! It also holds the few use cases both edges run the same way, so the web pages call what the
//! commands call: `imports` (read a file, refuse it whole or write it), `calls` (call tasks with
//! their script, a call's outcome), `tables` (report rows as CSV or XLSX).

pub mod calls;
pub mod dispatch;
pub mod followup;
pub mod imports;
pub mod letters;
pub mod optout;
pub mod portal_link;
pub mod supplier;
pub mod tables;
pub mod writer_lock;

pub use dispatch::{
    dispatch, dispatch_action, mailer_for, worker_name, DeliverySettings, DispatchOptions,
    DispatchReport, SendNow,
};

use anyhow::Context as _;
use relance_core::ids::CreditorId;
use relance_core::law::RateTable;
use relance_core::party::Language;
use relance_render::{Part, StepId, TemplateKey, Templates};
use relance_store::templates::TemplateId;
use relance_store::Store;

/// The late-payment rate tables: the built-in ones and those imported with `relance rates
/// import`.
pub async fn law_rates(store: &Store) -> anyhow::Result<RateTable> {
    let mut table = RateTable::builtin();
    for (source, content) in store.rate_tables().await? {
        let more = RateTable::parse_toml(&content)
            .with_context(|| format!("stored rate table {source}"))?;
        table.merge(more);
    }
    Ok(table)
}

/// The templates a creditor's messages are rendered with: the built-in ones and the stored
/// overrides in force (each checked again: one that no longer renders is reported by name).
pub async fn templates_for(store: &Store, creditor: CreditorId) -> anyhow::Result<Templates> {
    let mut templates = Templates::new()?;
    for stored in store.template_overrides(creditor).await? {
        let Some(source) = stored.source else {
            continue;
        };
        let key = key_of(&stored.id)?;
        templates.set(key, &source).map_err(|e| {
            anyhow::anyhow!(
                "stored template {} (version {}) no longer renders: {e}; fix it with `relance template set` or `relance template reset`",
                key.name(),
                stored.version
            )
        })?;
    }
    Ok(templates)
}

fn key_of(id: &TemplateId) -> anyhow::Result<TemplateKey> {
    let step = StepId::parse(&id.step)
        .ok_or_else(|| anyhow::anyhow!("stored template: unknown step \"{}\"", id.step))?;
    let language = Language::parse(&id.language)
        .ok_or_else(|| anyhow::anyhow!("stored template: unknown language \"{}\"", id.language))?;
    let part = Part::parse(&id.part)
        .ok_or_else(|| anyhow::anyhow!("stored template: unknown part \"{}\"", id.part))?;
    Ok(TemplateKey::new(step, language, part))
}
