//! The e-mail parsed back with mail-parser: parts, headers, subject, attachment.

use chrono::{FixedOffset, TimeZone};
use mail_parser::{MessageParser, MimeHeaders};
use relance_core::party::{CustomerKind, Language};
use relance_render::{
    build_email, render_letter_pdf, EmailEnvelope, LetterData, StepId, Templates,
};

#[test]
fn email_has_text_html_pdf_and_the_headers() {
    let templates = Templates::new().expect("templates");
    let data = LetterData::sample(StepId::FormalNotice, CustomerKind::Business, Language::Fr);
    let message = templates.render_message(&data).expect("message");
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    let date = FixedOffset::east_opt(2 * 3600)
        .expect("offset")
        .with_ymd_and_hms(2026, 4, 1, 9, 30, 0)
        .single()
        .expect("date");
    let envelope = EmailEnvelope {
        from_name: "Atelier Cézanne SAS".into(),
        from_address: "relances@atelier-cezanne.fr".into(),
        reply_to: Some("compta@atelier-cezanne.fr".into()),
        to_name: "Boulangerie Dupré SARL".into(),
        to_address: "compta@example.fr".into(),
        date,
        message_id: "formal_notice.C001.1@atelier-cezanne.fr".into(),
        attachments: vec![(
            "mise-en-demeure-C001.pdf".into(),
            "application/pdf".into(),
            pdf.clone(),
        )],
        list_unsubscribe: None,
    };
    let eml = build_email(&envelope, &message).expect("eml");
    std::fs::write("/tmp/relance-render.eml", &eml).ok();
    let parsed = MessageParser::default().parse(&eml).expect("parses");
    assert_eq!(
        parsed.subject(),
        Some("Mise en demeure de payer : factures F-2026-0042, F-2026-0057")
    );
    let from = parsed.from().and_then(|a| a.first()).expect("from");
    assert_eq!(from.address(), Some("relances@atelier-cezanne.fr"));
    assert_eq!(from.name(), Some("Atelier Cézanne SAS"));
    let to = parsed.to().and_then(|a| a.first()).expect("to");
    assert_eq!(to.address(), Some("compta@example.fr"));
    assert_eq!(to.name(), Some("Boulangerie Dupré SARL"));
    let reply = parsed.reply_to().and_then(|a| a.first()).expect("reply-to");
    assert_eq!(reply.address(), Some("compta@atelier-cezanne.fr"));
    assert_eq!(
        parsed.message_id(),
        Some("formal_notice.C001.1@atelier-cezanne.fr")
    );
    let d = parsed.date().expect("date");
    assert_eq!(
        (d.year, d.month, d.day, d.hour, d.minute),
        (2026, 4, 1, 9, 30)
    );
    assert_eq!(d.tz_hour, 2);
    let text = parsed.body_text(0).expect("text part");
    assert!(text.contains("MISE EN DEMEURE"), "{text}");
    assert!(text.contains("1\u{202f}746,73\u{a0}€"), "{text}");
    assert!(text.contains("16 avril 2026"));
    assert!(!text.contains("[["));
    let html = parsed.body_html(0).expect("html part");
    assert!(html.contains("<h2>MISE EN DEMEURE</h2>"), "{html}");
    assert!(html.contains("Atelier Cézanne SAS"), "{html}");
    assert!(html.contains("1\u{202f}746,73\u{a0}€"), "{html}");
    assert_eq!(parsed.text_body.len(), 1);
    assert_eq!(parsed.html_body.len(), 1);
    assert_eq!(parsed.attachment_count(), 1);
    let att = parsed.attachment(0).expect("attachment");
    assert_eq!(att.attachment_name(), Some("mise-en-demeure-C001.pdf"));
    let ct = att.content_type().expect("content type");
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));
    assert_eq!(att.contents(), pdf.as_slice());
    // Raw structure: multipart/mixed around multipart/alternative.
    let raw = String::from_utf8_lossy(&eml);
    assert!(raw.contains("multipart/mixed"));
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("MIME-Version: 1.0"));
}

/// A commercial message carries `List-Unsubscribe` (RFC 2369) and the one-click
/// `List-Unsubscribe-Post` (RFC 8058); a message without the URL carries neither, and a URL that
/// is not an absolute http(s) address (or could break the header) is refused.
#[test]
fn list_unsubscribe_headers_only_when_asked() {
    let templates = Templates::new().expect("templates");
    let data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    let message = templates.render_message(&data).expect("message");
    let date = FixedOffset::east_opt(3600)
        .expect("offset")
        .with_ymd_and_hms(2026, 3, 5, 10, 0, 0)
        .single()
        .expect("date");
    let url = "https://relance.example/unsubscribe?c=1&u=Q%201&e=2027-03-05&s=0a1b2c";
    let mut envelope = EmailEnvelope {
        from_name: "Atelier".into(),
        from_address: "ventes@atelier.example".into(),
        reply_to: None,
        to_name: "Client".into(),
        to_address: "client@example.fr".into(),
        date,
        message_id: "m1@atelier.example".into(),
        attachments: Vec::new(),
        list_unsubscribe: Some(url.into()),
    };
    let eml = build_email(&envelope, &message).expect("eml");
    let parsed = MessageParser::default().parse(&eml).expect("parses");
    let listed = parsed
        .list_unsubscribe()
        .as_address()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .expect("List-Unsubscribe read as a URL");
    assert_eq!(listed, url);
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );

    envelope.list_unsubscribe = None;
    let eml = build_email(&envelope, &message).expect("eml");
    let parsed = MessageParser::default().parse(&eml).expect("parses");
    assert!(parsed.header_raw("List-Unsubscribe").is_none());
    assert!(parsed.header_raw("List-Unsubscribe-Post").is_none());

    for bad in [
        "/unsubscribe?c=1",
        "https://x.example/u>\r\nBcc: a@b.example",
    ] {
        envelope.list_unsubscribe = Some(bad.into());
        assert!(build_email(&envelope, &message).is_err(), "{bad:?}");
    }
}
