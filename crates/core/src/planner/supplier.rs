//! Suppliers (issue 9): a delivery late against its promised date, and a supplier invoice that
//! does not match its purchase order — on the same [`PlannedAction`]s, outbox and timeline as
//! the dunning cases and the commercial follow-ups. Here *we* are the buyer and the supplier the
//! one who owes (goods, or a correct invoice).
//!
//! **Late delivery** ([`plan_delivery`]): a ladder of three steps, one per run at most, each the
//! next in the ladder (a missed run never skips one: the mise en demeure must follow the two
//! messages it recalls):
//! 1. `supplier_late` — the next business day after the promised date, by e-mail;
//! 2. `supplier_late_second` — [`SupplierLadder::second_after`] business days after the first;
//! 3. `supplier_formal_notice` — [`SupplierLadder::notice_after`] business days after the
//!    second, a *mise en demeure* by registered letter with acknowledgement of receipt (Code
//!    civil art. 1344: the notice puts the supplier in default; art. 1610: the seller who fails
//!    to deliver in the agreed time; art. 1217 and 1231: the buyer's remedies and damages, which
//!    need the prior notice), with a deadline of [`SupplierLadder::notice_days`] days.
//!
//! The chase stops for good once the order is delivered (or cancelled); nothing is carried out
//! on a non-business day. Messages to a supplier are not commercial: no opt-out applies.
//!
//! **Invoice check** ([`check_invoice`], [`plan_invoice_dispute`]): an invoice without a PO
//! number, with one we do not know, or whose amount or quantity differs from its order beyond a
//! [`Tolerance`] gets one dispute letter (e-mail with the letter as a PDF) listing every
//! discrepancy; an invoice that matches gets nothing. Idempotency keys make both "never twice".

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::{add_days, BusinessCalendar};
use crate::ids::{CreditorId, CustomerId};
use crate::money::Money;
use crate::party::CustomerKind;

use super::followup::FollowUpDone;
use super::plan::PlannedAction;
use super::policy::{Channel, Tone};

/// The outbox `kind` of a late-delivery action.
pub const DELIVERY_KIND: &str = "supplier_delivery";
/// The outbox `kind` of an invoice dispute.
pub const INVOICE_KIND: &str = "supplier_invoice";
/// The step (and template) of an invoice dispute.
pub const DISPUTE_STEP: &str = "supplier_invoice_dispute";

/// The late-delivery steps, in order.
pub const DELIVERY_STEPS: [&str; 3] = [
    "supplier_late",
    "supplier_late_second",
    "supplier_formal_notice",
];

/// The delays of the late-delivery ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierLadder {
    /// Business days after the promised date for the first message (1: the next business day).
    pub first_after: u32,
    /// Business days after the first message for the second.
    pub second_after: u32,
    /// Business days after the second message for the mise en demeure.
    pub notice_after: u32,
    /// Calendar days the mise en demeure gives the supplier to deliver.
    pub notice_days: u32,
}

impl Default for SupplierLadder {
    fn default() -> Self {
        SupplierLadder {
            first_after: 1,
            second_after: 5,
            notice_after: 5,
            notice_days: 8,
        }
    }
}

/// Where a purchase order's chase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet.
    Open,
    /// Delivered: the chase is over.
    Delivered,
    /// Every step was carried out; waiting for the goods or for a person.
    Done,
}

impl DeliveryStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Open => "open",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text.trim() {
            "open" => Some(DeliveryStatus::Open),
            "delivered" => Some(DeliveryStatus::Delivered),
            "done" => Some(DeliveryStatus::Done),
            _ => None,
        }
    }
}

/// A purchase order as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrder {
    /// The store's id; part of the idempotency keys.
    pub id: i64,
    pub creditor: CreditorId,
    /// The supplier's party row (outbox and timeline are keyed on it).
    pub party: CustomerId,
    pub supplier_code: String,
    pub has_email: bool,
    pub number: String,
    pub ordered_on: NaiveDate,
    pub promised_on: NaiveDate,
    pub delivered_on: Option<NaiveDate>,
    pub amount: Money,
    pub quantity: Decimal,
    pub status: DeliveryStatus,
    /// The steps carried out, in order.
    pub done: Vec<FollowUpDone>,
}

/// What [`plan_delivery`] decided on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPlan {
    pub as_of: NaiveDate,
    pub status: DeliveryStatus,
    /// At most one.
    pub actions: Vec<PlannedAction>,
    /// Why the chase stopped today, when it did.
    pub stopped: Option<String>,
    /// The next day a step falls; `None` when the chase is over.
    pub next_action_on: Option<NaiveDate>,
}

