//! Templates in the database (`relance template`): hostile sources refused when saved, a saved
//! override used by `relance render` (read back with pdftotext), reset and history, previews on
//! sample data; the statement of account as a PDF and as an e-mail attachment.

use std::path::Path;

use mail_parser::MimeHeaders;
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

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "relance {args:?} should have failed");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
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
fn hostile_templates_are_refused_when_saved() {
    let s = ledger();
    let cases = [
        ("unknown.txt", "Bonjour {{ debtor.nmae }}", "nmae"),
        ("syntax.txt", "Bonjour {% if debtor.name %} sans fin", "syntax"),
        ("include.txt", "{% include \"/etc/passwd\" %}", "/etc/passwd"),
        ("attr.txt", "{{ debtor.__class__.__mro__ }}", "__class__"),
        (
            "loop.txt",
            "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
            "fuel",
        ),
        (
            "recursion.txt",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "recursion",
        ),
    ];
    for (file, source, _) in cases {
        let path = s.write(file, source);
        let err = s.fails(&[
            "template",
            "set",
            "first_reminder",
            "--channel",
            "letter",
            "--lang",
            "fr",
            "--file",
            &path,
        ]);
        assert!(
            err.contains(file) && err.contains("refused"),
            "{file}: unclear message: {err}"
        );
    }
    // Nothing was saved: the built-in template is in force, the history is empty.
    let list = s.ok(&["template", "list"]);
    assert!(!list.contains("version"), "{list}");
    let history = s.ok(&["template", "show", "first_reminder", "--history"]);
    assert!(history.contains("built-in, never changed"), "{history}");
    // A part that does not belong to the channel is refused too.
    s.fails(&[
        "template",
        "show",
        "first_reminder",
        "--channel",
        "email",
        "--part",
        "letter",
    ]);
}

#[test]
fn a_saved_template_is_used_by_render_until_it_is_reset() {
    let s = ledger();
    let body = s.write(
        "body.txt",
        "# RAPPEL PERSONNALISÉ\n\nMadame, Monsieur,\n\nTexte maison pour {{ debtor.name }} : \
         reste dû {{ totals.open | money }}.\n\n[[invoices]]\n\n[[payment]]\n",
    );
    let saved = s.ok(&[
        "template",
        "set",
        "first_reminder",
        "--channel",
        "letter",
        "--lang",
        "fr",
        "--file",
        &body,
        "--note",
        "house style",
    ]);
    assert!(saved.contains("version 1"), "{saved}");
    let shown = s.ok(&["template", "show", "first_reminder"]);
    assert!(shown.contains("Texte maison"), "{shown}");
    let list = s.ok(&["template", "list"]);
    assert!(
        list.lines()
            .any(|l| l.contains("first_reminder") && l.contains("body") && l.contains("version 1")),
        "{list}"
    );
    let pdf = s.dir.path().join("relance.pdf");
    let render = |s: &Sandbox| {
        s.ok(&[
            "render",
            "--customer",
            "C001",
            "--step",
            "first_reminder",
            "--as-of",
            "2026-02-05",
            "--out",
            pdf.to_str().expect("path"),
        ])
    };
    render(&s);
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("RAPPEL PERSONNALISÉ"), "{text}");
        assert!(
            text.contains("Texte maison pour Boulangerie Martin SARL : reste dû 1 234,56 €."),
            "{text}"
        );
        assert!(text.contains("F-2026-001"), "{text}");
    }
    // The e-mail's text part uses the same body.
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
    assert!(message
        .body_text(0)
        .is_some_and(|t| t.contains("Texte maison pour Boulangerie Martin SARL")));

    let reset = s.ok(&["template", "reset", "first_reminder"]);
    assert!(reset.contains("version 2"), "{reset}");
    render(&s);
    if let Some(text) = pdftotext(&pdf) {
        assert!(!text.contains("Texte maison"), "{text}");
        assert!(text.contains("F-2026-001"), "{text}");
    }
    let history = s.ok(&["template", "show", "first_reminder", "--history"]);
    assert!(
        history.contains("version 1") && history.contains("house style"),
        "{history}"
    );
    assert!(
        history.contains("version 2") && history.contains("back to the built-in template"),
        "{history}"
    );
}

#[test]
fn a_draft_is_previewed_on_sample_data_without_being_saved() {
    let s = ledger();
    let draft = s.write(
        "draft.txt",
        "# MISE EN DEMEURE\n\nBrouillon pour {{ debtor.name }}, échéance {{ deadline | date }}.\n",
    );
    let pdf = s.dir.path().join("preview.pdf");
    s.ok(&[
        "template",
        "preview",
        "formal_notice",
        "--channel",
        "registered_letter_ar",
        "--file",
        &draft,
        "--out",
        pdf.to_str().expect("path"),
    ]);
    if let Some(text) = pdftotext(&pdf) {
        assert!(
            text.contains("Brouillon pour Boulangerie Dupré SARL"),
            "{text}"
        );
    }
    let html = s.dir.path().join("preview.html");
    s.ok(&[
        "template",
        "preview",
        "formal_notice",
        "--channel",
        "email",
        "--lang",
        "en",
        "--debtor",
        "consumer",
        "--out",
        html.to_str().expect("path"),
    ]);
    let page = std::fs::read_to_string(&html).expect("html");
    // The built-in English formal notice, to a consumer: no indemnity, legal interest only.
    assert!(
        page.contains("FORMAL NOTICE") && page.contains("€1,634.56"),
        "{page}"
    );
    assert!(!page.contains("€40.00"), "{page}");
    // Nothing saved.
    assert!(!s.ok(&["template", "list"]).contains("version"));
    // A hostile draft is refused in a preview as well.
    let bad = s.write("bad.txt", "{{ nope }}");
    s.fails(&[
        "template",
        "preview",
        "formal_notice",
        "--file",
        &bad,
        "--out",
        "x.pdf",
    ]);
}

