//! Matching bank credits to customers and invoices: the pure rules and their confidence.
//!
//! A bank line rarely says "customer C001 pays F-2026-0042". It says
//! `VIR SEPA DUPONT SARL FACT F 2026 0042 REF 8812`. The rules, strongest first:
//! 1. invoice numbers found in the remittance text (tolerant to the noise banks add: case,
//!    spaces, dashes and dots are ignored) — they name the customer and the invoices;
//! 2. the payer's IBAN, learnt from earlier payments of a customer;
//! 3. the payer's name, when it is one customer's name and no other's;
//! 4. an amount equal to one open invoice of that customer, or to all of them.
//!
//! Each decision carries a confidence in percent; at or above [`AUTO_ALLOCATE_AT`] the payment
//! is allocated automatically, below it waits in the reconciliation queue for a person. An
//! amount alone never decides between two open invoices of the same amount.

use crate::money::Money;

/// Confidence (percent) from which a match is allocated without a person.
pub const AUTO_ALLOCATE_AT: u8 = 75;

/// Upper case letters and digits only: `f-2026/0042` and `F 2026 0042` both give `F20260042`.
pub fn normalise_reference(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Keys to look up in an index of normalised invoice numbers: every run of one to four
/// consecutive words of the remittance, glued together (`F 2026 0042` → `F20260042`).
pub fn candidate_keys(remittance: &str) -> Vec<String> {
    let words: Vec<String> = remittance
        .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '.' && c != '_')
        .map(normalise_reference)
        .filter(|w| !w.is_empty())
        .collect();
    let mut keys = Vec::new();
    for start in 0..words.len() {
        let mut key = String::new();
        for word in words.iter().skip(start).take(4) {
            key.push_str(word);
            if key.len() >= 3 && !keys.contains(&key) {
                keys.push(key.clone());
            }
        }
    }
    keys
}

/// A customer's name without legal form or punctuation, for comparing with a payer's name.
pub fn normalise_name(name: &str) -> String {
    const FORMS: &[&str] = &[
        "SARL",
        "SAS",
        "SASU",
        "SA",
        "EURL",
        "SCI",
        "SNC",
        "EI",
        "LTD",
        "GMBH",
        "STE",
        "STÉ",
        "SOCIETE",
        "SOCIÉTÉ",
        "M",
        "MME",
        "MR",
        "MRS",
    ];
    name.split(|c: char| !c.is_alphanumeric())
        .map(|w| w.to_uppercase())
        .filter(|w| !w.is_empty() && !FORMS.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An open invoice as matching sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub number: String,
    pub open: Money,
}

/// What decided a customer, before amounts are looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerEvidence {
    /// Invoice numbers of this customer were in the remittance.
    InvoiceNumbers,
    /// The payer's IBAN paid this customer's invoices before.
    LearntIban,
    /// The payer's name is this customer's name.
    PayerName,
}

/// The decision for one credit once its customer is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchDecision {
    /// Invoices to settle first, in order.
    pub invoices: Vec<String>,
    pub confidence: u8,
    pub reason: String,
}

