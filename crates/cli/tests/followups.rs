//! `relance import quotes`, `quote accept`, `prospect add`, `contact optout` and `relance run`
//! end to end: the real binary on a real SQLite file. A French quotes file in Windows-1252 is
//! imported; a broken one is refused as a whole with positioned errors; the run's JSON lines
//! carry the follow-ups with their reason and key, once.

use std::process::{Command, Output};

use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.ok(&["init", "--name", "Atelier Test SAS", "--siren", "552100554"]);
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

    fn run_json(&self, day: &str) -> Vec<Value> {
        self.ok(&["run", "--as-of", day, "--json", "--no-send"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path.display().to_string()
    }
}

#[test]
fn quotes_and_prospects_through_the_binary() {
    let s = Sandbox::new();
    let broken = s.write(
        "broken.csv",
        b"code client;num\xe9ro de devis;date d'envoi;montant TTC\nC1;DV-1;31/02/2026;12,00\nC2;DV-2;02/03/2026;abc\n",
    );
    let out = s.run(&["import", "quotes", &broken]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.csv:2: column \"date d'envoi\""),
        "{err}"
    );
    assert!(
        err.contains("broken.csv:3: column \"montant TTC\""),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");

    let good = s.write(
        "devis.csv",
        b"\xef\xbb\xbfCode client;Raison sociale;E-mail;Num\xc3\xa9ro de devis;Date d'envoi;Validit\xc3\xa9;Montant TTC\n\
          C1;Dupont SA;achat@dupont.example;DV-1;02/03/2026;31/03/2026;1 234,56\n\
          C2;Martin SARL;achat@martin.example;DV-2;02/03/2026;31/03/2026;500,00\n",
    );
    let out = s.ok(&["import", "quotes", &good]);
    assert!(out.contains("2 new"), "{out}");
    s.ok(&[
        "prospect",
        "add",
        "P1",
        "--email",
        "p1@example.com",
        "--met-on",
        "2026-03-04",
    ]);

    // Thursday 5 March: the prospect's first message (the next business day) and both quote
    // reminders (3 business days after Monday 2).
    let lines = s.run_json("2026-03-05");
    let steps: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["customer"].as_str().expect("customer").to_string(),
                l["step"].as_str().expect("step").to_string(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("C1".to_string(), "quote_reminder".to_string()),
            ("C2".to_string(), "quote_reminder".to_string()),
            ("P1".to_string(), "prospect_news".to_string()),
        ]
    );
    for l in &lines {
        assert!(l["key"].as_str().expect("key").starts_with("fu:"));
        assert!(!l["reason"].as_str().expect("reason").is_empty());
    }
    assert_eq!(lines[0]["invoices"][0], "DV-1");
    assert_eq!(lines[0]["amount_due"], "1234.56");
    // Never twice.
    assert!(s.run_json("2026-03-05").is_empty());

    // C1 accepts, C2 opts out: only C2's... nothing, and P1 keeps going.
    s.ok(&["quote", "accept", "DV-1", "--at", "2026-03-06"]);
    let out = s.ok(&["contact", "optout", "C2", "--at", "2026-03-06"]);
    assert!(out.contains("reminders of unpaid invoices go on"), "{out}");
    let mut all = Vec::new();
    for day in 6..=31 {
        all.extend(s.run_json(&format!("2026-03-{day:02}")));
    }
    let customers: Vec<&str> = all
        .iter()
        .map(|l| l["customer"].as_str().expect("customer"))
        .collect();
    assert!(customers.iter().all(|c| *c == "P1"), "{all:?}");
    assert_eq!(customers.len(), 2, "{all:?}");
    let list = s.ok(&["quote", "list"]);
    assert!(
        list.contains("accepted") && list.contains("opted_out"),
        "{list}"
    );
}

#[test]
fn an_import_of_prospects_is_all_or_nothing_and_feeds_the_follow_up() {
    let s = Sandbox::new();
    // Windows-1252, French headers; line 3 has a bad address, line 4 neither e-mail nor phone.
    let broken = s.write(
        "broken.csv",
        b"Nom;E-mail;T\xe9l\xe9phone;Premier contact;Objet;Langue\n\
          Dupont SA;achat@dupont.example;;02/03/2026;Salon;fr\n\
          Martin SARL;martin(at)example;;02/03/2026;;fr\n\
          Durand;;;02/03/2026;;\n",
    );
    let out = s.run(&["import", "prospects", &broken]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.csv:3: column \"E-mail\""), "{err}");
    assert!(err.contains("broken.csv:4: column \"E-mail\""), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    let good = s.write(
        "salon.csv",
        b"Nom;E-mail;T\xe9l\xe9phone;Premier contact;Objet;Langue\n\
          Dupont SA;achat@dupont.example;04 72 00 00 00;04/03/2026;Salon de Lyon : devis vitrine;fr\n\
          Smith Ltd;buyer@smith.example;;04/03/2026;;en\n",
    );
    let out = s.ok(&["import", "prospects", &good]);
    // Dupont was not left behind by the refused file.
    assert!(out.contains("2 new"), "{out}");
    let out = s.ok(&["import", "prospects", &good]);
    assert!(out.contains("0 new, 2 already followed"), "{out}");
    // Thursday 5 March: each prospect's first message, the next business day.
    let lines = s.run_json("2026-03-05");
    let customers: Vec<&str> = lines
        .iter()
        .map(|l| l["customer"].as_str().expect("customer"))
        .collect();
    assert_eq!(customers, ["achat@dupont.example", "buyer@smith.example"]);
    assert!(lines.iter().all(|l| l["step"] == "prospect_news"));
}
