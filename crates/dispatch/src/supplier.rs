//! What a supplier message says (issue 9), assembled from the store for
//! [`relance_render::supplier`]: the late-delivery e-mails, the mise en demeure for
//! non-delivery (a registered letter, PDF) and an invoice's dispute letter (e-mail with the
//! letter as a PDF, or the letter by post). Our company is the sender, the supplier (its party
//! row in `customers`) the addressee.

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::calendar::BusinessCalendar;
use relance_core::planner::supplier::{notice_deadline, SupplierLadder, DELIVERY_STEPS};
use relance_core::planner::Channel;
use relance_deliver::OutgoingEmail;
use relance_render::format::{date_long, money};
use relance_render::supplier::{
    describe_discrepancy, earlier_contact, quantity, render_supplier, render_supplier_pdf,
    SupplierData,
};
use relance_render::{build_email, EmailEnvelope};
use relance_store::creditors::CreditorRecord;
use relance_store::outbox::{ClaimedAction, CustomerContext};
use relance_store::suppliers::{PurchaseOrderRecord, SupplierInvoiceRecord};

use crate::letters::{letter_parties, Letterhead};

/// The document a supplier action is about.
pub enum SupplierDocument<'a> {
    Order(&'a PurchaseOrderRecord),
    Invoice(&'a SupplierInvoiceRecord),
}

/// What a supplier action becomes: an e-mail (with the letter attached when it is one), or a
/// letter to file and post.
pub enum SupplierMessage {
    Email(OutgoingEmail),
    Letter { name: String, pdf: Vec<u8> },
}

/// Builds the data of a supplier message for `action` on `today`.
pub fn supplier_data(
    creditor: &CreditorRecord,
    letterhead: &Letterhead,
    context: &CustomerContext,
    document: &SupplierDocument<'_>,
    action: &ClaimedAction,
    calendar: &BusinessCalendar,
    today: NaiveDate,
) -> anyhow::Result<SupplierData> {
    let channel = Channel::parse(&action.channel)
        .with_context(|| format!("unknown channel \"{}\"", action.channel))?;
    let (mut creditor_info, mut supplier, place) = letter_parties(creditor, &context.customer);
    letterhead.apply(&mut creditor_info);
    let code = context
        .customer
        .code
        .strip_prefix(relance_store::suppliers::PARTY_PREFIX)
        .unwrap_or(&context.customer.code)
        .to_string();
    supplier.customer_code = code;
    let language = supplier.language;
    let mut data = SupplierData {
        step: action.step.clone(),
        channel,
        creditor: creditor_info,
        supplier,
        place,
        date: today,
        order_number: None,
        ordered_on: None,
        promised_on: None,
        amount: String::new(),
        quantity: None,
        earlier: Vec::new(),
        deadline: None,
        invoice_number: None,
        invoice_date: None,
        discrepancies: Vec::new(),
    };
    match document {
        SupplierDocument::Order(po) => {
            data.order_number = Some(po.number.clone());
            data.ordered_on = Some(date_long(po.ordered_on, language));
            data.promised_on = Some(date_long(po.promised_on, language));
            data.amount = money(&po.amount, language);
            data.quantity = Some(quantity(po.quantity, language));
            let earlier_channel = if context.customer.emails.is_empty() {
                Channel::Letter
            } else {
                Channel::Email
            };
            data.earlier = po
                .done
                .iter()
                .filter(|d| d.step != action.step && DELIVERY_STEPS.contains(&d.step.as_str()))
                .map(|d| earlier_contact(earlier_channel, d.on, language))
                .collect();
            if action.step == DELIVERY_STEPS[2] {
                // Counted from the run that decided the notice, as its timeline entry says.
                let planned = po
                    .done
                    .iter()
                    .find(|d| d.step == action.step)
                    .map_or(today, |d| d.on);
                data.deadline = Some(date_long(
                    notice_deadline(&SupplierLadder::default(), calendar, planned),
                    language,
                ));
            }
        }
        SupplierDocument::Invoice(invoice) => {
            data.invoice_number = Some(invoice.number.clone());
            data.invoice_date = Some(date_long(invoice.issued_on, language));
            data.amount = money(&invoice.amount, language);
            data.order_number = invoice.order.as_ref().map(|(n, _, _)| n.clone());
            data.quantity = invoice.quantity.map(|q| quantity(q, language));
            data.discrepancies = invoice
                .discrepancies
                .iter()
                .map(|d| describe_discrepancy(d, language))
                .collect();
        }
    }
    Ok(data)
}

/// Renders a supplier action: an e-mail (the dispute letter and the mise en demeure go as a
/// PDF attachment too) or, on a postal channel, the letter.
pub fn prepare_supplier(
    creditor: &CreditorRecord,
    letterhead: &Letterhead,
    context: &CustomerContext,
    data: &SupplierData,
    action: &ClaimedAction,
    today: NaiveDate,
) -> anyhow::Result<SupplierMessage> {
    let message = render_supplier(data)?;
    let is_letter = data.step == DELIVERY_STEPS[2]
        || data.step == relance_core::planner::supplier::DISPUTE_STEP;
    if data.channel != Channel::Email {
        let pdf = render_supplier_pdf(data, &message)?;
        let name = format!(
            "{}-{}-{}-{}",
            action.id, data.supplier.customer_code, action.step, action.channel
        );
        return Ok(SupplierMessage::Letter { name, pdf });
    }
    let from = letterhead
        .settings
        .smtp_from
        .clone()
        .or_else(|| creditor.email.clone())
        .context(
            "the creditor has no e-mail address: set one with `relance init --name … --email …`",
        )?;
    let to = context.customer.emails.first().cloned().with_context(|| {
        format!(
            "supplier {} has no e-mail address",
            data.supplier.customer_code
        )
    })?;
    let attachments = if is_letter {
        vec![(
            format!("{}-{}.pdf", action.step, data.supplier.customer_code),
            "application/pdf".to_string(),
            render_supplier_pdf(data, &message)?,
        )]
    } else {
        Vec::new()
    };
    let domain = from.rsplit('@').next().unwrap_or("relance.invalid");
    let message_id = format!(
        "relance.{}.{}@{domain}",
        action.id,
        &relance_deliver::sha256_hex(action.key.as_bytes())[..16]
    );
    let envelope = EmailEnvelope {
        from_name: creditor.name.clone(),
        from_address: from.clone(),
        reply_to: Some(
            letterhead
                .settings
                .smtp_reply_to
                .clone()
                .unwrap_or_else(|| from.clone()),
        ),
        to_name: context.customer.name.clone(),
        to_address: to.clone(),
        date: chrono::Utc::now().fixed_offset(),
        message_id: message_id.clone(),
        attachments,
        // A supplier chase is not a commercial message: no unsubscribe header.
        list_unsubscribe: None,
    };
    let bytes = build_email(&envelope, &message)?;
    Ok(SupplierMessage::Email(OutgoingEmail {
        from,
        to,
        message_id,
        day: today,
        bytes,
    }))
}
