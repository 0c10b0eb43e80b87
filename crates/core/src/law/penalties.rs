//! Late-payment penalties (business, Code de commerce L441-10 II and D441-5) and moratory interest (consumer, Code civil 1231-6).
//!
//! relance's convention, a documented choice where the law leaves the arithmetic open:
//! - simple interest on the open principal, never compounded;
//! - actual days, from the first day of interest to the end date, both inclusive;
//! - divided by 365, also in leap years (relance's documented convention: a 366-day divisor in
//!   2024 would give a slightly lower amount; the year basis is not fixed by L441-10);
//! - one period per half-year (the rate is fixed per half-year) and per change of principal;
//! - a partial payment made on day P reduces the principal from day P + 1: the day of payment
//!   still accrues on the old principal (the money is only in the creditor's hands at the end of
//!   that day), and a payment that clears the principal ends the computation on day P;
//! - each period's amount is rounded half-up to the currency's minor unit; the interest is the
//!   sum of the rounded periods.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

use super::rates::{HalfYear, LegalRateCategory, RateTable};
use super::LawError;
use crate::money::{round_to_minor, Currency, Money};
use crate::party::CustomerKind;

/// The fixed recovery indemnity per invoice paid late, in euros (Code de commerce D441-5).
pub const RECOVERY_INDEMNITY_EUR: Decimal = Decimal::from_parts(40, 0, 0, false, 0);

/// Day-count divisor: 365, also in leap years (relance's documented convention).
const DAYS_PER_YEAR: Decimal = Decimal::from_parts(365, 0, 0, false, 0);

/// The contractual rate may not be lower than three times the legal interest rate (L441-10 II).
const FLOOR_MULTIPLIER: Decimal = Decimal::from_parts(3, 0, 0, false, 0);

/// A payment received on an invoice before it was fully paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialPayment {
    pub date: NaiveDate,
    pub amount: Money,
}

/// What a penalty computation needs. `as_of` is the payment date of an invoice paid in full, or
/// the day the computation is made for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PenaltyInput {
    /// The invoice amount due (before any of `payments`).
    pub principal: Money,
    pub due_date: NaiveDate,
    pub as_of: NaiveDate,
    /// The date of the mise en demeure; starts the interest of a consumer (Code civil 1231-6,
    /// 1344-1). Not needed for a business: L441-10 II penalties run without any reminder.
    pub formal_notice: Option<NaiveDate>,
    /// Contractual penalty rate, percent per year (business only).
    pub contractual_rate: Option<Decimal>,
    /// Partial payments; those dated after `as_of` are ignored.
    pub payments: Vec<PartialPayment>,
}

impl PenaltyInput {
    pub fn new(principal: Money, due_date: NaiveDate, as_of: NaiveDate) -> Self {
        PenaltyInput {
            principal,
            due_date,
            as_of,
            formal_notice: None,
            contractual_rate: None,
            payments: Vec::new(),
        }
    }

    pub fn with_formal_notice(mut self, date: NaiveDate) -> Self {
        self.formal_notice = Some(date);
        self
    }

    pub fn with_contractual_rate(mut self, rate: Decimal) -> Self {
        self.contractual_rate = Some(rate);
        self
    }

    pub fn with_payment(mut self, date: NaiveDate, amount: Money) -> Self {
        self.payments.push(PartialPayment { date, amount });
        self
    }
}

/// Where the rate of the periods comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateBasis {
    /// The rate agreed in the contract or the general terms (L441-10 II).
    Contractual,
    /// ECB main refinancing rate of 1 January / 1 July + 10 points (L441-10 II).
    EcbPlusTenPoints,
    /// French legal interest rate, "all other cases" category (Code civil 1231-6).
    LegalRate,
}

/// One stretch of days with the same rate and the same open principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day, inclusive.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    pub days: i64,
    /// Percent per year.
    #[serde(serialize_with = "serialize_rate")]
    pub rate: Decimal,
    #[serde(serialize_with = "serialize_money")]
    pub principal: Money,
    /// principal × rate × days / 365, rounded half-up to the cent.
    #[serde(serialize_with = "serialize_money")]
    pub amount: Money,
}

/// The result: periods, interest, indemnity and total, with warnings for a person to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PenaltyComputation {
    pub kind: CustomerKind,
    pub basis: RateBasis,
    pub currency: Currency,
    #[serde(serialize_with = "serialize_money")]
    pub principal: Money,
    pub periods: Vec<Period>,
    #[serde(serialize_with = "serialize_money")]
    pub interest: Money,
    /// 40 € when a business invoice is late (D441-5), otherwise zero. Always in euros.
    #[serde(serialize_with = "serialize_money")]
    pub indemnity: Money,
    /// interest + indemnity; the indemnity is left out of a total in another currency than the
    /// euro (a warning says so).
    #[serde(serialize_with = "serialize_money")]
    pub total: Money,
    pub warnings: Vec<String>,
    /// Why the result is what it is, when that is not obvious (e.g. no formal notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The shape `relance penalties --json` prints:
