//! Letters end to end, on a real SQLite file and on PostgreSQL (when RELANCE_TEST_DATABASE_URL
//! is set): `relance run` delivering over several days with no SMTP server (e-mails as .eml
//! files, letters as PDFs under the outbox folder), then
//! - `relance litigation --out DIR`: the documents sent listed with their SHA-256 (read back
//!   with pdftotext), copied next to the file and hash-matching, and refused once a copy changed;
//! - `relance letter batch`: one PDF in postal order with a cover list (pdftotext, pdfinfo);
//! - `relance letter registered` and `relance letter receipt`, with their refusals.
//!
//! Dates from DESIGN.md's default French policy: invoices due Wednesday 2026-02-04 → first
//! reminder 02-05 (a letter when the customer has no e-mail address), call 02-09, second
//! reminder 02-13 (registered letter, and e-mail), formal notice 02-23 (registered letter with
//! acknowledgement of receipt, and e-mail).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

struct Sandbox {
    dir: tempfile::TempDir,
    url: String,
}

impl Sandbox {
    fn sqlite() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("relance.db").display());
        Sandbox { dir, url }
    }

    /// A fresh PostgreSQL database, or `None` when RELANCE_TEST_DATABASE_URL is unset.
    fn postgres() -> Option<Sandbox> {
        let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but RELANCE_TEST_DATABASE_URL is not set");
            }
            eprintln!("RELANCE_TEST_DATABASE_URL unset: PostgreSQL variant skipped");
            return None;
        };
        let name = format!(
            "relance_test_letters_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let admin = relance_store::Store::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(admin.pool())
                .await
                .expect("create database");
            admin.close().await;
        });
        let (base, _) = admin_url.rsplit_once('/').expect("URL with a path");
        Some(Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            url: format!("{base}/{name}"),
        })
    }

    fn all() -> Vec<Sandbox> {
        let mut all = vec![Sandbox::sqlite()];
        all.extend(Sandbox::postgres());
        all
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env("RELANCE_DATABASE_URL", &self.url)
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_SMTP_URL")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(self.dir.path())
            .output()
            .expect("run relance")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "relance {args:?} on {} failed: {}",
            self.url,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Runs a command that must fail; returns its stderr.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "relance {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The sent rows of the outbox, by id.
    fn sent(&self) -> Vec<Value> {
        self.ok(&["outbox", "list", "--status", "sent", "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }
}

fn tool(name: &str, args: &[&str]) -> Option<String> {
    match Command::new(name).args(args).output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => panic!("{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{name} (poppler-utils) is required in CI")
        }
        _ => None,
    }
}

/// The PDF's text, words separated by single spaces (a line may wrap anywhere) and pages by
/// form feeds.
fn pdftotext(path: &Path) -> Option<String> {
    let text = tool("pdftotext", &["-layout", &path.display().to_string(), "-"])?;
    Some(
        text.split('\u{c}')
            .map(|page| page.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\u{c}"),
    )
}

fn pdf_pages(path: &Path) -> Option<usize> {
    let info = tool("pdfinfo", &[&path.display().to_string()])?;
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

fn sha256_of(path: &Path) -> String {
    format!(
        "{:x}",
        Sha256::digest(std::fs::read(path).expect("read file"))
    )
}

/// A company, four customers in three postcodes (two without an e-mail address), and the runs
/// of 02-05 (first reminder), 02-09 (call), 02-13 (second reminder) and 02-23 (formal notice).
fn ledger(s: &Sandbox) {
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
    let csv = s.path("factures.csv");
    std::fs::write(
        &csv,
        "numéro;code client;client;type;email;adresse;date;échéance;montant TTC\n\
         F-101;C010;Zinc Bar SARL;entreprise;;\"2 rue Paradis\n13001 Marseille\";05/01/2026;04/02/2026;1 200,00\n\
         F-102;C011;Atelier Bois SAS;entreprise;compta@bois.fr;\"9 rue Oberkampf\n75011 Paris\";05/01/2026;04/02/2026;800,00\n\
         F-103;C012;Boulangerie Arnaud;entreprise;;\"1 cours Belsunce\n13001 Marseille\";05/01/2026;04/02/2026;450,00\n\
         F-104;C013;Café du Nord;entreprise;cafe@nord.fr;\"Place du marché\nVillage\";05/01/2026;04/02/2026;300,00\n",
    )
    .expect("write csv");
    s.ok(&["import", "invoices", csv.to_str().expect("path")]);
    for day in ["2026-02-05", "2026-02-09", "2026-02-13", "2026-02-23"] {
        s.ok(&["run", "--as-of", day]);
    }
}

fn id_of(row: &Value) -> String {
    row["id"].as_i64().expect("id").to_string()
}

#[test]
fn the_litigation_folder_lists_and_ships_the_documents_sent_and_refuses_a_changed_copy() {
    for s in Sandbox::all() {
        ledger(&s);
        let sent = s.sent();
        let mine: Vec<&Value> = sent.iter().filter(|r| r["customer"] == "C011").collect();
        // C011 has an e-mail address: first reminder e-mail, second reminder registered letter
        // and e-mail, formal notice registered letter with AR and e-mail.
        let channels: Vec<&str> = mine.iter().filter_map(|r| r["channel"].as_str()).collect();
        for channel in ["email", "registered_letter", "registered_letter_ar"] {
            assert!(channels.contains(&channel), "{channel} missing in {mine:?}");
        }
        let ar = mine
            .iter()
            .find(|r| r["channel"] == "registered_letter_ar")
            .expect("formal notice letter");
        s.ok(&[
            "letter",
            "receipt",
            &id_of(ar),
            "--number",
            "1A 123 456 7890 1",
        ]);

        let dir = s.path("dossier-C011");
        let out = s.ok(&[
            "litigation",
            "C011",
            "--as-of",
            "2026-03-10",
            "--out",
            dir.to_str().expect("path"),
        ]);
        assert!(out.contains("written"), "{out}");
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("SHA256SUMS");
        let text = pdftotext(&dir.join("dossier-contentieux.pdf"));
        for row in &mine {
            let recorded = row["document_sha256"].as_str().expect("sha256");
            let source = Path::new(row["document_path"].as_str().expect("path"));
            assert!(source.is_absolute(), "{source:?} recorded relative");
            let name = source
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            let copy = std::fs::read_dir(&dir)
                .expect("folder")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.to_string_lossy().ends_with(&name))
                .unwrap_or_else(|| panic!("no copy of {name} in {dir:?}"));
            assert_eq!(sha256_of(&copy), recorded, "copy of {name}");
            assert!(
                sums.contains(recorded),
                "{recorded} not in SHA256SUMS:\n{sums}"
            );
            if let Some(text) = &text {
                let copy_name = copy
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .to_string();
                assert!(
                    text.contains(recorded),
                    "{recorded} not in the file:\n{text}"
                );
                assert!(
                    text.contains(&copy_name),
                    "{copy_name} not in the file:\n{text}"
                );
            }
        }
        if let Some(text) = &text {
            for mention in [
                "4. Pièces",
                "lettre recommandée avec accusé de réception",
                "LRAR n° 1A 123 456 7890 1",
                "AR : pas encore revenu",
                "13/02/2026",
                "23/02/2026",
            ] {
                assert!(text.contains(mention), "missing {mention:?} in:\n{text}");
            }
        }

        // The acknowledgement comes back; the next file says when it was signed.
        s.ok(&[
            "letter",
            "receipt",
            &id_of(ar),
            "--acknowledged-on",
            "2026-02-25",
        ]);
        let pdf = s.path("dossier-C011.pdf");
        s.ok(&[
            "litigation",
            "C011",
            "--as-of",
            "2026-03-10",
            "--out",
            pdf.to_str().expect("path"),
        ]);
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains("AR signé le 25/02/2026"), "{text}");
            assert!(!text.contains("pas encore revenu"), "{text}");
        }

        // A kept copy altered after sending: the folder is refused, naming the file.
        let letter = mine
            .iter()
            .find(|r| r["channel"] == "registered_letter")
            .expect("registered letter");
        let source = letter["document_path"].as_str().expect("path");
        let mut bytes = std::fs::read(source).expect("read letter");
        bytes.extend_from_slice(b"\n% edited\n");
        std::fs::write(source, bytes).expect("alter letter");
        let again = s.path("dossier-C011-bis");
        let err = s.refused(&[
            "litigation",
            "C011",
            "--as-of",
            "2026-03-10",
            "--out",
            again.to_str().expect("path"),
        ]);
        assert!(err.contains(source) && err.contains("changed"), "{err}");
        assert!(!again.exists(), "nothing is written when a copy is refused");
        // A missing copy too.
        std::fs::remove_file(source).expect("remove letter");
        let err = s.refused(&["litigation", "C011", "--out", again.to_str().expect("path")]);
        assert!(err.contains(source), "{err}");
    }
}

