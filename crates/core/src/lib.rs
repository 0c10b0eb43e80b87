//! relance-core: the pure domain of receivables follow-up.
//!
//! Everything here is deterministic and free of I/O: no clock, no files, no database, no async.
//! Callers pass `as_of` dates and data in; the core returns decisions and amounts. This is what
//! makes every run replayable and every rule testable in isolation (see `ARCHITECTURE.md`).

pub mod aging;
pub mod calendar;
pub mod calls;
pub mod dso;
pub mod effectiveness;
pub mod experiment;
pub mod forecast;
pub mod ids;
pub mod law;
pub mod ledger;
pub mod matching;
pub mod money;
pub mod party;
pub mod planner;
pub mod post;
pub mod scoring;

pub use money::{check_amount_bound, Currency, Money, MoneyError, MAX_AMOUNT};
