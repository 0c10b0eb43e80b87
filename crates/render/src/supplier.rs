//! Supplier messages (issue 9): the late-delivery e-mails, the *mise en demeure* for
//! non-delivery (a registered letter, PDF) and the dispute letter of an invoice that does not
//! match its order (e-mail with the letter as a PDF). One template per step and language under
//! `templates/{fr,en}/supplier/`. Our company is the sender, the supplier the addressee. These
//! are not commercial messages: no unsubscribe footer.

use chrono::NaiveDate;
use minijinja::context;
use relance_core::party::Language;
use relance_core::planner::policy::Channel;
use relance_core::planner::supplier::Discrepancy;
use serde::Serialize;

use crate::format::{date_long, money};
use crate::model::{CreditorInfo, DebtorInfo};
use crate::templates::{new_env, text_to_html, RenderedMessage};
use crate::RenderError;

/// The steps that have a template.
pub const SUPPLIER_STEPS: [&str; 4] = [
    "supplier_late",
    "supplier_late_second",
    "supplier_formal_notice",
    "supplier_invoice_dispute",
];

/// What a supplier message says; dates and amounts already written out in the supplier's
/// language, except `date` (the letter's date).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierData {
    pub step: String,
    pub channel: Channel,
    /// Our company (the sender).
    pub creditor: CreditorInfo,
    /// The supplier (the addressee); its `customer_code` is the supplier's code.
    pub supplier: DebtorInfo,
    pub place: String,
    pub date: NaiveDate,
    pub order_number: Option<String>,
    pub ordered_on: Option<String>,
    pub promised_on: Option<String>,
    pub amount: String,
    pub quantity: Option<String>,
    /// The earlier messages about the order ("e-mail of 9 March 2026").
    pub earlier: Vec<String>,
    /// The mise en demeure's deadline.
    pub deadline: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<String>,
    /// Each discrepancy in one sentence.
    pub discrepancies: Vec<String>,
}

impl SupplierData {
    pub fn language(&self) -> Language {
        self.supplier.language
    }
}

fn body_source(step: &str, language: Language) -> Option<&'static str> {
    use Language::{En, Fr};
    Some(match (language, step) {
        (Fr, "supplier_late") => include_str!("../templates/fr/supplier/supplier_late.txt"),
        (Fr, "supplier_late_second") => {
            include_str!("../templates/fr/supplier/supplier_late_second.txt")
        }
        (Fr, "supplier_formal_notice") => {
            include_str!("../templates/fr/supplier/supplier_formal_notice.txt")
        }
        (Fr, "supplier_invoice_dispute") => {
            include_str!("../templates/fr/supplier/supplier_invoice_dispute.txt")
        }
        (En, "supplier_late") => include_str!("../templates/en/supplier/supplier_late.txt"),
        (En, "supplier_late_second") => {
            include_str!("../templates/en/supplier/supplier_late_second.txt")
        }
        (En, "supplier_formal_notice") => {
            include_str!("../templates/en/supplier/supplier_formal_notice.txt")
        }
        (En, "supplier_invoice_dispute") => {
            include_str!("../templates/en/supplier/supplier_invoice_dispute.txt")
        }
        _ => return None,
    })
}

fn subject_source(step: &str, language: Language) -> &'static str {
    use Language::{En, Fr};
    match (language, step) {
        (Fr, "supplier_late") => "Commande {{ order_number }} : livraison en retard",
        (Fr, "supplier_late_second") => {
            "Commande {{ order_number }} : toujours pas livrée, merci de livrer sans délai"
        }
        (Fr, "supplier_formal_notice") => {
            "Mise en demeure de livrer la commande {{ order_number }}"
        }
        (Fr, _) => "Contestation de votre facture {{ invoice_number }}",
        (En, "supplier_late") => "Order {{ order_number }}: late delivery",
        (En, "supplier_late_second") => "Order {{ order_number }}: still not delivered",
        (En, "supplier_formal_notice") => "Formal notice to deliver order {{ order_number }}",
        (En, _) => "Your invoice {{ invoice_number }} is disputed",
    }
}

