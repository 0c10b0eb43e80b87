//! What every command needs: the open store, the creditor it acts for, and "today" in that
//! creditor's time zone.

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_store::creditors::CreditorRecord;
use relance_store::Store;

/// Opens and migrates the database named on the command line.
pub async fn open_store(url: &str) -> anyhow::Result<Store> {
    Store::open(url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(url)))
}

/// The creditor the command acts for.
pub async fn creditor(store: &Store, wanted: Option<&str>) -> anyhow::Result<CreditorRecord> {
    Ok(store.resolve_creditor(wanted).await?)
}

/// Today's date in the creditor's time zone (Europe/Paris when the zone is unknown).
pub fn today_for(creditor: &CreditorRecord) -> NaiveDate {
    let tz: chrono_tz::Tz = creditor
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// A URL safe to print.
pub fn redact(url: &str) -> String {
    relance_store::redact_url(url)
}
