//! The scheduler of `relance serve`: once a day, at a configured local time in each creditor's
//! time zone, the daily run (`Store::run_day`, the same as `relance run`); and every minute or
//! so the outbox dispatcher (`relance_dispatch::dispatch`, the same as `relance send`), which
//! sends what is due — the day's new messages, and the retries whose time has come.
//!
//! A creditor's settings page may set its own run time and SMTP account (`creditor_settings`):
//! they replace `--run-at` and the server's SMTP URL for that creditor.
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
    /// Mailers of the creditors with their own SMTP account, with the URL each was made from
    /// (a changed setting makes a new one).
    own_mailers: HashMap<CreditorId, (String, Arc<Mailer>)>,
    /// Told of each creditor whose data a check changed (the server warms its dashboard).
    on_change: Option<ChangeHook>,
}

/// See [`Scheduler::on_change`].
type ChangeHook = Arc<dyn Fn(CreditorId) + Send + Sync>;

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
            own_mailers: HashMap::new(),
            on_change: None,
        })
    }

    /// Calls `hook` with each creditor whose data a check changed: after its daily run, and
    /// after a dispatch that sent, postponed or failed something.
    pub fn on_change(mut self, hook: impl Fn(CreditorId) + Send + Sync + 'static) -> Self {
        self.on_change = Some(Arc::new(hook));
        self
    }

    fn changed(&self, creditor: CreditorId) {
        if let Some(hook) = &self.on_change {
            hook(creditor);
        }
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
            let today = crate::today_for(&creditor);
            let settings = store.creditor_settings(creditor.id).await?;
            let run_at = settings
                .run_at
                .as_deref()
                .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                .unwrap_or(self.schedule.run_at);
            let mut changed = false;
            if now.time() >= run_at && self.last_run.get(&creditor.id) != Some(&today) {
                report.planned += run_day(store, &creditor, today).await?;
                self.last_run.insert(creditor.id, today);
                changed = true;
            }
            // One creditor's failure (a template that no longer renders, say) does not stop
            // the others' messages.
            match self
                .dispatch(store, &creditor, settings.smtp_url.as_deref(), today)
                .await
            {
                Ok(done) => {
                    changed |= done.sent
                        + done.cancelled
                        + done.postponed
                        + done.deferred
                        + done.failed
                        + done.in_doubt
                        > 0;
                    report.dispatched.add(&done);
                }
                Err(e) => tracing::error!(
                    creditor = %creditor.name,
                    error = format!("{e:#}"),
                    "scheduler: dispatch failed"
                ),
            }
            if changed {
                self.changed(creditor.id);
            }
        }
        Ok(report)
    }

    /// The mailer of a creditor: its own SMTP account when its settings name one, else the
    /// server's.
    async fn mailer_of(
        &mut self,
        store: &Store,
        creditor: &CreditorRecord,
        own_url: Option<&str>,
    ) -> anyhow::Result<Option<Arc<Mailer>>> {
        let (Some(delivery), Some(url)) = (&self.schedule.delivery, own_url) else {
            return Ok(self.mailer.clone());
        };
        let password = store.smtp_password(creditor.id).await?;
        let url = with_password(url, password.as_deref());
        if let Some((made_from, mailer)) = self.own_mailers.get(&creditor.id) {
            if *made_from == url {
                return Ok(Some(Arc::clone(mailer)));
            }
        }
        let mut settings = delivery.clone();
        settings.smtp_url = Some(url.clone());
        let mailer = Arc::new(relance_dispatch::mailer_for(&settings)?);
        tracing::info!(creditor = %creditor.name, to = mailer.description(), "scheduler: the creditor's own SMTP account");
        self.own_mailers
            .insert(creditor.id, (url, Arc::clone(&mailer)));
        Ok(Some(mailer))
    }

    async fn dispatch(
        &mut self,
        store: &Store,
        creditor: &CreditorRecord,
        own_url: Option<&str>,
        today: NaiveDate,
    ) -> anyhow::Result<relance_dispatch::DispatchReport> {
        let mailer = self.mailer_of(store, creditor, own_url).await?;
        let (Some(settings), Some(mailer)) = (&self.schedule.delivery, mailer) else {
            return Ok(Default::default());
        };
        let options = DispatchOptions::new(settings, today, None)?;
        let report = relance_dispatch::dispatch(store, creditor, mailer, &options).await?;
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
    // The receivables, then the follow-ups (quotes, prospects, dormant customers) and the
    // suppliers' late deliveries and wrong invoices, into the same outbox.
    let run = store
        .run_daily(
            creditor.id,
            RunOptions {
                as_of: today,
                dry_run: false,
                full: false,
            },
            relance_store::followups::DEFAULT_DORMANT_MONTHS,
        )
        .await?;
    let (actions, followups, suppliers) = (run.receivables, run.followups, run.suppliers);
    tracing::info!(creditor = %creditor.name, %today, actions = actions.len(), followups = followups.len(), suppliers = suppliers.len(), "daily run done");
    // The run's writes wait in SQLite's write-ahead log: copy them now, between the run and
    // the sending, rather than inside a later request's commit.
    if let Err(e) = store.checkpoint().await {
        tracing::warn!(error = %e, "write-ahead log not checkpointed after the daily run");
    }
    Ok(actions.len() + followups.len() + suppliers.len())
}

/// `smtp[s]://user@host…` with the stored password put in (percent-encoded, as lettre reads
/// it); the URL as it is without a password or a user name.
pub fn with_password(url: &str, password: Option<&str>) -> String {
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return url.to_string();
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((user, host)) if !user.is_empty() && !user.contains(':') => format!(
            "{scheme}://{user}:{}@{host}{tail}",
            crate::pages::url_encode(password)
        ),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_password;

    #[test]
    fn puts_the_password_after_the_user() {
        assert_eq!(
            with_password("smtps://me@smtp.example:465", Some("p@ss:w/rd")),
            "smtps://me:p%40ss%3Aw%2Frd@smtp.example:465"
        );
        assert_eq!(
            with_password("smtp://me@host:587?tls=required", Some("x")),
            "smtp://me:x@host:587?tls=required"
        );
        assert_eq!(with_password("smtp://host:25", Some("x")), "smtp://host:25");
        assert_eq!(with_password("smtp://me@host", None), "smtp://me@host");
    }
}
