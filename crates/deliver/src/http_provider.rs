//! SMS (and postal) providers through one generic HTTP adapter: a configured URL, method,
//! headers and body template (minijinja, sandboxed, the engine of the message templates). The
//! provider's answer decides: 2xx sent (with the provider's id when its JSON names one), 4xx a
//! permanent failure (the request is wrong: retrying sends the same request), 5xx and trouble
//! on the way (refused, reset, timeout) temporary, retried later with backoff by the
//! dispatcher.
//!
//! The same adapter carries letters to a postal provider (a hybrid-mail service that prints,
//! envelopes and posts them): its templates see a [`PostalMessage`] — the addressee, whether the
//! letter is registered and with an acknowledgement of receipt, and the PDF in base64 — and the
//! id it answers (a tracking number) is recorded on the letter.
//!
//! One connection per message (HTTP/1.1 with hyper; `https://` with rustls and the Mozilla
//! roots): SMS volumes are small and providers close idle connections anyway.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

/// The body sent when none is configured: JSON with the recipient, the text, the sender and
/// our reference (the action's idempotency key, which a provider may use to drop duplicates).
pub const DEFAULT_BODY: &str = r#"{"to": {{ to|json }}, "from": {{ from|json }}, "text": {{ text|json }}, "reference": {{ reference|json }}}"#;

/// The body sent to a postal provider when none is configured.
pub const DEFAULT_POSTAL_BODY: &str = r#"{"reference": {{ reference|json }}, "sender": {"name": {{ from|json }}, "address": {{ sender_address|json }}}, "recipient": {"name": {{ to|json }}, "address_lines": {{ address_lines|json }}, "postcode": {{ postcode|json }}, "city": {{ city|json }}}, "registered": {{ registered|json }}, "acknowledgement_of_receipt": {{ acknowledgement|json }}, "document": {"filename": {{ filename|json }}, "content_type": "application/pdf", "base64": {{ pdf_base64|json }}, "sha256": {{ pdf_sha256|json }}}}"#;

/// What a postal provider's templates see: one letter.
#[derive(Debug, Clone, Serialize)]
pub struct PostalMessage {
    /// The addressee's name.
    pub to: String,
    /// Its postal address, lines without the name.
    pub address_lines: Vec<String>,
    /// `address_lines` joined with newlines.
    pub address: String,
    /// The French postcode found in the address, empty if none.
    pub postcode: String,
    /// The rest of the postcode's line ("75002 Paris" → "Paris").
    pub city: String,
    /// The sender (the creditor's name) and its address, lines joined with newlines.
    pub from: String,
    pub sender_address: String,
    /// A registered letter (`registered_letter`, `registered_letter_ar`).
    pub registered: bool,
    /// With an acknowledgement of receipt (`registered_letter_ar`).
    pub acknowledgement: bool,
    pub filename: String,
    pub pdf_base64: String,
    pub pdf_sha256: String,
    /// The action's idempotency key.
    pub reference: String,
}

impl PostalMessage {
    /// A letter for `to` at `address` (lines separated by newlines) with its PDF.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        to: &str,
        address: &str,
        from: &str,
        sender_address: &str,
        channel: &str,
        filename: &str,
        pdf: &[u8],
        reference: &str,
    ) -> PostalMessage {
        use base64::Engine as _;
        let address_lines: Vec<String> = address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let postcode = relance_core::post::postcode(address).unwrap_or_default();
        let city = address_lines
            .iter()
            .rev()
            .filter(|_| !postcode.is_empty())
            .find_map(|l| l.split_once(postcode.as_str()))
            .map(|(_, rest)| rest.trim().trim_start_matches(',').trim().to_string())
            .unwrap_or_default();
        PostalMessage {
            to: to.to_string(),
            address: address_lines.join("\n"),
            address_lines,
            postcode,
            city,
            from: from.to_string(),
            sender_address: sender_address.to_string(),
            registered: channel.starts_with("registered_letter"),
            acknowledgement: channel == "registered_letter_ar",
            filename: filename.to_string(),
            pdf_base64: base64::engine::general_purpose::STANDARD.encode(pdf),
            pdf_sha256: crate::sha256_hex(pdf),
            reference: reference.to_string(),
        }
    }

    fn sample(from: &str) -> PostalMessage {
        PostalMessage::new(
            "Client SARL",
            "1 rue de la Paix\n75002 Paris",
            from,
            "2 avenue Foch\n69006 Lyon",
            "registered_letter_ar",
            "letter.pdf",
            b"%PDF-1.7",
            "key",
        )
    }
}