/// The idempotency key of a late-delivery step: unique per creditor, order and step.
pub fn delivery_key(po: &PurchaseOrder, step: &str) -> String {
    format!("sup:{}:po:{}:{}", po.creditor.0, po.id, step)
}

/// The idempotency key of an invoice's dispute letter.
pub fn dispute_key(creditor: CreditorId, invoice_id: i64) -> String {
    format!("sup:{}:invoice:{}:{}", creditor.0, invoice_id, DISPUTE_STEP)
}

/// The day step `index` falls on, given the day the previous one was carried out.
pub fn delivery_step_day(
    po: &PurchaseOrder,
    ladder: &SupplierLadder,
    calendar: &BusinessCalendar,
    index: usize,
    previous_done: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match index {
        0 => Some(calendar.add_business_days(po.promised_on, i64::from(ladder.first_after.max(1)))),
        1 => Some(calendar.add_business_days(previous_done?, i64::from(ladder.second_after))),
        2 => Some(calendar.add_business_days(previous_done?, i64::from(ladder.notice_after))),
        _ => None,
    }
}

/// The deadline a mise en demeure sent on `sent_on` gives: `notice_days` later, moved to a
/// business day.
pub fn notice_deadline(
    ladder: &SupplierLadder,
    calendar: &BusinessCalendar,
    sent_on: NaiveDate,
) -> NaiveDate {
    calendar.next_business_day_on_or_after(add_days(sent_on, i64::from(ladder.notice_days)))
}

/// Plans the chase of one purchase order on day `as_of`. Pure.
pub fn plan_delivery(
    po: &PurchaseOrder,
    ladder: &SupplierLadder,
    calendar: &BusinessCalendar,
    as_of: NaiveDate,
) -> DeliveryPlan {
    let mut result = DeliveryPlan {
        as_of,
        status: po.status,
        actions: Vec::new(),
        stopped: None,
        next_action_on: None,
    };
    if po.status == DeliveryStatus::Delivered {
        return result;
    }
    if let Some(on) = po.delivered_on.filter(|d| *d <= as_of) {
        result.status = DeliveryStatus::Delivered;
        result.stopped = Some(format!("order {} delivered on {on}", po.number));
        return result;
    }
    let index = next_index(po);
    if index >= DELIVERY_STEPS.len() {
        result.status = DeliveryStatus::Done;
        return result;
    }
    let previous = po.done.last().map(|d| d.on);
    let Some(day) = delivery_step_day(po, ladder, calendar, index, previous) else {
        return result;
    };
    let mut index_after = index;
    let mut last_on = previous;
    if day <= as_of && calendar.is_business_day(as_of) {
        result
            .actions
            .push(delivery_action(po, ladder, calendar, index, day, as_of));
        index_after += 1;
        last_on = Some(as_of);
    }
    if index_after >= DELIVERY_STEPS.len() {
        result.status = DeliveryStatus::Done;
        return result;
    }
    result.next_action_on = delivery_step_day(po, ladder, calendar, index_after, last_on)
        .and_then(|d| as_of.succ_opt().map(|t| d.max(t)))
        .map(|d| calendar.next_business_day_on_or_after(d));
    result
}

fn next_index(po: &PurchaseOrder) -> usize {
    po.done
        .iter()
        .filter_map(|d| DELIVERY_STEPS.iter().position(|s| *s == d.step))
        .max()
        .map_or(0, |i| i + 1)
}

