//! relance-server: the web application (server-rendered pages in French and English), the debtor
//! portal (signed, expiring links), a small JSON API with bearer tokens, and the scheduler of the
//! daily run.
//!
//! Every route that reads a creditor's data takes the creditor's id in its path and checks it
//! against the creditors the user may see ([`access`]); another creditor's data answers 404.

pub mod auth;
pub mod editors;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod portal;
pub mod scheduler;
pub mod settings;
pub mod unsubscribe;

mod aging_cache;
pub mod api;
pub mod dashboard;

pub mod imports;
pub mod insights;
pub mod queue;
pub mod reports;
mod work;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_store::creditors::CreditorRecord;
use relance_store::users::UserRecord;
use relance_store::Store;

pub use error::WebError;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Mark cookies `Secure` (set when the server is reached over https, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// Failed logins allowed per account and address within `login_window`.
    pub login_attempts: u32,
    pub login_window: Duration,
    /// How messages leave, for the work queue's "send now" (the scheduler's settings);
    /// `None`: the button says sending is off on this server.
    pub delivery: Option<relance_dispatch::DeliverySettings>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            secure_cookies: false,
            login_attempts: 5,
            login_window: Duration::from_secs(15 * 60),
            delivery: None,
        }
    }
}

/// What `relance serve` starts.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub options: ServerOptions,
    /// The daily run and the dispatcher; `None` disables the scheduler.
    pub schedule: Option<scheduler::Schedule>,
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Store,
    templates: minijinja::Environment<'static>,
    limiter: auth::LoginLimiter,
    portal_key: Vec<u8>,
    options: ServerOptions,
    aging_cache: aging_cache::AgingCache,
    insights: insights::Caches,
    dashboard_cache: dashboard::DashboardCache,
}

impl AppState {
    pub async fn new(store: Store, options: ServerOptions) -> Result<AppState, WebError> {
        let portal_key = portal::portal_key(&store).await?;
        Ok(AppState(Arc::new(Inner {
            templates: pages::templates()?,
            limiter: auth::LoginLimiter::new(options.login_attempts, options.login_window),
            portal_key,
            store,
            options,
            aging_cache: Default::default(),
            insights: Default::default(),
            dashboard_cache: Default::default(),
        })))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub(crate) fn templates(&self) -> &minijinja::Environment<'static> {
        &self.0.templates
    }

    pub(crate) fn limiter(&self) -> &auth::LoginLimiter {
        &self.0.limiter
    }

    pub(crate) fn portal_key(&self) -> &[u8] {
        &self.0.portal_key
    }

    pub(crate) fn options(&self) -> &ServerOptions {
        &self.0.options
    }

    pub(crate) fn aging_cache(&self) -> &aging_cache::AgingCache {
        &self.0.aging_cache
    }

    pub(crate) fn dashboard_cache(&self) -> &dashboard::DashboardCache {
        &self.0.dashboard_cache
    }

    pub(crate) fn insights(&self) -> &insights::Caches {
        &self.0.insights
    }
}