/// Which provider a configuration is for: it decides the sample its templates are checked
/// against and the names errors give (`RELANCE_SMS_*` or `RELANCE_POSTAL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Sms,
    Postal,
}

impl ProviderKind {
    fn setting(self, field: &'static str) -> &'static str {
        match (self, field) {
            (ProviderKind::Sms, "URL") => "RELANCE_SMS_URL",
            (ProviderKind::Sms, "METHOD") => "RELANCE_SMS_METHOD",
            (ProviderKind::Sms, "HEADERS") => "RELANCE_SMS_HEADERS",
            (ProviderKind::Sms, _) => "RELANCE_SMS_BODY",
            (ProviderKind::Postal, "URL") => "RELANCE_POSTAL_URL",
            (ProviderKind::Postal, "METHOD") => "RELANCE_POSTAL_METHOD",
            (ProviderKind::Postal, "HEADERS") => "RELANCE_POSTAL_HEADERS",
            (ProviderKind::Postal, _) => "RELANCE_POSTAL_BODY",
        }
    }
}

/// Settings of one HTTP provider (`RELANCE_SMS_URL`, `RELANCE_SMS_METHOD`,
/// `RELANCE_SMS_HEADERS`, `RELANCE_SMS_BODY`, `RELANCE_SMS_FROM`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProviderSettings {
    /// `http://` or `https://`; a template too (`…?to={{ to|urlencode }}` for GET providers).
    pub url: String,
    /// `POST` by default.
    pub method: String,
    /// `Name: value` pairs; values are templates (`Authorization: Bearer …`).
    pub headers: Vec<(String, String)>,
    /// The request body, a template; empty: no body.
    pub body: String,
    /// The sender name or number given to the template as `from`.
    pub from: String,
    /// Time allowed for the whole exchange.
    pub timeout: Duration,
}

impl Default for HttpProviderSettings {
    fn default() -> Self {
        HttpProviderSettings {
            url: String::new(),
            method: "POST".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: DEFAULT_BODY.into(),
            from: String::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// What the templates see.
#[derive(Debug, Clone, Serialize)]
pub struct HttpMessage {
    /// The recipient (a phone number for SMS).
    pub to: String,
    pub from: String,
    pub text: String,
    /// The action's idempotency key.
    pub reference: String,
}

/// How one request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// 2xx; `provider_id` from the JSON answer (`id`, `message_id`, `messageId`, `sid`…).
    Sent {
        provider_id: Option<String>,
        /// The request body that was sent (its SHA-256 is kept as the document's).
        body: Vec<u8>,
    },
    Temporary(String),
    Permanent(String),
}

/// Errors of the configuration, found when the provider is set up.
#[derive(Debug, thiserror::Error)]
pub enum HttpProviderError {
    #[error("{field}: {message}")]
    Setting {
        field: &'static str,
        message: String,
    },
}

/// A configured provider, its templates compiled once.
pub struct HttpProvider {
    kind: ProviderKind,
    settings: HttpProviderSettings,
    method: Method,
    env: minijinja::Environment<'static>,
    tls: Arc<tokio_rustls::rustls::ClientConfig>,
}

impl std::fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProvider")
            .field("url", &self.settings.url)
            .field("method", &self.settings.method)
            .finish()
    }
}

impl HttpProvider {
    /// Checks the settings of an SMS provider (method, header names, every template) and
    /// compiles them.
    pub fn new(settings: HttpProviderSettings) -> Result<Self, HttpProviderError> {
        HttpProvider::of_kind(ProviderKind::Sms, settings)
    }

    /// The same for a postal provider (its templates see a [`PostalMessage`]).
    pub fn postal(settings: HttpProviderSettings) -> Result<Self, HttpProviderError> {
        HttpProvider::of_kind(ProviderKind::Postal, settings)
    }

