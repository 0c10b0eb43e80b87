//! Message templates (minijinja, sandboxed): one per step × language × part, embedded defaults,
//! overrides validated when saved.
//!
//! The sandbox: no loader (a template can include only the embedded partials and the other
//! templates of the set, never a file), undefined variables are errors
//! (`UndefinedBehavior::Strict`), every render runs with bounded fuel and a recursion limit, so
//! an endless loop stops with an error instead of hanging a run.
//!
//! Variables: the fields of [`LetterData`](crate::LetterData) (`creditor`, `debtor`, `place`,
//! `date`, `step`, `channel`, `invoices`, `totals`, `penalties`, `history`, `deadline`,
//! `payment_reference`, `portal_url`, `reason`), plus `lang` (`fr`/`en`), `medium` (`letter`,
//! `text`, `html`) and `invoice_numbers`. Filters: `money`, `date` (`14 avril 2026`),
//! `date_short` (`14/04/2026`), `rate` (`12,15 %`), `iban`, `channel` (label of a channel),
//! `nonzero`, `paragraphs` (text to HTML). Body markup read by the PDF: a line `# TITLE` is a
//! title, `- item` a bullet, `[[invoices]]` and `[[payment]]` place the invoice table and the
//! payment block.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use minijinja::{
    context, AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior, Value,
};
use relance_core::party::{CustomerKind, Language};
use relance_core::{Currency, Money};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::format;
use crate::model::{LetterData, StepId};
use crate::RenderError;

/// Instructions a single render may execute: ample for a letter of a few hundred invoices,
/// small enough that a runaway loop stops within milliseconds.
pub const FUEL: u64 = 2_000_000;

/// The variables a template can read, with what they hold: shown next to the template editor.
pub const VARIABLES: &[(&str, &str)] = &[
    ("lang", "language of the message: \"fr\" or \"en\""),
    ("medium", "\"letter\" (PDF), \"text\" or \"html\" (e-mail parts)"),
    ("invoice_numbers", "the invoice numbers, comma-separated"),
    ("creditor.name", "the creditor's name"),
    ("creditor.address_lines", "list of address lines"),
    ("creditor.siren / .rcs / .vat_number", "legal identifiers (may be none)"),
    ("creditor.iban / .bic", "bank details (may be none); `iban` filter groups by four"),
    ("creditor.email / .phone / .signatory", "contact and signature (may be none)"),
    ("debtor.name / .address_lines / .customer_code", "the customer"),
    ("debtor.kind", "\"business\" or \"consumer\""),
    ("debtor.language / .email", "language code and e-mail (may be none)"),
    ("place, date", "where and when the letter is written; `date` / `date_short` filters"),
    ("step", "courtesy_notice, first_reminder, phone_call, second_reminder, formal_notice, litigation"),
    ("channel", "email, letter, registered_letter, registered_letter_ar, sms, phone_call, task"),
    ("invoices", "list of {number, issue_date, due_date, amount, paid, open}"),
    ("totals", "{amount, paid, open, total_due}; amounts print with the `money` filter"),
    ("penalties", "none, or {basis, rate, interest, indemnity, periods: [{from, to, days, rate, principal, amount}]}"),
    ("history", "earlier contacts: list of {date, step, channel, outcome}; `channel` filter names them"),
    ("deadline", "the date by which payment is asked"),
    ("payment_reference, portal_url, reason", "payment reference; optional payment link and reason for the delay"),
];

/// Which part of a message a template produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The e-mail subject (one line) and the letter's subject line.
    Subject,
    /// The shared content, included by the three parts below.
    Body,
    /// The e-mail's text/plain part.
    Text,
    /// The e-mail's text/html part.
    Html,
    /// The PDF letter's body.
    Letter,
    /// The SMS: one short line (two segments at most, see `crate::sms`), with the payment
    /// link when there is one.
    Sms,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Subject,
        Part::Body,
        Part::Text,
        Part::Html,
        Part::Letter,
        Part::Sms,
    ];

    /// The part's name: `subject`, `body`, `text`, `html`, `letter`, `sms`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Body => "body",
            Part::Text => "text",
            Part::Html => "html",
            Part::Letter => "letter",
            Part::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Part> {
        let text = text.trim().to_ascii_lowercase();
        Part::ALL.into_iter().find(|p| p.as_str() == text)
    }

    fn file_name(&self) -> &'static str {
        match self {
            Part::Subject => "subject.txt",
            Part::Body => "body.txt",
            Part::Text => "text.txt",
            Part::Html => "html.html",
            Part::Letter => "letter.txt",
            Part::Sms => "sms.txt",
        }
    }

    fn medium(&self) -> &'static str {
        match self {
            Part::Html => "html",
            Part::Letter => "letter",
            Part::Sms => "sms",
            _ => "text",
        }
    }
}