/// `{"principal","periods":[{"from","to","days","rate","amount"}],"interest","indemnity","total"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PenaltySummary {
    pub principal: String,
    pub periods: Vec<PeriodSummary>,
    pub interest: String,
    pub indemnity: String,
    pub total: String,
}

/// One period in [`PenaltySummary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub rate: String,
    pub amount: String,
}

impl PenaltyComputation {
    /// The CLI's JSON shape: amounts as decimal strings ("1200.00"), rates as "12.15".
    pub fn summary(&self) -> PenaltySummary {
        PenaltySummary {
            principal: self.principal.to_plain_string(),
            periods: self
                .periods
                .iter()
                .map(|p| PeriodSummary {
                    from: p.from,
                    to: p.to,
                    days: p.days,
                    rate: p.rate.to_string(),
                    amount: p.amount.to_plain_string(),
                })
                .collect(),
            interest: self.interest.to_plain_string(),
            indemnity: self.indemnity.to_plain_string(),
            total: self.total.to_plain_string(),
        }
    }
}

fn serialize_money<S: Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&money.to_plain_string())
}

fn serialize_rate<S: Serializer>(rate: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(rate)
}

/// Rates print with at least two decimals ("12.00", "12.15", "12.125").
fn normalize_rate(rate: Decimal) -> Decimal {
    let mut r = rate;
    if r.scale() < 2 {
        r.rescale(2);
    }
    r
}

fn next_day(date: NaiveDate) -> Result<NaiveDate, LawError> {
    date.succ_opt().ok_or(LawError::DateOutOfRange(date))
}

/// Either kind: business penalties (L441-10 II) or consumer moratory interest (Code civil 1231-6).
pub fn compute_penalties(
    kind: CustomerKind,
    input: &PenaltyInput,
    rates: &RateTable,
) -> Result<PenaltyComputation, LawError> {
    match kind {
        CustomerKind::Business => compute_business_penalties(input, rates),
        CustomerKind::Consumer => compute_consumer_interest(input, rates),
    }
}

/// Business debtor: late penalties from the day after the due date, without any reminder
/// (Code de commerce L441-10 II), at the contractual rate or else the ECB rate + 10 points of each
/// half-year, plus the 40 € recovery indemnity (D441-5).
pub fn compute_business_penalties(
    input: &PenaltyInput,
    rates: &RateTable,
) -> Result<PenaltyComputation, LawError> {
    validate(input)?;
    let mut warnings = overpayment_warning(input).into_iter().collect::<Vec<_>>();
    // L441-10 II: penalties are due from the day after the due date.
    let start = next_day(input.due_date)?;
    let (basis, periods) = match input.contractual_rate {
        Some(contractual) => {
            let rate = normalize_rate(contractual);
            let periods = accrue(input, start, |half_year| {
                // L441-10 II: the contractual rate may not be lower than three times the legal
                // interest rate ("all other cases"). A lower clause is flagged, not corrected:
                // deciding what replaces it is for the creditor (or a judge).
                match rates.legal_rate(half_year, LegalRateCategory::Other) {
                    Ok(legal) => {
                        let floor = legal * FLOOR_MULTIPLIER;
                        if rate < floor {
                            warnings.push(format!(
                                "the contractual rate of {rate} % is below three times the legal \
                                 interest rate for {half_year} (3 × {legal} % = {floor} %), the \
                                 floor set by Code de commerce L441-10 II; it was applied as agreed"
                            ));
                        }
                    }
                    Err(_) => warnings.push(format!(
                        "cannot check the contractual rate against the floor of Code de commerce \
                         L441-10 II for {half_year}: the rate table has no legal interest rate \
                         for that half-year"
                    )),
                }
                Ok(rate)
            })?;
            (RateBasis::Contractual, periods)
        }
        // L441-10 II: failing a contractual rate, the ECB main refinancing rate in force on
        // 1 January (H1) or 1 July (H2) plus 10 points.
        None => (
            RateBasis::EcbPlusTenPoints,
            accrue(input, start, |half_year| {
                rates.business_default_rate(half_year).map(normalize_rate)
            })?,
        ),
    };
    let currency = input.principal.currency;
    let interest = sum_periods(&periods, currency);
    // D441-5: a fixed 40 € indemnity for recovery costs, due in full from the first day of
    // lateness, i.e. as soon as there is one day of penalties.
    let late = !periods.is_empty();
    let indemnity = Money::eur(if late {
        RECOVERY_INDEMNITY_EUR
    } else {
        Decimal::ZERO
    });
    let total = if currency == Currency::EUR {
        interest.checked_add(indemnity)?
    } else {
        if late {
            warnings.push(format!(
                "the 40 € recovery indemnity (Code de commerce D441-5) is fixed in euros and is \
                 not added to the total in {currency}"
            ));
        }
        interest
    };
    Ok(PenaltyComputation {
        kind: CustomerKind::Business,
        basis,
        currency,
        principal: input.principal,
        periods,
        interest,
        indemnity,
        total,
        warnings,
        note: None,
    })
}