    fn of_kind(
        kind: ProviderKind,
        settings: HttpProviderSettings,
    ) -> Result<Self, HttpProviderError> {
        let setting = |field: &'static str, message: String| HttpProviderError::Setting {
            field: kind.setting(field),
            message,
        };
        let method = Method::from_bytes(settings.method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|e| setting("METHOD", format!("\"{}\": {e}", settings.method)))?;
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_fuel(Some(100_000));
        env.add_filter("json", json_filter);
        env.add_filter("urlencode", urlencode_filter);
        env.add_template_owned("url", settings.url.clone())
            .map_err(|e| setting("URL", e.to_string()))?;
        env.add_template_owned("body", settings.body.clone())
            .map_err(|e| setting("BODY", e.to_string()))?;
        for (i, (name, value)) in settings.headers.iter().enumerate() {
            hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| setting("HEADERS", format!("\"{name}\": {e}")))?;
            env.add_template_owned(format!("header{i}"), value.clone())
                .map_err(|e| setting("HEADERS", format!("{name}: {e}")))?;
        }
        let provider = HttpProvider {
            kind,
            method,
            env,
            tls: Arc::new(tls_config()),
            settings,
        };
        // Everything renders against a sample, and the URL is one we can reach.
        let checked = match kind {
            ProviderKind::Sms => provider.request(&HttpMessage {
                to: "+33600000000".into(),
                from: provider.settings.from.clone(),
                text: "test".into(),
                reference: "key".into(),
            }),
            ProviderKind::Postal => {
                provider.request(&PostalMessage::sample(&provider.settings.from))
            }
        };
        checked.map_err(|e| setting("URL", e))?;
        Ok(provider)
    }

    /// SMS or postal.
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// The sender configured (`RELANCE_SMS_FROM`), if any.
    pub fn sender(&self) -> Option<&str> {
        Some(self.settings.from.trim()).filter(|f| !f.is_empty())
    }

    /// The URL without its query (which may hold a key), for humans.
    pub fn description(&self) -> String {
        let url = &self.settings.url;
        let shown = url.split(['?', '{']).next().unwrap_or(url);
        format!("{} {shown}", self.method)
    }

    fn request<M: Serialize>(&self, message: &M) -> Result<Request<Full<Bytes>>, String> {
        let render = |name: &str| -> Result<String, String> {
            self.env
                .get_template(name)
                .and_then(|t| t.render(message))
                .map_err(|e| format!("template {name}: {e}"))
        };
        let url = render("url")?;
        let uri: Uri = url
            .trim()
            .parse()
            .map_err(|e| format!("\"{url}\" is not a URL: {e}"))?;
        let (host, _, _) = target(&uri)?;
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(
                uri.path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into()),
            )
            .header(
                hyper::header::HOST,
                uri.authority().map(|a| a.as_str()).unwrap_or(&host),
            )
            .header(hyper::header::USER_AGENT, "relance");
        for (i, (name, _)) in self.settings.headers.iter().enumerate() {
            builder = builder.header(name.as_str(), render(&format!("header{i}"))?);
        }
        let body = if self.settings.body.is_empty() {
            String::new()
        } else {
            render("body")?
        };
        builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("request: {e}"))
    }

    /// Sends one message (an [`HttpMessage`] or a [`PostalMessage`]); never panics, every
    /// problem is an outcome.
    pub async fn send<M: Serialize>(&self, message: &M) -> HttpOutcome {
        let request = match self.request(message) {
            Ok(r) => r,
            Err(e) => return HttpOutcome::Permanent(e),
        };
        let body = match request.body().clone().collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(never) => match never {},
        };
        let url = match self.env.get_template("url").and_then(|t| t.render(message)) {
            Ok(u) => u,
            Err(e) => return HttpOutcome::Permanent(format!("template url: {e}")),
        };
        let uri: Uri = match url.trim().parse() {
            Ok(u) => u,
            Err(e) => return HttpOutcome::Permanent(format!("\"{url}\" is not a URL: {e}")),
        };
        let exchange = self.exchange(&uri, request);
        match tokio::time::timeout(self.settings.timeout, exchange).await {
            Err(_) => HttpOutcome::Temporary(format!(
                "no answer from {} within {:?}",
                self.description(),
                self.settings.timeout
            )),
            Ok(Err(e)) => HttpOutcome::Temporary(e),
            Ok(Ok((status, answer))) => classify(status, &answer, body),
        }
    }

    async fn exchange(
        &self,
        uri: &Uri,
        request: Request<Full<Bytes>>,
    ) -> Result<(hyper::StatusCode, Bytes), String> {
        let (host, port, tls) = target(uri)?;
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        if tls {
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|e| format!("{host}: {e}"))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {host}: {e}"))?;
            round_trip(stream, request).await
        } else {
            round_trip(tcp, request).await
        }
    }
}

