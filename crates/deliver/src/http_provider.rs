//! SMS (and postal) providers through one generic HTTP adapter: a configured URL, method,
//! headers and body template (minijinja, sandboxed, the engine of the message templates). The
//! provider's answer decides: 2xx sent (with the provider's id when its JSON names one), 4xx a
//! permanent failure (the request is wrong: retrying sends the same request), 5xx and trouble
//! on the way (refused, reset, timeout) temporary, retried later with backoff by the
//! dispatcher.
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
    /// Checks the settings (method, header names, every template) and compiles them.
    pub fn new(settings: HttpProviderSettings) -> Result<Self, HttpProviderError> {
        let setting =
            |field: &'static str, message: String| HttpProviderError::Setting { field, message };
        let method = Method::from_bytes(settings.method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|e| {
                setting(
                    "RELANCE_SMS_METHOD",
                    format!("\"{}\": {e}", settings.method),
                )
            })?;
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_fuel(Some(100_000));
        env.add_filter("json", json_filter);
        env.add_filter("urlencode", urlencode_filter);
        env.add_template_owned("url", settings.url.clone())
            .map_err(|e| setting("RELANCE_SMS_URL", e.to_string()))?;
        env.add_template_owned("body", settings.body.clone())
            .map_err(|e| setting("RELANCE_SMS_BODY", e.to_string()))?;
        for (i, (name, value)) in settings.headers.iter().enumerate() {
            hyper::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| setting("RELANCE_SMS_HEADERS", format!("\"{name}\": {e}")))?;
            env.add_template_owned(format!("header{i}"), value.clone())
                .map_err(|e| setting("RELANCE_SMS_HEADERS", format!("{name}: {e}")))?;
        }
        // Everything renders against a sample, and the URL is one we can reach.
        let sample = HttpMessage {
            to: "+33600000000".into(),
            from: settings.from.clone(),
            text: "test".into(),
            reference: "key".into(),
        };
        let provider = HttpProvider {
            method,
            env,
            tls: Arc::new(tls_config()),
            settings,
        };
        provider
            .request(&sample)
            .map_err(|e| setting("RELANCE_SMS_URL", e))?;
        Ok(provider)
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

    fn request(&self, message: &HttpMessage) -> Result<Request<Full<Bytes>>, String> {
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

    /// Sends one message; never panics, every problem is an outcome.
    pub async fn send(&self, message: &HttpMessage) -> HttpOutcome {
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
