//! The dashboard's DSO: the count-back days sales outstanding of each currency over the last
//! twelve months, as `relance report dso` computes it (`Store::month_flows`,
//! `relance_store::cash::months_of`, `relance_core::dso::monthly`), drawn as a small inline
//! SVG line (no script, no chart library), with the figure of the month and its trend.

use relance_core::dso;
use relance_core::money::Currency;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::WebError;

/// Months drawn.
pub const MONTHS: usize = 12;

/// Chart box (SVG user units): the plot spans x 40–470 and y 20–160.
const LEFT: i64 = 40;
const WIDTH: i64 = 430;
const TOP: i64 = 20;
const HEIGHT: i64 = 140;

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub month: String,
    /// Days, one decimal.
    pub days: String,
    pub exhausted: bool,
    pub x: i64,
    pub y: i64,
}

/// One currency's DSO line.
#[derive(Debug, Clone, Serialize)]
pub struct DsoChart {
    pub currency: String,
    /// The current month's count-back DSO in days.
    pub latest: String,
    /// Change against the previous month, in days, signed ("+3.5"), when there is one.
    pub trend: Option<String>,
    pub rising: bool,
    pub points: Vec<Point>,
    /// The `points` attribute of the `<polyline>`.
    pub line: String,
    /// The top of the scale, in days.
    pub max_days: String,
}

fn scale(value: Decimal, max: Decimal, span: i64) -> i64 {
    if max <= Decimal::ZERO {
        return 0;
    }
    (value * Decimal::from(span) / max)
        .round()
        .to_i64()
        .unwrap_or(0)
}

/// The chart of each currency the creditor invoices in (oldest month first).
pub fn charts(lines_by_currency: Vec<(Currency, Vec<dso::DsoLine>)>) -> Vec<DsoChart> {
    lines_by_currency
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(currency, lines)| {
            let max = lines
                .iter()
                .map(|l| l.count_back)
                .max()
                .unwrap_or(Decimal::ZERO)
                .max(Decimal::ONE);
            let n = lines.len() as i64;
            let points: Vec<Point> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| Point {
                    month: l.month.clone(),
                    days: l.count_back.to_string(),
                    exhausted: l.count_back_exhausted,
                    x: LEFT
                        + if n > 1 {
                            WIDTH * i as i64 / (n - 1)
                        } else {
                            WIDTH / 2
                        },
                    y: TOP + HEIGHT - scale(l.count_back, max, HEIGHT),
                })
                .collect();
            let line = points
                .iter()
                .map(|p| format!("{},{}", p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            let last = lines.last();
            let trend = last.and_then(|l| l.trend);
            DsoChart {
                currency: currency.code().to_string(),
                latest: last.map(|l| l.count_back.to_string()).unwrap_or_default(),
                trend: trend.map(|t| {
                    if t > Decimal::ZERO {
                        format!("+{t}")
                    } else {
                        t.to_string()
                    }
                }),
                rising: trend.is_some_and(|t| t > Decimal::ZERO),
                points,
                line,
                max_days: max.round_dp(0).to_string(),
            }
        })
        .collect()
}

/// The DSO charts of a creditor on `as_of`. Reading them scans every invoice of the creditor:
/// the dashboard keeps them in its cache (`crate::dashboard`) with the rest of its figures.
pub async fn dso_charts(
    store: &relance_store::Store,
    creditor: relance_core::ids::CreditorId,
    as_of: chrono::NaiveDate,
) -> Result<Vec<DsoChart>, WebError> {
    let flows = store.creditor_month_flows(creditor, as_of).await?;
    let mut currencies: Vec<Currency> = flows.iter().map(|f| f.currency).collect();
    currencies.sort_by_key(|c| c.code().to_string());
    currencies.dedup();
    let lines = currencies
        .into_iter()
        .map(|currency| {
            let months = relance_store::cash::months_of(
                flows.iter().filter(|f| f.currency == currency),
                as_of,
            );
            (currency, dso::monthly(&months, MONTHS))
        })
        .collect();
    Ok(charts(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(month: &str, days: i64, trend: Option<i64>) -> dso::DsoLine {
        dso::DsoLine {
            month: month.into(),
            sales: Decimal::from(1000),
            receivables: Decimal::from(1000),
            simple: None,
            count_back: Decimal::from(days),
            count_back_exhausted: false,
            trend: trend.map(Decimal::from),
        }
    }

    #[test]
    fn the_highest_month_touches_the_top_and_the_trend_is_signed() {
        let charts = charts(vec![(
            Currency::EUR,
            vec![
                line("2026-01", 30, None),
                line("2026-02", 60, Some(30)),
                line("2026-03", 45, Some(-15)),
            ],
        )]);
        let c = &charts[0];
        assert_eq!(c.points[1].y, TOP);
        assert_eq!(c.points[0].y, TOP + HEIGHT / 2);
        assert_eq!(c.points[0].x, LEFT);
        assert_eq!(c.points[2].x, LEFT + WIDTH);
        assert_eq!(c.latest, "45");
        assert_eq!(c.trend.as_deref(), Some("-15"));
        assert!(!c.rising);
        assert_eq!(c.line, "40,90 255,20 470,55");
    }
}
