//! relance-deliver: how a rendered message leaves.
//!
//! - [`Mailer`]: e-mail over SMTP with lettre (`RELANCE_SMTP_URL`: `smtp://`, `smtps://`,
//!   `smtp://…?tls=required` for STARTTLS, `user:pass@` for authentication), a pool of
//!   connections, SMTP 4xx classified as temporary and 5xx as permanent, and a per-domain rate
//!   limit. Without an SMTP server the messages are written as `.eml` files under the outbox
//!   folder: never dropped.
//! - [`write_letter`]: a letter is one PDF file under `outbox/letters/DAY/` (posting it is a
//!   later step), identified by its SHA-256.
//! - [`http_provider::HttpProvider`]: SMS (or postal) providers through a generic HTTP adapter
//!   (URL, method, headers, body template).
//!
//! What to send and the bookkeeping (claims, exactly once) are the store's and the dispatcher's:
//! this crate only moves bytes and says how it went.

pub mod http_provider;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::{Digest, Sha256};

/// Errors of setting up a channel (sending reports [`SendOutcome`] instead).
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("RELANCE_SMTP_URL \"{url}\": {message}")]
    SmtpUrl { url: String, message: String },
    #[error("RELANCE_SMTP_CA_FILE {path}: {message}")]
    SmtpCa { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How one sending went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted by the SMTP server, or written to `path` (the .eml file without a server).
    Sent { path: Option<PathBuf> },
    /// Worth trying again later: SMTP 4xx, connection refused or lost, timeout.
    Temporary(String),
    /// Will not work as it is: SMTP 5xx (the address is rejected), an invalid address.
    Permanent(String),
}

/// One e-mail ready to go: the envelope and the MIME bytes (from `relance_render::build_email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub from: String,
    pub to: String,
    /// Without angle brackets; names the .eml file when there is no SMTP server.
    pub message_id: String,
    /// The calendar day it is sent (the folder of the .eml file).
    pub day: NaiveDate,
    pub bytes: Vec<u8>,
}

/// Settings of the mailer.
#[derive(Debug, Clone, PartialEq)]
pub struct MailerSettings {
    /// `RELANCE_SMTP_URL`; `None`: .eml files under `outbox/mail`.
    pub smtp_url: Option<String>,
    /// The outbox folder (`RELANCE_OUTBOX`, default `./outbox`).
    pub outbox: PathBuf,
    /// Connections kept open to the SMTP server.
    pub pool_size: u32,
    /// Messages per second to one recipient domain; 0 = no limit.
    pub per_domain_rate: f64,
    /// Time allowed for each SMTP command.
    pub timeout: Duration,
    /// A PEM file of the certificate authority that signed the SMTP server's certificate (a
    /// private CA, a self-signed server), trusted besides the usual roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for MailerSettings {
    fn default() -> Self {
        MailerSettings {
            smtp_url: None,
            outbox: PathBuf::from("outbox"),
            pool_size: 8,
            per_domain_rate: 0.0,
            timeout: Duration::from_secs(60),
            ca_file: None,
        }
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Plain(PlainPool),
    Files(PathBuf),
}

/// Connections of our own to a plain `smtp://host:port` (no TLS, no authentication: a local
/// relay), with TCP_NODELAY. lettre writes a message's body and its final `.` in two writes and
/// leaves Nagle's algorithm on: each message then waits for the server's delayed ACK (~40 ms on
/// Linux), which capped the benchmark at ~100 messages per second.
struct PlainPool {
    host: String,
    port: u16,
    timeout: Duration,
    idle: tokio::sync::Mutex<Vec<AsyncSmtpConnection>>,
}

impl PlainPool {
    /// `smtp://host[:port]` with nothing else, or `None`.
    fn parse(url: &str, timeout: Duration) -> Option<PlainPool> {
        let rest = url.strip_prefix("smtp://")?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['@', '?', '/', '[']) {
            return None;
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (rest, 25),
        };
        Some(PlainPool {
            host: host.to_string(),
            port,
            timeout,
            idle: tokio::sync::Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let stream = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| format!("connection to {}:{} timed out", self.host, self.port))?
        .map_err(|e| format!("cannot connect to {}:{}: {e}", self.host, self.port))?;
        stream
            .set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default())
            .await
            .map_err(|e| format!("{e}"))
    }

