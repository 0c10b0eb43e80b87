//! `relance litigation` on a real ledger: the file read back with pdftotext, the folder's
//! checksums verified with sha256sum, the procedure chosen by the amount.

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

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
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
    let big = s.path("big.csv");
    std::fs::write(
        &big,
        "numéro;code client;client;type;date;échéance;montant TTC\n\
         F-2025-900;C900;Grossiste Lambert SA;entreprise;15/12/2025;14/01/2026;12 000,00\n",
    )
    .expect("write csv");
    s.ok(&["import", "invoices", &big]);
    s.ok(&["run", "--as-of", "2026-02-05"]);
    s.ok(&["run", "--as-of", "2026-02-10"]);
    s.ok(&["run", "--as-of", "2026-02-20"]);
    s.ok(&["run", "--as-of", "2026-03-02"]);
    s
}

#[test]
fn the_file_states_the_claim_the_chronology_and_the_small_claims_draft() {
    let s = ledger();
    let pdf = s.path("dossier.pdf");
    let out = s.ok(&["litigation", "C001", "--as-of", "2026-03-10", "--out", &pdf]);
    assert!(out.contains("small_claims"), "{out}");
    let Some(text) = pdftotext(Path::new(&pdf)) else {
        return;
    };
    // Same hand-worked figures as the formal notice test (12.15 % in 2026 H1):
    // F-2026-001 1,234.56 × 0.1215 × 34 / 365 = 13.97; F-2026-002 500.00 × 0.1215 × 19 / 365 = 3.16;
    // interest 17.13, indemnity 2 × 40 = 80.00, open 1,734.56, total 1,831.69.
    for mention in [
        "DOSSIER CONTENTIEUX",
        "Boulangerie Martin SARL",
        "Atelier Test SAS",
        "F-2026-001",
        "F-2026-002",
        "1 734,56 €",
        "17,13 €",
        "80,00 €",
        "1 831,69 €",
        "L441-10",
        "D441-5",
        "première relance",
        "courriel",
        "lettre recommandée avec accusé de réception",
        "mise en demeure du 02/03/2026",
        "05/02/2026",
        "Procédure simplifiée de recouvrement des petites créances",
        "injonction de payer — tribunal de commerce",
        "commissaire de justice",
    ] {
        assert!(text.contains(mention), "missing {mention:?} in:\n{text}");
    }
    // The other customer's invoices are not in this file.
    assert!(!text.contains("F-2025-900"), "{text}");
}

#[test]
fn a_claim_above_five_thousand_euros_gets_an_injonction_de_payer_draft() {
    let s = ledger();
    let pdf = s.path("dossier-c900.pdf");
    let out = s.ok(&["litigation", "C900", "--as-of", "2026-03-10", "--out", &pdf]);
    assert!(out.contains("payment_order_commercial_court"), "{out}");
    let Some(text) = pdftotext(Path::new(&pdf)) else {
        return;
    };
    assert!(text.contains("Requête en injonction de payer"), "{text}");
    assert!(
        text.contains("Monsieur le Président du tribunal de commerce"),
        "{text}"
    );
    assert!(!text.contains("petites créances"), "{text}");
    assert!(text.contains("12 000,00 €"), "{text}");

    // The same file in English; the draft request stays in French (it goes to a French court).
    let en = s.path("file-c900.pdf");
    s.ok(&[
        "litigation",
        "C900",
        "--as-of",
        "2026-03-10",
        "--out",
        &en,
        "--lang",
        "en",
    ]);
    let Some(text) = pdftotext(Path::new(&en)) else {
        return;
    };
    assert!(text.contains("LITIGATION FILE"), "{text}");
    assert!(text.contains("2. The claim"), "{text}");
    assert!(text.contains("Requête en injonction de payer"), "{text}");
}

#[test]
fn the_folder_holds_the_file_the_claim_and_checksums_that_verify() {
    let s = ledger();
    let dir = s.path("dossier-C001");
    s.ok(&["litigation", "C001", "--as-of", "2026-03-10", "--out", &dir]);
    let claim: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(&dir).join("creance.json")).expect("claim json"),
    )
    .expect("valid json");
    assert_eq!(claim["totals"]["total"]["amount"], "1831.69", "{claim}");
    assert_eq!(claim["procedure"]["procedure"], "small_claims");
    let check = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dir)
        .output()
        .expect("sha256sum");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let listed = std::fs::read_to_string(Path::new(&dir).join("SHA256SUMS")).expect("sums");
    assert!(listed.contains("dossier-contentieux.pdf"), "{listed}");
    // A second run into the same, now full, folder is refused rather than mixing two files.
    let again = s.run(&["litigation", "C001", "--as-of", "2026-03-10", "--out", &dir]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not an empty folder"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn nothing_to_claim_and_unknown_customers_are_refused_clearly() {
    let s = ledger();
    let pdf = s.path("x.pdf");
    // C002's only invoice is due on 2026-03-03: nothing is late on 2026-02-10.
    let early = s.run(&["litigation", "C002", "--as-of", "2026-02-10", "--out", &pdf]);
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("owes nothing that can be claimed"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    let unknown = s.run(&["litigation", "NOPE", "--out", &pdf]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("unknown customer \"NOPE\""),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert!(!Path::new(&pdf).exists());
}
