//! Suppliers end to end through the real binary on a real SQLite file: `relance import
//! purchase-orders|supplier-invoices` (a broken file refused as a whole with positioned
//! errors), `relance run` day after day with its dispatch (e-mails as .eml files, letters as
//! PDFs in the outbox), `relance supplier delivered`, `relance report suppliers`. The late
//! order gets two e-mails then a registered mise en demeure, read back with pdftotext; the
//! delivered one nothing more; the invoice without a PO number one dispute e-mail with its
//! letter attached (parsed with mail-parser); the matching invoice nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mail_parser::MimeHeaders;
use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.ok(&[
            "init",
            "--name",
            "Atelier Test SAS",
            "--siren",
            "552100554",
            "--email",
            "achats@atelier.example",
            "--address",
            "3 rue des Lilas\n69003 Lyon",
        ]);
        s
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env(
                "RELANCE_DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("relance.db").display()),
            )
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_SMTP_URL")
            .env_remove("RELANCE_POSTAL_URL")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(self.dir.path())
            .output()
            .expect("run relance")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "relance {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path.display().to_string()
    }

    /// Files under `outbox/KIND/DAY/` with this extension.
    fn outbox(&self, kind: &str, day: &str, ext: &str) -> Vec<PathBuf> {
        let dir = self.dir.path().join("outbox").join(kind).join(day);
        let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == ext))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

fn pdftotext(path: &Path) -> Option<String> {
    match Command::new("pdftotext")
        .args(["-layout", &path.display().to_string(), "-"])
        .output()
    {
        Ok(out) if out.status.success() => Some(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("pdftotext (poppler-utils) is required in CI")
        }
        _ => None,
    }
}

struct Mail {
    subject: String,
    to: String,
    text: String,
    attachments: Vec<(String, Vec<u8>)>,
}

fn read_mail(path: &Path) -> Mail {
    let bytes = std::fs::read(path).expect("read eml");
    let message = mail_parser::MessageParser::default()
        .parse(&bytes)
        .expect("a MIME message");
    Mail {
        subject: message.subject().unwrap_or_default().to_string(),
        to: message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        text: message.body_text(0).unwrap_or_default().to_string(),
        attachments: message
            .attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    a.contents().to_vec(),
                )
            })
            .collect(),
    }
}

