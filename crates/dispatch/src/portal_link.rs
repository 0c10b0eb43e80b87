//! The debtor portal's link in every reminder: the creditor, the customer's code and the last day
//! the link works, signed with HMAC-SHA256 under the portal's key (`server_secrets`,
//! `portal_hmac_key`), exactly as the server's `/portal` route verifies it
//! (`relance_server::portal::verify`; a server test checks the two agree).

use chrono::{Days, NaiveDate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a link in a message works.
pub const VALID_DAYS: u64 = 60;

/// The signature (hex) of a portal link's fields.
pub fn sign(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("relance-portal\n{creditor}\n{customer}\n{expires}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The full link for a message sent on `today` (valid [`VALID_DAYS`] days).
pub fn link(base: &str, key: &[u8], creditor: i64, customer: &str, today: NaiveDate) -> String {
    let expires = today
        .checked_add_days(Days::new(VALID_DAYS))
        .unwrap_or(today);
    format!(
        "{}/portal?c={creditor}&u={}&e={expires}&s={}",
        base.trim_end_matches('/'),
        crate::optout::encode(customer),
        sign(key, creditor, customer, expires)
    )
}
