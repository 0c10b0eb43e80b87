//! relance-store: persistence on SQLite (embedded default) and PostgreSQL, with sqlx.
//!
//! One code path serves both engines: queries are written in the SQL both accept, with `$N`
//! placeholders, and run through sqlx's `Any` driver. Migrations live in parallel folders
//! (`migrations/sqlite`, `migrations/postgres`, same file names), are embedded in the binary
//! and run at start. Dates are stored as ISO 8601 text and amounts as integer minor units next
//! to their currency, so both engines sort, compare and sum them the same way.
//!
//! Every query is scoped by a creditor id: a row never leaks from one tenant to another.

mod bulk;
mod db;
mod dormancy;
mod error;

pub mod api_queries;
pub mod cases;
pub mod cash;
pub mod creditors;
pub mod customers;
pub mod events;
pub mod followups;
pub mod imports;
pub mod law;
pub mod letters;
pub mod matching;
pub mod outbox;
mod payment_writes;
pub mod payments;
pub mod policies;
pub mod reports;
mod run;
pub mod settings;
pub mod suppliers;
pub mod tasks;
pub mod templates;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod web_queries;
pub mod work;

pub use db::{redact as redact_url, Backend, Store};
pub use error::StoreError;
pub use run::DailyRun;
