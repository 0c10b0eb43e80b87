//! The scheduler of `relance serve`: once a day, at a configured local time in each creditor's
//! time zone, the daily run (`Store::run_day`, the same as `relance run`); then the outbox
//! dispatcher.
//!
//! A run of a day is idempotent (the outbox's unique keys), so a restart that runs the same day
//! again writes nothing new.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use relance_core::ids::CreditorId;
use relance_store::cases::RunOptions;
use relance_store::Store;

/// Checks every minute whether a creditor's daily run is due, forever.
pub async fn run(store: Store, at: NaiveTime) {
    let mut last: HashMap<CreditorId, NaiveDate> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = tick_once(&store, at, &mut last).await {
            tracing::error!(error = %e, "scheduler: daily run failed");
        }
    }
}

/// One check: runs the day of every creditor whose local time has passed `at` and whose day
/// has not run in this process yet. Returns how many actions were planned.
pub async fn tick_once(
    store: &Store,
    at: NaiveTime,
    last: &mut HashMap<CreditorId, NaiveDate>,
) -> Result<usize, relance_store::StoreError> {
    let mut planned = 0;
    for creditor in store.creditors().await? {
        let tz: chrono_tz::Tz = creditor
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Europe::Paris);
        let now = chrono::Utc::now().with_timezone(&tz);
        let today = now.date_naive();
        if now.time() < at || last.get(&creditor.id) == Some(&today) {
            continue;
        }
        let actions = store
            .run_day(
                creditor.id,
                RunOptions {
                    as_of: today,
                    dry_run: false,
                    full: false,
                },
            )
            .await?;
        tracing::info!(creditor = %creditor.name, %today, actions = actions.len(), "daily run done");
        planned += actions.len();
        last.insert(creditor.id, today);
        // HOOK(deliver): the outbox dispatcher (crates/deliver, built in parallel) is called
        // here once it lands: render and send the creditor's `planned` actions due today, e.g.
        // `relance_deliver::dispatch(store, creditor.id, today).await`.
    }
    Ok(planned)
}