/// Consumer debtor: moratory interest at the legal rate from the formal notice (Code civil
/// 1231-6; the formal notice: 1344, 1344-1), in the "all other cases" category because the
/// creditor is a company; no 40 € indemnity (L441-10 does not apply to consumers, and the costs
/// of amicable collection stay with the creditor, CPCE L111-8).
pub fn compute_consumer_interest(
    input: &PenaltyInput,
    rates: &RateTable,
) -> Result<PenaltyComputation, LawError> {
    validate(input)?;
    let mut warnings = overpayment_warning(input).into_iter().collect::<Vec<_>>();
    if input.contractual_rate.is_some() {
        warnings.push(
            "a contractual penalty rate was given, but interest against a consumer is computed \
             at the legal rate (Code civil 1231-6); it was not applied"
                .to_string(),
        );
    }
    let currency = input.principal.currency;
    let mut note = None;
    let periods = match input.formal_notice {
        None => {
            note = Some(
                "no formal notice (mise en demeure): moratory interest against a consumer runs \
                 only from it (Code civil 1231-6, 1344-1), so none is due yet"
                    .to_string(),
            );
            Vec::new()
        }
        Some(notice) => {
            // Interest runs from the formal notice (Code civil 1231-6, 1344-1): from the day after
            // it, and never before the debt is due.
            if notice < input.due_date {
                warnings.push(format!(
                    "the formal notice of {notice} precedes the due date {}: interest is counted \
                     from the day after the due date",
                    input.due_date
                ));
            }
            let start = next_day(notice.max(input.due_date))?;
            accrue(input, start, |half_year| {
                rates
                    .legal_rate(half_year, LegalRateCategory::Other)
                    .map(normalize_rate)
            })?
        }
    };
    let interest = sum_periods(&periods, currency);
    Ok(PenaltyComputation {
        kind: CustomerKind::Consumer,
        basis: RateBasis::LegalRate,
        currency,
        principal: input.principal,
        periods,
        interest,
        indemnity: Money::zero(Currency::EUR),
        total: interest,
        warnings,
        note,
    })
}

fn validate(input: &PenaltyInput) -> Result<(), LawError> {
    if input.principal.is_negative() {
        return Err(LawError::InvalidInput(format!(
            "the principal {} must not be negative",
            input.principal
        )));
    }
    if let Some(rate) = input.contractual_rate {
        if rate < Decimal::ZERO {
            return Err(LawError::InvalidInput(format!(
                "the contractual rate {rate} % must not be negative"
            )));
        }
    }
    for p in &input.payments {
        if p.amount.currency != input.principal.currency {
            return Err(crate::money::MoneyError::CurrencyMismatch(
                input.principal.currency,
                p.amount.currency,
            )
            .into());
        }
        if !p.amount.is_positive() {
            return Err(LawError::InvalidInput(format!(
                "the payment of {} on {} must be positive",
                p.amount, p.date
            )));
        }
    }
    Ok(())
}

fn overpayment_warning(input: &PenaltyInput) -> Option<String> {
    let paid: Decimal = input
        .payments
        .iter()
        .filter(|p| p.date <= input.as_of)
        .map(|p| p.amount.amount)
        .sum();
    (paid > input.principal.amount).then(|| {
        format!(
            "the payments ({}) exceed the principal ({}); the principal was taken as fully paid",
            Money::new(paid, input.principal.currency),
            input.principal
        )
    })
}

fn sum_periods(periods: &[Period], currency: Currency) -> Money {
    Money::new(periods.iter().map(|p| p.amount.amount).sum(), currency)
}

/// Splits `start..=end` into periods (per half-year and per change of principal) and computes
/// each one. `end` is `as_of`, or the day of the payment that clears the principal if earlier.
/// `rate_for` is asked once per half-year.
fn accrue(
    input: &PenaltyInput,
    start: NaiveDate,
    mut rate_for: impl FnMut(HalfYear) -> Result<Decimal, LawError>,
) -> Result<Vec<Period>, LawError> {
    let currency = input.principal.currency;
    let mut payments: Vec<PartialPayment> = input
        .payments
        .iter()
        .copied()
        .filter(|p| p.date <= input.as_of)
        .collect();
    payments.sort_by_key(|p| p.date);

    // Payments made before the first day of interest simply reduce the starting principal
    // (a payment on day P counts from P + 1, so P < start).
    let mut open = input.principal.amount;
    let mut next = 0;
    while let Some(p) = payments.get(next).filter(|p| p.date < start) {
        open -= p.amount.amount;
        next += 1;
    }

    let mut periods = Vec::new();
    let mut rate_cache: Option<(HalfYear, Decimal)> = None;
    let mut cursor = start;
    while cursor <= input.as_of && open > Decimal::ZERO {
        let half_year = HalfYear::of(cursor);
        // The period ends at the first of: the half-year's last day, the next payment's day
        // (the payment reduces the principal from the day after), `as_of`.
        let mut to = half_year.last_day().min(input.as_of);
        if let Some(p) = payments.get(next) {
            to = to.min(p.date);
        }
        let rate = match rate_cache {
            Some((h, r)) if h == half_year => r,
            _ => {
                let r = rate_for(half_year)?;
                rate_cache = Some((half_year, r));
                r
            }
        };
        let days = (to - cursor).num_days() + 1;
        periods.push(Period {
            from: cursor,
            to,
            days,
            rate,
            principal: Money::new(open, currency),
            amount: Money::new(period_interest(open, rate, days, currency)?, currency),
        });
        while let Some(p) = payments.get(next).filter(|p| p.date <= to) {
            open -= p.amount.amount;
            next += 1;
        }
        match to.succ_opt() {
            Some(day) => cursor = day,
            None => break,
        }
    }
    Ok(periods)
}

