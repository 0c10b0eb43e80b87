//! Commercial follow-up messages (quotes, prospects, dormant customers): one template per step
//! and language under `templates/{fr,en}/followup/`, each opening with the message's purpose.
//!
//! The unsubscribe footer is added here, after the template, to the text and HTML parts alike:
//! a commercial message cannot leave without it, whatever a template says. Receivable
//! reminders never come here (they are not commercial and carry no such link).

use minijinja::context;
use relance_core::party::Language;
use serde::Serialize;

use crate::templates::{escape_html, new_env, text_to_html, RenderedMessage};
use crate::RenderError;

/// What a follow-up message says; dates and amounts already written out in `language`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpData {
    pub language: Language,
    /// `quote_reminder`, `quote_last`, `prospect_news`, `prospect_offer`, `dormant_reactivation`.
    pub step: String,
    pub creditor_name: String,
    pub signatory: Option<String>,
    pub contact_name: String,
    /// The quote's number (or the follow-up's reference).
    pub reference: String,
    /// The quote's amount, written out; `None` for prospects and dormant customers.
    pub amount: Option<String>,
    /// The quote's sending or the first contact, written out.
    pub started_on: String,
    pub valid_until: Option<String>,
    /// The signed unsubscribe link.
    pub unsubscribe_url: String,
}

/// The steps that have a message (the others are call tasks for a person).
pub const FOLLOWUP_STEPS: [&str; 5] = [
    "quote_reminder",
    "quote_last",
    "prospect_news",
    "prospect_offer",
    "dormant_reactivation",
];

fn body_source(step: &str, language: Language) -> Option<&'static str> {
    use Language::{En, Fr};
    Some(match (language, step) {
        (Fr, "quote_reminder") => include_str!("../templates/fr/followup/quote_reminder.txt"),
        (Fr, "quote_last") => include_str!("../templates/fr/followup/quote_last.txt"),
        (Fr, "prospect_news") => include_str!("../templates/fr/followup/prospect_news.txt"),
        (Fr, "prospect_offer") => include_str!("../templates/fr/followup/prospect_offer.txt"),
        (Fr, "dormant_reactivation") => {
            include_str!("../templates/fr/followup/dormant_reactivation.txt")
        }
        (En, "quote_reminder") => include_str!("../templates/en/followup/quote_reminder.txt"),
        (En, "quote_last") => include_str!("../templates/en/followup/quote_last.txt"),
        (En, "prospect_news") => include_str!("../templates/en/followup/prospect_news.txt"),
        (En, "prospect_offer") => include_str!("../templates/en/followup/prospect_offer.txt"),
        (En, "dormant_reactivation") => {
            include_str!("../templates/en/followup/dormant_reactivation.txt")
        }
        _ => return None,
    })
}

fn subject_source(step: &str, language: Language) -> &'static str {
    use Language::{En, Fr};
    match (language, step) {
        (Fr, "quote_reminder") => "Votre devis {{ reference }}",
        (Fr, "quote_last") => "Votre devis {{ reference }} expire le {{ valid_until }}",
        (Fr, "prospect_news") => "Suite à notre échange",
        (Fr, "prospect_offer") => "Notre proposition",
        (Fr, "dormant_reactivation") => "Des nouvelles de {{ creditor_name }}",
        (En, "quote_reminder") => "Your quote {{ reference }}",
        (En, "quote_last") => "Your quote {{ reference }} lapses on {{ valid_until }}",
        (En, "prospect_news") => "Following our conversation",
        (En, "prospect_offer") => "Our proposal",
        (_, _) => "News from {{ creditor_name }}",
    }
}

/// The unsubscribe footer, in the message's language: the words and the link.
fn footer(data: &FollowUpData) -> (&'static str, &str) {
    let words = match data.language {
        Language::Fr => {
            "Vous ne souhaitez plus recevoir nos messages commerciaux ? Désinscription immédiate :"
        }
        Language::En => "Do not want our commercial messages any more? Unsubscribe at once:",
    };
    (words, data.unsubscribe_url.as_str())
}

