//! Which court procedure fits a claim: the choice the litigation file proposes.
//!
//! - *Procédure simplifiée de recouvrement des petites créances* (Code des procédures civiles
//!   d'exécution L125-1, R125-1 and following): a claim of contractual origin of at most
//!   5,000 € in principal and interest, through a commissaire de justice, with the debtor's
//!   agreement; quick and cheap, it yields an enforceable title without a judge.
//! - *Injonction de payer* (Code de procédure civile 1405 and following): a request to the
//!   tribunal de commerce when both parties are traders, to the tribunal judiciaire otherwise
//!   (form Cerfa 12948). It is also the fallback when the debtor refuses the small-claims
//!   procedure.
//!
//! The choice is a proposal for a person (a lawyer or the credit manager) to confirm: the
//! module says why it proposes what it does, and what else is open.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::{Currency, Money};
use crate::party::CustomerKind;

/// The ceiling of the small-claims procedure, principal and interest (R125-1 CPCE, since 2022).
pub const SMALL_CLAIMS_CEILING_EUR: Decimal = Decimal::from_parts(5000, 0, 0, false, 0);

/// A court procedure relance can prepare a draft for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    /// Procédure simplifiée de recouvrement des petites créances (commissaire de justice).
    SmallClaims,
    /// Injonction de payer before the tribunal de commerce (both parties traders).
    PaymentOrderCommercialCourt,
    /// Injonction de payer before the tribunal judiciaire (Cerfa 12948).
    PaymentOrderJudicialCourt,
}

impl Procedure {
    pub fn as_str(&self) -> &'static str {
        match self {
            Procedure::SmallClaims => "small_claims",
            Procedure::PaymentOrderCommercialCourt => "payment_order_commercial_court",
            Procedure::PaymentOrderJudicialCourt => "payment_order_judicial_court",
        }
    }

    /// The procedure's name as a French court knows it.
    pub fn title_fr(&self) -> &'static str {
        match self {
            Procedure::SmallClaims => "Procédure simplifiée de recouvrement des petites créances",
            Procedure::PaymentOrderCommercialCourt => {
                "Requête en injonction de payer — tribunal de commerce"
            }
            Procedure::PaymentOrderJudicialCourt => {
                "Requête en injonction de payer — tribunal judiciaire"
            }
        }
    }

    pub fn title_en(&self) -> &'static str {
        match self {
            Procedure::SmallClaims => "Simplified small-claims recovery procedure",
            Procedure::PaymentOrderCommercialCourt => {
                "Request for a payment order (injonction de payer) — commercial court"
            }
            Procedure::PaymentOrderJudicialCourt => {
                "Request for a payment order (injonction de payer) — judicial court"
            }
        }
    }

    /// The texts the procedure rests on.
    pub fn legal_basis(&self) -> &'static str {
        match self {
            Procedure::SmallClaims => "CPCE L125-1, R125-1 à R125-8",
            Procedure::PaymentOrderCommercialCourt | Procedure::PaymentOrderJudicialCourt => {
                "Code de procédure civile, art. 1405 à 1425"
            }
        }
    }
}

/// The procedure proposed for a claim, why, and the fallback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcedureChoice {
    pub procedure: Procedure,
    /// The payment order that follows if the debtor refuses the small-claims procedure, or
    /// `None` when the proposal already is a payment order.
    pub fallback: Option<Procedure>,
    /// One sentence, in English, that a person can check.
    pub reason: String,
}

/// Proposes a procedure for a claim of `principal_and_interest` against a debtor of `kind`.
/// The creditor is a business (relance serves companies); a business debtor is taken to be a
/// trader, which a person confirms before filing (a liberal profession is not one).
pub fn choose_procedure(kind: CustomerKind, principal_and_interest: Money) -> ProcedureChoice {
    let payment_order = match kind {
        CustomerKind::Business => Procedure::PaymentOrderCommercialCourt,
        CustomerKind::Consumer => Procedure::PaymentOrderJudicialCourt,
    };
    let court = match payment_order {
        Procedure::PaymentOrderCommercialCourt => "tribunal de commerce (both parties traders)",
        _ => "tribunal judiciaire (the debtor is not a trader)",
    };
    let small = principal_and_interest.currency == Currency::EUR
        && principal_and_interest.amount <= SMALL_CLAIMS_CEILING_EUR
        && principal_and_interest.is_positive();
    if small {
        ProcedureChoice {
            procedure: Procedure::SmallClaims,
            fallback: Some(payment_order),
            reason: format!(
                "{} in principal and interest is within the {} € ceiling of the small-claims \
                 procedure (R125-1 CPCE); if the debtor does not agree within a month, an \
                 injonction de payer before the {court}",
                principal_and_interest.format_en(),
                SMALL_CLAIMS_CEILING_EUR
            ),
        }
    } else {
        let why = if principal_and_interest.currency != Currency::EUR {
            format!(
                "the claim is in {}, and the small-claims ceiling is set in euros",
                principal_and_interest.currency
            )
        } else {
            format!(
                "{} in principal and interest exceeds the {} € ceiling of the small-claims procedure",
                principal_and_interest.format_en(),
                SMALL_CLAIMS_CEILING_EUR
            )
        };
        ProcedureChoice {
            procedure: payment_order,
            fallback: None,
            reason: format!("{why}: injonction de payer before the {court}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(text: &str) -> Money {
        Money::eur(text.parse().unwrap_or_default())
    }

    #[test]
    fn small_claims_up_to_the_ceiling_included() {
        let at = choose_procedure(CustomerKind::Business, eur("5000.00"));
        assert_eq!(at.procedure, Procedure::SmallClaims);
        assert_eq!(at.fallback, Some(Procedure::PaymentOrderCommercialCourt));
        let above = choose_procedure(CustomerKind::Business, eur("5000.01"));
        assert_eq!(above.procedure, Procedure::PaymentOrderCommercialCourt);
        assert_eq!(above.fallback, None);
    }

    #[test]
    fn consumers_go_to_the_judicial_court() {
        let big = choose_procedure(CustomerKind::Consumer, eur("12000"));
        assert_eq!(big.procedure, Procedure::PaymentOrderJudicialCourt);
        let small = choose_procedure(CustomerKind::Consumer, eur("800"));
        assert_eq!(small.procedure, Procedure::SmallClaims);
        assert_eq!(small.fallback, Some(Procedure::PaymentOrderJudicialCourt));
        assert!(
            small.reason.contains("tribunal judiciaire"),
            "{}",
            small.reason
        );
    }

    #[test]
    fn other_currencies_never_use_the_euro_ceiling() {
        let usd = Money::new(
            "100".parse().unwrap_or_default(),
            Currency::parse("USD").unwrap_or(Currency::EUR),
        );
        let choice = choose_procedure(CustomerKind::Business, usd);
        assert_eq!(choice.procedure, Procedure::PaymentOrderCommercialCourt);
        assert!(choice.reason.contains("USD"), "{}", choice.reason);
    }
}
