//! Delivery end to end: the real binary, a real SQLite file (and PostgreSQL when
//! RELANCE_TEST_DATABASE_URL is set), and a real SMTP server on loopback (aiosmtpd, started from
//! `tests/support/smtp_sink.py`, which stores every message it accepts as a file and answers
//! 450 to `greylist*@` the first time and 550 to `reject*@`).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

    /// The messages received so far, by file name order.
    fn messages(&self) -> Vec<Vec<u8>> {
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(self.dir.path().join("mail")) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read(p).expect("read message"))
            .collect()
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("mail"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("valid MIME")
}

fn message_ids(sink: &Sink) -> Vec<String> {
    sink.messages()
        .iter()
        .map(|m| parse(m).message_id().expect("Message-ID").to_string())
        .collect()
}

struct Sandbox {
    dir: tempfile::TempDir,
    url: String,
}

impl Sandbox {
    fn new(invoices: &Path) -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("relance.db").display());
        let s = Sandbox { dir, url };
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
                "1 rue de la Gare / 75010 Paris",
            ],
            &[],
        );
        s.ok(
            &["import", "invoices", invoices.to_str().expect("path")],
            &[],
        );
        s
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relance"));
        cmd.args(args)
            .env("RELANCE_DATABASE_URL", &self.url)
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_SMTP_URL")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().expect("run relance")
    }

    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert!(
            out.status.success(),
            "relance {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn outbox(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["outbox", "list", "--format", "json"];
        args.extend(extra);
        self.ok(&args, &[])
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn each_email_arrives_once_names_its_invoices_and_a_second_run_sends_nothing() {
    let sink = Sink::start();
    let s = Sandbox::new(&data("invoices-fr.csv"));
    let smtp = sink.url();
    let env = [("RELANCE_SMTP_URL", smtp.as_str())];
    s.ok(&["run", "--as-of", "2026-02-05"], &env);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one first reminder for C001");
    let message = parse(&messages[0]);
    assert_eq!(
        message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("compta@martin.fr")
    );
    let text = message.body_text(0).expect("text part");
    assert!(text.contains("F-2026-001"), "{text}");
    assert!(!text.contains("F-2026-002"), "not yet due: {text}");
    let id = message.message_id().expect("Message-ID").to_string();

    // The same day again, and a send on its own: nothing more leaves.
    s.ok(&["run", "--as-of", "2026-02-05"], &env);
    s.ok(&["send", "--as-of", "2026-02-05"], &env);
    assert_eq!(sink.count(), 1);

    let rows = s.outbox(&[]);
    let sent: Vec<&Value> = rows.iter().filter(|r| r["status"] == "sent").collect();
    assert_eq!(sent.len(), 1, "{rows:?}");
    assert_eq!(sent[0]["message_id"], id.as_str());
    assert_eq!(sent[0]["document_sha256"].as_str().map(str::len), Some(64));
    assert!(sent[0]["sent_at"].is_string());
    let timeline = s.ok(&["report", "timeline", "--customer", "C001"], &[]);
    assert!(timeline.contains("reminder_sent"), "{timeline}");

    // The next step days later goes out once too, and names the earlier reminder's invoices.
    s.ok(&["run", "--as-of", "2026-02-20"], &env);
    let ids = message_ids(&sink);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no message twice: {ids:?}");
}

#[test]
fn a_payment_recorded_between_planning_and_sending_cancels_the_message() {
    let sink = Sink::start();
    let s = Sandbox::new(&data("invoices-fr.csv"));
    let smtp = sink.url();
    let env = [("RELANCE_SMTP_URL", smtp.as_str())];
    s.ok(&["run", "--as-of", "2026-02-05", "--no-send"], &[]);
    assert_eq!(s.outbox(&["--status", "planned"]).len(), 1);

    // The accounting export now says F-2026-001 is paid (an invoice import does not touch the
    // outbox): the last check before sending must catch it.
    let paid = write(
        s.dir.path(),
        "paid.csv",
        "numéro;code client;client;type;email;date;échéance;montant TTC;montant réglé\n\
         F-2026-001;C001;Boulangerie Martin SARL;entreprise;compta@martin.fr;05/01/2026;04/02/2026;1 234,56;1 234,56\n",
    );
    s.ok(&["import", "invoices", paid.to_str().expect("path")], &[]);
    s.ok(&["send", "--as-of", "2026-02-05"], &env);
    assert_eq!(sink.count(), 0, "nothing may leave for a paid invoice");
    let rows = s.outbox(&[]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "cancelled");
    assert!(
        rows[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("no longer owed")),
        "{rows:?}"
    );
    let timeline = s.ok(&["report", "timeline", "--customer", "C001"], &[]);
    assert!(timeline.contains("reminder_cancelled"), "{timeline}");

    // A bank payment imported before sending cancels too.
    let t = Sandbox::new(&data("invoices-fr.csv"));
    t.ok(&["run", "--as-of", "2026-02-05", "--no-send"], &[]);
    t.ok(
        &[
            "import",
            "payments",
            data("payments-fr.csv").to_str().expect("path"),
        ],
        &[],
    );
    t.ok(&["send", "--as-of", "2026-02-05"], &env);
    assert_eq!(sink.count(), 0);
    assert!(t.outbox(&[]).iter().all(|r| r["status"] == "cancelled"));
}

#[test]
fn a_4xx_is_retried_later_a_5xx_is_recorded_and_letters_are_filed() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let invoices = write(
        dir.path(),
        "invoices.csv",
        "invoice_number,customer_id,customer_name,customer_kind,email,issue_date,due_date,amount\n\
         G-1,G1,Greylist SARL,business,greylist@grey.example,2026-01-05,2026-02-04,100.00\n\
         R-1,R1,Rejet SARL,business,reject@nowhere.example,2026-01-05,2026-02-04,200.00\n\
         L-1,L1,Papier SARL,business,,2026-01-05,2026-02-04,300.00\n",
    );
    let s = Sandbox::new(&invoices);
    let smtp = sink.url();
    let env = [("RELANCE_SMTP_URL", smtp.as_str())];
    s.ok(
        &["run", "--as-of", "2026-02-05", "--retry-after", "1"],
        &env,
    );
    assert_eq!(sink.count(), 0, "450 and 550: nothing accepted yet");
    let rows = s.outbox(&[]);
    let by_customer: HashMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["customer"].as_str().expect("customer"), r))
        .collect();
    let g1 = by_customer["G1"];
    assert_eq!(g1["status"], "planned", "{g1}");
    assert_eq!(g1["attempts"], 1);
    assert!(
        g1["last_error"].as_str().is_some_and(|e| e.contains("450")),
        "{g1}"
    );
    let r1 = by_customer["R1"];
    assert_eq!(r1["status"], "failed", "{r1}");
    assert!(
        r1["last_error"].as_str().is_some_and(|e| e.contains("550")),
        "{r1}"
    );
    let timeline = s.ok(&["report", "timeline", "--customer", "R1"], &[]);
    assert!(
        timeline.contains("reject@nowhere.example rejected"),
        "{timeline}"
    );
    // The letter (no e-mail address): one PDF, its hash and path recorded.
    let l1 = by_customer["L1"];
    assert_eq!(l1["status"], "sent", "{l1}");
    assert_eq!(l1["channel"], "letter");
    let path = PathBuf::from(l1["document_path"].as_str().expect("path"));
    let path = if path.is_absolute() {
        path
    } else {
        s.dir.path().join(path)
    };
    assert!(
        path.starts_with(s.dir.path().join("outbox/letters/2026-02-05")),
        "{path:?}"
    );
    let pdf = std::fs::read(&path).expect("letter PDF");
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(l1["document_sha256"].as_str().map(str::len), Some(64));

    // Too early: the backoff holds the retry back; after it, the retry succeeds.
    s.ok(
        &["send", "--as-of", "2026-02-05", "--retry-after", "1"],
        &env,
    );
    std::thread::sleep(Duration::from_millis(1300));
    s.ok(
        &["send", "--as-of", "2026-02-05", "--retry-after", "1"],
        &env,
    );
    assert_eq!(sink.count(), 1);
    let g1 = s
        .outbox(&[])
        .into_iter()
        .find(|r| r["customer"] == "G1")
        .expect("G1");
    assert_eq!(g1["status"], "sent", "{g1}");
    assert_eq!(g1["attempts"], 2);

    // The failed one can be put back by hand; a sent one cannot be cancelled.
    let r1_id = r1["id"].as_i64().expect("id").to_string();
    s.ok(&["outbox", "retry", &r1_id, "--note", "address fixed"], &[]);
    assert_eq!(
        s.outbox(&[])
            .iter()
            .find(|r| r["customer"] == "R1")
            .expect("R1")["status"],
        "planned"
    );
    let g1_id = g1["id"].as_i64().expect("id").to_string();
    let refused = s.run(&["outbox", "cancel", &g1_id], &[]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already sent"));
}

