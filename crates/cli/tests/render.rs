//! `relance render` on a real ledger: the formal notice read back with pdftotext, the e-mail
//! parsed with mail-parser.

use std::path::Path;
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env(
                "RELANCE_DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("relance.db").display()),
            )
            .env_remove("RELANCE_CREDITOR")
            .current_dir(self.dir.path())
            .output()
            .expect("run relance")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "relance {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

fn pdftotext(path: &Path) -> Option<String> {
    match Command::new("pdftotext")
        .args(["-layout", &path.display().to_string(), "-"])
        .output()
    {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("pdftotext (poppler-utils) is required in CI")
        }
        _ => None,
    }
}

fn ledger() -> Sandbox {
    let s = Sandbox::new();
    s.ok(&[
        "init",
        "--name",
        "Atelier Test SAS",
        "--siren",
        "552100554",
        "--iban",
        "FR7630006000011234567890189",
        "--email",
        "relances@atelier-test.fr",
        "--address",
        "4 quai Saint-Antoine / 69002 Lyon",
    ]);
    let invoices = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoices-fr.csv");
    s.ok(&["import", "invoices", invoices.to_str().expect("path")]);
    // The reminders before the formal notice: first reminder 2026-02-05, call 2026-02-10.
    s.ok(&["run", "--as-of", "2026-02-05"]);
    s.ok(&["run", "--as-of", "2026-02-10"]);
    s
}

#[test]
fn the_formal_notice_states_every_mandatory_mention_and_the_amounts_of_the_law() {
    let s = ledger();
    let pdf = s.dir.path().join("mise-en-demeure.pdf");
    s.ok(&[
        "render",
        "--customer",
        "C001",
        "--step",
        "formal_notice",
        "--as-of",
        "2026-03-10",
        "--out",
        pdf.to_str().expect("path"),
    ]);
    let Some(text) = pdftotext(&pdf) else { return };
    // Penalties worked out by hand at 12.15 % (2026 H1, ECB 2.15 + 10), to 2026-03-10:
    // F-2026-001: 1,234.56 × 0.1215 × 34 days (02-05..03-10) / 365 = 13.972 → 13.97
    // F-2026-002: 500.00 × 0.1215 × 19 days (02-20..03-10) / 365 = 3.162 → 3.16
    // interest 17.13; indemnity 2 × 40 = 80.00; total 1,734.56 + 17.13 + 80.00 = 1,831.69.
    for mention in [
        "MISE EN DEMEURE",
        "Lettre recommandée avec accusé de réception",
        "courriel du 5 février 2026",
        "appel téléphonique du 10 février 2026",
        "25 mars 2026",
        "F-2026-001",
        "F-2026-002",
        "1 734,56 €",
        "17,13 €",
        "80,00 €",
        "1 831,69 €",
        "L441-10",
        "D441-5",
        "injonction de payer",
        "commissaire de justice",
        "Boulangerie Martin SARL",
    ] {
        assert!(text.contains(mention), "missing {mention:?} in:\n{text}");
    }
}

#[test]
fn the_e_mail_is_valid_mime_with_the_letter_attached() {
    let s = ledger();
    let eml = s.dir.path().join("relance.eml");
    s.ok(&[
        "render",
        "--customer",
        "C001",
        "--step",
        "first_reminder",
        "--as-of",
        "2026-02-05",
        "--out",
        eml.to_str().expect("path"),
    ]);
    let bytes = std::fs::read(&eml).expect("eml");
    let message = mail_parser::MessageParser::default()
        .parse(&bytes)
        .expect("MIME");
    assert_eq!(
        message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("relances@atelier-test.fr")
    );
    assert_eq!(
        message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("compta@martin.fr")
    );
    // On 2026-02-05 only F-2026-001 (due 02-04) is overdue; F-2026-002 (due 02-19) is not listed.
    let subject = message.subject().unwrap_or_default();
    assert!(
        subject.contains("F-2026-001") && !subject.contains("F-2026-002"),
        "{subject}"
    );
    assert!(
        message
            .body_text(0)
            .is_some_and(|t| t.contains("1\u{202f}234,56\u{a0}€")),
        "the text part states the amount"
    );
    assert!(message.body_html(0).is_some());
    let attachment = message
        .attachments()
        .next()
        .expect("the letter is attached");
    assert!(attachment.contents().starts_with(b"%PDF"));
    assert!(message.message_id().is_some() && message.date().is_some());

    // A consumer's reminder: no penalty, no indemnity.
    let pdf = s.dir.path().join("c002.pdf");
    s.ok(&[
        "render",
        "--customer",
        "C002",
        "--step",
        "second_reminder",
        "--as-of",
        "2026-03-20",
        "--out",
        pdf.to_str().expect("path"),
    ]);
    if let Some(text) = pdftotext(&pdf) {
        assert!(!text.contains("D441-5") && !text.contains("40 €"), "{text}");
    }
    assert!(!s
        .run(&[
            "render",
            "--customer",
            "C001",
            "--step",
            "nope",
            "--out",
            "x.pdf"
        ])
        .status
        .success());
}