/// Identifies one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TemplateKey {
    pub step: StepId,
    pub language: Language,
    pub part: Part,
}

impl TemplateKey {
    pub fn new(step: StepId, language: Language, part: Part) -> Self {
        TemplateKey {
            step,
            language,
            part,
        }
    }

    /// The template's name in the set, e.g. `fr/first_reminder/letter.txt`.
    pub fn name(&self) -> String {
        format!(
            "{}/{}/{}",
            self.language.as_str(),
            self.step.as_str(),
            self.part.file_name()
        )
    }

    /// Every template of the set: each step, language and part.
    pub fn all() -> impl Iterator<Item = TemplateKey> {
        StepId::ALL.into_iter().flat_map(|step| {
            [Language::Fr, Language::En]
                .into_iter()
                .flat_map(move |language| {
                    Part::ALL
                        .into_iter()
                        .map(move |part| TemplateKey::new(step, language, part))
                })
        })
    }
}

const PARTIALS: [(&str, &str); 6] = [
    (
        "fr/_invoices.txt",
        include_str!("../templates/fr/_invoices.txt"),
    ),
    (
        "fr/_payment.txt",
        include_str!("../templates/fr/_payment.txt"),
    ),
    (
        "fr/_penalties.txt",
        include_str!("../templates/fr/_penalties.txt"),
    ),
    (
        "en/_invoices.txt",
        include_str!("../templates/en/_invoices.txt"),
    ),
    (
        "en/_payment.txt",
        include_str!("../templates/en/_payment.txt"),
    ),
    (
        "en/_penalties.txt",
        include_str!("../templates/en/_penalties.txt"),
    ),
];

fn default_body(step: StepId, language: Language) -> &'static str {
    use Language::{En, Fr};
    use StepId::*;
    match (language, step) {
        (Fr, CourtesyNotice) => include_str!("../templates/fr/courtesy_notice.txt"),
        (Fr, FirstReminder) => include_str!("../templates/fr/first_reminder.txt"),
        (Fr, PhoneCall) => include_str!("../templates/fr/phone_call.txt"),
        (Fr, SecondReminder) => include_str!("../templates/fr/second_reminder.txt"),
        (Fr, FormalNotice) => include_str!("../templates/fr/formal_notice.txt"),
        (Fr, Litigation) => include_str!("../templates/fr/litigation.txt"),
        (En, CourtesyNotice) => include_str!("../templates/en/courtesy_notice.txt"),
        (En, FirstReminder) => include_str!("../templates/en/first_reminder.txt"),
        (En, PhoneCall) => include_str!("../templates/en/phone_call.txt"),
        (En, SecondReminder) => include_str!("../templates/en/second_reminder.txt"),
        (En, FormalNotice) => include_str!("../templates/en/formal_notice.txt"),
        (En, Litigation) => include_str!("../templates/en/litigation.txt"),
    }
}