/// Renders a follow-up message: subject, text and HTML parts, each ending with the
/// unsubscribe link (`letter` is the text part: follow-ups are not sent by post).
pub fn render_followup(data: &FollowUpData) -> Result<RenderedMessage, RenderError> {
    let body = body_source(&data.step, data.language).ok_or_else(|| RenderError::Template {
        name: format!("followup/{}", data.step),
        message: "no follow-up template for this step".into(),
    })?;
    if data.unsubscribe_url.trim().is_empty() {
        return Err(RenderError::Data(
            "a commercial message needs its unsubscribe link".into(),
        ));
    }
    let env = new_env();
    let ctx = context! {
        lang => data.language.as_str(),
        creditor_name => data.creditor_name,
        contact_name => data.contact_name,
        reference => data.reference,
        amount => data.amount,
        started_on => data.started_on,
        valid_until => data.valid_until,
        unsubscribe_url => data.unsubscribe_url,
    };
    let render = |name: &str, source: &str| {
        env.render_str(source, ctx.clone())
            .map_err(|e| RenderError::Template {
                name: name.to_string(),
                message: e.to_string(),
            })
    };
    let subject = render(
        "followup/subject",
        subject_source(&data.step, data.language),
    )?;
    let text = render(&format!("followup/{}", data.step), body)?;
    let signature = data
        .signatory
        .clone()
        .unwrap_or_else(|| data.creditor_name.clone());
    let signed = format!(
        "{}\n\n{}\n{}",
        text.trim_end(),
        signature,
        data.creditor_name
    );
    let lang = data.language.as_str();
    let (label, url) = footer(data);
    let mut link = String::new();
    escape_html(url, &mut link);
    let mut words = String::new();
    escape_html(label, &mut words);
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family: Arial, sans-serif; font-size: 14px; color: #222; max-width: 640px;\">\n{}\n\
         <p style=\"font-size: 12px; color: #666;\">{words} <a href=\"{link}\">{link}</a></p>\n</body></html>\n",
        text_to_html(&signed)
    );
    let text = format!("{signed}\n\n-- \n{label} {url}\n");
    Ok(RenderedMessage {
        subject: subject.trim().to_string(),
        letter: text.clone(),
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(step: &str, language: Language) -> FollowUpData {
        FollowUpData {
            language,
            step: step.into(),
            creditor_name: "Atelier Durand".into(),
            signatory: None,
            contact_name: "Mme Leroy".into(),
            reference: "DV-2026-014".into(),
            amount: Some("1 234,56 €".into()),
            started_on: "2 mars 2026".into(),
            valid_until: Some("31 mars 2026".into()),
            unsubscribe_url: "https://relance.example/unsubscribe?c=1&u=C1&e=2027-03-02&s=ab12"
                .into(),
        }
    }

    #[test]
    fn every_step_in_both_languages_carries_its_purpose_and_the_link() {
        for step in FOLLOWUP_STEPS {
            for language in [Language::Fr, Language::En] {
                let m = render_followup(&data(step, language)).expect("renders");
                let purpose = match language {
                    Language::Fr => "Objet de ce message :",
                    Language::En => "Why we write:",
                };
                assert!(m.text.contains(purpose), "{step} {language:?}: {}", m.text);
                assert!(m.text.contains("unsubscribe?c=1&u=C1"), "{step}");
                assert!(
                    m.html.contains("unsubscribe?c=1&amp;u=C1"),
                    "{step}: {}",
                    m.html
                );
                assert!(!m.subject.is_empty());
            }
        }
    }

    #[test]
    fn no_link_no_message() {
        let mut d = data("quote_reminder", Language::Fr);
        d.unsubscribe_url = String::new();
        assert!(render_followup(&d).is_err());
        d.step = "quote_call".into();
        assert!(render_followup(&d).is_err());
    }
}
