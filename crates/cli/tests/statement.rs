//! The statement of account (relevé de compte) sent with a policy step's messages (issue #4):
//! the real binary on a real SQLite file and on PostgreSQL (when RELANCE_TEST_DATABASE_URL is
//! set), e-mails received by a real SMTP server on loopback (aiosmtpd, `support/smtp_sink.py`)
//! and parsed with mail-parser, PDFs read back with pdftotext.
//!
//! The default French policy attaches the statement to the second reminder (02-13 for invoices
//! due 02-04): its e-mail carries it next to the letter, its registered letter prints it after
//! the letter's pages; the first reminder and the formal notice, without the option, do not.
//! The option goes through `relance policy export` and `import` unchanged (TOML and JSON).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use mail_parser::MimeHeaders;
use serde_json::Value;

/// The SMTP sink, killed when dropped.
struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sink {
    fn start() -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("mail"))
            .arg("0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the sink prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!("smtp_sink.py did not start (is aiosmtpd installed?): {line:?}")
            });
        Sink { child, dir, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in arrival order.
    fn messages(&self) -> Vec<Vec<u8>> {
        let mut paths: Vec<(u64, PathBuf)> = match std::fs::read_dir(self.dir.path().join("mail")) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .map(|p| {
                    let n = p
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(u64::MAX);
                    (n, p)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths
            .iter()
            .map(|(_, p)| std::fs::read(p).expect("read message"))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
            "relance_test_statement_{}_{}",
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

    fn run(&self, args: &[&str], smtp: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relance"));
        cmd.args(args)
            .env("RELANCE_DATABASE_URL", &self.url)
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_SMTP_URL")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(self.dir.path());
        if let Some(smtp) = smtp {
            cmd.env("RELANCE_SMTP_URL", smtp);
        }
        cmd.output().expect("run relance")
    }

    fn ok(&self, args: &[&str], smtp: Option<&str>) -> String {
        let out = self.run(args, smtp);
        assert!(
            out.status.success(),
            "relance {args:?} on {} failed\nstdout:\n{}\nstderr:\n{}",
            self.url,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sent(&self) -> Vec<Value> {
        self.ok(
            &["outbox", "list", "--status", "sent", "--format", "json"],
            None,
        )
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
    }
}

/// The PDF's text, words separated by single spaces, or `None` without pdftotext (outside CI).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
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
        Ok(out) => panic!("pdftotext: {}", String::from_utf8_lossy(&out.stderr)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("pdftotext (poppler-utils) is required in CI")
        }
        _ => None,
    }
}

/// (file name, bytes) of each attachment.
fn attachments(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let message = mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("valid MIME");
    message
        .attachments()
        .map(|a| {
            (
                a.attachment_name().unwrap_or_default().to_string(),
                a.contents().to_vec(),
            )
        })
        .collect()
}

fn subject(bytes: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

/// C001 owes F-2026-001 (1 234,56, due 02-04) and the rest of F-2026-002 (600,00 of which
/// 100,00 paid, due 02-19): the statement of 02-13 lists both, the second reminder only the
/// first (the second is not due yet).
fn ledger(s: &Sandbox) {
    s.ok(
        &[
            "init",
            "--name",
            "Atelier Test SAS",
            "--siren",
            "552100554",
            "--email",
            "relances@atelier-test.fr",
            "--address",
            "4 quai Saint-Antoine / 69002 Lyon",
        ],
        None,
    );
    let csv = s.path("factures.csv");
    std::fs::write(
        &csv,
        "numéro;code client;client;type;email;adresse;date;échéance;montant TTC;montant réglé\n\
         F-2026-001;C001;Boulangerie Martin SARL;entreprise;compta@martin.fr;\"3 rue Neuve\n69001 Lyon\";05/01/2026;04/02/2026;1 234,56;0\n\
         F-2026-002;C001;Boulangerie Martin SARL;entreprise;compta@martin.fr;\"3 rue Neuve\n69001 Lyon\";20/01/2026;19/02/2026;600,00;100,00\n",
    )
    .expect("write csv");
    s.ok(&["import", "invoices", csv.to_str().expect("path")], None);
}

#[test]
fn the_second_reminder_carries_the_statement_of_account_by_email_and_by_post() {
    for s in Sandbox::all() {
        let sink = Sink::start();
        let smtp = sink.url();
        ledger(&s);
        s.ok(&["run", "--as-of", "2026-02-05"], Some(&smtp));
        // The first reminder: no option, no attachment at all.
        let first = sink.messages();
        assert_eq!(first.len(), 1, "one first reminder on {}", s.url);
        assert!(
            attachments(&first[0]).is_empty(),
            "first reminder: {:?}",
            attachments(&first[0])
                .iter()
                .map(|a| a.0.clone())
                .collect::<Vec<_>>()
        );
        s.ok(&["run", "--as-of", "2026-02-09"], Some(&smtp));
        s.ok(&["run", "--as-of", "2026-02-13"], Some(&smtp));
        let messages = sink.messages();
        assert_eq!(
            messages.len(),
            2,
            "the second reminder's e-mail on {}",
            s.url
        );
        let second = &messages[1];
        let files = attachments(second);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            ["second_reminder-C001.pdf", "releve-de-compte-C001.pdf"],
            "{}",
            subject(second)
        );
        let statement = &files[1].1;
        assert!(statement.starts_with(b"%PDF"));
        if let Some(text) = pdftotext(statement) {
            for expected in [
                "RELEVÉ DE COMPTE",
                "Boulangerie Martin SARL",
                "F-2026-001",
                "F-2026-002",
                "1 234,56",
                "600,00",
                "100,00",
                // The balance due: 1 234,56 + 600,00 − 100,00.
                "1 734,56",
            ] {
                assert!(text.contains(expected), "{expected} missing: {text}");
            }
        }
        // The registered letter of the same step: the statement printed after the letter, in
        // the one document filed (and printed in the day's batch).
        let sent = s.sent();
        let letter = sent
            .iter()
            .find(|r| r["channel"] == "registered_letter")
            .unwrap_or_else(|| panic!("the registered letter: {sent:?}"));
        let path = letter["document_path"].as_str().expect("document_path");
        let pdf = std::fs::read(path).expect("the filed letter");
        if let Some(text) = pdftotext(&pdf) {
            let letter_at = text
                .find("F-2026-001")
                .expect("the letter lists F-2026-001");
            let statement_at = text
                .find("RELEVÉ DE COMPTE")
                .expect("the statement follows");
            assert!(letter_at < statement_at, "{text}");
            assert!(text.contains("1 734,56"), "{text}");
        }
        let batch = s.path("lot.pdf");
        s.ok(
            &[
                "letter",
                "batch",
                "--on",
                "2026-02-13",
                "--out",
                batch.to_str().expect("path"),
            ],
            None,
        );
        if let Some(text) = pdftotext(&std::fs::read(&batch).expect("batch")) {
            assert!(text.contains("RELEVÉ DE COMPTE"), "{text}");
        }

        // The formal notice, without the option: the letter attached, no statement.
        s.ok(&["run", "--as-of", "2026-02-23"], Some(&smtp));
        let messages = sink.messages();
        assert_eq!(messages.len(), 3, "the formal notice's e-mail on {}", s.url);
        let names: Vec<String> = attachments(&messages[2]).into_iter().map(|a| a.0).collect();
        assert_eq!(
            names,
            ["formal_notice-C001.pdf"],
            "{}",
            subject(&messages[2])
        );
    }
}

#[test]
fn the_option_goes_through_policy_export_and_import() {
    for s in Sandbox::all() {
        ledger(&s);
        let json = s.ok(&["policy", "export", "--format", "json"], None);
        let mut file: Value = serde_json::from_str(&json).expect("policies JSON");
        let steps = |file: &Value| -> Vec<(String, bool)> {
            file["policies"][0]["steps"]
                .as_array()
                .expect("steps")
                .iter()
                .map(|step| {
                    (
                        step["id"].as_str().expect("id").to_string(),
                        step["attach_statement"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        };
        let attached: Vec<String> = steps(&file)
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(id, _)| id)
            .collect();
        assert_eq!(attached, ["second_reminder"], "the default policy");
        // Set it on the first reminder too, import, export as TOML, import that, export again.
        for step in file["policies"][0]["steps"]
            .as_array_mut()
            .expect("steps")
            .iter_mut()
        {
            if step["id"] == "first_reminder" {
                step["attach_statement"] = Value::Bool(true);
            }
        }
        let edited = s.path("edited.json");
        std::fs::write(&edited, file.to_string()).expect("write");
        s.ok(&["policy", "import", edited.to_str().expect("path")], None);
        let toml_path = s.path("policies.toml");
        s.ok(
            &[
                "policy",
                "export",
                "--out",
                toml_path.to_str().expect("path"),
            ],
            None,
        );
        let toml_text = std::fs::read_to_string(&toml_path).expect("toml");
        assert_eq!(
            toml_text.matches("attach_statement = true").count(),
            2,
            "{toml_text}"
        );
        assert!(
            !toml_text.contains("attach_statement = false"),
            "{toml_text}"
        );
        s.ok(
            &["policy", "import", toml_path.to_str().expect("path")],
            None,
        );
        let back: Value =
            serde_json::from_str(&s.ok(&["policy", "export", "--format", "json"], None))
                .expect("policies JSON");
        assert_eq!(steps(&back), steps(&file));
        assert_eq!(back, file);

        // And the run follows the imported policy: the first reminder now carries it.
        let sink = Sink::start();
        s.ok(&["run", "--as-of", "2026-02-05"], Some(&sink.url()));
        let messages = sink.messages();
        assert_eq!(messages.len(), 1);
        let names: Vec<String> = attachments(&messages[0]).into_iter().map(|a| a.0).collect();
        assert_eq!(names, ["releve-de-compte-C001.pdf"]);
    }
}