/// One discrepancy in one sentence of `language`.
pub fn describe_discrepancy(d: &Discrepancy, language: Language) -> String {
    match (d, language) {
        (Discrepancy::MissingPo, Language::Fr) => {
            "la facture ne porte pas le numéro de notre bon de commande".into()
        }
        (Discrepancy::MissingPo, Language::En) => {
            "the invoice does not bear our purchase order number".into()
        }
        (Discrepancy::UnknownPo { po_number }, Language::Fr) => format!(
            "le bon de commande {po_number} indiqué sur la facture ne correspond à aucune de nos commandes auprès de vous"
        ),
        (Discrepancy::UnknownPo { po_number }, Language::En) => format!(
            "purchase order {po_number} named on the invoice matches none of our orders with you"
        ),
        (Discrepancy::Amount { invoiced, ordered }, Language::Fr) => format!(
            "montant facturé {} au lieu de {} commandés",
            money(invoiced, language),
            money(ordered, language)
        ),
        (Discrepancy::Amount { invoiced, ordered }, Language::En) => format!(
            "amount invoiced {} instead of {} ordered",
            money(invoiced, language),
            money(ordered, language)
        ),
        (Discrepancy::Quantity { invoiced, ordered }, Language::Fr) => format!(
            "quantité facturée {} au lieu de {} commandée(s)",
            quantity(*invoiced, language),
            quantity(*ordered, language)
        ),
        (Discrepancy::Quantity { invoiced, ordered }, Language::En) => format!(
            "quantity invoiced {} instead of {} ordered",
            quantity(*invoiced, language),
            quantity(*ordered, language)
        ),
    }
}

/// A quantity written out (`2,5` in French).
pub fn quantity(q: rust_decimal::Decimal, language: Language) -> String {
    let text = q.normalize().to_string();
    match language {
        Language::Fr => text.replace('.', ","),
        Language::En => text,
    }
}

/// Renders a supplier message: subject, text and HTML parts, and the letter markup (the same
/// text with its `# title`), signed by our company.
pub fn render_supplier(data: &SupplierData) -> Result<RenderedMessage, RenderError> {
    let language = data.language();
    let body = body_source(&data.step, language).ok_or_else(|| RenderError::Template {
        name: format!("supplier/{}", data.step),
        message: "no supplier template for this step".into(),
    })?;
    let env = new_env();
    let ctx = context! {
        lang => language.as_str(),
        creditor_name => data.creditor.name,
        supplier_name => data.supplier.name,
        order_number => data.order_number,
        ordered_on => data.ordered_on,
        promised_on => data.promised_on,
        amount => data.amount,
        quantity => data.quantity,
        earlier => data.earlier,
        deadline => data.deadline,
        invoice_number => data.invoice_number,
        invoice_date => data.invoice_date,
        discrepancies => data.discrepancies,
    };
    let render = |name: &str, source: &str| {
        env.render_str(source, ctx.clone())
            .map_err(|e| RenderError::Template {
                name: name.to_string(),
                message: e.to_string(),
            })
    };
    let subject = render("supplier/subject", subject_source(&data.step, language))?;
    let letter = render(&format!("supplier/{}", data.step), body)?;
    let letter = tidy(&letter);
    // Who signs, then the company (once when no one is named).
    let signature = match &data.creditor.signatory {
        Some(person) => format!("{person}\n{}", data.creditor.name),
        None => data.creditor.name.clone(),
    };
    // The e-mail: the letter without its markup, signed.
    let plain: Vec<String> = letter
        .lines()
        .map(|l| {
            let t = l.trim_end();
            t.strip_prefix("# ")
                .map_or_else(|| t.to_string(), str::to_string)
        })
        .collect();
    let text = format!("{}\n\n{signature}\n", plain.join("\n").trim_end());
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family: Arial, sans-serif; font-size: 14px; color: #222; max-width: 640px;\">\n{}\n</body></html>\n",
        language.as_str(),
        text_to_html(&text)
    );
    Ok(RenderedMessage {
        subject: subject.trim().to_string(),
        text,
        html,
        letter,
    })
}