#[test]
fn the_print_batch_holds_the_days_letters_in_postal_order_after_a_cover_list() {
    for s in Sandbox::all() {
        ledger(&s);
        let sent = s.sent();
        // 02-13: the second reminder, a registered letter to every customer.
        let letters: Vec<&Value> = sent
            .iter()
            .filter(|r| r["channel"] == "registered_letter")
            .collect();
        assert_eq!(letters.len(), 4, "{sent:?}");
        let batch = s.path("lot.pdf");
        let out = s.ok(&[
            "letter",
            "batch",
            "--on",
            "2026-02-13",
            "--out",
            batch.to_str().expect("path"),
        ]);
        assert!(
            out.contains("4 letters of 2026-02-13 (4 registered)"),
            "{out}"
        );
        let pages: HashMap<String, usize> = letters
            .iter()
            .filter_map(|r| {
                let path = Path::new(r["document_path"].as_str()?);
                Some((r["customer"].as_str()?.to_string(), pdf_pages(path)?))
            })
            .collect();
        if let (Some(total), Some(text)) = (pdf_pages(&batch), pdftotext(&batch)) {
            let letter_pages: usize = pages.values().sum();
            assert_eq!(total, letter_pages + 1, "one cover page, then the letters");
            assert!(text.contains("LOT D'IMPRESSION DU 13/02/2026"), "{text}");
            assert!(text.contains("4 courriers"), "{text}");
            // Postal order: 13001 (Arnaud, then Zinc), 75011, then no postcode.
            let order = [
                "Boulangerie Arnaud",
                "Zinc Bar SARL",
                "Atelier Bois SAS",
                "Café du Nord",
            ];
            let cover_end = text.find('\u{c}').expect("page break after the cover");
            let (cover, rest) = text.split_at(cover_end);
            let mut last = 0;
            for name in order {
                let at = cover
                    .find(name)
                    .unwrap_or_else(|| panic!("{name} not on the cover:\n{cover}"));
                assert!(
                    at >= last,
                    "{name} out of postal order on the cover:\n{cover}"
                );
                last = at;
            }
            assert!(
                cover.contains("13001") && cover.contains("75011"),
                "{cover}"
            );
            assert!(cover.contains("recommandé"), "{cover}");
            let mut last = 0;
            for name in order {
                // Each letter's window address names its addressee.
                let at = rest[last..]
                    .find(name)
                    .unwrap_or_else(|| panic!("{name} not after the previous letter:\n{rest}"));
                last += at;
            }
        }
        // 02-05: ordinary letters to the two customers without an e-mail address only.
        let first = s.path("lot-0205.pdf");
        let out = s.ok(&[
            "letter",
            "batch",
            "--on",
            "2026-02-05",
            "--out",
            first.to_str().expect("path"),
            "--lang",
            "en",
        ]);
        assert!(
            out.contains("2 letters of 2026-02-05 (0 registered)"),
            "{out}"
        );
        if let Some(text) = pdftotext(&first) {
            assert!(text.contains("PRINT BATCH OF 05/02/2026"), "{text}");
            assert!(text.contains("ordinary letter"), "{text}");
            assert!(!text.contains("Atelier Bois SAS"), "{text}");
        }
        // A day without letters is said, not printed as an empty batch.
        let none = s.run(&["letter", "batch", "--on", "2026-02-06", "--out", "none.pdf"]);
        assert!(!none.status.success());
        assert!(String::from_utf8_lossy(&none.stderr).contains("no letter was sent on 2026-02-06"));
        // A filed letter changed since: the batch refuses it by name.
        let source = letters[0]["document_path"].as_str().expect("path");
        std::fs::write(source, b"%PDF-1.7 not the letter").expect("alter");
        let err = s.refused(&["letter", "batch", "--on", "2026-02-13", "--out", "x.pdf"]);
        assert!(err.contains(source) && err.contains("changed"), "{err}");
    }
}

