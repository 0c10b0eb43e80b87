//! The cash forecast page (`/c/{creditor}/forecast`): the expected cash-in of each week, with
//! the low–high band, as `relance report forecast` computes it (`relance_store::cash::
//! predict_all`, `weekly_forecast`), drawn as an inline SVG — weekly bars and the running total
//! inside its band — above the table; CSV and XLSX through the reports' downloads.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use relance_core::forecast::WeekLine;
use relance_core::money::{Currency, Money};
use relance_dispatch::tables::{forecast_rows, Table};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{cash_forecast, internal, scale, ViewQuery};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, render};
use crate::{access, AppState};

/// Chart box (SVG user units): the plot spans x 70–470 and y 20–170.
const LEFT: i64 = 70;
const WIDTH: i64 = 400;
const TOP: i64 = 20;
const HEIGHT: i64 = 150;

/// One week of a currency's chart and table.
#[derive(Debug, Clone, Serialize)]
pub struct WeekView {
    pub week: String,
    pub starts_on: String,
    /// The amounts as plain decimals (`data-` attributes, what tests and scripts read).
    pub expected_raw: String,
    pub low: String,
    pub expected: String,
    pub high: String,
    pub cumulative_low: String,
    pub cumulative_expected: String,
    pub cumulative_high: String,
    pub invoices: u64,
    /// The bar of the week's expected cash-in, and the week's slot centre.
    pub x: i64,
    pub bar_x: i64,
    pub bar_y: i64,
    pub bar_height: i64,
}

/// One currency's forecast.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastChart {
    pub currency: String,
    pub weeks: Vec<WeekView>,
    /// What is expected after the last week shown, if anything.
    pub later: Option<WeekView>,
    pub bar_width: i64,
    /// `points` of the band's polygon (cumulative high, then cumulative low backwards) and of
    /// the cumulative expected line.
    pub band: String,
    pub line: String,
    /// The top of the scale and the total expected over the weeks shown.
    pub max: String,
    pub total_expected: String,
}

fn money(value: Decimal, currency: Currency, lang: Lang) -> String {
    lang.money(&Money::new(value, currency))
}

fn view(w: &WeekLine, currency: Currency, lang: Lang) -> WeekView {
    WeekView {
        week: w.week.clone(),
        starts_on: w.starts_on.clone(),
        expected_raw: w.expected.to_string(),
        low: money(w.low, currency, lang),
        expected: money(w.expected, currency, lang),
        high: money(w.high, currency, lang),
        cumulative_low: money(w.cumulative_low, currency, lang),
        cumulative_expected: money(w.cumulative_expected, currency, lang),
        cumulative_high: money(w.cumulative_high, currency, lang),
        invoices: w.invoices,
        x: 0,
        bar_x: 0,
        bar_y: 0,
        bar_height: 0,
    }
}

/// The chart of each currency (weeks in order, "later" apart).
pub fn charts(weeks: &[WeekLine], lang: Lang) -> Vec<ForecastChart> {
    let mut codes: Vec<&str> = weeks.iter().map(|w| w.currency.as_str()).collect();
    codes.dedup();
    let mut out = Vec::new();
    for code in codes {
        let Ok(currency) = Currency::parse(code) else {
            continue;
        };
        let lines: Vec<&WeekLine> = weeks.iter().filter(|w| w.currency == code).collect();
        let (shown, later): (Vec<&WeekLine>, Vec<&WeekLine>) =
            lines.into_iter().partition(|w| w.week != "later");
        let n = shown.len().max(1) as i64;
        let max = shown
            .iter()
            .map(|w| w.cumulative_high.max(w.expected))
            .max()
            .unwrap_or(Decimal::ZERO);
        let y = |v: Decimal| TOP + HEIGHT - scale(v, max, HEIGHT);
        let bar_width = (WIDTH / n * 3 / 5).max(2);
        let views: Vec<WeekView> = shown
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let x = LEFT + (2 * i as i64 + 1) * WIDTH / (2 * n);
                let height = scale(w.expected, max, HEIGHT);
                WeekView {
                    x,
                    bar_x: x - bar_width / 2,
                    bar_y: TOP + HEIGHT - height,
                    bar_height: height,
                    ..view(w, currency, lang)
                }
            })
            .collect();
        let upper = shown
            .iter()
            .zip(&views)
            .map(|(w, v)| format!("{},{}", v.x, y(w.cumulative_high)));
        let lower = shown
            .iter()
            .zip(&views)
            .rev()
            .map(|(w, v)| format!("{},{}", v.x, y(w.cumulative_low)));
        let band = upper.chain(lower).collect::<Vec<_>>().join(" ");
        let line = shown
            .iter()
            .zip(&views)
            .map(|(w, v)| format!("{},{}", v.x, y(w.cumulative_expected)))
            .collect::<Vec<_>>()
            .join(" ");
        let total = shown
            .last()
            .map(|w| w.cumulative_expected)
            .unwrap_or(Decimal::ZERO);
        out.push(ForecastChart {
            currency: code.to_string(),
            later: later.first().map(|w| view(w, currency, lang)),
            weeks: views,
            bar_width,
            band,
            line,
            max: money(max, currency, lang),
            total_expected: money(total, currency, lang),
        });
    }
    out
}

