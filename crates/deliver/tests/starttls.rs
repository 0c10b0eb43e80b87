//! lettre's TLS and authentication path against a real SMTP server on loopback: aiosmtpd
//! (`crates/cli/tests/support/smtp_sink.py`) requiring STARTTLS, with a certificate signed by a
//! certificate authority the test makes with the `openssl` command, and AUTH with a user and
//! password. `smtp://user:pass@host:port?tls=starttls` with `ca_file` delivers; a wrong
//! password or an untrusted certificate does not.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use chrono::NaiveDate;
use relance_deliver::{Mailer, MailerSettings, OutgoingEmail, SendOutcome};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (ca.pem) and a server certificate for 127.0.0.1 signed by it (server.pem, server.key).
fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=relance test CA",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext.cnf");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

struct Sink {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Sink {
    fn start(dir: &Path) -> Sink {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.join("mail"))
            .arg("0")
            .args(["--tls"])
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .args(["--auth", "relance:s3cret pass"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("smtp_sink.py did not start (aiosmtpd?): {line:?}"));
        Sink {
            child,
            dir: dir.to_path_buf(),
            port,
        }
    }

    fn received(&self) -> usize {
        std::fs::read_dir(self.dir.join("mail"))
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

fn email(n: u32) -> OutgoingEmail {
    OutgoingEmail {
        from: "relances@atelier-test.fr".into(),
        to: "compta@client.example".into(),
        message_id: format!("m{n}@atelier-test.fr"),
        day: NaiveDate::from_ymd_opt(2026, 3, 11).expect("date"),
        bytes: format!(
            "From: relances@atelier-test.fr\r\nTo: compta@client.example\r\nMessage-ID: <m{n}@atelier-test.fr>\r\nSubject: Rappel F-{n}\r\n\r\nFacture F-{n}\r\n"
        )
        .into_bytes(),
    }
}

async fn send(url: String, ca: Option<PathBuf>, n: u32) -> SendOutcome {
    let mailer = Mailer::new(&MailerSettings {
        smtp_url: Some(url),
        ca_file: ca,
        timeout: std::time::Duration::from_secs(10),
        ..MailerSettings::default()
    })
    .expect("mailer");
    assert!(mailer.is_smtp());
    assert!(
        !mailer.description().contains("s3cret"),
        "{}",
        mailer.description()
    );
    mailer.send(&email(n)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_authentication_delivers_and_a_wrong_password_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    make_certificates(dir.path());
    let sink = Sink::start(dir.path());
    let ca = Some(dir.path().join("ca.pem"));
    let url = |password: &str| {
        format!(
            "smtp://relance:{password}@127.0.0.1:{}?tls=starttls",
            sink.port
        )
    };

    // The right password over STARTTLS with the CA trusted: delivered, once.
    let outcome = send(url("s3cret%20pass"), ca.clone(), 1).await;
    assert_eq!(outcome, SendOutcome::Sent { path: None });
    assert_eq!(sink.received(), 1);
    let log = std::fs::read_to_string(dir.path().join("auth.log")).expect("auth.log");
    assert!(log.contains("AUTH") && log.contains("relance"), "{log}");

    // A wrong password: the server refuses (535), nothing is delivered.
    let outcome = send(url("wrong"), ca.clone(), 2).await;
    assert!(
        !matches!(outcome, SendOutcome::Sent { .. }),
        "a wrong password delivered: {outcome:?}"
    );
    // A certificate nobody vouches for (no CA given): the TLS handshake fails.
    let outcome = send(url("s3cret%20pass"), None, 3).await;
    assert!(
        matches!(outcome, SendOutcome::Temporary(ref e) if e.to_lowercase().contains("certificate") || e.to_lowercase().contains("tls")),
        "an untrusted certificate was accepted: {outcome:?}"
    );
    assert_eq!(sink.received(), 1);
}

#[tokio::test]
async fn a_ca_file_that_is_not_a_certificate_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate").expect("write");
    let err = Mailer::new(&MailerSettings {
        smtp_url: Some("smtp://u:p@relay.example:587?tls=starttls".into()),
        ca_file: Some(path.clone()),
        ..MailerSettings::default()
    })
    .expect_err("not PEM");
    assert!(err.to_string().contains("ca.pem"), "{err}");
}