#[test]
fn suppliers_through_the_binary() {
    let s = Sandbox::new();
    let broken = s.write(
        "broken.csv",
        "Code fournisseur;N° commande;Date de commande;Livraison prévue;Montant TTC;Quantité\n\
         F01;BC-1;02/03/2026;31/02/2026;1 200,00;10\n\
         F01;BC-2;02/03/2026;06/03/2026;abc;dix\n"
            .as_bytes(),
    );
    let out = s.run(&["import", "purchase-orders", &broken]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.csv:2: column \"Livraison prévue\": \"31/02/2026\" is not a date"),
        "{err}"
    );
    assert!(
        err.contains("broken.csv:3: column \"Montant TTC\": \"abc\" is not an amount"),
        "{err}"
    );
    assert!(
        err.contains("broken.csv:3: column \"Quantité\": \"dix\" is not a quantity"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");

    let orders = s.write(
        "commandes.csv",
        "Code fournisseur;Raison sociale;E-mail;Adresse;N° commande;Date de commande;Livraison prévue;Montant TTC;Quantité\n\
         F01;Aciers du Rhône;ventes@aciers.example;1 quai Perrache|69002 Lyon;BC-1;02/03/2026;06/03/2026;1 200,00;10\n\
         F01;Aciers du Rhône;ventes@aciers.example;1 quai Perrache|69002 Lyon;BC-2;02/03/2026;06/03/2026;300,00;3\n"
            .as_bytes(),
    );
    let out = s.ok(&["import", "purchase-orders", &orders]);
    assert!(out.contains("2 new"), "{out}");
    let invoices = s.write(
        "factures.csv",
        b"supplier_id,invoice_number,invoice_date,po_number,amount,quantity\n\
          F01,FA-1,2026-03-02,BC-1,1200.00,10\n\
          F01,FA-2,2026-03-02,,300.00,4\n",
    );
    let out = s.ok(&["import", "supplier-invoices", &invoices]);
    assert!(out.contains("2 new"), "{out}");

    // Every day of March, as the daily run does it (plan, then send).
    let mut planned = Vec::new();
    for day in 2..=31 {
        let day = format!("2026-03-{day:02}");
        if day == "2026-03-12" {
            let out = s.ok(&["supplier", "delivered", "BC-2", "--on", &day]);
            assert!(out.contains("order BC-2 delivered"), "{out}");
        }
        for line in s.ok(&["run", "--as-of", &day, "--json"]).lines() {
            let v: Value = serde_json::from_str(line).expect("JSON line");
            planned.push(format!(
                "{} {} {} {}",
                v["date"].as_str().unwrap_or_default(),
                v["step"].as_str().unwrap_or_default(),
                v["channel"].as_str().unwrap_or_default(),
                v["invoices"][0].as_str().unwrap_or_default()
            ));
        }
        // A second run of the day plans nothing.
        assert!(
            s.ok(&["run", "--as-of", &day, "--json"]).trim().is_empty(),
            "{day}"
        );
    }
    assert_eq!(
        planned,
        [
            "2026-03-02 supplier_invoice_dispute email FA-2",
            "2026-03-09 supplier_late email BC-1",
            "2026-03-09 supplier_late email BC-2",
            "2026-03-16 supplier_late_second email BC-1",
            "2026-03-23 supplier_formal_notice registered_letter_ar BC-1",
        ]
    );

    // The dispute e-mail lists the discrepancies and carries the letter.
    let mails = s.outbox("mail", "2026-03-02", "eml");
    assert_eq!(mails.len(), 1);
    let dispute = read_mail(&mails[0]);
    assert_eq!(dispute.to, "ventes@aciers.example");
    assert!(dispute.subject.contains("FA-2"), "{}", dispute.subject);
    assert!(
        dispute
            .text
            .contains("ne porte pas le numéro de notre bon de commande"),
        "{}",
        dispute.text
    );
    assert!(!dispute.text.contains("BC-1"), "{}", dispute.text);
    assert_eq!(dispute.attachments.len(), 1);
    let pdf = s.dir.path().join("dispute.pdf");
    std::fs::write(&pdf, &dispute.attachments[0].1).expect("write pdf");
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("CONTESTATION DE FACTURE"), "{text}");
        assert!(text.contains("Facture : FA-2"), "{text}");
        assert!(text.contains("Aciers du Rhône"), "{text}");
    }

    // The late-delivery e-mails: both orders on the 9th, BC-1 alone on the 16th.
    let ninth: Vec<Mail> = s
        .outbox("mail", "2026-03-09", "eml")
        .iter()
        .map(|p| read_mail(p))
        .collect();
    assert_eq!(ninth.len(), 2);
    assert!(ninth.iter().any(|m| m.subject.contains("BC-1")));
    assert!(ninth.iter().any(|m| m.subject.contains("BC-2")));
    let second: Vec<Mail> = s
        .outbox("mail", "2026-03-16", "eml")
        .iter()
        .map(|p| read_mail(p))
        .collect();
    assert_eq!(second.len(), 1);
    assert!(
        second[0].text.contains("courriel du 9 mars 2026"),
        "{}",
        second[0].text
    );

    // The mise en demeure: a registered letter, filed as a PDF, read back.
    let letters = s.outbox("letters", "2026-03-23", "pdf");
    assert_eq!(letters.len(), 1, "{letters:?}");
    if let Some(text) = pdftotext(&letters[0]) {
        for wanted in [
            "MISE EN DEMEURE",
            "Lettre recommandée avec accusé de réception",
            "Commande : BC-1",
            "Aciers du Rhône",
            "1 quai Perrache",
            "au plus tard le 31 mars 2026",
            "article 1344 du Code civil",
            "l'article 1610 du Code civil",
            "l'article 1217",
            "courriel du 9 mars 2026",
            "courriel du 16 mars 2026",
            "Atelier Test SAS",
        ] {
            assert!(text.contains(wanted), "{wanted}: {text}");
        }
    }

    // The report: BC-1 late, BC-2 delivered (absent), FA-2 disputed, FA-1 matching (absent).
    let report = s.ok(&[
        "report",
        "suppliers",
        "--as-of",
        "2026-03-31",
        "--format",
        "json",
    ]);
    let lines: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let numbers: Vec<&str> = lines
        .iter()
        .map(|l| l["number"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(numbers, ["BC-1", "FA-2"], "{report}");
    assert_eq!(lines[0]["days_late"], 25);
    assert_eq!(lines[1]["detail"], "no purchase order number");
}
