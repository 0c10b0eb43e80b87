//! What a commercial follow-up e-mail says (quote, prospect, dormant customer), assembled from
//! the store for [`relance_render::followup`], with its signed unsubscribe link.

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::calendar::add_days;
use relance_deliver::OutgoingEmail;
use relance_render::followup::{render_followup, FollowUpData};
use relance_render::format::{date_long, money};
use relance_render::{build_email, EmailEnvelope};
use relance_store::creditors::CreditorRecord;
use relance_store::followups::FollowUpRecord;
use relance_store::outbox::{ClaimedAction, CustomerContext};

use crate::optout;

/// Renders one follow-up action as an e-mail (follow-ups are never sent by post: a contact
/// without an address gets a call task instead, which is not dispatched).
pub fn prepare_followup(
    creditor: &CreditorRecord,
    context: &CustomerContext,
    followup: &FollowUpRecord,
    action: &ClaimedAction,
    key: &[u8],
    today: NaiveDate,
) -> anyhow::Result<OutgoingEmail> {
    anyhow::ensure!(
        action.channel == "email",
        "a {} follow-up is sent by e-mail only, not by {}",
        followup.kind.as_str(),
        action.channel
    );
    let customer = &context.customer;
    let language = customer.language;
    let expires = add_days(today, i64::try_from(optout::VALID_DAYS).unwrap_or(365));
    let unsubscribe_url = optout::link(
        &optout::public_url(),
        key,
        creditor.id.0,
        &customer.code,
        expires,
    );
    let data = FollowUpData {
        language,
        step: action.step.clone(),
        creditor_name: creditor.name.clone(),
        signatory: None,
        contact_name: customer.name.clone(),
        reference: followup.reference.clone(),
        amount: (!followup.amount.is_zero()).then(|| money(&followup.amount, language)),
        started_on: date_long(followup.started_on, language),
        valid_until: followup.valid_until.map(|d| date_long(d, language)),
        unsubscribe_url: unsubscribe_url.clone(),
    };
    let message = render_followup(&data)?;
    let from = creditor.email.clone().context(
        "the creditor has no e-mail address: set one with `relance init --name … --email …`",
    )?;
    let to = customer
        .emails
        .first()
        .cloned()
        .with_context(|| format!("{} has no e-mail address", customer.code))?;
    let domain = from.rsplit('@').next().unwrap_or("relance.invalid");
    let message_id = format!(
        "relance.{}.{}@{domain}",
        action.id,
        &relance_deliver::sha256_hex(action.key.as_bytes())[..16]
    );
    let envelope = EmailEnvelope {
        from_name: creditor.name.clone(),
        from_address: from.clone(),
        reply_to: Some(from.clone()),
        to_name: customer.name.clone(),
        to_address: to.clone(),
        date: chrono::Utc::now().fixed_offset(),
        message_id: message_id.clone(),
        attachments: Vec::new(),
        // The same signed link, for the mail client's one-click unsubscribe (RFC 8058).
        list_unsubscribe: Some(unsubscribe_url),
    };
    let bytes = build_email(&envelope, &message)?;
    Ok(OutgoingEmail {
        from,
        to,
        message_id,
        day: today,
        bytes,
    })
}