async fn round_trip<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<(hyper::StatusCode, Bytes), String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("HTTP: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("HTTP answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
    .await;
    driver.abort();
    result
}

/// Host, port and whether TLS is used.
fn target(uri: &Uri) -> Result<(String, u16, bool), String> {
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        other => {
            return Err(format!(
                "\"{uri}\": the scheme must be http or https, not {other:?}"
            ))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("\"{uri}\" names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok((host, port, tls))
}

fn classify(status: hyper::StatusCode, answer: &[u8], body: Vec<u8>) -> HttpOutcome {
    let excerpt = || {
        let text = String::from_utf8_lossy(answer);
        let text: String = text.chars().take(300).collect();
        format!("HTTP {status}: {}", text.trim())
    };
    if status.is_success() {
        HttpOutcome::Sent {
            provider_id: provider_id(answer),
            body,
        }
    } else if status.is_client_error() {
        HttpOutcome::Permanent(excerpt())
    } else {
        HttpOutcome::Temporary(excerpt())
    }
}

/// The provider's id of the message, when its JSON answer has one: a top-level `id`,
/// `message_id`, `messageId`, `sid` or `reference`, or the same inside `messages[0]`/`data`.
fn provider_id(answer: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(answer).ok()?;
    let pick = |v: &serde_json::Value| -> Option<String> {
        ["id", "message_id", "messageId", "sid", "reference"]
            .iter()
            .find_map(|k| match v.get(k)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    pick(&value)
        .or_else(|| value.get("messages")?.get(0).and_then(pick))
        .or_else(|| value.get("data").and_then(pick))
}

fn json_filter(value: minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(&value)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// Percent-encoding of everything but the unreserved characters (RFC 3986).
fn urlencode_filter(value: String) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn tls_config() -> tokio_rustls::rustls::ClientConfig {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    match tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
        // ring supports the default versions; this arm only keeps the types honest.
        Err(_) => tokio_rustls::rustls::ClientConfig::builder()
            .with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
            .with_no_client_auth(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_body_is_json_with_the_text_escaped() {
        let provider = HttpProvider::new(HttpProviderSettings {
            url: "http://127.0.0.1:9/sms".into(),
            from: "Atelier".into(),
            ..HttpProviderSettings::default()
        })
        .expect("provider");
        let request = provider
            .request(&HttpMessage {
                to: "+33611223344".into(),
                from: "Atelier".into(),
                text: "Facture \"F-1\" : 1 200,00 €".into(),
                reference: "k1".into(),
            })
            .expect("request");
        let body = futures_body(request);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(json["text"], "Facture \"F-1\" : 1 200,00 €");
        assert_eq!(json["to"], "+33611223344");
        assert_eq!(json["reference"], "k1");
    }

    #[test]
    fn a_template_that_names_an_unknown_variable_is_refused_at_setup() {
        let err = HttpProvider::new(HttpProviderSettings {
            url: "http://127.0.0.1:9/sms".into(),
            body: "{{ phone }}".into(),
            ..HttpProviderSettings::default()
        })
        .expect_err("unknown variable");
        assert!(
            err.to_string().contains("RELANCE_SMS_BODY")
                || err.to_string().contains("RELANCE_SMS_URL"),
            "{err}"
        );
        let err = HttpProvider::new(HttpProviderSettings {
            url: "ftp://example.org/".into(),
            ..HttpProviderSettings::default()
        })
        .expect_err("scheme");
        assert!(err.to_string().contains("http or https"), "{err}");
    }

    #[test]
    fn the_provider_id_is_found_in_common_answers() {
        assert_eq!(provider_id(br#"{"id":"abc"}"#), Some("abc".into()));
        assert_eq!(
            provider_id(br#"{"messages":[{"messageId":42}]}"#),
            Some("42".into())
        );
        assert_eq!(provider_id(br#"{"status":"ok"}"#), None);
        assert_eq!(provider_id(b"queued"), None);
        assert_eq!(urlencode_filter("a b&é".into()), "a%20b%26%C3%A9");
    }

    fn futures_body(request: Request<Full<Bytes>>) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default()
        })
    }
}