fn default_subject(step: StepId, language: Language) -> &'static str {
    use Language::{En, Fr};
    use StepId::*;
    match (language, step) {
        (Fr, CourtesyNotice) => "Échéance prochaine : {% if invoices | length > 1 %}factures{% else %}facture{% endif %} {{ invoice_numbers }}",
        (Fr, FirstReminder) => "{% if invoices | length > 1 %}Factures{% else %}Facture{% endif %} {{ invoice_numbers }} : règlement en attente",
        (Fr, PhoneCall) => "Appel à passer : {{ debtor.name }}, {% if invoices | length > 1 %}factures{% else %}facture{% endif %} {{ invoice_numbers }}",
        (Fr, SecondReminder) => "{% if invoices | length > 1 %}Factures{% else %}Facture{% endif %} {{ invoice_numbers }} : règlement attendu avant le {{ deadline | date }}",
        (Fr, FormalNotice) => "Mise en demeure de payer : {% if invoices | length > 1 %}factures{% else %}facture{% endif %} {{ invoice_numbers }}",
        (Fr, Litigation) => "Dossier contentieux : {{ debtor.name }}, {% if invoices | length > 1 %}factures{% else %}facture{% endif %} {{ invoice_numbers }}",
        (En, CourtesyNotice) => "Payment due soon: {% if invoices | length > 1 %}invoices{% else %}invoice{% endif %} {{ invoice_numbers }}",
        (En, FirstReminder) => "{% if invoices | length > 1 %}Invoices{% else %}Invoice{% endif %} {{ invoice_numbers }}: payment outstanding",
        (En, PhoneCall) => "Call to make: {{ debtor.name }}, {% if invoices | length > 1 %}invoices{% else %}invoice{% endif %} {{ invoice_numbers }}",
        (En, SecondReminder) => "{% if invoices | length > 1 %}Invoices{% else %}Invoice{% endif %} {{ invoice_numbers }}: payment expected by {{ deadline | date }}",
        (En, FormalNotice) => "Formal notice to pay: {% if invoices | length > 1 %}invoices{% else %}invoice{% endif %} {{ invoice_numbers }}",
        (En, Litigation) => "Litigation file: {{ debtor.name }}, {% if invoices | length > 1 %}invoices{% else %}invoice{% endif %} {{ invoice_numbers }}",
    }
}

/// The default SMS: who writes, the step's subject (so a reworded step reads the same in
/// every channel), the amount, the deadline, the reference, then the payment link or else a
/// number to call.
fn default_sms(key: TemplateKey) -> String {
    let subject = format!(
        "{}/{}/subject.txt",
        key.language.as_str(),
        key.step.as_str()
    );
    match key.language {
        Language::Fr => format!(
            "{{{{ creditor.name }}}} : {{% include \"{subject}\" %}}. Reste à payer : {{{{ totals.total_due | money }}}}, \
             à régler avant le {{{{ deadline | date_short }}}}. Réf. {{{{ payment_reference }}}}.\
             {{% if portal_url %}} Payer : {{{{ portal_url }}}}{{% elif creditor.phone %}} Tél. {{{{ creditor.phone }}}}{{% endif %}}"
        ),
        Language::En => format!(
            "{{{{ creditor.name }}}}: {{% include \"{subject}\" %}}. Amount due: {{{{ totals.total_due | money }}}}, \
             to be paid by {{{{ deadline | date_short }}}}. Ref. {{{{ payment_reference }}}}.\
             {{% if portal_url %}} Pay: {{{{ portal_url }}}}{{% elif creditor.phone %}} Tel. {{{{ creditor.phone }}}}{{% endif %}}"
        ),
    }
}

/// The embedded default source of a template.
pub fn default_source(key: TemplateKey) -> String {
    let body = format!("{}/{}/body.txt", key.language.as_str(), key.step.as_str());
    let lang = key.language.as_str();
    match key.part {
        Part::Subject => default_subject(key.step, key.language).to_string(),
        Part::Body => default_body(key.step, key.language).to_string(),
        Part::Letter => format!("{{% include \"{body}\" %}}"),
        Part::Sms => default_sms(key),
        Part::Text => format!(
            "{{% include \"{body}\" %}}\n\n\n{{{{ creditor.signatory or creditor.name }}}}\n{{{{ creditor.name }}}}\n"
        ),
        Part::Html => format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{{{{ creditor.name }}}}</title></head>\n\
             <body style=\"font-family: Arial, sans-serif; font-size: 14px; color: #222; max-width: 640px;\">\n\
             {{% set body %}}{{% include \"{body}\" %}}{{% endset %}}{{{{ body | paragraphs }}}}\n\
             <p>{{{{ creditor.signatory or creditor.name }}}}<br>{{{{ creditor.name }}}}</p>\n</body></html>\n"
        ),
    }
}

