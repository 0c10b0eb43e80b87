//! Unsubscribe links of commercial messages: the creditor, the contact's code and the last day
//! the link works, signed with HMAC-SHA256 like the debtor portal's links, under the same key
//! (`server_secrets.portal_hmac_key`) but another domain string, so a portal signature is never
//! a valid unsubscribe signature nor the reverse. The server's public route
//! (`/unsubscribe`) checks it and records the opt-out at once.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use relance_store::Store;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the signing key in `server_secrets` (shared with the portal).
pub const KEY_NAME: &str = "portal_hmac_key";

/// How long a link works: a year after the message.
pub const VALID_DAYS: u64 = 365;

/// The signing key, created at first use (64 random hex digits).
pub async fn optout_key(store: &Store) -> anyhow::Result<Vec<u8>> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
    let fresh: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(store.server_secret(KEY_NAME, &fresh).await?.into_bytes())
}

fn mac(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(format!("relance-unsubscribe\n{creditor}\n{customer}\n{expires}").as_bytes());
    Some(mac)
}

/// The signature (hex) of a link's fields.
pub fn sign(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> String {
    mac(key, creditor, customer, expires)
        .map(|m| {
            m.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `signature` is the one of these fields (compared in constant time).
pub fn verify(
    key: &[u8],
    creditor: i64,
    customer: &str,
    expires: NaiveDate,
    signature: &str,
) -> bool {
    if !signature.len().is_multiple_of(2) || !signature.is_ascii() {
        return false;
    }
    let bytes: Option<Vec<u8>> = (0..signature.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(signature.get(i..i + 2)?, 16).ok())
        .collect();
    let Some(bytes) = bytes else {
        return false;
    };
    mac(key, creditor, customer, expires).is_some_and(|m| m.verify_slice(&bytes).is_ok())
}

/// `application/x-www-form-urlencoded` escaping of a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The full link: `BASE/unsubscribe?c=…&u=…&e=…&s=…`.
pub fn link(base: &str, key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> String {
    format!(
        "{}/unsubscribe?c={creditor}&u={}&e={expires}&s={}",
        base.trim_end_matches('/'),
        encode(customer),
        sign(key, creditor, customer, expires)
    )
}

/// The server's public address for links in messages: `RELANCE_PUBLIC_URL`, or the address
/// `relance serve` listens on by default.
pub fn public_url() -> String {
    std::env::var("RELANCE_PUBLIC_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_refuse_any_change() {
        let key = b"k".repeat(32);
        let day = NaiveDate::from_ymd_opt(2027, 1, 31).expect("day");
        let s = sign(&key, 1, "C 1", day);
        assert!(verify(&key, 1, "C 1", day, &s));
        assert!(!verify(&key, 2, "C 1", day, &s));
        assert!(!verify(&key, 1, "C 2", day, &s));
        assert!(!verify(&key, 1, "C 1", day.succ_opt().expect("d"), &s));
        assert!(!verify(&key, 1, "C 1", day, "zz"));
        assert!(!verify(&key, 1, "C 1", day, "é"));
        assert!(link("https://x/", &key, 1, "C 1", day)
            .starts_with("https://x/unsubscribe?c=1&u=C%201&e=2027-01-31&s="));
    }
}