/// principal × rate % × days / 365, rounded half-up to the minor unit (relance's convention).
fn period_interest(
    principal: Decimal,
    rate: Decimal,
    days: i64,
    currency: Currency,
) -> Result<Decimal, LawError> {
    let overflow = || LawError::Overflow(format!("{principal} × {rate} % × {days} days"));
    let raw = principal
        .checked_mul(rate)
        .and_then(|x| x.checked_mul(Decimal::from(days)))
        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
        .and_then(|x| x.checked_div(DAYS_PER_YEAR))
        .ok_or_else(overflow)?;
    Ok(round_to_minor(raw, currency))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::rates::RateTable;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn eur(amount: Decimal) -> Money {
        Money::eur(amount)
    }

    fn business(input: &PenaltyInput) -> PenaltyComputation {
        compute_business_penalties(input, &RateTable::builtin()).expect("computes")
    }

    fn consumer(input: &PenaltyInput) -> PenaltyComputation {
        compute_consumer_interest(input, &RateTable::builtin()).expect("computes")
    }

    /// (from, to, days, rate, principal, amount) of each period.
    type Row = (NaiveDate, NaiveDate, i64, Decimal, Decimal, Decimal);

    fn rows(c: &PenaltyComputation) -> Vec<Row> {
        c.periods
            .iter()
            .map(|p| {
                (
                    p.from,
                    p.to,
                    p.days,
                    p.rate,
                    p.principal.amount,
                    p.amount.amount,
                )
            })
            .collect()
    }

    #[test]
    fn ten_thousand_euros_due_15_may_2025_paid_20_august_2025_gives_two_half_year_periods() {
        // Default rate: ECB of 1 January 2025 (3.15) + 10 = 13.15 % for 2025 H1;
        // ECB of 1 July 2025 (2.15) + 10 = 12.15 % for 2025 H2.
        // 2025-05-16..2025-06-30: 16 days in May + 30 in June = 46 days;
        //   10 000 × 13.15 % × 46 / 365 = 60 490 / 365 = 165.7260… → 165.73
        // 2025-07-01..2025-08-20: 31 days in July + 20 in August = 51 days;
        //   10 000 × 12.15 % × 51 / 365 = 61 965 / 365 = 169.7671… → 169.77
        // Interest 335.50, indemnity 40.00 (D441-5), total 375.50.
        let c = business(&PenaltyInput::new(
            eur(dec!(10000)),
            d(2025, 5, 15),
            d(2025, 8, 20),
        ));
        assert_eq!(
            rows(&c),
            vec![
                (
                    d(2025, 5, 16),
                    d(2025, 6, 30),
                    46,
                    dec!(13.15),
                    dec!(10000),
                    dec!(165.73)
                ),
                (
                    d(2025, 7, 1),
                    d(2025, 8, 20),
                    51,
                    dec!(12.15),
                    dec!(10000),
                    dec!(169.77)
                ),
            ]
        );
        assert_eq!(c.interest, eur(dec!(335.50)));
        assert_eq!(c.indemnity, eur(dec!(40)));
        assert_eq!(c.total, eur(dec!(375.50)));
        assert_eq!(c.basis, RateBasis::EcbPlusTenPoints);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn the_summary_has_the_json_shape_of_the_penalties_command() {
        let c = business(&PenaltyInput::new(
            eur(dec!(1200)),
            d(2026, 1, 31),
            d(2026, 3, 2),
        ));
        // 2026-02-01..2026-03-02: 28 + 2 = 30 days at 12.15 % (ECB 2.15 on 2026-01-01 + 10);
        // 1 200 × 12.15 % × 30 / 365 = 4 374 / 365 = 11.9835… → 11.98; + 40 = 51.98.
        let json = serde_json::to_value(c.summary()).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "principal": "1200.00",
                "periods": [{"from": "2026-02-01", "to": "2026-03-02", "days": 30,
                             "rate": "12.15", "amount": "11.98"}],
                "interest": "11.98",
                "indemnity": "40.00",
                "total": "51.98"
            })
        );
        let full = serde_json::to_value(&c).expect("serializes");
        assert_eq!(full["periods"][0]["principal"], "1200.00");
        assert_eq!(full["kind"], "business");
        assert_eq!(full["currency"], "EUR");
    }

    #[test]
    fn the_rate_is_fixed_per_half_year_even_when_the_ecb_changes_inside_it() {
        // 2023 H1: ECB of 1 January 2023 is 2.50 → 12.50 %, although the ECB rose to 3.00 on
        // 8 February and 3.50 on 22 March. 2023-02-01..2023-03-31: 28 + 31 = 59 days;
        // 1 000 × 12.50 % × 59 / 365 = 7 375 / 365 = 20.2054… → 20.21.
        let c = business(&PenaltyInput::new(
            eur(dec!(1000)),
            d(2023, 1, 31),
            d(2023, 3, 31),
        ));
        assert_eq!(
            rows(&c),
            vec![(
                d(2023, 2, 1),
                d(2023, 3, 31),
                59,
                dec!(12.50),
                dec!(1000),
                dec!(20.21)
            )]
        );
    }

    #[test]
    fn a_rate_change_on_1_july_splits_the_period() {
        // 2023-06-02..2023-06-30: 29 days at 12.50 %: 5 000 × 12.5 % × 29 / 365 = 18 125 / 365
        //   = 49.6575… → 49.66
        // 2023-07-01..2023-07-31: 31 days at 14.00 % (ECB 4.00 on 1 July 2023 + 10):
        //   5 000 × 14 % × 31 / 365 = 21 700 / 365 = 59.4520… → 59.45
        let c = business(&PenaltyInput::new(
            eur(dec!(5000)),
            d(2023, 6, 1),
            d(2023, 7, 31),
        ));
        assert_eq!(
            rows(&c),
            vec![
                (
                    d(2023, 6, 2),
                    d(2023, 6, 30),
                    29,
                    dec!(12.50),
                    dec!(5000),
                    dec!(49.66)
                ),
                (
                    d(2023, 7, 1),
                    d(2023, 7, 31),
                    31,
                    dec!(14.00),
                    dec!(5000),
                    dec!(59.45)
                ),
            ]
        );
        assert_eq!(c.total, eur(dec!(149.11)));
    }

    #[test]
    fn a_partial_payment_reduces_the_principal_from_the_next_day() {
        // 10 000 due 2025-05-15, 4 000 paid on 2025-06-10 (that day still accrues on 10 000):
        // 2025-05-16..2025-06-10: 16 + 10 = 26 days at 13.15 % on 10 000:
        //   1 315 × 26 / 365 = 34 190 / 365 = 93.6712… → 93.67
        // 2025-06-11..2025-06-30: 20 days at 13.15 % on 6 000:
        //   6 000 × 13.15 % × 20 / 365 = 15 780 / 365 = 43.2328… → 43.23
        // 2025-07-01..2025-08-20: 51 days at 12.15 % on 6 000:
        //   6 000 × 12.15 % × 51 / 365 = 37 179 / 365 = 101.8602… → 101.86
        // Interest 238.76; the balance of 6 000 paid on 2025-08-20 ends the computation there,
        // whatever the as_of.
        let input = PenaltyInput::new(eur(dec!(10000)), d(2025, 5, 15), d(2025, 9, 30))
            .with_payment(d(2025, 8, 20), eur(dec!(6000)))
            .with_payment(d(2025, 6, 10), eur(dec!(4000)));
        let c = business(&input);
        assert_eq!(
            rows(&c),
            vec![
                (
                    d(2025, 5, 16),
                    d(2025, 6, 10),
                    26,
                    dec!(13.15),
                    dec!(10000),
                    dec!(93.67)
                ),
                (
                    d(2025, 6, 11),
                    d(2025, 6, 30),
                    20,
                    dec!(13.15),
                    dec!(6000),
                    dec!(43.23)
                ),
                (
                    d(2025, 7, 1),
                    d(2025, 8, 20),
                    51,
                    dec!(12.15),
                    dec!(6000),
                    dec!(101.86)
                ),
            ]
        );
        assert_eq!(c.interest, eur(dec!(238.76)));
        assert_eq!(c.total, eur(dec!(278.76)));
    }

    #[test]
    fn payments_up_to_the_due_date_lower_the_starting_principal_and_a_full_one_means_not_late() {
        // 500 of 1 000 paid on the due date: penalties on 500 from the day after.
        // 2025-07-01..2025-07-10: 10 days at 12.15 %: 500 × 12.15 % × 10 / 365 = 1.6643… → 1.66
        let c = business(
            &PenaltyInput::new(eur(dec!(1000)), d(2025, 6, 30), d(2025, 7, 10))
                .with_payment(d(2025, 6, 30), eur(dec!(500))),
        );
        assert_eq!(
            rows(&c),
            vec![(
                d(2025, 7, 1),
                d(2025, 7, 10),
                10,
                dec!(12.15),
                dec!(500),
                dec!(1.66)
            )]
        );
        let paid = business(
            &PenaltyInput::new(eur(dec!(1000)), d(2025, 6, 30), d(2025, 7, 10))
                .with_payment(d(2025, 6, 30), eur(dec!(1000))),
        );
        assert!(paid.periods.is_empty());
        assert_eq!(paid.total, eur(dec!(0)));
        assert_eq!(paid.indemnity, eur(dec!(0)));
    }

    #[test]
    fn nothing_is_due_on_the_due_date_and_the_indemnity_is_due_in_full_the_day_after() {
        let on_due = business(&PenaltyInput::new(
            eur(dec!(1000)),
            d(2025, 3, 10),
            d(2025, 3, 10),
        ));
        assert!(on_due.periods.is_empty());
        assert_eq!(on_due.total, eur(dec!(0)));
        // One day: 1 000 × 13.15 % / 365 = 0.3602… → 0.36, plus the whole 40 € (D441-5).
        let next_day = business(&PenaltyInput::new(
            eur(dec!(1000)),
            d(2025, 3, 10),
            d(2025, 3, 11),
        ));
        assert_eq!(next_day.interest, eur(dec!(0.36)));
        assert_eq!(next_day.indemnity, eur(dec!(40)));
        assert_eq!(next_day.total, eur(dec!(40.36)));
    }

    #[test]
    fn a_leap_year_still_divides_by_365() {
        // 2024-02-16..2024-03-15: 14 days in February (29 February included) + 15 = 29 days at
        // 14.50 % (ECB 4.50 on 1 January 2024 + 10): 1 000 × 14.5 % × 29 / 365 = 4 205 / 365
        // = 11.5205… → 11.52 (with 366 it would be 11.49).
        let c = business(&PenaltyInput::new(
            eur(dec!(1000)),
            d(2024, 2, 15),
            d(2024, 3, 15),
        ));
        assert_eq!(
            rows(&c),
            vec![(
                d(2024, 2, 16),
                d(2024, 3, 15),
                29,
                dec!(14.50),
                dec!(1000),
                dec!(11.52)
            )]
        );
        // The whole of 2024 H1: 182 days; 10 000 × 14.5 % × 182 / 365 = 263 900 / 365
        // = 723.0136… → 723.01.
        let h1 = business(&PenaltyInput::new(
            eur(dec!(10000)),
            d(2023, 12, 31),
            d(2024, 6, 30),
        ));
        assert_eq!(
            rows(&h1),
            vec![(
                d(2024, 1, 1),
                d(2024, 6, 30),
                182,
                dec!(14.50),
                dec!(10000),
                dec!(723.01)
            )]
        );
    }

    #[test]
    fn a_contractual_rate_replaces_the_ecb_rate() {
        // 2025-07-01..2025-07-30: 30 days at 12 %: 2 000 × 12 % × 30 / 365 = 7 200 / 365
        // = 19.7260… → 19.73. Floor for 2025 H2: 3 × 2.76 = 8.28 %; 12 % is above it.
        let c = business(
            &PenaltyInput::new(eur(dec!(2000)), d(2025, 6, 30), d(2025, 7, 30))
                .with_contractual_rate(dec!(12)),
        );
        assert_eq!(
            rows(&c),
            vec![(
                d(2025, 7, 1),
                d(2025, 7, 30),
                30,
                dec!(12.00),
                dec!(2000),
                dec!(19.73)
            )]
        );
        assert_eq!(c.basis, RateBasis::Contractual);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.summary().periods[0].rate, "12.00");
    }

    #[test]
    fn a_contractual_rate_under_three_times_the_legal_rate_gives_a_warning_not_an_error() {
        // 5 % < 3 × 2.76 % = 8.28 % (2025 H2). 2 000 × 5 % × 30 / 365 = 3 000 / 365 = 8.2191…
        // → 8.22, applied as agreed.
        let c = business(
            &PenaltyInput::new(eur(dec!(2000)), d(2025, 6, 30), d(2025, 7, 30))
                .with_contractual_rate(dec!(5)),
        );
        assert_eq!(c.interest, eur(dec!(8.22)));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let w = &c.warnings[0];
        assert!(
            w.contains("2025-H2") && w.contains("8.28") && w.contains("L441-10 II"),
            "{w}"
        );
    }

    #[test]
    fn consumer_interest_runs_at_the_legal_rate_from_the_day_after_the_formal_notice() {
        // Formal notice 2025-06-20; legal rate "all other cases": 3.71 % (2025 H1), 2.76 % (H2).
        // 2025-06-21..2025-06-30: 10 days: 1 500 × 3.71 % × 10 / 365 = 556.5 / 365 = 1.5246… → 1.52
        // 2025-07-01..2025-07-20: 20 days: 1 500 × 2.76 % × 20 / 365 = 828 / 365 = 2.2684… → 2.27
        // Interest 3.79, no indemnity.
        let c = consumer(
            &PenaltyInput::new(eur(dec!(1500)), d(2025, 3, 31), d(2025, 7, 20))
                .with_formal_notice(d(2025, 6, 20)),
        );
        assert_eq!(
            rows(&c),
            vec![
                (
                    d(2025, 6, 21),
                    d(2025, 6, 30),
                    10,
                    dec!(3.71),
                    dec!(1500),
                    dec!(1.52)
                ),
                (
                    d(2025, 7, 1),
                    d(2025, 7, 20),
                    20,
                    dec!(2.76),
                    dec!(1500),
                    dec!(2.27)
                ),
            ]
        );
        assert_eq!(c.interest, eur(dec!(3.79)));
        assert_eq!(c.indemnity, eur(dec!(0)));
        assert_eq!(c.total, eur(dec!(3.79)));
        assert_eq!(c.basis, RateBasis::LegalRate);
        assert_eq!(c.note, None);
    }

    #[test]
    fn consumer_partial_payments_split_the_periods_too() {
        // 600 of 1 500 paid on 2025-07-05: 2025-07-01..07-05 on 1 500 (5 days), then 900.
        // 1 500 × 2.76 % × 5 / 365 = 207 / 365 = 0.5671… → 0.57
        // 900 × 2.76 % × 15 / 365 = 372.6 / 365 = 1.0208… → 1.02
        let c = consumer(
            &PenaltyInput::new(eur(dec!(1500)), d(2025, 3, 31), d(2025, 7, 20))
                .with_formal_notice(d(2025, 6, 30))
                .with_payment(d(2025, 7, 5), eur(dec!(600))),
        );
        assert_eq!(
            rows(&c),
            vec![
                (
                    d(2025, 7, 1),
                    d(2025, 7, 5),
                    5,
                    dec!(2.76),
                    dec!(1500),
                    dec!(0.57)
                ),
                (
                    d(2025, 7, 6),
                    d(2025, 7, 20),
                    15,
                    dec!(2.76),
                    dec!(900),
                    dec!(1.02)
                ),
            ]
        );
    }

    #[test]
    fn without_a_formal_notice_a_consumer_owes_no_interest_and_the_note_says_why() {
        let c = consumer(&PenaltyInput::new(
            eur(dec!(1500)),
            d(2025, 3, 31),
            d(2025, 7, 20),
        ));
        assert!(c.periods.is_empty());
        assert_eq!(c.total, eur(dec!(0)));
        let note = c.note.expect("a note");
        assert!(note.contains("1231-6"), "{note}");
    }

    #[test]
    fn compute_penalties_dispatches_on_the_customer_kind() {
        let input = PenaltyInput::new(eur(dec!(1000)), d(2025, 3, 10), d(2025, 3, 11))
            .with_formal_notice(d(2025, 3, 10));
        let rates = RateTable::builtin();
        let b = compute_penalties(CustomerKind::Business, &input, &rates).expect("business");
        let c = compute_penalties(CustomerKind::Consumer, &input, &rates).expect("consumer");
        assert_eq!(b.indemnity, eur(dec!(40)));
        assert_eq!(c.indemnity, eur(dec!(0)));
        // 1 000 × 3.71 % × 1 / 365 = 0.1016… → 0.10
        assert_eq!(c.interest, eur(dec!(0.10)));
    }

    #[test]
    fn a_missing_rate_is_an_error_naming_the_half_year() {
        // The ECB table is declared valid until 2026-12-31: 2027 H1 is unknown.
        let err = compute_business_penalties(
            &PenaltyInput::new(eur(dec!(1000)), d(2026, 12, 15), d(2027, 1, 15)),
            &RateTable::builtin(),
        )
        .expect_err("no ECB rate for 2027");
        assert!(err.to_string().contains("2027-H1"), "{err}");
        // The legal rate of 2026 H2 is not in the table yet.
        let err = compute_consumer_interest(
            &PenaltyInput::new(eur(dec!(1000)), d(2026, 5, 15), d(2026, 7, 2))
                .with_formal_notice(d(2026, 6, 1)),
            &RateTable::builtin(),
        )
        .expect_err("no legal rate for 2026 H2");
        assert!(
            matches!(&err, LawError::MissingLegalRate { half_year, .. } if half_year.to_string() == "2026-H2"),
            "{err}"
        );
    }

    #[test]
    fn the_indemnity_stays_in_euros_outside_a_total_in_another_currency() {
        let usd = Currency::parse("USD").expect("USD");
        let c = business(&PenaltyInput::new(
            Money::new(dec!(1000), usd),
            d(2025, 3, 10),
            d(2025, 3, 11),
        ));
        assert_eq!(c.interest, Money::new(dec!(0.36), usd));
        assert_eq!(c.indemnity, eur(dec!(40)));
        assert_eq!(c.total, Money::new(dec!(0.36), usd));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    #[test]
    fn refuses_negative_amounts_and_payments_in_another_currency() {
        let rates = RateTable::builtin();
        let base = PenaltyInput::new(eur(dec!(1000)), d(2025, 3, 10), d(2025, 4, 10));
        let usd = Currency::parse("USD").expect("USD");
        let bad = [
            PenaltyInput::new(eur(dec!(-1)), d(2025, 3, 10), d(2025, 4, 10)),
            base.clone().with_payment(d(2025, 3, 20), eur(dec!(0))),
            base.clone()
                .with_payment(d(2025, 3, 20), Money::new(dec!(10), usd)),
            base.clone().with_contractual_rate(dec!(-1)),
        ];
        for input in bad {
            assert!(
                compute_business_penalties(&input, &rates).is_err(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn overpayments_are_flagged_and_end_the_computation() {
        let c = business(
            &PenaltyInput::new(eur(dec!(100)), d(2025, 3, 10), d(2025, 4, 10))
                .with_payment(d(2025, 3, 20), eur(dec!(150))),
        );
        assert_eq!(c.periods.last().map(|p| p.to), Some(d(2025, 3, 20)));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn day(offset: i64) -> NaiveDate {
            d(2022, 1, 1) + chrono::TimeDelta::days(offset)
        }

        /// Due dates from 2022-01-01 and as_of up to 2026-12-31 (the ECB table's validity).
        fn scenario() -> impl Strategy<Value = (PenaltyInput, i64)> {
            (
                0i64..1700,
                0i64..1900,
                1i64..1_000_000_000,
                proptest::collection::vec((-40i64..1900, 1i64..300_000_000), 0..5),
                proptest::option::of(0u32..2000),
                0i64..400,
            )
                .prop_map(|(due, span, cents, pays, rate, later)| {
                    let last = d(2026, 12, 31);
                    let due_date = day(due);
                    let as_of = (due_date + chrono::TimeDelta::days(span)).min(last);
                    let mut input =
                        PenaltyInput::new(Money::from_minor(cents, Currency::EUR), due_date, as_of);
                    for (offset, amount) in pays {
                        input = input.with_payment(
                            due_date + chrono::TimeDelta::days(offset),
                            Money::from_minor(amount, Currency::EUR),
                        );
                    }
                    input.contractual_rate = rate.map(|r| Decimal::new(i64::from(r), 2));
                    let room = (last - as_of).num_days();
                    (input, later.min(room))
                })
        }

        /// The last day interest runs: as_of, or the day a payment clears the principal.
        fn expected_end(input: &PenaltyInput) -> NaiveDate {
            let mut pays: Vec<_> = input
                .payments
                .iter()
                .filter(|p| p.date <= input.as_of)
                .collect();
            pays.sort_by_key(|p| p.date);
            let mut paid = Decimal::ZERO;
            for p in pays {
                paid += p.amount.amount;
                if paid >= input.principal.amount {
                    return p.date.min(input.as_of);
                }
            }
            input.as_of
        }

        proptest! {
            #[test]
            fn periods_tile_the_interval_exactly((input, _later) in scenario()) {
                let c = compute_business_penalties(&input, &RateTable::builtin())
                    .expect("computes");
                let start = input.due_date + chrono::TimeDelta::days(1);
                let end = expected_end(&input);
                if c.periods.is_empty() {
                    prop_assert!(end < start);
                    prop_assert!(c.total.is_zero());
                } else {
                    prop_assert_eq!(c.periods[0].from, start);
                    prop_assert_eq!(c.periods.last().map(|p| p.to), Some(end));
                    for w in c.periods.windows(2) {
                        prop_assert_eq!(w[0].to + chrono::TimeDelta::days(1), w[1].from);
                    }
                    for p in &c.periods {
                        prop_assert!(p.from <= p.to);
                        prop_assert_eq!(p.days, (p.to - p.from).num_days() + 1);
                        prop_assert_eq!(HalfYear::of(p.from), HalfYear::of(p.to));
                        prop_assert!(p.principal.is_positive());
                    }
                    prop_assert_eq!(c.indemnity, Money::eur(dec!(40)));
                }
                let sum: Decimal = c.periods.iter().map(|p| p.amount.amount).sum();
                prop_assert_eq!(c.interest.amount, sum);
                prop_assert_eq!(c.total.amount, sum + c.indemnity.amount);
            }

            #[test]
            fn the_total_never_decreases_when_as_of_moves_later((input, later) in scenario()) {
                let rates = RateTable::builtin();
                let mut moved = input.clone();
                moved.as_of = input.as_of + chrono::TimeDelta::days(later);
                let before = compute_business_penalties(&input, &rates).expect("computes");
                let after = compute_business_penalties(&moved, &rates).expect("computes");
                prop_assert!(after.total.amount >= before.total.amount,
                    "{} then {}", before.total, after.total);
            }

            #[test]
            fn consumer_interest_never_decreases_when_as_of_moves_later(
                (input, later) in scenario(),
                notice in 0i64..120,
            ) {
                let last = d(2026, 6, 30); // last half-year with a legal rate in the table
                prop_assume!(input.as_of <= last);
                let notice_date = input.due_date + chrono::TimeDelta::days(notice);
                let mut input = input.with_formal_notice(notice_date);
                input.contractual_rate = None;
                let mut moved = input.clone();
                moved.as_of = (input.as_of + chrono::TimeDelta::days(later)).min(last);
                let rates = RateTable::builtin();
                let before = compute_consumer_interest(&input, &rates).expect("computes");
                let after = compute_consumer_interest(&moved, &rates).expect("computes");
                prop_assert!(after.total.amount >= before.total.amount);
                prop_assert!(before.indemnity.is_zero());
            }
        }
    }
}