#[test]
fn without_smtp_emails_are_written_as_eml_files() {
    let s = Sandbox::new(&data("invoices-fr.csv"));
    s.ok(&["run", "--as-of", "2026-02-05"], &[]);
    let folder = s.dir.path().join("outbox/mail/2026-02-05");
    let files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("outbox/mail/DAY")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).expect("eml");
    let message = parse(&bytes);
    assert!(message.body_text(0).expect("text").contains("F-2026-001"));
    let rows = s.outbox(&["--status", "sent"]);
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["document_path"]
        .as_str()
        .is_some_and(|p| p.ends_with(".eml")));
}

/// A `relance send` of 10,000 messages (the size) killed with SIGKILL midway: after a
/// restart none is delivered twice, none is lost, and the ones in doubt are listed for a person.
#[test]
fn a_dispatcher_killed_midway_loses_nothing_and_sends_nothing_twice() {
    killed_midway(10_000);
}

fn killed_midway(total: usize) {
    let sink = Sink::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let relance = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relance"));
        cmd.args(args)
            .env("RELANCE_DATABASE_URL", &url)
            .env("RELANCE_SMTP_URL", sink.url())
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(dir.path());
        cmd
    };
    let out = relance(&[
        "bench",
        "send",
        "--messages",
        &total.to_string(),
        "--db",
        &url,
        "--prepare-only",
    ])
    .output()
    .expect("bench send --prepare-only");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = relance(&["send", "--as-of", "2026-11-25", "--batch", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("relance send");
    let started = Instant::now();
    // Not on a batch boundary (batches of 100): the kill lands while a batch is being sent.
    while sink.count() < total / 10 + 37 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the sink got {} messages in 5 minutes",
            sink.count()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let before_restart = sink.count();
    assert!(before_restart < total, "killed too late to prove anything");

    let out = relance(&["send", "--as-of", "2026-11-25", "--lease-timeout", "0"])
        .output()
        .expect("restart");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rows: Vec<Value> = String::from_utf8(
        relance(&["outbox", "list", "--format", "json"])
            .output()
            .expect("list")
            .stdout,
    )
    .expect("utf-8")
    .lines()
    .map(|l| serde_json::from_str(l).expect("JSON"))
    .collect();
    assert_eq!(rows.len(), total);
    let ids = message_ids(&sink);
    let received: HashSet<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(received.len(), ids.len(), "a message was delivered twice");
    let mut in_doubt = 0;
    for row in &rows {
        match (row["status"].as_str(), row["in_doubt"].as_bool()) {
            (Some("sent"), _) => {
                let id = row["message_id"].as_str().expect("message id");
                assert!(received.contains(id), "sent but never received: {row}");
            }
            (Some("sending"), Some(true)) => in_doubt += 1,
            _ => panic!("neither sent nor in doubt (lost): {row}"),
        }
    }
    let sent = rows.iter().filter(|r| r["status"] == "sent").count();
    assert!(ids.len() >= sent && ids.len() <= sent + in_doubt);
    assert!(
        in_doubt > 0,
        "the kill should have left the batch being sent in doubt"
    );
    let listed = String::from_utf8(
        relance(&["outbox", "list", "--in-doubt", "--format", "json"])
            .output()
            .expect("list")
            .stdout,
    )
    .expect("utf-8")
    .lines()
    .count();
    assert_eq!(listed, in_doubt);
    eprintln!(
        "crash test: {before_restart} received before SIGKILL, {sent} sent, {in_doubt} in doubt, {} received in all",
        ids.len()
    );
}

/// Four `relance send` processes on one PostgreSQL outbox of 10,000 messages: each arrives once.
#[tokio::test]
async fn four_dispatchers_on_postgres_send_each_message_exactly_once() {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but RELANCE_TEST_DATABASE_URL is not set");
        }
        eprintln!("RELANCE_TEST_DATABASE_URL unset: PostgreSQL test skipped");
        return;
    };
    let name = format!(
        "relance_deliver_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = relance_store::Store::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await
        .expect("create database");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a path");
    let url = format!("{base}/{name}");

    let sink = Sink::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let total = 10_000;
    let relance = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relance"));
        cmd.args(args)
            .env("RELANCE_DATABASE_URL", &url)
            .env("RELANCE_SMTP_URL", sink.url())
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_OUTBOX")
            .current_dir(dir.path());
        cmd
    };
    let out = relance(&[
        "bench",
        "send",
        "--messages",
        &total.to_string(),
        "--db",
        &url,
        "--prepare-only",
    ])
    .output()
    .expect("prepare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let children: Vec<Child> = (0..4)
        .map(|_| {
            relance(&[
                "send",
                "--as-of",
                "2026-11-25",
                "--batch",
                "100",
                "--connections",
                "4",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("relance send")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ids = message_ids(&sink);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), total, "every message arrives");
    assert_eq!(unique.len(), total, "no message twice");
    let sent = String::from_utf8(
        relance(&["outbox", "list", "--status", "sent", "--format", "json"])
            .output()
            .expect("list")
            .stdout,
    )
    .expect("utf-8")
    .lines()
    .count();
    assert_eq!(sent, total);
}
