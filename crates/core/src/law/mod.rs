//! The French late-payment law as pure functions: rate tables, penalties and interest, payment-term caps, prescription.
//!
//! Everything here is deterministic: the rate table, the dates (`as_of`) and the amounts are passed
//! in, nothing reads a clock or a file. Each rule cites the article it applies:
//! - [`rates`]: the ECB main refinancing rate (Code de commerce L441-10 II) and the French legal
//!   interest rate per half-year (Code monétaire et financier L313-2), shipped as data
//!   (`crates/core/data/rates.toml`) and mergeable with a newer file;
//! - [`penalties`]: business late penalties and the 40 € recovery indemnity (L441-10 II, D441-5),
//!   consumer moratory interest from the formal notice (Code civil 1231-6, 1344-1);
//! - [`terms`]: the payment-term caps (L441-10 I);
//! - [`litigation`]: which court procedure fits a claim (small claims up to 5,000 €, else
//!   injonction de payer, commercial or judicial court);
//! - [`prescription`]: 5 years between merchants (Code de commerce L110-4), 2 years against a
//!   consumer (Code de la consommation L218-2).

pub mod litigation;
pub mod penalties;
pub mod prescription;
pub mod rates;
pub mod terms;

pub use litigation::{choose_procedure, Procedure, ProcedureChoice, SMALL_CLAIMS_CEILING_EUR};
pub use penalties::{
    compute_business_penalties, compute_consumer_interest, compute_penalties, PartialPayment,
    PenaltyComputation, PenaltyInput, PenaltySummary, Period, PeriodSummary, RateBasis,
};
pub use prescription::{
    prescription_date, prescription_warning, PrescriptionLevel, PrescriptionWarning,
};
pub use rates::{EcbChange, Half, HalfYear, LegalRateCategory, LegalRates, RateTable};
pub use terms::{check_payment_terms, TermWarning};

use chrono::NaiveDate;

use crate::money::MoneyError;

/// Errors of the law computations. A missing rate is always an error naming what is missing:
/// the law module never guesses a rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LawError {
    #[error("invalid rate table: {0}")]
    InvalidTable(String),
    #[error(
        "no ECB main refinancing rate known on {date} (half-year {half_year}): {detail}; \
         add the ECB's changes to the rate table"
    )]
    MissingEcbRate {
        half_year: HalfYear,
        date: NaiveDate,
        detail: String,
    },
    #[error(
        "no legal interest rate ({category}) for half-year {half_year} in the rate table; \
         add it from the arrêté published in the Journal officiel"
    )]
    MissingLegalRate {
        half_year: HalfYear,
        category: LegalRateCategory,
    },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("date out of the supported range after {0}")]
    DateOutOfRange(NaiveDate),
    #[error("amount too large to compute interest on: {0}")]
    Overflow(String),
    #[error(transparent)]
    Money(#[from] MoneyError),
}
