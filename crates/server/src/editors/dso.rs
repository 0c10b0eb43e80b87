//! The dashboard's DSO: the count-back days sales outstanding of each currency over the last
//! twelve months, as `relance report dso` computes it (`Store::month_flows`,
//! `relance_store::cash::months_of`, `relance_core::dso::monthly`), drawn as a small inline
//! SVG line (no script, no chart library), with the figure of the month and its trend.

use relance_core::dso;
use relance_core::money::Currency;
use relance_store::creditors::CreditorRecord;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::WebError;
use crate::AppState;

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

/// How long a creditor's DSO is kept: it moves with the month, and reading it scans every
/// invoice of the creditor, too slow to repeat at each view of a large ledger's dashboard.
pub const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The DSO charts of a creditor on `as_of`, computed at most every [`CACHE_FOR`].
pub async fn dso_charts(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: chrono::NaiveDate,
) -> Result<Vec<DsoChart>, WebError> {
    let key = (creditor.id.0, as_of);
    if let Some(charts) = state.dso_cache().get(key, CACHE_FOR) {
        return Ok(charts);
    }
    // One computation at a time: fifty viewers arriving together wait for the first one's
    // result instead of each scanning a year of the ledger.
    let _computing = state.dso_cache().computing.lock().await;
    if let Some(charts) = state.dso_cache().get(key, CACHE_FOR) {
        return Ok(charts);
    }
    let charts = compute(state, creditor, as_of).await?;
    state.dso_cache().put(key, charts.clone());
    Ok(charts)
}

async fn compute(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: chrono::NaiveDate,
) -> Result<Vec<DsoChart>, WebError> {
    let flows = state
        .store()
        .creditor_month_flows(creditor.id, as_of)
        .await?;
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

/// A cache entry's key: the creditor's id and the day.
type CacheKey = (i64, chrono::NaiveDate);

/// The charts computed lately, with when.
#[derive(Default)]
pub struct DsoCache {
    entries:
        std::sync::Mutex<std::collections::HashMap<CacheKey, (std::time::Instant, Vec<DsoChart>)>>,
    /// Held while a chart is computed (see [`dso_charts`]).
    computing: tokio::sync::Mutex<()>,
}

impl DsoCache {
    fn get(
        &self,
        key: (i64, chrono::NaiveDate),
        fresh_for: std::time::Duration,
    ) -> Option<Vec<DsoChart>> {
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| at.elapsed() < fresh_for)
            .map(|(_, charts)| charts.clone())
    }

    fn put(&self, key: CacheKey, charts: Vec<DsoChart>) {
        if let Ok(mut map) = self.entries.lock() {
            // Yesterday's entries and stale ones go.
            map.retain(|k, (at, _)| k.1 == key.1 && at.elapsed() < CACHE_FOR);
            map.insert(key, (std::time::Instant::now(), charts));
        }
    }
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