/// `GET /c/{creditor}/forecast?as_of=`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<ViewQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let as_of = q.day(&creditor, lang)?;
    let forecast = cash_forecast(&state, &creditor, as_of).await?;
    let charts = charts(&forecast.weeks, lang);
    let excluded: Vec<minijinja::Value> = forecast
        .excluded
        .iter()
        .map(|(code, (n, amount))| {
            let amount = Currency::parse(code)
                .map(|c| money(*amount, c, lang))
                .unwrap_or_else(|_| format!("{amount} {code}"));
            minijinja::context! { invoices => n, amount }
        })
        .collect();
    let cid = creditor.id.0;
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "forecast.html",
        lang,
        minijinja::context! {
            chrome, cid, active => "reports", as_of => as_of.to_string(), charts, excluded,
            weeks => super::WEEKS,
            download => format!("/c/{cid}/reports"), qs => format!("as_of={as_of}"),
        },
    )?)
    .into_response())
}

/// The forecast as a downloadable table (`/c/{creditor}/reports/forecast.csv`).
pub async fn table(
    state: &AppState,
    creditor: &relance_store::creditors::CreditorRecord,
    as_of: chrono::NaiveDate,
) -> Result<(String, Table), WebError> {
    let forecast = cash_forecast(state, creditor, as_of).await?;
    let (headers, rows) = forecast_rows(&forecast.weeks);
    Ok((
        format!("Forecast {as_of}"),
        Table::new(headers, rows, &forecast.weeks).map_err(internal)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(name: &str, expected: i64, low: i64, high: i64, cum: [i64; 3]) -> WeekLine {
        WeekLine {
            week: name.into(),
            starts_on: "2026-03-02".into(),
            currency: "EUR".into(),
            low: Decimal::from(low),
            expected: Decimal::from(expected),
            high: Decimal::from(high),
            cumulative_low: Decimal::from(cum[0]),
            cumulative_expected: Decimal::from(cum[1]),
            cumulative_high: Decimal::from(cum[2]),
            invoices: 1,
        }
    }

    #[test]
    fn the_band_spans_the_running_totals_and_later_stays_off_the_chart() {
        let charts = charts(
            &[
                week("2026-W10", 100, 50, 150, [50, 100, 150]),
                week("2026-W11", 200, 100, 150, [150, 300, 300]),
                week("later", 10, 10, 10, [160, 310, 310]),
            ],
            Lang::En,
        );
        let c = &charts[0];
        assert_eq!(c.weeks.len(), 2);
        assert!(c.later.is_some());
        // The highest running total touches the top; slots are centred.
        assert_eq!(c.weeks[0].x, LEFT + WIDTH / 4);
        assert_eq!(c.weeks[1].x, LEFT + 3 * WIDTH / 4);
        assert_eq!(c.band, "170,95 370,20 370,95 170,145");
        assert_eq!(c.line, "170,120 370,20");
        // A bar of 200 out of 300 is two thirds of the height.
        assert_eq!(c.weeks[1].bar_height, 100);
        assert_eq!(c.weeks[1].bar_y, TOP + HEIGHT - 100);
    }
}