#[test]
fn the_statement_of_account_as_a_pdf_and_attached_to_an_e_mail() {
    let s = ledger();
    let pdf = s.dir.path().join("releve.pdf");
    let out = s.ok(&[
        "render",
        "--customer",
        "C001",
        "--statement",
        "--as-of",
        "2026-03-10",
        "--out",
        pdf.to_str().expect("path"),
    ]);
    assert!(out.contains("statement of account of C001"), "{out}");
    if let Some(text) = pdftotext(&pdf) {
        // F-2026-001 1,234.56 open; F-2026-002 600.00 with 100.00 paid: 1,734.56 due.
        for mention in [
            "RELEVÉ DE COMPTE",
            "10 mars 2026",
            "F-2026-001",
            "F-2026-002",
            "1 234,56 €",
            "600,00 €",
            "100,00 €",
            "Déjà réglé",
            "Solde dû",
            "1 734,56 €",
            "Boulangerie Martin SARL",
        ] {
            assert!(text.contains(mention), "missing {mention:?} in:\n{text}");
        }
        assert!(!text.contains("F-2026-003"), "another customer's invoice");
    }
    let eml = s.dir.path().join("avec-releve.eml");
    s.ok(&[
        "render",
        "--customer",
        "C001",
        "--step",
        "first_reminder",
        "--as-of",
        "2026-02-05",
        "--attach-statement",
        "--out",
        eml.to_str().expect("path"),
    ]);
    let bytes = std::fs::read(&eml).expect("eml");
    let message = mail_parser::MessageParser::default()
        .parse(&bytes)
        .expect("MIME");
    let names: Vec<String> = message
        .attachments()
        .map(|a| a.attachment_name().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names,
        ["first_reminder-C001.pdf", "releve-de-compte-C001.pdf"],
        "attachments"
    );
    for attachment in message.attachments() {
        assert!(attachment.contents().starts_with(b"%PDF"));
    }
    // A statement is a PDF only; --attach-statement goes with an e-mail only.
    s.fails(&[
        "render",
        "--customer",
        "C001",
        "--statement",
        "--out",
        "x.html",
    ]);
    s.fails(&[
        "render",
        "--customer",
        "C001",
        "--step",
        "first_reminder",
        "--attach-statement",
        "--out",
        "x.pdf",
    ]);
}

/// The SMS has its own part: saved and previewed like the others, warned about beyond two
/// segments, refused on a channel it does not belong to.
#[test]
fn the_sms_part_is_saved_previewed_and_warned_about_when_long() {
    let s = ledger();
    let short = s.write(
        "sms.txt",
        "{{ creditor.name }} : merci de régler {{ totals.total_due | money }}. {{ portal_url }}",
    );
    let saved = s.run(&[
        "template",
        "set",
        "first_reminder",
        "--channel",
        "sms",
        "--part",
        "sms",
        "--file",
        &short,
    ]);
    assert!(saved.status.success(), "{saved:?}");
    assert!(!String::from_utf8_lossy(&saved.stderr).contains("warning"));
    let out = s.dir.path().join("sms-preview.txt");
    s.ok(&[
        "template",
        "preview",
        "first_reminder",
        "--channel",
        "sms",
        "--out",
        out.to_str().expect("path"),
    ]);
    let text = std::fs::read_to_string(&out).expect("preview");
    // Sample data: the sample creditor, amount and payment link, on one GSM line.
    assert!(
        text.contains(" : merci de régler ") && text.contains("https://"),
        "{text}"
    );
    assert!(
        !text.contains('\u{a0}') && !text.contains('\u{202f}'),
        "{text:?}"
    );

    let long = s.write(
        "long.txt",
        &format!("{{{{ creditor.name }}}} {}", "relance ".repeat(50)),
    );
    let saved = s.run(&[
        "template",
        "set",
        "first_reminder",
        "--channel",
        "sms",
        "--part",
        "sms",
        "--file",
        &long,
    ]);
    assert!(saved.status.success(), "saved all the same");
    let err = String::from_utf8_lossy(&saved.stderr);
    assert!(err.contains("warning") && err.contains("segments"), "{err}");
    s.fails(&[
        "template",
        "show",
        "first_reminder",
        "--channel",
        "email",
        "--part",
        "sms",
    ]);
    s.fails(&[
        "template",
        "show",
        "first_reminder",
        "--channel",
        "sms",
        "--part",
        "letter",
    ]);
}
