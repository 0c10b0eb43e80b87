//! Days sales outstanding (DSO, délai moyen de règlement clients), two ways.
//!
//! - **Simple method**: receivables at the end of a month ÷ that month's credit sales × the
//!   month's days (the days elapsed, for the month in progress).
//! - **Count-back method** (méthode par épuisement du chiffre d'affaires): from the receivables
//!   at the end of the month, take away each month's sales going back in time, counting that
//!   month's days while the receivables exceed them, then the share of the last month's days
//!   that the remainder covers. It follows the real age of the balance and does not jump when
//!   a month's sales are unusual.
//!
//! Amounts are `Decimal`s of one currency; the result is in days, rounded to 0.1.

use rust_decimal::Decimal;
use serde::Serialize;

/// One month: its label (`2026-03`), its days (elapsed days for a month in progress), credit
/// sales and the receivables at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Month {
    pub label: String,
    pub days: u32,
    pub sales: Decimal,
    pub receivables_end: Decimal,
}

/// A DSO figure; `exhausted` when the count-back ran out of history (the figure is then a
/// lower bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountBack {
    pub days: Decimal,
    pub exhausted: bool,
}

/// Rounded to 0.1 day, always printed with its one decimal.
fn round1(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(1);
    r
}

/// Simple DSO of a month, `None` without sales.
pub fn simple(receivables: Decimal, sales: Decimal, days: u32) -> Option<Decimal> {
    if sales <= Decimal::ZERO {
        return None;
    }
    Some(round1(receivables / sales * Decimal::from(days)))
}

/// Count-back DSO at the end of `months.last()`, using the months in chronological order.
pub fn count_back(receivables: Decimal, months: &[Month]) -> CountBack {
    let mut left = receivables;
    let mut days = Decimal::ZERO;
    if left <= Decimal::ZERO {
        return CountBack {
            days,
            exhausted: false,
        };
    }
    for m in months.iter().rev() {
        if m.sales <= Decimal::ZERO {
            days += Decimal::from(m.days);
            continue;
        }
        if left > m.sales {
            left -= m.sales;
            days += Decimal::from(m.days);
        } else {
            days += left / m.sales * Decimal::from(m.days);
            return CountBack {
                days: round1(days),
                exhausted: false,
            };
        }
    }
    CountBack {
        days: round1(days),
        exhausted: true,
    }
}

/// One line of the monthly DSO report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DsoLine {
    pub month: String,
    pub sales: Decimal,
    pub receivables: Decimal,
    pub simple: Option<Decimal>,
    pub count_back: Decimal,
    /// The count-back ran out of history: the figure is a lower bound.
    pub count_back_exhausted: bool,
    /// Count-back change against the previous month, in days.
    pub trend: Option<Decimal>,
}

/// The DSO of the last `shown` months of `months` (chronological; earlier months serve the
/// count-back).
pub fn monthly(months: &[Month], shown: usize) -> Vec<DsoLine> {
    let first = months.len().saturating_sub(shown);
    let mut out: Vec<DsoLine> = Vec::new();
    for i in first..months.len() {
        let m = &months[i];
        let cb = count_back(m.receivables_end, &months[..=i]);
        let trend = out.last().map(|prev| round1(cb.days - prev.count_back));
        out.push(DsoLine {
            month: m.label.clone(),
            sales: m.sales,
            receivables: m.receivables_end,
            simple: simple(m.receivables_end, m.sales, m.days),
            count_back: cb.days,
            count_back_exhausted: cb.exhausted,
            trend,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(label: &str, days: u32, sales: i64, ar: i64) -> Month {
        Month {
            label: label.into(),
            days,
            sales: Decimal::from(sales),
            receivables_end: Decimal::from(ar),
        }
    }

    #[test]
    fn count_back_by_hand() {
        // Receivables 5,000 at 31 March; sales March 3,000, February 1,500, January 2,000:
        // 31 (March) + 28 (February) + 500/2,000 × 31 = 66.75 → 66.8 days.
        let months = [
            m("2026-01", 31, 2000, 0),
            m("2026-02", 28, 1500, 0),
            m("2026-03", 31, 3000, 5000),
        ];
        let cb = count_back(Decimal::from(5000), &months);
        assert_eq!(cb.days, Decimal::new(668, 1));
        assert!(!cb.exhausted);
        // Simple: 5,000 / 3,000 × 31 = 51.67 → 51.7.
        assert_eq!(
            simple(Decimal::from(5000), Decimal::from(3000), 31),
            Some(Decimal::new(517, 1))
        );
        // More receivables than the history: a lower bound.
        assert!(count_back(Decimal::from(9000), &months).exhausted);
    }
}