fn delivery_action(
    po: &PurchaseOrder,
    ladder: &SupplierLadder,
    calendar: &BusinessCalendar,
    index: usize,
    due_on: NaiveDate,
    as_of: NaiveDate,
) -> PlannedAction {
    let step = DELIVERY_STEPS[index];
    let (channel, tone, what) = match index {
        0 => (
            Channel::Email,
            Tone::Neutral,
            "the delivery is late: ask for a firm date".to_string(),
        ),
        1 => (
            Channel::Email,
            Tone::Firm,
            "second message: the delivery is still late".to_string(),
        ),
        _ => (
            Channel::RegisteredLetterAr,
            Tone::Formal,
            format!(
                "mise en demeure to deliver by {} (Code civil 1344, 1610, 1217)",
                notice_deadline(ladder, calendar, as_of)
            ),
        ),
    };
    // A supplier without an e-mail address gets the messages by post.
    let channel = match channel {
        Channel::Email if !po.has_email => Channel::Letter,
        other => other,
    };
    let late = if due_on < as_of {
        format!(" (due {due_on})")
    } else {
        String::new()
    };
    PlannedAction {
        key: delivery_key(po, step),
        on: as_of,
        due_on,
        creditor: po.creditor,
        customer: po.party,
        customer_code: po.supplier_code.clone(),
        customer_kind: CustomerKind::Business,
        policy: format!("supplier:{DELIVERY_KIND}"),
        step: step.to_string(),
        step_number: index + 1,
        cycle: 1,
        is_notice: false,
        channels: vec![channel],
        template: step.to_string(),
        tone,
        invoices: vec![po.number.clone()],
        item_ids: Vec::new(),
        attach_statement: false,
        experiment: None,
        variant: None,
        send_hour: None,
        amount_due: po.amount,
        reason: format!(
            "order {} promised for {}, not delivered: step {} of {}, {what}{late}",
            po.number,
            po.promised_on,
            index + 1,
            DELIVERY_STEPS.len()
        ),
    }
}

/// How far an invoice may differ from its order before it is disputed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    /// An absolute difference of the amount accepted (rounding): 1.00 by default.
    pub amount_absolute: Decimal,
    /// A relative difference of the amount accepted, in percent of the order: 0.5 by default.
    pub amount_percent: Decimal,
    /// A difference of quantity accepted: none by default.
    pub quantity: Decimal,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            amount_absolute: Decimal::ONE,
            amount_percent: Decimal::new(5, 1),
            quantity: Decimal::ZERO,
        }
    }
}

/// A supplier invoice as the check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierInvoice {
    pub id: i64,
    pub creditor: CreditorId,
    pub party: CustomerId,
    pub supplier_code: String,
    pub has_email: bool,
    pub number: String,
    pub issued_on: NaiveDate,
    pub po_number: Option<String>,
    pub amount: Money,
    pub quantity: Option<Decimal>,
}

/// The order an invoice names, as far as the check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub number: String,
    /// The supplier the order was placed with.
    pub supplier_code: String,
    pub amount: Money,
    pub quantity: Decimal,
}

/// One way an invoice does not match its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discrepancy {
    /// The invoice names no purchase order.
    MissingPo,
    /// The invoice names an order we do not know (or one placed with another supplier).
    UnknownPo { po_number: String },
    /// The amount differs beyond the tolerance.
    Amount { invoiced: Money, ordered: Money },
    /// The quantity differs beyond the tolerance.
    Quantity { invoiced: Decimal, ordered: Decimal },
}

impl Discrepancy {
    pub fn code(&self) -> &'static str {
        match self {
            Discrepancy::MissingPo => "missing_po",
            Discrepancy::UnknownPo { .. } => "unknown_po",
            Discrepancy::Amount { .. } => "amount",
            Discrepancy::Quantity { .. } => "quantity",
        }
    }

    /// One English phrase, for the timeline and reports.
    pub fn describe(&self) -> String {
        match self {
            Discrepancy::MissingPo => "no purchase order number".into(),
            Discrepancy::UnknownPo { po_number } => format!("unknown purchase order {po_number}"),
            Discrepancy::Amount { invoiced, ordered } => {
                format!("amount {invoiced} invoiced, {ordered} ordered")
            }
            Discrepancy::Quantity { invoiced, ordered } => {
                format!("quantity {invoiced} invoiced, {ordered} ordered")
            }
        }
    }
}

/// Every discrepancy between `invoice` and `order` (the order its PO number names, `None` when
/// it names none or one we do not know). Empty: the invoice matches.
pub fn check_invoice(
    invoice: &SupplierInvoice,
    order: Option<&OrderFacts>,
    tolerance: &Tolerance,
) -> Vec<Discrepancy> {
    let mut out = Vec::new();
    let Some(po_number) = invoice
        .po_number
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    else {
        out.push(Discrepancy::MissingPo);
        return out;
    };
    let Some(order) = order.filter(|o| o.supplier_code == invoice.supplier_code) else {
        out.push(Discrepancy::UnknownPo {
            po_number: po_number.to_string(),
        });
        return out;
    };
    let amount_off = if invoice.amount.currency != order.amount.currency {
        true
    } else {
        let difference = (invoice.amount.amount - order.amount.amount).abs();
        let relative = order.amount.amount.abs() * tolerance.amount_percent / Decimal::ONE_HUNDRED;
        difference > tolerance.amount_absolute.max(relative)
    };
    if amount_off {
        out.push(Discrepancy::Amount {
            invoiced: invoice.amount,
            ordered: order.amount,
        });
    }
    if let Some(quantity) = invoice.quantity {
        if (quantity - order.quantity).abs() > tolerance.quantity {
            out.push(Discrepancy::Quantity {
                invoiced: quantity,
                ordered: order.quantity,
            });
        }
    }
    out
}

