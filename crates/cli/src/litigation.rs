//! Assembles the litigation file (`relance_render::LitigationData`) from the ledger: the claim
//! with what the law allows on each late invoice, the chronology from the timeline, the
//! documents relance keeps, and the procedure that fits the amount.

use chrono::NaiveDate;
use relance_core::law::{
    choose_procedure, compute_penalties, prescription_warning, PenaltyInput, RateTable,
};
use relance_core::money::{Currency, Money};
use relance_core::party::{CustomerKind, Language};
use relance_render::{
    ChronologyLine, ClaimLine, ClaimTotals, DocumentLine, LitigationData, StepId,
};
use relance_store::creditors::CreditorRecord;
use relance_store::events::EventRecord;
use relance_store::Store;

/// A copy relance kept of a document it lists: where it is and the fingerprint recorded when
/// it was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptCopy {
    /// Its name in the file's folder (`--out DIR`).
    pub file_name: String,
    pub path: std::path::PathBuf,
    pub sha256: String,
}

/// Builds the file of `customer_code` as of `as_of`, in `language` (default: French, the
/// language of the courts it goes to), with the copies of the documents it lists.
pub async fn litigation_for(
    store: &Store,
    creditor: &CreditorRecord,
    customer_code: &str,
    as_of: NaiveDate,
    language: Language,
) -> anyhow::Result<(LitigationData, Vec<KeptCopy>)> {
    let customer = store
        .customer_by_code(creditor.id, customer_code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("unknown customer \"{customer_code}\""))?;
    let timeline = store.timeline(creditor.id, Some(customer_code)).await?;
    let formal_notice_on = formal_notice_day(&timeline);
    let rates = relance_dispatch::law_rates(store).await?;
    let late = store
        .late_invoices(creditor.id, as_of, Some(customer_code))
        .await?;
    let mut claims = Vec::new();
    let mut warnings = Vec::new();
    for invoice in &late {
        let line = claim_line(invoice, customer.kind, as_of, formal_notice_on, &rates)?;
        if !line.open.is_positive() && !line.interest.is_positive() && !line.indemnity.is_positive()
        {
            continue;
        }
        if invoice.open.is_positive() {
            if let Some(w) = prescription_warning(customer.kind, invoice.due_date, as_of) {
                warnings.push(format!("{}: {}", invoice.number, w.message));
            }
        }
        claims.push(line);
    }
    anyhow::ensure!(
        !claims.is_empty(),
        "{customer_code} owes nothing that can be claimed on {as_of}: no invoice past its due date is open or was paid late"
    );
    let currency = claims[0].open.currency;
    anyhow::ensure!(
        claims.iter().all(|c| c.open.currency == currency),
        "the invoices of {customer_code} are in several currencies: one file per currency is not supported yet"
    );
    let totals = totals_of(&claims, currency)?;
    let principal_and_interest = totals.open.checked_add(totals.interest)?;
    let procedure = choose_procedure(customer.kind, principal_and_interest);
    let letters = crate::letters::letter_parties(creditor, &customer);
    let sent = store.sent_documents(creditor.id, customer_code).await?;
    let (documents, copies) = documents(&sent, as_of, language);
    let data = LitigationData {
        creditor: letters.0,
        debtor: relance_render::DebtorInfo {
            language,
            ..letters.1
        },
        debtor_siren: customer.siren.clone(),
        place: letters.2,
        date: as_of,
        language,
        claims,
        totals,
        chronology: chronology(&timeline, language),
        documents,
        procedure,
        formal_notice_on,
        warnings,
    };
    Ok((data, copies))
}