    async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> SendOutcome {
        let idle = self.idle.lock().await.pop();
        let mut conn = match idle {
            Some(conn) if !conn.has_broken() => conn,
            _ => match self.connect().await {
                Ok(conn) => conn,
                Err(e) => return SendOutcome::Temporary(e),
            },
        };
        let result = tokio::time::timeout(self.timeout, conn.send(envelope, bytes)).await;
        match result {
            Ok(Ok(_)) => {
                self.idle.lock().await.push(conn);
                SendOutcome::Sent { path: None }
            }
            Ok(Err(e)) => {
                // The transaction is in an unknown state: this connection is not reused.
                conn.abort().await;
                classify(&e)
            }
            Err(_) => SendOutcome::Temporary(format!(
                "no answer from {}:{} within {:?}",
                self.host, self.port, self.timeout
            )),
        }
    }
}

/// Sends e-mails over SMTP, or writes them as .eml files.
pub struct Mailer {
    transport: Transport,
    limiter: DomainLimiter,
    description: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.description)
            .finish()
    }
}

impl Mailer {
    pub fn new(settings: &MailerSettings) -> Result<Mailer, DeliverError> {
        let limiter = DomainLimiter::new(settings.per_domain_rate);
        match settings
            .smtp_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            Some(url) if PlainPool::parse(url, settings.timeout).is_some() => {
                let pool = PlainPool::parse(url, settings.timeout).ok_or_else(|| {
                    DeliverError::SmtpUrl {
                        url: url.to_string(),
                        message: "invalid".into(),
                    }
                })?;
                Ok(Mailer {
                    transport: Transport::Plain(pool),
                    limiter,
                    description: format!("SMTP {url}"),
                })
            }
            Some(url) => {
                let shown = redact(url);
                // `tls=starttls` reads better than lettre's `tls=required`; both are accepted.
                let url = &url.replace("tls=starttls", "tls=required");
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
                    DeliverError::SmtpUrl {
                        url: shown.clone(),
                        message: format!(
                            "{e} (expected smtp://[user:pass@]host[:port], smtps://…, or smtp://…?tls=required for STARTTLS)"
                        ),
                    }
                })?;
                if let Some(path) = &settings.ca_file {
                    builder = builder.tls(tls_with_ca(url, path)?);
                }
                let transport = builder
                    .timeout(Some(settings.timeout))
                    .pool_config(PoolConfig::new().max_size(settings.pool_size.max(1)))
                    .build();
                Ok(Mailer {
                    transport: Transport::Smtp(transport),
                    limiter,
                    description: format!("SMTP {shown}"),
                })
            }
            None => {
                let dir = settings.outbox.join("mail");
                Ok(Mailer {
                    transport: Transport::Files(dir.clone()),
                    limiter,
                    description: format!(".eml files in {}", dir.display()),
                })
            }
        }
    }

    /// Where the messages go, for humans ("SMTP smtp://u:***@host", ".eml files in …").
    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn is_smtp(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_) | Transport::Plain(_))
    }

    /// Sends one message (waiting for its domain's turn when rate-limited).
    pub async fn send(&self, email: &OutgoingEmail) -> SendOutcome {
        let to: Address = match email.to.parse() {
            Ok(a) => a,
            Err(e) => {
                return SendOutcome::Permanent(format!("invalid recipient {}: {e}", email.to))
            }
        };
        let from: Address = match email.from.parse() {
            Ok(a) => a,
            Err(e) => return SendOutcome::Permanent(format!("invalid sender {}: {e}", email.from)),
        };
        self.limiter.wait_turn(to.domain()).await;
        match &self.transport {
            Transport::Smtp(smtp) => {
                let envelope = match Envelope::new(Some(from), vec![to]) {
                    Ok(e) => e,
                    Err(e) => return SendOutcome::Permanent(format!("envelope: {e}")),
                };
                match smtp.send_raw(&envelope, &email.bytes).await {
                    Ok(_) => SendOutcome::Sent { path: None },
                    Err(e) => classify(&e),
                }
            }
            Transport::Plain(pool) => {
                let envelope = match Envelope::new(Some(from), vec![to]) {
                    Ok(e) => e,
                    Err(e) => return SendOutcome::Permanent(format!("envelope: {e}")),
                };
                pool.send(&envelope, &email.bytes).await
            }
            Transport::Files(dir) => {
                let folder = dir.join(email.day.to_string());
                let path = folder.join(format!("{}.eml", file_safe(&email.message_id)));
                match write_atomically(&folder, &path, &email.bytes).await {
                    Ok(()) => SendOutcome::Sent { path: Some(path) },
                    Err(e) => SendOutcome::Temporary(e.to_string()),
                }
            }
        }
    }
}

