//! The e-mail: a MIME message (multipart/alternative text + HTML, attachments), as .eml bytes.

use chrono::{DateTime, FixedOffset};
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;

use crate::templates::RenderedMessage;
use crate::RenderError;

/// Who sends to whom, when, and what is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEnvelope {
    pub from_name: String,
    pub from_address: String,
    pub reply_to: Option<String>,
    pub to_name: String,
    pub to_address: String,
    /// The `Date` header (never the clock: the caller decides).
    pub date: DateTime<FixedOffset>,
    /// Without angle brackets, e.g. `relance.3f2a…@atelier-cezanne.fr`.
    pub message_id: String,
    /// `(file name, content type, bytes)`.
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// Commercial messages only (quotes, prospects, dormant customers): the signed
    /// unsubscribe URL, written as `List-Unsubscribe` (RFC 2369) with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058), so that mail clients
    /// offer their own unsubscribe button. Receivable reminders and legal letters leave it
    /// `None`: they are not commercial and an opt-out does not stop them.
    pub list_unsubscribe: Option<String>,
}

/// Builds the message: From, Reply-To, To, Subject, Date, Message-ID, text and HTML
/// alternatives, then the attachments; UTF-8 throughout (encoded words in headers).
pub fn build_email(
    envelope: &EmailEnvelope,
    message: &RenderedMessage,
) -> Result<Vec<u8>, RenderError> {
    let mut builder = MessageBuilder::new()
        .from(Address::new_address(
            Some(envelope.from_name.as_str()),
            envelope.from_address.as_str(),
        ))
        .to(Address::new_address(
            Some(envelope.to_name.as_str()),
            envelope.to_address.as_str(),
        ))
        .subject(message.subject.as_str())
        // RFC 5322 date with the sender's own offset (mail-builder would write UTC).
        .header("Date", Raw::new(envelope.date.to_rfc2822()))
        .message_id(envelope.message_id.as_str())
        .text_body(message.text.as_str())
        .html_body(message.html.as_str());
    if let Some(reply) = &envelope.reply_to {
        builder = builder.reply_to(Address::new_address(None::<&str>, reply.as_str()));
    }
    if let Some(url) = &envelope.list_unsubscribe {
        if url.contains(['<', '>', '\r', '\n']) || !url.starts_with("http") {
            return Err(RenderError::Email(format!(
                "the unsubscribe URL {url:?} is not an absolute http(s) address"
            )));
        }
        builder = builder
            .header("List-Unsubscribe", Raw::new(format!("<{url}>")))
            .header(
                "List-Unsubscribe-Post",
                Raw::new("List-Unsubscribe=One-Click"),
            );
    }
    for (name, content_type, bytes) in &envelope.attachments {
        builder = builder.attachment(content_type.as_str(), name.as_str(), bytes.as_slice());
    }
    builder
        .write_to_vec()
        .map_err(|e| RenderError::Email(e.to_string()))
}