/// The dispute letter an invoice with `discrepancies` gets on `as_of` (none when it matches or
/// on a non-business day): one e-mail carrying the letter as a PDF, or the letter by post when
/// the supplier has no e-mail address.
pub fn plan_invoice_dispute(
    invoice: &SupplierInvoice,
    discrepancies: &[Discrepancy],
    calendar: &BusinessCalendar,
    as_of: NaiveDate,
) -> Option<PlannedAction> {
    if discrepancies.is_empty() || !calendar.is_business_day(as_of) {
        return None;
    }
    let channel = if invoice.has_email {
        Channel::Email
    } else {
        Channel::Letter
    };
    let listed: Vec<String> = discrepancies.iter().map(Discrepancy::describe).collect();
    Some(PlannedAction {
        key: dispute_key(invoice.creditor, invoice.id),
        on: as_of,
        due_on: calendar.next_business_day_on_or_after(invoice.issued_on.max(as_of)),
        creditor: invoice.creditor,
        customer: invoice.party,
        customer_code: invoice.supplier_code.clone(),
        customer_kind: CustomerKind::Business,
        policy: format!("supplier:{INVOICE_KIND}"),
        step: DISPUTE_STEP.to_string(),
        step_number: 1,
        cycle: 1,
        is_notice: false,
        channels: vec![channel],
        template: DISPUTE_STEP.to_string(),
        tone: Tone::Firm,
        invoices: vec![invoice.number.clone()],
        item_ids: Vec::new(),
        attach_statement: false,
        experiment: None,
        variant: None,
        send_hour: None,
        amount_due: invoice.amount,
        reason: format!(
            "supplier invoice {} does not match its order: {}",
            invoice.number,
            listed.join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use rust_decimal_macros::dec;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn po(promised: &str) -> PurchaseOrder {
        PurchaseOrder {
            id: 4,
            creditor: CreditorId(1),
            party: CustomerId(9),
            supplier_code: "F01".into(),
            has_email: true,
            number: "BC-1".into(),
            ordered_on: d("2026-03-02"),
            promised_on: d(promised),
            delivered_on: None,
            amount: Money::eur(dec!(1200)),
            quantity: dec!(10),
            status: DeliveryStatus::Open,
            done: Vec::new(),
        }
    }

    /// Runs every day of `days` (skipping none), applying each plan; `day step channel` lines.
    fn replay(mut po: PurchaseOrder, from: &str, to: &str) -> (Vec<String>, PurchaseOrder) {
        let calendar = BusinessCalendar::new(false);
        let ladder = SupplierLadder::default();
        let mut day = d(from);
        let mut out = Vec::new();
        while day <= d(to) {
            let plan = plan_delivery(&po, &ladder, &calendar, day);
            for a in &plan.actions {
                out.push(format!("{} {} {}", a.on, a.step, a.channels[0].as_str()));
                po.done.push(FollowUpDone {
                    step: a.step.clone(),
                    on: day,
                });
            }
            po.status = plan.status;
            day = day.succ_opt().expect("day");
        }
        (out, po)
    }

    #[test]
    fn late_delivery_ladder_by_hand() {
        // Promised Friday 6 March 2026: first message Monday 9, second 5 business days later
        // (Monday 16), mise en demeure 5 business days after that (Monday 23).
        let (out, after) = replay(po("2026-03-06"), "2026-03-01", "2026-05-01");
        assert_eq!(
            out,
            [
                "2026-03-09 supplier_late email",
                "2026-03-16 supplier_late_second email",
                "2026-03-23 supplier_formal_notice registered_letter_ar",
            ]
        );
        assert_eq!(after.status, DeliveryStatus::Done);
        let plan = plan_delivery(
            &po("2026-03-06"),
            &SupplierLadder::default(),
            &BusinessCalendar::new(false),
            d("2026-03-06"),
        );
        assert!(plan.actions.is_empty());
        assert_eq!(plan.next_action_on, Some(d("2026-03-09")));
        // The deadline: 8 days later, Tuesday 31 March.
        assert_eq!(
            notice_deadline(
                &SupplierLadder::default(),
                &BusinessCalendar::new(false),
                d("2026-03-23")
            ),
            d("2026-03-31")
        );
    }

    #[test]
    fn delivery_stops_the_chase_and_missed_runs_skip_nothing() {
        let mut order = po("2026-03-06");
        order.done.push(FollowUpDone {
            step: "supplier_late".into(),
            on: d("2026-03-09"),
        });
        order.delivered_on = Some(d("2026-03-12"));
        let (out, after) = replay(order, "2026-03-10", "2026-04-30");
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(after.status, DeliveryStatus::Delivered);
        // A run only a month after the promise sends the first message, not the notice.
        let plan = plan_delivery(
            &po("2026-03-06"),
            &SupplierLadder::default(),
            &BusinessCalendar::new(false),
            d("2026-04-07"),
        );
        assert_eq!(plan.actions.len(), 1);
        assert_eq!(plan.actions[0].step, "supplier_late");
        assert_eq!(plan.actions[0].due_on, d("2026-03-09"));
        // Nothing on Easter Monday.
        let plan = plan_delivery(
            &po("2026-03-06"),
            &SupplierLadder::default(),
            &BusinessCalendar::new(false),
            d("2026-04-06"),
        );
        assert!(plan.actions.is_empty());
        assert_eq!(plan.next_action_on, Some(d("2026-04-07")));
    }

    #[test]
    fn no_email_goes_by_post() {
        let mut order = po("2026-03-06");
        order.has_email = false;
        let (out, _) = replay(order, "2026-03-01", "2026-04-01");
        assert_eq!(out[0], "2026-03-09 supplier_late letter");
        assert!(out[2].ends_with("registered_letter_ar"));
    }

    fn invoice(po: Option<&str>, amount: Decimal, quantity: Option<Decimal>) -> SupplierInvoice {
        SupplierInvoice {
            id: 3,
            creditor: CreditorId(1),
            party: CustomerId(9),
            supplier_code: "F01".into(),
            has_email: true,
            number: "FA-77".into(),
            issued_on: d("2026-03-20"),
            po_number: po.map(str::to_string),
            amount: Money::eur(amount),
            quantity,
        }
    }

    fn order() -> OrderFacts {
        OrderFacts {
            number: "BC-1".into(),
            supplier_code: "F01".into(),
            amount: Money::eur(dec!(1200)),
            quantity: dec!(10),
        }
    }

    #[test]
    fn invoice_check() {
        let t = Tolerance::default();
        // Matches, within the tolerance (0.5 % of 1200 = 6.00).
        assert!(check_invoice(
            &invoice(Some("BC-1"), dec!(1205), Some(dec!(10))),
            Some(&order()),
            &t
        )
        .is_empty());
        assert!(
            check_invoice(&invoice(Some("BC-1"), dec!(1200), None), Some(&order()), &t).is_empty()
        );
        let found = check_invoice(
            &invoice(Some("BC-1"), dec!(1320), Some(dec!(11))),
            Some(&order()),
            &t,
        );
        assert_eq!(
            found.iter().map(Discrepancy::code).collect::<Vec<_>>(),
            ["amount", "quantity"]
        );
        assert_eq!(
            check_invoice(&invoice(None, dec!(1200), None), Some(&order()), &t),
            [Discrepancy::MissingPo]
        );
        assert_eq!(
            check_invoice(&invoice(Some("BC-9"), dec!(1200), None), None, &t),
            [Discrepancy::UnknownPo {
                po_number: "BC-9".into()
            }]
        );
        // An order placed with another supplier is not this invoice's.
        let mut other = order();
        other.supplier_code = "F02".into();
        assert_eq!(
            check_invoice(&invoice(Some("BC-1"), dec!(1200), None), Some(&other), &t)[0].code(),
            "unknown_po"
        );
        let cal = BusinessCalendar::new(false);
        let a = plan_invoice_dispute(
            &invoice(None, dec!(1200), None),
            &found,
            &cal,
            d("2026-03-23"),
        )
        .expect("a letter");
        assert_eq!(a.key, "sup:1:invoice:3:supplier_invoice_dispute");
        assert!(
            a.reason.contains("amount 1200.00 EUR invoiced") || a.reason.contains("amount"),
            "{}",
            a.reason
        );
        assert!(
            plan_invoice_dispute(&invoice(None, dec!(1200), None), &[], &cal, d("2026-03-23"))
                .is_none()
        );
        assert!(plan_invoice_dispute(
            &invoice(None, dec!(1200), None),
            &found,
            &cal,
            d("2026-03-22")
        )
        .is_none());
        let _ = Currency::EUR;
    }
}