/// The TLS mode of `url` (`smtps://`, `?tls=required`, `?tls=opportunistic`) with the
/// certificate authority of `path` trusted besides the usual roots.
fn tls_with_ca(url: &str, path: &Path) -> Result<Tls, DeliverError> {
    let err = |message: String| DeliverError::SmtpCa {
        path: path.to_path_buf(),
        message,
    };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    // lettre's parser skips what is not a certificate: an empty trust list would fail later,
    // at the first message, with a less helpful error.
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(err(
            "no \"-----BEGIN CERTIFICATE-----\" block: not a PEM certificate".into(),
        ));
    }
    let cert =
        Certificate::from_pem(&pem).map_err(|e| err(format!("not a PEM certificate: {e}")))?;
    let host = smtp_host(url).ok_or_else(|| err(format!("no host in {}", redact(url))))?;
    let params = TlsParameters::builder(host)
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| err(e.to_string()))?;
    if url.starts_with("smtps://") {
        Ok(Tls::Wrapper(params))
    } else if url.contains("tls=required") {
        Ok(Tls::Required(params))
    } else if url.contains("tls=opportunistic") {
        Ok(Tls::Opportunistic(params))
    } else {
        Err(err(format!(
            "{} does not use TLS: use smtps://… or smtp://…?tls=starttls",
            redact(url)
        )))
    }
}

/// The host of `scheme://[user:pass@]host[:port][/…][?…]`.
fn smtp_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    Some(host.to_string()).filter(|h| !h.is_empty())
}

/// SMTP 4xx and trouble on the way (connection, timeout, TLS) are temporary; 5xx permanent.
fn classify(error: &lettre::transport::smtp::Error) -> SendOutcome {
    let code = error
        .status()
        .map(|c| format!("SMTP {c}: "))
        .unwrap_or_default();
    let text = format!("{code}{error}");
    if error.is_permanent() {
        SendOutcome::Permanent(text)
    } else {
        SendOutcome::Temporary(text)
    }
}