/// The documents sent up to `as_of` (letters, e-mails), oldest first, and the copies kept of
/// them. An e-mail handed to an SMTP server is listed with its fingerprint and Message-ID, but
/// relance holds no copy of it.
fn documents(
    sent: &[relance_store::letters::SentDocument],
    as_of: NaiveDate,
    language: Language,
) -> (Vec<DocumentLine>, Vec<KeptCopy>) {
    let mut lines = Vec::new();
    let mut copies = Vec::new();
    for doc in sent.iter().filter(|d| d.sent_on <= as_of) {
        let path = doc.document_path.as_ref().map(std::path::PathBuf::from);
        let file_name = path.as_ref().and_then(|p| p.file_name()).map(|name| {
            format!(
                "{}_{}",
                doc.sent_on,
                name.to_string_lossy().replace(char::is_whitespace, "_")
            )
        });
        let mut description = format!(
            "{} — {}",
            step_label(&doc.step, language),
            channel_text(&doc.channel, language)
        );
        if !doc.invoices.is_empty() {
            description.push_str(&format!(" ({})", doc.invoices.join(", ")));
        }
        if path.is_none() {
            description.push_str(&match (language, &doc.message_id) {
                (Language::Fr, Some(id)) => {
                    format!(
                        " — remis au serveur de messagerie, Message-ID <{id}>, copie non conservée"
                    )
                }
                (Language::Fr, None) => " — copie non conservée".to_string(),
                (Language::En, Some(id)) => {
                    format!(" — handed to the mail server, Message-ID <{id}>, no copy kept")
                }
                (Language::En, None) => " — no copy kept".to_string(),
            });
        }
        if let (Some(path), Some(name)) = (path, &file_name) {
            copies.push(KeptCopy {
                file_name: name.clone(),
                path,
                sha256: doc.document_sha256.clone(),
            });
        }
        lines.push(DocumentLine {
            date: doc.sent_on,
            description,
            file_name,
            sha256: Some(doc.document_sha256.clone()).filter(|s| !s.is_empty()),
            registered_number: doc.registered_number.clone(),
            acknowledged_on: doc.acknowledged_on.filter(|on| *on <= as_of),
            expects_acknowledgement: doc.channel == "registered_letter_ar",
        });
    }
    (lines, copies)
}

fn claim_line(
    invoice: &relance_store::law::LateInvoice,
    kind: CustomerKind,
    as_of: NaiveDate,
    formal_notice: Option<NaiveDate>,
    rates: &RateTable,
) -> anyhow::Result<ClaimLine> {
    let currency = invoice.principal.currency;
    let zero = Money::zero(currency);
    // An invoice paid late keeps what it accrued until the day it was paid.
    let paid_on = if invoice.open.is_zero() {
        invoice.payments.last().map(|(d, _)| *d)
    } else {
        None
    };
    let until = paid_on.unwrap_or(as_of).min(as_of);
    let mut input = PenaltyInput::new(invoice.principal, invoice.due_date, until);
    if let Some(on) = formal_notice {
        input = input.with_formal_notice(on);
    }
    for (date, amount) in &invoice.payments {
        if *date <= until {
            input = input.with_payment(*date, *amount);
        }
    }
    let (interest, indemnity) = if invoice.waived.is_some() {
        (zero, zero)
    } else {
        let result = compute_penalties(kind, &input, rates)
            .map_err(|e| anyhow::anyhow!("penalties of {}: {e}", invoice.number))?;
        (result.interest, result.indemnity)
    };
    Ok(ClaimLine {
        number: invoice.number.clone(),
        issue_date: None,
        due_date: invoice.due_date,
        principal: invoice.principal,
        open: invoice.open,
        interest,
        indemnity,
        waived: invoice
            .waived
            .as_ref()
            .map(|(on, reason)| format!("{on}, {reason}")),
    })
}

fn totals_of(claims: &[ClaimLine], currency: Currency) -> anyhow::Result<ClaimTotals> {
    let mut t = ClaimTotals {
        open: Money::zero(currency),
        interest: Money::zero(currency),
        indemnity: Money::zero(currency),
        total: Money::zero(currency),
    };
    for c in claims {
        t.open = t.open.checked_add(c.open)?;
        t.interest = t.interest.checked_add(c.interest)?;
        t.indemnity = t.indemnity.checked_add(c.indemnity)?;
    }
    t.total = t.open.checked_add(t.interest)?.checked_add(t.indemnity)?;
    Ok(t)
}

/// The day the formal notice left: its `reminder_sent` event when delivery recorded one, else
/// the day the run carried out the step.
fn formal_notice_day(timeline: &[EventRecord]) -> Option<NaiveDate> {
    let of_kind = |kind: &str| {
        timeline
            .iter()
            .filter(|e| e.kind == kind && e.data["step"].as_str() == Some("formal_notice"))
            .filter_map(|e| NaiveDate::parse_from_str(&e.occurred_on, "%Y-%m-%d").ok())
            .next()
    };
    of_kind("reminder_sent").or_else(|| of_kind("reminder_planned"))
}