/// The whole application: pages, portal, API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{lang}", get(pages::switch_language))
        .route("/static/app.css", get(pages::stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .route("/c/{creditor}", get(pages::dashboard))
        .route("/c/{creditor}/customers", get(pages::customers))
        .route("/c/{creditor}/customers/{code}", get(pages::customer))
        .route(
            "/c/{creditor}/customers/{code}/promise",
            post(pages::promise),
        )
        .route(
            "/c/{creditor}/customers/{code}/dispute",
            post(pages::dispute),
        )
        .route("/c/{creditor}/customers/{code}/hold", post(pages::hold))
        .route("/c/{creditor}/customers/{code}/note", post(pages::note))
        .route("/c/{creditor}/invoices/{id}", get(pages::invoice))
        .route("/c/{creditor}/queue", get(queue::page))
        .route("/c/{creditor}/queue/{id}/retry", post(queue::retry))
        .route("/c/{creditor}/queue/{id}/skip", post(queue::skip))
        .route("/c/{creditor}/queue/{id}/send", post(queue::send_now))
        .route("/c/{creditor}/queue/call/{code}", post(queue::call))
        .route(
            "/c/{creditor}/imports",
            get(imports::page)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(imports::MAX_UPLOAD)),
        )
        .route("/c/{creditor}/reports", get(reports::page))
        .route("/c/{creditor}/reports/{file}", get(reports::download))
        .route("/c/{creditor}/forecast", get(insights::forecast::page))
        .route("/c/{creditor}/risk", get(insights::risk::page))
        .route("/c/{creditor}/what-works", get(insights::works::page))
        .route("/c/{creditor}/suppliers", get(insights::suppliers::page))
        .route("/c/{creditor}/policies", get(editors::policies::list))
        .route(
            "/c/{creditor}/policies/export",
            get(editors::policies::export),
        )
        .route(
            "/c/{creditor}/policies/import",
            post(editors::policies::import),
        )
        .route(
            "/c/{creditor}/policies/{id}",
            get(editors::policies::show).post(editors::policies::save),
        )
        .route(
            "/c/{creditor}/policies/{id}/assign",
            post(editors::policies::assign),
        )
        .route("/c/{creditor}/templates", get(editors::templates::list))
        .route(
            "/c/{creditor}/templates/{step}/{lang}/{part}",
            get(editors::templates::edit).post(editors::templates::save),
        )
        .route(
            "/c/{creditor}/templates/{step}/{lang}/{part}/preview",
            post(editors::templates::preview),
        )
        .route(
            "/c/{creditor}/settings",
            get(settings::show).post(settings::save),
        )
        .route("/c/{creditor}/settings/logo", get(settings::logo))
        .route("/portal", get(portal::page))
        .route("/portal/promise", post(portal::promise))
        .route("/portal/dispute", post(portal::dispute))
        .route(
            "/unsubscribe",
            get(unsubscribe::unsubscribe).post(unsubscribe::unsubscribe),
        )
        .nest("/api", api::routes(state.clone()))
        .with_state(state)
}

/// The creditor `id` if `user` may see it; 404 otherwise (its existence is not revealed).
pub async fn access(store: &Store, user: &UserRecord, id: i64) -> Result<CreditorRecord, WebError> {
    store
        .creditors_of(user)
        .await?
        .into_iter()
        .find(|c| c.id == CreditorId(id))
        .ok_or(WebError::NotFound)
}

/// Today in the creditor's time zone (Europe/Paris when the zone is unknown), unless the process
/// pinned another day ([`pin_today`]).
pub fn today_for(creditor: &CreditorRecord) -> NaiveDate {
    if let Some(day) = PINNED_TODAY.get() {
        return *day;
    }
    let tz: chrono_tz::Tz = creditor
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

static PINNED_TODAY: std::sync::OnceLock<NaiveDate> = std::sync::OnceLock::new();

/// Makes [`today_for`] answer `day` for the rest of the process, whatever the clock says; the
/// first call wins and later ones return the day already pinned. For tests: a daily run plans
/// nothing on a weekend or a public holiday (runs happen on business days), so a test that runs
/// "today" and expects reminders pins the last business day instead of failing on Saturdays.
pub fn pin_today(day: NaiveDate) -> NaiveDate {
    *PINNED_TODAY.get_or_init(|| day)
}

/// Pins (see [`pin_today`]) the last French business day on or before today's date in Paris.
pub fn pin_today_to_a_business_day() -> NaiveDate {
    let calendar = relance_core::calendar::BusinessCalendar::FRANCE;
    let mut day = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive();
    while !calendar.is_business_day(day) {
        match day.pred_opt() {
            Some(before) => day = before,
            None => break,
        }
    }
    pin_today(day)
}

/// Serves until Ctrl-C: the application on `config.bind`, and the scheduler (the daily run and
/// the dispatcher).
pub async fn serve(store: Store, config: ServeConfig) -> Result<(), WebError> {
    let state = AppState::new(store.clone(), config.options.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| WebError::Internal(format!("cannot listen on {}: {e}", config.bind)))?;
    serve_on(listener, state, config.schedule).await
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    schedule: Option<scheduler::Schedule>,
) -> Result<(), WebError> {
    let scheduler = match schedule {
        Some(schedule) => {
            let warmed = state.clone();
            let scheduler = scheduler::Scheduler::new(schedule)
                .map_err(|e| WebError::Internal(format!("scheduler: {e:#}")))?
                .on_change(move |creditor| dashboard::warm(&warmed, creditor));
            Some(tokio::spawn(scheduler.run(state.store().clone())))
        }
        None => None,
    };
    // The dashboards' figures are computed now rather than at the first view.
    dashboard::warm_all(&state);
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| WebError::Internal(format!("server: {e}")));
    if let Some(task) = scheduler {
        task.abort();
    }
    result
}