#[test]
fn registered_letters_are_listed_for_the_post_office_and_their_receipts_recorded() {
    for s in Sandbox::all() {
        ledger(&s);
        let csv = s.ok(&[
            "letter",
            "registered",
            "--on",
            "2026-02-23",
            "--format",
            "csv",
        ]);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("reference,customer,addressee,address,postcode,AR,step,registered_number")
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(
            rows[0].contains("Boulangerie Arnaud")
                && rows[0].contains("\"1 cours Belsunce, 13001 Marseille\""),
            "{csv}"
        );
        assert!(
            rows.iter().all(|r| r.contains(",with AR,formal_notice,")),
            "{csv}"
        );
        assert!(rows[3].contains("Café du Nord"), "{csv}");
        let reference = rows[0].split(',').next().expect("reference").to_string();

        // The 02-13 letters went without AR; the 02-05 ones were not registered.
        let table = s.ok(&["letter", "registered", "--on", "2026-02-13"]);
        assert!(table.contains("without AR"), "{table}");
        let sent = s.sent();
        let simple = sent
            .iter()
            .find(|r| r["channel"] == "letter")
            .map(id_of)
            .expect("an ordinary letter");
        let plain_registered = sent
            .iter()
            .find(|r| r["channel"] == "registered_letter")
            .map(id_of)
            .expect("a registered letter");
        let email = sent
            .iter()
            .find(|r| r["channel"] == "email")
            .map(id_of)
            .expect("an e-mail");

        // Refusals, each saying why.
        let err = s.refused(&[
            "letter",
            "receipt",
            "999999",
            "--number",
            "1A 000 000 0000 1",
        ]);
        assert!(err.contains("no letter with the reference 999999"), "{err}");
        let err = s.refused(&["letter", "receipt", "abc", "--number", "1A 000 000 0000 1"]);
        assert!(err.contains("REFERENCE \"abc\""), "{err}");
        let err = s.refused(&[
            "letter",
            "receipt",
            &simple,
            "--number",
            "1A 000 000 0000 1",
        ]);
        assert!(err.contains("not a registered letter"), "{err}");
        let err = s.refused(&["letter", "receipt", &email, "--number", "1A 000 000 0000 1"]);
        assert!(err.contains("not a registered letter"), "{err}");
        let err = s.refused(&["letter", "receipt", &reference]);
        assert!(err.contains("give it with --number"), "{err}");
        let err = s.refused(&["letter", "receipt", &reference, "--number", "12;34"]);
        assert!(err.contains("--number"), "{err}");
        let err = s.refused(&[
            "letter",
            "receipt",
            &reference,
            "--number",
            "1A 111 222 3333 4",
            "--acknowledged-on",
            "2026-02-20",
        ]);
        assert!(
            err.contains("before the letter") && err.contains("2026-02-23"),
            "{err}"
        );
        let err = s.refused(&[
            "letter",
            "receipt",
            &reference,
            "--number",
            "1A 111 222 3333 4",
            "--acknowledged-on",
            "2999-01-01",
        ]);
        assert!(err.contains("in the future"), "{err}");
        let err = s.refused(&[
            "letter",
            "receipt",
            &plain_registered,
            "--number",
            "1A 111 222 3333 5",
            "--acknowledged-on",
            "2026-02-16",
        ]);
        assert!(err.contains("without acknowledgement of receipt"), "{err}");
        // Nothing was recorded by the refusals.
        let csv = s.ok(&[
            "letter",
            "registered",
            "--on",
            "2026-02-23",
            "--format",
            "csv",
        ]);
        assert!(!csv.contains("1A 111 222 3333 4"), "{csv}");

        // The number when posted, the acknowledgement when it comes back.
        let out = s.ok(&[
            "letter",
            "receipt",
            &reference,
            "--number",
            "1a 111 222 3333 4",
        ]);
        assert!(
            out.contains("registered letter no. 1A 111 222 3333 4"),
            "{out}"
        );
        let out = s.ok(&[
            "letter",
            "receipt",
            &reference,
            "--acknowledged-on",
            "2026-02-26",
        ]);
        assert!(out.contains("signed on 2026-02-26"), "{out}");
        let json = s.ok(&[
            "letter",
            "registered",
            "--on",
            "2026-02-23",
            "--format",
            "json",
        ]);
        let first: Value =
            serde_json::from_str(json.lines().next().expect("a line")).expect("json");
        assert_eq!(first["reference"].to_string(), reference);
        assert_eq!(first["registered_number"], "1A 111 222 3333 4");
        assert_eq!(first["acknowledged_on"], "2026-02-26");
        let timeline = s.ok(&["report", "timeline", "--customer", "C012"]);
        assert!(timeline.contains("1A 111 222 3333 4"), "{timeline}");
        assert!(timeline.contains("2026-02-26"), "{timeline}");
    }
}