/// The label of a timeline event kind, or `None` for bookkeeping events a court does not need
/// (a customer's address changed in an import).
fn event_label(kind: &str, language: Language) -> Option<&'static str> {
    let (fr, en) = match kind {
        "reminder_planned" => ("Relance planifiée", "Reminder planned"),
        "reminder_sent" | "delivery_sent" => ("Envoi effectué", "Sent"),
        "reminder_cancelled" | "delivery_cancelled" => ("Relance annulée", "Reminder cancelled"),
        "delivery_failed" => ("Échec d'envoi", "Sending failed"),
        "promise" => ("Promesse de paiement", "Promise to pay"),
        "dispute" => ("Litige ouvert", "Dispute opened"),
        "dispute_resolved" => ("Litige résolu", "Dispute resolved"),
        "hold" => ("Suspension des relances", "Reminders on hold"),
        "payment_received" => ("Paiement reçu", "Payment received"),
        "credit_note_applied" => ("Avoir imputé", "Credit note applied"),
        "penalties_waived" => ("Pénalités abandonnées", "Penalties waived"),
        "letter_receipt" => (
            "Recommandé : numéro et accusé de réception",
            "Registered letter: number and acknowledgement",
        ),
        "invoice_changed" => ("Facture enregistrée", "Invoice recorded"),
        "customer_changed" => return None,
        k if k.starts_with("call") => ("Appel", "Call"),
        k if k.starts_with("letter") => ("Courrier", "Letter"),
        _ => ("Événement", "Event"),
    };
    Some(match language {
        Language::Fr => fr,
        Language::En => en,
    })
}

fn step_label(step: &str, language: Language) -> String {
    let Some(step) = StepId::parse(step) else {
        return step.to_string();
    };
    let (fr, en) = match step {
        StepId::CourtesyNotice => ("avis avant échéance", "courtesy notice"),
        StepId::FirstReminder => ("première relance", "first reminder"),
        StepId::PhoneCall => ("appel", "call"),
        StepId::SecondReminder => ("deuxième relance", "second reminder"),
        StepId::FormalNotice => ("mise en demeure", "formal notice"),
        StepId::Litigation => ("contentieux", "litigation"),
    };
    match language {
        Language::Fr => fr.to_string(),
        Language::En => en.to_string(),
    }
}

fn channel_text(channel: &str, language: Language) -> String {
    relance_render::format::parse_channel(channel)
        .map(|c| relance_render::format::channel_label(c, language).to_string())
        .unwrap_or_else(|| channel.to_string())
}

fn chronology(timeline: &[EventRecord], language: Language) -> Vec<ChronologyLine> {
    timeline
        .iter()
        .filter_map(|e| {
            let what = event_label(&e.kind, language)?;
            let date = NaiveDate::parse_from_str(&e.occurred_on, "%Y-%m-%d").ok()?;
            let step = e.data["step"].as_str().map(|s| step_label(s, language));
            let channel = e.data["channels"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|c| c.as_str())
                        .map(|c| channel_text(c, language))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .or_else(|| {
                    e.data["channel"]
                        .as_str()
                        .map(|c| channel_text(c, language))
                })
                .filter(|c| !c.is_empty());
            let what = match step {
                Some(step) => format!("{what} — {step}"),
                None => what.to_string(),
            };
            Some(ChronologyLine {
                date,
                what,
                channel,
                detail: detail_of(e, language),
            })
        })
        .collect()
}

/// The invoices and amount an event concerns, worded in the file's language when the event's
/// data says them; else its stored one-line summary.
fn detail_of(e: &EventRecord, language: Language) -> String {
    if e.kind == "letter_receipt" {
        let number = e.data["registered_number"].as_str().unwrap_or("");
        let signed = e.data["acknowledged_on"]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(relance_render::format::date_short);
        return match (language, signed) {
            (Language::Fr, Some(on)) => format!("n° {number}, AR signé le {on}"),
            (Language::Fr, None) => format!("n° {number}"),
            (Language::En, Some(on)) => format!("no. {number}, receipt signed on {on}"),
            (Language::En, None) => format!("no. {number}"),
        };
    }
    let invoices: Vec<&str> = e.data["invoices"]
        .as_array()
        .map(|list| list.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let amount = e.data["amount_due"]
        .as_str()
        .and_then(|a| relance_core::money::parse_amount(a).ok())
        .zip(
            e.data["currency"]
                .as_str()
                .and_then(|c| Currency::parse(c).ok()),
        )
        .map(|(a, c)| relance_render::format::money(&Money::new(a, c), language));
    if invoices.is_empty() {
        return e.summary.clone();
    }
    let (one, many, due) = match language {
        Language::Fr => ("facture", "factures", "montant dû"),
        Language::En => ("invoice", "invoices", "amount due"),
    };
    let mut text = format!(
        "{} {}",
        if invoices.len() > 1 { many } else { one },
        invoices.join(", ")
    );
    if let Some(amount) = amount {
        text.push_str(&format!(", {due} {amount}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_events_stay_out_and_unknown_ones_stay_in() {
        assert_eq!(event_label("customer_changed", Language::Fr), None);
        assert_eq!(
            event_label("something_new", Language::En),
            Some("Event"),
            "an event kind added later must not vanish from the chronology"
        );
        assert_eq!(
            event_label("promise", Language::Fr),
            Some("Promesse de paiement")
        );
    }
}
