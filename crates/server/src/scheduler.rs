//! The scheduler of `relance serve`: once a day, at a configured local time in each creditor's
//! time zone, the daily run (`Store::run_day`, the same as `relance run`); and every minute or
//! so the outbox dispatcher (`relance_dispatch::dispatch`, the same as `relance send`), which
//! sends what is due — the day's new messages, and the retries whose time has come.
//!
//! A run of a day is idempotent (the outbox's unique keys), so a restart that runs the same day
//! again writes nothing new; a dispatch claims rows with a lease, so two servers on one
//! PostgreSQL database never send a message twice.
//!
//! On SQLite each check takes the writer lock of `relance run` and `relance send`
//! (`relance_dispatch::writer_lock`, a `relance.db.lock` file next to the database) for its
//! whole length: while a command holds it, the check is skipped (and says who writes), and a
//! command started during a check waits for it. PostgreSQL needs no lock: rows are claimed with
//! `FOR UPDATE SKIP LOCKED`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use relance_core::ids::CreditorId;
use relance_deliver::Mailer;
use relance_dispatch::{DeliverySettings, DispatchOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorRecord;
use relance_store::Store;

/// What the scheduler does, and how often it looks.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Local time of the daily run in each creditor's time zone.
    pub run_at: NaiveTime,
    /// How messages leave; `None`: the server plans but sends nothing (`relance send` does).
    pub delivery: Option<DeliverySettings>,
    /// Time between two checks (the daily run's time, and what is due to be sent).
    pub every: Duration,
    /// The database's URL, for the SQLite writer lock (`None`, or a PostgreSQL URL: no lock).
    pub database_url: Option<String>,
}

impl Schedule {
    /// The daily run at `run_at`, and the dispatcher every minute with `delivery`.
    pub fn daily(run_at: NaiveTime, delivery: Option<DeliverySettings>) -> Self {
        Schedule {
            run_at,
            delivery,
            every: Duration::from_secs(60),
            database_url: None,
        }
    }

    /// Takes the SQLite writer lock of this database at each check.
    pub fn with_database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }
}

/// The scheduler's memory between two checks.
pub struct Scheduler {
    schedule: Schedule,
    mailer: Option<Arc<Mailer>>,
    last_run: HashMap<CreditorId, NaiveDate>,
}

/// What one check did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TickReport {
    /// Actions planned by the daily runs.
    pub planned: usize,
    /// What the dispatches did, summed over creditors.
    pub dispatched: relance_dispatch::DispatchReport,
    /// The check was skipped: another process (named) holds the SQLite writer lock.
    pub skipped: Option<String>,
}

impl Scheduler {
    /// Fails when the delivery settings are unusable (a malformed SMTP URL, say): better at
    /// start-up than at the first message.
    pub fn new(schedule: Schedule) -> anyhow::Result<Self> {
        let mailer = match &schedule.delivery {
            Some(settings) => Some(Arc::new(relance_dispatch::mailer_for(settings)?)),
            None => None,
        };
        Ok(Scheduler {
            schedule,
            mailer,
            last_run: HashMap::new(),
        })
    }

    /// Checks every `schedule.every`, forever.
    pub async fn run(mut self, store: Store) {
        if let Some(mailer) = &self.mailer {
            tracing::info!(
                to = mailer.description(),
                "scheduler: the dispatcher sends due messages"
            );
        }
        let mut tick = tokio::time::interval(self.schedule.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.tick_once(&store).await {
                tracing::error!(error = format!("{e:#}"), "scheduler: check failed");
            }
        }
    }

    /// One check, for every creditor: the daily run if its local time has passed `run_at` and
    /// its day has not run in this process yet; then the dispatch of what is due.
    pub async fn tick_once(&mut self, store: &Store) -> anyhow::Result<TickReport> {
        let mut report = TickReport::default();
        // Held until the end of the check: one writer at a time on a SQLite file.
        let _writer = match &self.schedule.database_url {
            None => None,
            Some(url) => {
                let url = url.clone();
                let taken = tokio::task::spawn_blocking(move || {
                    relance_dispatch::writer_lock::WriterLock::try_acquire(
                        &url,
                        "relance serve (scheduler)",
                    )
                })
                .await?;
                match taken {
                    Ok(lock) => lock,
                    Err(who) => {
                        tracing::info!(
                            holder = %who,
                            "scheduler: check skipped, another process is writing to the database"
                        );
                        report.skipped = Some(who);
                        return Ok(report);
                    }
                }
            }
        };
        for creditor in store.creditors().await? {
            let tz: chrono_tz::Tz = creditor
                .time_zone
                .parse()
                .unwrap_or(chrono_tz::Europe::Paris);
            let now = chrono::Utc::now().with_timezone(&tz);
            let today = now.date_naive();
            if now.time() >= self.schedule.run_at && self.last_run.get(&creditor.id) != Some(&today)
            {
                report.planned += run_day(store, &creditor, today).await?;
                self.last_run.insert(creditor.id, today);
            }
            // One creditor's failure (a template that no longer renders, say) does not stop
            // the others' messages.
            match self.dispatch(store, &creditor, today).await {
                Ok(done) => report.dispatched.add(&done),
                Err(e) => tracing::error!(
                    creditor = %creditor.name,
                    error = format!("{e:#}"),
                    "scheduler: dispatch failed"
                ),
            }
        }
        Ok(report)
    }

    async fn dispatch(
        &self,
        store: &Store,
        creditor: &CreditorRecord,
        today: NaiveDate,
    ) -> anyhow::Result<relance_dispatch::DispatchReport> {
        let (Some(settings), Some(mailer)) = (&self.schedule.delivery, &self.mailer) else {
            return Ok(Default::default());
        };
        let options = DispatchOptions::new(settings, today, None)?;
        let report =
            relance_dispatch::dispatch(store, creditor, Arc::clone(mailer), &options).await?;
        if report.sent
            + report.cancelled
            + report.postponed
            + report.deferred
            + report.failed
            + report.in_doubt
            > 0
        {
            tracing::info!(creditor = %creditor.name, %today, "{}", report.summary());
        }
        Ok(report)
    }
}

async fn run_day(
    store: &Store,
    creditor: &CreditorRecord,
    today: NaiveDate,
) -> Result<usize, relance_store::StoreError> {
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
    Ok(actions.len())
}
