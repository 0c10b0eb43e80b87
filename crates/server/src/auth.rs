//! Passwords (argon2), random secrets, sessions, CSRF tokens, API tokens and login rate limits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use relance_store::users::UserRecord;
use sha2::{Digest, Sha256};

use crate::error::WebError;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "relance_session";
/// Name of the cookie that carries the login form's CSRF token (before any session exists).
pub const LOGIN_CSRF_COOKIE: &str = "relance_login_csrf";
/// How long a session lives.
pub const SESSION_HOURS: i64 = 12;

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS generator is the only acceptable source: failing closed.
        panic!("the operating system's random generator is unavailable");
    }
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// SHA-256 of `text`, hex: how session ids and API tokens are stored.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Equal without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| WebError::Internal(format!("random: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| WebError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A new API token: what the user keeps, and the hash the store keeps.
pub fn new_api_token() -> (String, String) {
    let token = format!("rl_{}", random_hex(32));
    let hash = sha256_hex(&token);
    (token, hash)
}

/// A generated password (printed once by `relance user add`).
pub fn generate_password() -> String {
    random_hex(12)
}

/// The value of cookie `name` in the request's headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when asked.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The signed-in user of a page request, with the session's CSRF token. Without a valid
/// session, the request is redirected to the login page.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRecord,
    pub csrf: String,
    pub id_hash: String,
}

impl Session {
    /// Refuses a form whose CSRF token is not the session's (403).
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Forbidden("CSRF token missing or wrong".into()))
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let login = || {
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            WebError::Login(path)
        };
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(login());
        };
        let id_hash = sha256_hex(&id);
        match state.store().session(&id_hash).await? {
            Some(s) => Ok(Session {
                user: s.user,
                csrf: s.csrf,
                id_hash,
            }),
            None => Err(login()),
        }
    }
}

/// The user of an API request, from its `Authorization: Bearer` token (401 without one).
#[derive(Debug, Clone)]
pub struct ApiUser(pub UserRecord);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(WebError::Unauthorized)?;
        match state.store().user_by_token(&sha256_hex(token)).await? {
            Some(user) => Ok(ApiUser(user)),
            None => Err(WebError::Unauthorized),
        }
    }
}

/// Failed logins per account and address: after `max` failures within `window`, further
/// attempts are refused until the window has passed.
#[derive(Debug)]
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(email: &str, ip: Option<IpAddr>) -> String {
        format!(
            "{}|{}",
            email.trim().to_lowercase(),
            ip.map(|i| i.to_string()).unwrap_or_default()
        )
    }

    /// Whether this account may try from this address now.
    pub fn allowed(&self, email: &str, ip: Option<IpAddr>) -> bool {
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        let key = Self::key(email, ip);
        match map.get(&key) {
            Some((n, since)) if since.elapsed() < self.window => *n < self.max,
            Some(_) => {
                map.remove(&key);
                true
            }
            None => true,
        }
    }

    pub fn failed(&self, email: &str, ip: Option<IpAddr>) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let window = self.window;
                map.retain(|_, (_, since)| since.elapsed() < window);
            }
            let entry = map
                .entry(Self::key(email, ip))
                .or_insert((0, Instant::now()));
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, email: &str, ip: Option<IpAddr>) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&Self::key(email, ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsE", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn limiter_blocks_after_max_failures_per_account_and_address() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let ip: Option<IpAddr> = "10.0.0.1".parse().ok();
        let other: Option<IpAddr> = "10.0.0.2".parse().ok();
        for _ in 0..3 {
            assert!(l.allowed("a@x.fr", ip));
            l.failed("A@x.fr", ip);
        }
        assert!(!l.allowed("a@x.fr", ip));
        assert!(l.allowed("a@x.fr", other));
        assert!(l.allowed("b@x.fr", ip));
    }

    #[test]
    fn reads_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=1; relance_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