/// Decides how sure we are, and which invoices to settle first, once the customer is known.
pub fn decide(
    evidence: CustomerEvidence,
    amount: Money,
    named: &[String],
    open: &[Candidate],
) -> MatchDecision {
    let total_open = open
        .iter()
        .filter(|c| c.open.currency == amount.currency)
        .map(|c| c.open.amount)
        .sum::<rust_decimal::Decimal>();
    let same_amount: Vec<&Candidate> = open.iter().filter(|c| c.open == amount).collect();
    match evidence {
        CustomerEvidence::InvoiceNumbers => {
            let named_open: rust_decimal::Decimal = open
                .iter()
                .filter(|c| named.contains(&c.number))
                .map(|c| c.open.amount)
                .sum();
            let (confidence, how) = if named_open == amount.amount {
                (98, "the amount equals their open amount")
            } else if named_open.is_zero() {
                (
                    80,
                    "they are already settled; the money goes to the oldest open invoices",
                )
            } else {
                (
                    90,
                    "the amount differs from their open amount (partial payment or fees)",
                )
            };
            MatchDecision {
                invoices: named.to_vec(),
                confidence,
                reason: format!(
                    "invoice number(s) {} in the remittance; {how}",
                    named.join(", ")
                ),
            }
        }
        CustomerEvidence::LearntIban | CustomerEvidence::PayerName => {
            let who = if evidence == CustomerEvidence::LearntIban {
                "the payer's IBAN paid this customer before"
            } else {
                "the payer's name is this customer's"
            };
            let base: u8 = if evidence == CustomerEvidence::LearntIban {
                5
            } else {
                0
            };
            if same_amount.len() == 1 {
                MatchDecision {
                    invoices: vec![same_amount[0].number.clone()],
                    confidence: 80 + base,
                    reason: format!("{who}; the amount equals invoice {}", same_amount[0].number),
                }
            } else if amount.amount == total_open && !open.is_empty() {
                MatchDecision {
                    invoices: Vec::new(),
                    confidence: 80 + base,
                    reason: format!("{who}; the amount equals everything the customer owes"),
                }
            } else if same_amount.len() > 1 {
                MatchDecision {
                    invoices: Vec::new(),
                    confidence: 50,
                    reason: format!(
                        "{who}; {} open invoices have this amount ({}): a person must choose",
                        same_amount.len(),
                        same_amount
                            .iter()
                            .map(|c| c.number.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            } else {
                MatchDecision {
                    invoices: Vec::new(),
                    confidence: 55 + base,
                    reason: format!("{who}; the amount matches no open invoice"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn c(number: &str, open: rust_decimal::Decimal) -> Candidate {
        Candidate {
            number: number.into(),
            open: Money::eur(open),
        }
    }

    #[test]
    fn invoice_numbers_are_found_through_bank_noise() {
        let keys = candidate_keys("VIR SEPA DUPONT SARL FACT F 2026 0042 REF:8812");
        assert!(keys.contains(&"F20260042".to_string()), "{keys:?}");
        let keys = candidate_keys("/ROC/F-2026-0042/");
        assert!(keys.contains(&"F20260042".to_string()), "{keys:?}");
        assert_eq!(normalise_reference("f-2026/0042"), "F20260042");
    }

    #[test]
    fn names_compare_without_legal_forms() {
        assert_eq!(
            normalise_name("Boulangerie Martin SARL"),
            normalise_name("BOULANGERIE MARTIN")
        );
        assert_ne!(
            normalise_name("Garage Petit SAS"),
            normalise_name("Garage Grand SAS")
        );
    }

    #[test]
    fn an_amount_alone_never_chooses_between_two_equal_invoices() {
        let open = [c("F1", dec!(100)), c("F2", dec!(100)), c("F3", dec!(50))];
        let d = decide(
            CustomerEvidence::LearntIban,
            Money::eur(dec!(100)),
            &[],
            &open,
        );
        assert!(d.confidence < AUTO_ALLOCATE_AT, "{d:?}");
        assert!(d.invoices.is_empty());
        let d = decide(
            CustomerEvidence::LearntIban,
            Money::eur(dec!(50)),
            &[],
            &open,
        );
        assert!(d.confidence >= AUTO_ALLOCATE_AT);
        assert_eq!(d.invoices, vec!["F3".to_string()]);
    }

    #[test]
    fn named_invoices_decide_even_for_a_partial_payment() {
        let open = [c("F1", dec!(100)), c("F2", dec!(200))];
        let d = decide(
            CustomerEvidence::InvoiceNumbers,
            Money::eur(dec!(300)),
            &["F1".into(), "F2".into()],
            &open,
        );
        assert_eq!(d.confidence, 98);
        let d = decide(
            CustomerEvidence::InvoiceNumbers,
            Money::eur(dec!(150)),
            &["F2".into()],
            &open,
        );
        assert!(d.confidence >= AUTO_ALLOCATE_AT);
        assert_eq!(d.invoices, vec!["F2".to_string()]);
    }

    #[test]
    fn a_name_without_a_matching_amount_waits_for_a_person() {
        let open = [c("F1", dec!(100))];
        let d = decide(
            CustomerEvidence::PayerName,
            Money::eur(dec!(42)),
            &[],
            &open,
        );
        assert!(d.confidence < AUTO_ALLOCATE_AT);
    }
}