/// Collapses the blank lines a template's loops leave (at most one in a row).
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines() {
        let is_blank = line.trim().is_empty();
        if is_blank && blank {
            continue;
        }
        blank = is_blank;
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

/// The letter of a supplier message as a PDF (the mise en demeure, the dispute letter).
pub fn render_supplier_pdf(
    data: &SupplierData,
    message: &RenderedMessage,
) -> Result<Vec<u8>, RenderError> {
    let language = data.language();
    let mut reference = match language {
        Language::Fr => format!("Code fournisseur : {}", data.supplier.customer_code),
        Language::En => format!("Supplier code: {}", data.supplier.customer_code),
    };
    if let Some(order) = &data.order_number {
        reference.push_str(&match language {
            Language::Fr => format!(" · Commande : {order}"),
            Language::En => format!(" · Order: {order}"),
        });
    }
    if let Some(invoice) = &data.invoice_number {
        reference.push_str(&match language {
            Language::Fr => format!(" · Facture : {invoice}"),
            Language::En => format!(" · Invoice: {invoice}"),
        });
    }
    crate::pdf::plain_letter_pdf(
        &data.creditor,
        &data.supplier,
        &data.place,
        data.date,
        data.channel,
        &message.subject,
        &reference,
        &message.letter,
    )
}

/// "e-mail of 9 March 2026" / "e-mail du 9 mars 2026".
pub fn earlier_contact(channel: Channel, on: NaiveDate, language: Language) -> String {
    let what = crate::format::channel_label(channel, language);
    match language {
        Language::Fr => format!("{what} du {}", date_long(on, language)),
        Language::En => format!("{what} of {}", date_long(on, language)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relance_core::money::Money;
    use relance_core::party::CustomerKind;
    use rust_decimal_macros::dec;

    pub(crate) fn sample(step: &str, language: Language) -> SupplierData {
        let on = NaiveDate::from_ymd_opt(2026, 3, 23).expect("d");
        SupplierData {
            step: step.into(),
            channel: if step == "supplier_formal_notice" {
                Channel::RegisteredLetterAr
            } else {
                Channel::Email
            },
            creditor: CreditorInfo {
                name: "Atelier Durand".into(),
                address_lines: vec!["3 rue des Lilas".into(), "69003 Lyon".into()],
                siren: Some("123456789".into()),
                rcs: None,
                vat_number: None,
                iban: None,
                bic: None,
                email: Some("achats@durand.example".into()),
                phone: None,
                signatory: Some("Claire Martin, acheteuse".into()),
                logo_jpeg: None,
                logo_png: None,
            },
            supplier: DebtorInfo {
                name: "Aciers du Rhône".into(),
                address_lines: vec!["1 quai Perrache".into(), "69002 Lyon".into()],
                customer_code: "F01".into(),
                kind: CustomerKind::Business,
                language,
                email: Some("ventes@acier.example".into()),
            },
            place: "Lyon".into(),
            date: on,
            order_number: Some("BC-1".into()),
            ordered_on: Some(date_long(
                NaiveDate::from_ymd_opt(2026, 3, 2).expect("d"),
                language,
            )),
            promised_on: Some(date_long(
                NaiveDate::from_ymd_opt(2026, 3, 6).expect("d"),
                language,
            )),
            amount: money(&Money::eur(dec!(1200)), language),
            quantity: Some("10".into()),
            earlier: vec![
                earlier_contact(
                    Channel::Email,
                    NaiveDate::from_ymd_opt(2026, 3, 9).expect("d"),
                    language,
                ),
                earlier_contact(
                    Channel::Email,
                    NaiveDate::from_ymd_opt(2026, 3, 16).expect("d"),
                    language,
                ),
            ],
            deadline: Some(date_long(
                NaiveDate::from_ymd_opt(2026, 3, 31).expect("d"),
                language,
            )),
            invoice_number: Some("FA-77".into()),
            invoice_date: Some(date_long(
                NaiveDate::from_ymd_opt(2026, 3, 20).expect("d"),
                language,
            )),
            discrepancies: vec![
                describe_discrepancy(&Discrepancy::MissingPo, language),
                describe_discrepancy(
                    &Discrepancy::Quantity {
                        invoiced: dec!(11),
                        ordered: dec!(10),
                    },
                    language,
                ),
            ],
        }
    }

    #[test]
    fn every_step_renders_in_both_languages() {
        for step in SUPPLIER_STEPS {
            for language in [Language::Fr, Language::En] {
                let m = render_supplier(&sample(step, language)).expect("renders");
                assert!(!m.subject.is_empty());
                assert!(m.text.contains("Atelier Durand"), "{step}");
                assert!(!m.text.contains("{{"), "{step}: {}", m.text);
                assert!(!m.text.contains("unsubscribe") && !m.text.contains("sinscri"));
                if step == "supplier_invoice_dispute" {
                    assert!(m.text.contains("FA-77"), "{}", m.text);
                } else {
                    assert!(m.text.contains("BC-1"), "{}", m.text);
                }
            }
        }
        let m = render_supplier(&sample("supplier_formal_notice", Language::Fr)).expect("fr");
        assert!(m.letter.starts_with("# MISE EN DEMEURE"), "{}", m.letter);
        assert!(m.text.contains("article 1344 du Code civil"));
        assert!(m.text.contains("31 mars 2026"));
        assert!(
            m.text.contains("e-mail du 9 mars 2026") || m.text.contains("du 9 mars 2026"),
            "{}",
            m.text
        );
    }
}