/// A message rendered in all its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The letter body, with its markup (`# title`, `- item`, `[[invoices]]`, `[[payment]]`).
    pub letter: String,
}

/// The template set: embedded defaults plus validated overrides.
pub struct Templates {
    env: Environment<'static>,
    overrides: HashMap<TemplateKey, String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn language_of(state: &State) -> Language {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Language::parse))
        .unwrap_or_default()
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg)
}

fn money_of(value: &Value) -> Result<Money, Error> {
    if let Some(s) = value.as_str() {
        return Decimal::from_str(s)
            .map(Money::eur)
            .map_err(|_| invalid(format!("money: {s:?} is not an amount")));
    }
    if let Ok(n) = i64::try_from(value.clone()) {
        return Ok(Money::eur(Decimal::from(n)));
    }
    let amount = value.get_attr("amount")?;
    let currency = value.get_attr("currency")?;
    let amount = amount
        .as_str()
        .and_then(|s| Decimal::from_str(s).ok())
        .ok_or_else(|| invalid(format!("money: {value} is not an amount")))?;
    let currency = currency
        .as_str()
        .and_then(|c| Currency::parse(c).ok())
        .unwrap_or(Currency::EUR);
    Ok(Money::new(amount, currency))
}

fn date_of(value: &Value) -> Result<NaiveDate, Error> {
    value
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(|| invalid(format!("date: {value} is not a date")))
}

fn filter_money(state: &State, value: Value) -> Result<String, Error> {
    Ok(format::money(&money_of(&value)?, language_of(state)))
}

fn filter_nonzero(value: Value) -> Result<bool, Error> {
    Ok(!money_of(&value)?.is_zero())
}

fn filter_date(state: &State, value: Value) -> Result<String, Error> {
    Ok(format::date_long(date_of(&value)?, language_of(state)))
}

fn filter_date_short(value: Value) -> Result<String, Error> {
    Ok(format::date_short(date_of(&value)?))
}

fn filter_rate(state: &State, value: Value) -> Result<String, Error> {
    let text = value.to_string();
    let rate = Decimal::from_str(&text).map_err(|_| invalid(format!("rate: {text:?}")))?;
    Ok(format::rate(rate, language_of(state)))
}

fn filter_iban(value: String) -> String {
    format::iban(&value)
}

fn filter_channel(state: &State, value: String) -> Result<String, Error> {
    let channel = format::parse_channel(&value)
        .ok_or_else(|| invalid(format!("channel: {value:?} is not a channel")))?;
    Ok(format::channel_label(channel, language_of(state)).to_string())
}

pub(crate) fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Plain text (with the body markup) to HTML paragraphs, every character escaped.
pub fn text_to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            continue;
        }
        let mut in_list = false;
        let mut in_para = false;
        for line in lines {
            let line = line.trim_end();
            if line.starts_with("[[") && line.ends_with("]]") {
                continue;
            }
            if let Some(title) = line.strip_prefix("# ") {
                out.push_str("<h2>");
                escape_html(title, &mut out);
                out.push_str("</h2>\n");
            } else if let Some(item) = line.strip_prefix("- ") {
                if in_para {
                    out.push_str("</p>\n");
                    in_para = false;
                }
                if !in_list {
                    out.push_str("<ul>\n");
                    in_list = true;
                }
                out.push_str("<li>");
                escape_html(item, &mut out);
                out.push_str("</li>\n");
            } else {
                if in_list {
                    out.push_str("</ul>\n");
                    in_list = false;
                }
                if in_para {
                    out.push_str("<br>\n");
                } else {
                    out.push_str("<p>");
                    in_para = true;
                }
                escape_html(line, &mut out);
            }
        }
        if in_list {
            out.push_str("</ul>\n");
        }
        if in_para {
            out.push_str("</p>\n");
        }
    }
    out
}

/// The text part: markup removed (`# TITLE` → `TITLE`, placeholders dropped).
fn text_from_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim_end();
        if t.starts_with("[[") && t.ends_with("]]") {
            continue;
        }
        out.push_str(t.strip_prefix("# ").unwrap_or(t));
        out.push('\n');
    }
    collapse_blank_lines(&out)
}

fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blanks = 0;
    for line in text.trim().lines() {
        if line.trim().is_empty() {
            blanks += 1;
            if blanks > 1 {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn filter_paragraphs(value: String) -> Value {
    Value::from_safe_string(text_to_html(&value))
}

/// Largest output a template may produce (a letter is a few kilobytes).
pub const MAX_OUTPUT: usize = 1 << 20;

/// A writer that refuses to grow past [`MAX_OUTPUT`]: a template cannot fill the memory.
struct BoundedWriter(Vec<u8>);

impl std::io::Write for BoundedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT {
            return Err(std::io::Error::other(format!(
                "output larger than {MAX_OUTPUT} bytes"
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_bounded(tmpl: &minijinja::Template<'_, '_>, ctx: Value) -> Result<String, Error> {
    let mut out = BoundedWriter(Vec::with_capacity(8 * 1024));
    tmpl.render_captured_to(ctx, &mut out)?;
    String::from_utf8(out.0).map_err(|e| invalid(format!("output is not UTF-8: {e}")))
}

pub(crate) fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(50);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.add_filter("money", filter_money);
    env.add_filter("nonzero", filter_nonzero);
    env.add_filter("date", filter_date);
    env.add_filter("date_short", filter_date_short);
    env.add_filter("rate", filter_rate);
    env.add_filter("iban", filter_iban);
    env.add_filter("channel", filter_channel);
    env.add_filter("paragraphs", filter_paragraphs);
    env
}

fn template_error(name: &str, e: &Error) -> RenderError {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    RenderError::Template {
        name: name.to_string(),
        message: msg,
    }
}

impl Templates {
    /// The embedded defaults.
    pub fn new() -> Result<Templates, RenderError> {
        let mut env = new_env();
        for (name, source) in PARTIALS {
            env.add_template(name, source)
                .map_err(|e| template_error(name, &e))?;
        }
        for key in TemplateKey::all() {
            let name = key.name();
            env.add_template_owned(name.clone(), default_source(key))
                .map_err(|e| template_error(&name, &e))?;
        }
        Ok(Templates {
            env,
            overrides: HashMap::new(),
        })
    }

    /// The current source of a template (override or default).
    pub fn source(&self, key: TemplateKey) -> String {
        self.overrides
            .get(&key)
            .cloned()
            .unwrap_or_else(|| default_source(key))
    }

    pub fn overrides(&self) -> &HashMap<TemplateKey, String> {
        &self.overrides
    }

    /// Checks a template source as any part: it must compile and render against complete
    /// sample data (business and consumer, every medium) without error.
    pub fn validate(&self, source: &str) -> Result<(), RenderError> {
        self.check(None, source)
    }

    /// Checks a source for one key (its step and language decide the sample data).
    pub fn validate_for(&self, key: TemplateKey, source: &str) -> Result<(), RenderError> {
        self.check(Some(key), source)
    }

    fn check(&self, key: Option<TemplateKey>, source: &str) -> Result<(), RenderError> {
        let name = key.map(|k| k.name()).unwrap_or_else(|| "candidate".into());
        let tmpl = self
            .env
            .template_from_named_str(&name, source)
            .map_err(|e| template_error(&name, &e))?;
        let (step, languages) = match key {
            Some(k) => (k.step, vec![k.language]),
            None => (StepId::FormalNotice, vec![Language::Fr, Language::En]),
        };
        let media: Vec<Part> = match key.map(|k| k.part) {
            Some(Part::Body) | None => vec![Part::Letter, Part::Text, Part::Html],
            Some(p) => vec![p],
        };
        for lang in languages {
            for kind in [CustomerKind::Business, CustomerKind::Consumer] {
                let data = LetterData::sample(step, kind, lang);
                for part in &media {
                    render_bounded(&tmpl, Self::context(&data, *part))
                        .map_err(|e| template_error(&name, &e))?;
                }
            }
        }
        Ok(())
    }

    /// Validates, then saves an override (a body override is also checked through every part
    /// that includes it).
    pub fn set(&mut self, key: TemplateKey, source: &str) -> Result<(), RenderError> {
        self.validate_for(key, source)?;
        let name = key.name();
        let previous = self.source(key);
        self.env
            .add_template_owned(name.clone(), source.to_string())
            .map_err(|e| template_error(&name, &e))?;
        // Parts that include this one must still render.
        for part in Part::ALL {
            let other = TemplateKey::new(key.step, key.language, part);
            if other == key {
                continue;
            }
            if let Err(e) = self.validate_for(other, &self.source(other)) {
                self.env
                    .add_template_owned(name.clone(), previous)
                    .map_err(|e| template_error(&name, &e))?;
                return Err(e);
            }
        }
        self.overrides.insert(key, source.to_string());
        Ok(())
    }

    /// A warning when the SMS of `key`'s step and language, rendered on sample data (business
    /// and consumer), would take more than [`crate::sms::MAX_SEGMENTS`] segments; `None` for
    /// other parts, or a short enough text.
    pub fn sms_warning(&self, key: TemplateKey) -> Option<String> {
        let mut longest: Option<(crate::sms::SmsLength, String)> = None;
        for kind in [CustomerKind::Business, CustomerKind::Consumer] {
            let data = LetterData::sample(key.step, kind, key.language);
            let Ok(text) = self.render(Part::Sms, &data) else {
                continue;
            };
            let length = crate::sms::sms_length(&text);
            if longest
                .as_ref()
                .is_none_or(|(l, _)| l.segments < length.segments)
            {
                longest = Some((length, text));
            }
        }
        let (length, text) = longest?;
        (length.segments > crate::sms::MAX_SEGMENTS).then(|| {
            format!(
                "the SMS of {}/{} takes {} segments on sample data ({} {}{}), more than {}: shorten it. Sample: {text}",
                key.language.as_str(),
                key.step.as_str(),
                length.segments,
                length.units,
                if length.unicode { "UCS-2 units" } else { "GSM characters" },
                if length.unicode {
                    ", a character outside the GSM alphabet makes every segment 67 long"
                } else {
                    ""
                },
                crate::sms::MAX_SEGMENTS
            )
        })
    }

    /// Goes back to the embedded default.
    pub fn reset(&mut self, key: TemplateKey) -> Result<(), RenderError> {
        let name = key.name();
        self.env
            .add_template_owned(name.clone(), default_source(key))
            .map_err(|e| template_error(&name, &e))?;
        self.overrides.remove(&key);
        Ok(())
    }

    fn context(data: &LetterData, part: Part) -> Value {
        context! {
            lang => data.language().as_str(),
            medium => part.medium(),
            invoice_numbers => data.invoice_numbers(),
            ..Value::from_serialize(data)
        }
    }

    /// Renders one part for the data's step and language.
    pub fn render(&self, part: Part, data: &LetterData) -> Result<String, RenderError> {
        let key = TemplateKey::new(data.step, data.language(), part);
        let name = key.name();
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| template_error(&name, &e))?;
        let out = render_bounded(&tmpl, Self::context(data, part))
            .map_err(|e| template_error(&name, &e))?;
        Ok(match part {
            Part::Subject => out.split_ascii_whitespace().collect::<Vec<_>>().join(" "),
            Part::Sms => crate::sms::gsm_friendly(&out)
                .split_ascii_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            Part::Text => text_from_markup(&out),
            Part::Html => out,
            Part::Body | Part::Letter => collapse_blank_lines(&out),
        })
    }

    /// Renders a source that is not saved (a preview in the editor), as the text medium.
    pub fn render_source(&self, source: &str, data: &LetterData) -> Result<String, RenderError> {
        let tmpl = self
            .env
            .template_from_named_str("preview", source)
            .map_err(|e| template_error("preview", &e))?;
        render_bounded(&tmpl, Self::context(data, Part::Text))
            .map_err(|e| template_error("preview", &e))
    }

    /// Subject, text, HTML and letter body at once.
    pub fn render_message(&self, data: &LetterData) -> Result<RenderedMessage, RenderError> {
        Ok(RenderedMessage {
            subject: self.render(Part::Subject, data)?,
            text: self.render(Part::Text, data)?,
            html: self.render(Part::Html, data)?,
            letter: self.render(Part::Letter, data)?,
        })
    }
}
