//! The ledger: invoices, credit notes, payments and the allocations (lettrage) between them.
//!
//! Open amounts are never stored as a truth of their own: an item's open amount is its total
//! less what was settled outside relance (the `paid` column of an accounting export) less the
//! allocations made here. This module holds the pure rule that decides *where* a payment or a
//! credit note goes; the store applies it inside one transaction.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::ItemId;
use crate::money::{Currency, Money};

/// Invoice or credit note: both are receivable items of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Invoice,
    CreditNote,
}

impl ItemKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemKind::Invoice => "invoice",
            ItemKind::CreditNote => "credit_note",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        // The stored forms first, without allocating: a planning run parses the kind of every
        // open item it reads.
        match text {
            "invoice" => return Some(ItemKind::Invoice),
            "credit_note" => return Some(ItemKind::CreditNote),
            _ => {}
        }
        match text.trim().to_lowercase().as_str() {
            "invoice" | "facture" | "inv" | "fa" | "" => Some(ItemKind::Invoice),
            "credit_note" | "credit note" | "creditnote" | "avoir" | "av" | "credit" => {
                Some(ItemKind::CreditNote)
            }
            _ => None,
        }
    }
}

/// What the allocation rule needs to know of an open invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInvoice {
    pub id: ItemId,
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Positive open amount.
    pub open: Money,
}

/// Where a payment or a credit note goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationPlan {
    pub allocations: Vec<(ItemId, Money)>,
    /// What is left over: kept as an unallocated credit on the customer.
    pub unallocated: Money,
}

/// Decides how `amount` settles a customer's open invoices.
///
/// Rule (the one credit managers apply by hand): the invoice the payer named first, up to its
/// open amount; then the oldest open invoices (earliest due date, then issue date, then number);
/// whatever is left is an unallocated credit on the customer, never lost. Invoices in another
/// currency are not touched.
pub fn allocate(
    amount: Money,
    named_invoice: Option<&str>,
    open: &[OpenInvoice],
) -> AllocationPlan {
    allocate_to(amount, named_invoice.as_slice(), open)
}

/// [`allocate`] when the payer named several invoices (a bank transfer "F-12 F-15"): those
/// first, in the order named, then the oldest.
pub fn allocate_to(amount: Money, named_invoices: &[&str], open: &[OpenInvoice]) -> AllocationPlan {
    let mut remaining = amount.amount;
    let mut allocations = Vec::new();
    let mut candidates: Vec<&OpenInvoice> = open
        .iter()
        .filter(|i| i.open.currency == amount.currency && i.open.is_positive())
        .collect();
    candidates.sort_by(|a, b| {
        (a.due_date, a.issue_date, &a.number).cmp(&(b.due_date, b.issue_date, &b.number))
    });
    for named in named_invoices.iter().rev() {
        if let Some(pos) = candidates.iter().position(|i| i.number == *named) {
            let first = candidates.remove(pos);
            candidates.insert(0, first);
        }
    }
    for invoice in candidates {
        if remaining <= rust_decimal::Decimal::ZERO {
            break;
        }
        let take = remaining.min(invoice.open.amount);
        allocations.push((invoice.id, Money::new(take, amount.currency)));
        remaining -= take;
    }
    AllocationPlan {
        allocations,
        unallocated: Money::new(remaining.max(rust_decimal::Decimal::ZERO), amount.currency),
    }
}

/// A receivable item as held in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Total due, VAT included; negative for a credit note.
    pub total: Money,
    /// Settled outside relance, as the accounting export says.
    pub paid_outside: Money,
    /// Settled by allocations made in relance.
    pub allocated: Money,
}

impl Item {
    /// Open amount: total − settled outside − allocated. A credit note's open amount is
    /// negative (credit still available) until it is used.
    pub fn open(&self) -> Money {
        let settled = self.paid_outside.amount + self.allocated.amount;
        Money::new(self.total.amount - settled, self.total.currency)
    }

    pub fn currency(&self) -> Currency {
        self.total.currency
    }

    /// Days past due on `as_of` (0 when not yet due).
    pub fn days_overdue(&self, as_of: NaiveDate) -> i64 {
        (as_of - self.due_date).num_days().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn inv(id: i64, number: &str, due: &str, open: rust_decimal::Decimal) -> OpenInvoice {
        OpenInvoice {
            id: ItemId(id),
            number: number.into(),
            issue_date: d("2026-01-01"),
            due_date: d(due),
            open: Money::eur(open),
        }
    }

    #[test]
    fn a_payment_goes_to_the_named_invoice_first_then_oldest() {
        let open = [
            inv(1, "F1", "2026-02-01", dec!(100)),
            inv(2, "F2", "2026-01-15", dec!(50)),
            inv(3, "F3", "2026-03-01", dec!(70)),
        ];
        let plan = allocate(Money::eur(dec!(130)), Some("F3"), &open);
        assert_eq!(
            plan.allocations,
            vec![
                (ItemId(3), Money::eur(dec!(70))),
                (ItemId(2), Money::eur(dec!(50))),
                (ItemId(1), Money::eur(dec!(10)))
            ]
        );
        assert!(plan.unallocated.is_zero());
    }

    #[test]
    fn several_named_invoices_come_first_in_the_order_named() {
        let open = [
            inv(1, "F1", "2026-01-01", dec!(100)),
            inv(2, "F2", "2026-02-01", dec!(50)),
            inv(3, "F3", "2026-03-01", dec!(70)),
        ];
        let plan = allocate_to(Money::eur(dec!(130)), &["F3", "F2"], &open);
        assert_eq!(
            plan.allocations,
            vec![
                (ItemId(3), Money::eur(dec!(70))),
                (ItemId(2), Money::eur(dec!(50))),
                (ItemId(1), Money::eur(dec!(10)))
            ]
        );
    }

    #[test]
    fn an_overpayment_is_kept_as_a_credit() {
        let open = [inv(1, "F1", "2026-02-01", dec!(100))];
        let plan = allocate(Money::eur(dec!(150)), None, &open);
        assert_eq!(plan.allocations, vec![(ItemId(1), Money::eur(dec!(100)))]);
        assert_eq!(plan.unallocated, Money::eur(dec!(50)));
    }

    #[test]
    fn open_amount_subtracts_what_was_settled() {
        let item = Item {
            kind: ItemKind::Invoice,
            number: "F1".into(),
            issue_date: d("2026-01-01"),
            due_date: d("2026-01-31"),
            total: Money::eur(dec!(1200)),
            paid_outside: Money::eur(dec!(200)),
            allocated: Money::eur(dec!(300)),
        };
        assert_eq!(item.open(), Money::eur(dec!(700)));
        assert_eq!(item.days_overdue(d("2026-02-10")), 10);
        assert_eq!(item.days_overdue(d("2026-01-10")), 0);
    }
}