/// A letter written as `outbox/letters/DAY/NAME.pdf`; returns its path and SHA-256 (hex).
pub async fn write_letter(
    outbox: &Path,
    day: NaiveDate,
    name: &str,
    pdf: &[u8],
) -> Result<(PathBuf, String), DeliverError> {
    let folder = outbox.join("letters").join(day.to_string());
    let path = folder.join(format!("{}.pdf", file_safe(name)));
    write_atomically(&folder, &path, pdf).await?;
    Ok((path, sha256_hex(pdf)))
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Written to a temporary name then renamed: a reader never sees half a file.
async fn write_atomically(folder: &Path, path: &Path, bytes: &[u8]) -> Result<(), DeliverError> {
    let err = |source| DeliverError::Write {
        path: path.to_path_buf(),
        source,
    };
    tokio::fs::create_dir_all(folder).await.map_err(err)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    tokio::fs::write(&tmp, bytes).await.map_err(err)?;
    tokio::fs::rename(&tmp, path).await.map_err(err)?;
    Ok(())
}

/// Letters, digits, `-`, `_` and `.` kept; anything else becomes `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A URL safe to print: the password is replaced by `***`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// At most `rate` messages per second to each recipient domain: each message reserves the next
/// free slot of its domain and waits for it.
struct DomainLimiter {
    interval: Option<Duration>,
    next: Mutex<HashMap<String, Instant>>,
}

impl DomainLimiter {
    fn new(rate: f64) -> DomainLimiter {
        let interval =
            (rate.is_finite() && rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
        DomainLimiter {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    async fn wait_turn(&self, domain: &str) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            let mut next = match self.next.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            let now = Instant::now();
            let entry = next.entry(domain.to_ascii_lowercase()).or_insert(now);
            let slot = (*entry).max(now);
            *entry = slot + interval;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_names() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(file_safe("relance.1.a/b@x.fr"), "relance.1.a_b_x.fr");
        assert_eq!(redact("smtp://u:pw@h:25"), "smtp://u:***@h:25");
    }

    #[tokio::test]
    async fn rate_limit_spaces_messages_of_one_domain() {
        let limiter = DomainLimiter::new(20.0);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.wait_turn("example.fr").await;
        }
        // 5 messages at 20/s: the 5th waits 4 × 50 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
        let other = Instant::now();
        limiter.wait_turn("other.fr").await;
        assert!(other.elapsed() < Duration::from_millis(40));
    }

    #[tokio::test]
    async fn without_smtp_messages_become_eml_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mailer = Mailer::new(&MailerSettings {
            outbox: dir.path().to_path_buf(),
            ..Default::default()
        })
        .expect("mailer");
        assert!(!mailer.is_smtp());
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).expect("date");
        let outcome = mailer
            .send(&OutgoingEmail {
                from: "a@b.fr".into(),
                to: "c@d.fr".into(),
                message_id: "m1@b.fr".into(),
                day,
                bytes: b"Subject: x\r\n\r\nhello\r\n".to_vec(),
            })
            .await;
        let path = dir.path().join("mail/2026-03-11/m1_b.fr.eml");
        assert_eq!(
            outcome,
            SendOutcome::Sent {
                path: Some(path.clone())
            }
        );
        assert_eq!(
            std::fs::read(&path).expect("eml"),
            b"Subject: x\r\n\r\nhello\r\n"
        );
        let bad = mailer
            .send(&OutgoingEmail {
                from: "a@b.fr".into(),
                to: "not an address".into(),
                message_id: "m2@b.fr".into(),
                day,
                bytes: Vec::new(),
            })
            .await;
        assert!(matches!(bad, SendOutcome::Permanent(_)), "{bad:?}");
    }

    #[test]
    fn plain_local_relays_get_our_own_connections() {
        let t = Duration::from_secs(1);
        let pool = PlainPool::parse("smtp://127.0.0.1:2525", t).expect("plain");
        assert_eq!((pool.host.as_str(), pool.port), ("127.0.0.1", 2525));
        assert_eq!(
            PlainPool::parse("smtp://relay", t).map(|p| p.port),
            Some(25)
        );
        assert!(PlainPool::parse("smtp://u:p@relay:587", t).is_none());
        assert!(PlainPool::parse("smtp://relay:587?tls=required", t).is_none());
        assert!(PlainPool::parse("smtps://relay", t).is_none());
    }

    #[test]
    fn refuses_a_bad_smtp_url() {
        let err = Mailer::new(&MailerSettings {
            smtp_url: Some("ftp://u:secret@host".into()),
            ..Default::default()
        })
        .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("ftp://u:***@host"), "{text}");
        assert!(!text.contains("secret"));
    }
}
