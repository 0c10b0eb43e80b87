//! What the server's tests in process share: the router driven with tower's `oneshot`, a
//! logged-in session, the CSRF token of a page, the flash message of a redirect, and an SMTP
//! sink on loopback (aiosmtpd).

#![allow(dead_code)]

pub mod world;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use relance_server::auth;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

/// aiosmtpd on loopback, storing each message as a file; killed when dropped.
pub struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Sink {
    pub fn start() -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("mail"))
            .arg("0")
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
        Sink { child, dir, port }
    }

    pub fn messages(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` through the router in process: its status, headers and body as text.
pub async fn oneshot(
    app: &Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

pub struct App {
    pub app: Router,
}

impl App {
    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        oneshot(&self.app, request).await
    }

    pub async fn get(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let r = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = self.send(r).await;
        (status, body)
    }

    /// Posts a form; returns the status and where it redirects.
    pub async fn post(
        &self,
        path: &str,
        cookie: &str,
        form: &str,
        lang: &str,
    ) -> (StatusCode, String) {
        let r = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::from(form.to_string()))
            .expect("request");
        let (status, headers, _) = self.send(r).await;
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, location)
    }

    /// Posts a body of `content_type` with a cookie and a language; returns the status, where
    /// it redirects and the body.
    pub async fn post_raw(
        &self,
        path: &str,
        cookie: &str,
        content_type: &str,
        body: Vec<u8>,
        lang: &str,
    ) -> (StatusCode, String, String) {
        let r = Request::post(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::from(body))
            .expect("request");
        let (status, headers, body) = self.send(r).await;
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, location, body)
    }

    /// A GET in a language; the status and the body.
    pub async fn get_in(&self, path: &str, cookie: &str, lang: &str) -> (StatusCode, String) {
        let r = Request::get(path)
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = self.send(r).await;
        (status, body)
    }

    pub async fn login(&self, email: &str) -> String {
        let (_, headers, _) = self
            .send(Request::get("/login").body(Body::empty()).expect("request"))
            .await;
        let csrf = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
            .expect("login CSRF cookie");
        let r = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                format!("{}={csrf}", auth::LOGIN_CSRF_COOKIE),
            )
            .body(Body::from(format!(
                "email={email}&password={}&csrf={csrf}&next=/",
                PASSWORD.replace(' ', "+")
            )))
            .expect("request");
        let (status, headers, _) = self.send(r).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login of {email}");
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(auth::SESSION_COOKIE))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
            .expect("session cookie")
    }

    pub async fn csrf_of(&self, cookie: &str, page: &str) -> String {
        let (status, body) = self.get(page, cookie).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        body[start..start + 64].to_string()
    }
}

/// The flash message a redirect carries (`done=` or `error=`), decoded.
pub fn flash(location: &str) -> String {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or("");
    url_decode(query)
}

pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
