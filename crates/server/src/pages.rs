//! The server-rendered pages: login, dashboard, customers, customer, invoice, and the forms that
//! record promises, disputes, holds and notes. Plain HTML forms, no script.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Form, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::ids::{CustomerId, ItemId};
use relance_core::money::parse_amount;
use relance_store::creditors::CreditorRecord;
use relance_store::customers::CustomerRecord;
use relance_store::web_queries::{CustomerQuery, CustomerSort, ItemLine};
use relance_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::auth::{self, Session, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_HOURS};
use crate::error::WebError;
use crate::i18n::{field, refusal, strings, Lang};
use crate::{access, today_for, AppState};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("home.html", include_str!("../templates/home.html")),
    (
        "dashboard.html",
        include_str!("../templates/dashboard.html"),
    ),
    (
        "customers.html",
        include_str!("../templates/customers.html"),
    ),
    ("customer.html", include_str!("../templates/customer.html")),
    ("invoice.html", include_str!("../templates/invoice.html")),
    ("portal.html", include_str!("../templates/portal.html")),
    (
        "unsubscribe.html",
        include_str!("../templates/unsubscribe.html"),
    ),
];

/// The page templates (HTML-escaped output, bounded execution).
pub fn templates() -> Result<minijinja::Environment<'static>, WebError> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(5_000_000));
    env.add_filter("urlencode", |s: String| url_encode(&s));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    crate::work::add_templates(&mut env)?;
    crate::editors::add_templates(&mut env)?;
    crate::insights::add_templates(&mut env)?;
    Ok(env)
}

/// Renders `name` with the strings of `lang` (`t`) and `ctx`.
pub fn render(
    state: &AppState,
    name: &str,
    lang: Lang,
    ctx: minijinja::Value,
) -> Result<String, WebError> {
    let template = state.templates().get_template(name)?;
    Ok(template.render(minijinja::context! {
        t => strings(lang),
        lang => lang.code(),
        ..ctx
    })?)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local path to go back to after a login or a language switch (never another site).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

pub(crate) fn see_other(target: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, target.to_string())],
    )
        .into_response()
}

/// The client's address, when the server knows it (the rate limit counts per account and address).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// What the layout shows around every signed-in page.
#[derive(Serialize)]
pub(crate) struct Chrome {
    email: String,
    role: &'static str,
    can_write: bool,
    csrf: String,
    creditors: Vec<(i64, String)>,
    creditor: Option<(i64, String)>,
    path: String,
}

pub(crate) async fn chrome(
    state: &AppState,
    session: &Session,
    creditor: Option<&CreditorRecord>,
    path: String,
) -> Result<Chrome, WebError> {
    let creditors = state.store().creditors_of(&session.user).await?;
    Ok(chrome_of(session, creditors, creditor, path))
}

/// The chrome from the creditors the user may see, already read.
pub(crate) fn chrome_of(
    session: &Session,
    creditors: Vec<CreditorRecord>,
    creditor: Option<&CreditorRecord>,
    path: String,
) -> Chrome {
    Chrome {
        email: session.user.email.clone(),
        role: session.user.role.as_str(),
        can_write: session.user.role.can_write(),
        csrf: session.csrf.clone(),
        creditors: creditors.into_iter().map(|c| (c.id.0, c.name)).collect(),
        creditor: creditor.map(|c| (c.id.0, c.name.clone())),
        path,
    }
}

pub(crate) fn path_of(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

/// An invoice or credit note as a page lists it.
#[derive(Debug, Serialize)]
pub struct ItemView {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: String,
    pub settled: String,
    pub open: String,
    pub open_plain: String,
    pub disputed: bool,
    pub url: String,
}

impl ItemView {
    pub fn of(item: &ItemLine, creditor: i64, lang: Lang) -> ItemView {
        ItemView {
            id: item.id,
            number: item.number.clone(),
            kind: item.kind.clone(),
            issue_date: item.issue_date.clone(),
            due_date: item.due_date.clone(),
            total: lang.money(&item.total),
            settled: lang.money(&item.settled),
            open: lang.money(&item.open),
            open_plain: item.open.to_plain_string(),
            disputed: item.disputed,
            url: format!("/c/{creditor}/invoices/{}", item.id),
        }
    }
}

// ---------------------------------------------------------------- login, logout, language

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    login_page(&state, &headers, q.next.as_deref(), None, StatusCode::OK)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lang = Lang::of(headers);
    let csrf = auth::cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| auth::random_hex(16));
    let body = render(
        state,
        "login.html",
        lang,
        minijinja::context! { csrf => csrf, next => local_path(next), error => error },
    )?;
    let cookie = auth::set_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        3600,
        state.options().secure_cookies,
    );
    Ok((status, [(header::SET_COOKIE, cookie)], Html(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks the form's CSRF token, the rate limit, then the password.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let expected = auth::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !auth::constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(WebError::Forbidden("CSRF token missing or wrong".into()));
    }
    let lang = Lang::of(&headers);
    let t = strings(lang);
    let email = form.email.trim().to_lowercase();
    if !state.limiter().allowed(&email, ip) {
        tracing::warn!(%email, ?ip, "login refused: too many failures");
        return login_page(
            &state,
            &headers,
            form.next.as_deref(),
            t.get("too_many").copied(),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let found = state.store().user_by_email(&email).await?;
    let password = form.password.clone();
    let user = match found {
        Some((user, hash)) => {
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?;
            ok.then_some(user)
        }
        None => {
            // Same work whether or not the account exists.
            let _ =
                tokio::task::spawn_blocking(move || auth::verify_password(&password, DUMMY_HASH))
                    .await;
            None
        }
    };
    let Some(user) = user else {
        state.limiter().failed(&email, ip);
        return login_page(
            &state,
            &headers,
            form.next.as_deref(),
            t.get("login_failed").copied(),
            StatusCode::UNAUTHORIZED,
        );
    };
    state.limiter().succeeded(&email, ip);
    let id = auth::random_hex(32);
    let csrf = auth::random_hex(32);
    let expires = (chrono::Utc::now() + chrono::Duration::hours(SESSION_HOURS))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    state
        .store()
        .create_session(&auth::sha256_hex(&id), user.id, &csrf, &expires)
        .await?;
    let secure = state.options().secure_cookies;
    let cookie = auth::set_cookie(SESSION_COOKIE, &id, SESSION_HOURS * 3600, secure);
    let clear = auth::set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure);
    let mut response = see_other(&local_path(form.next.as_deref()));
    let headers = response.headers_mut();
    for c in [cookie, clear] {
        if let Ok(v) = c.parse() {
            headers.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

/// An argon2 hash of a random password, verified when the account does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Zk3Rj5wSBaY9TzV2m0Hq2nIhNwvQmQ0r6oW1k4eOZ1I";

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    state.store().delete_session(&session.id_hash).await?;
    let mut response = see_other("/login");
    if let Ok(v) = auth::set_cookie(SESSION_COOKIE, "", 0, state.options().secure_cookies).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /lang/{fr|en}?next=PATH`: remembers the language in a cookie.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&lang).ok_or(WebError::NotFound)?;
    let mut response = see_other(&local_path(q.next.as_deref()));
    let cookie = auth::set_cookie(
        "lang",
        lang.code(),
        365 * 24 * 3600,
        state.options().secure_cookies,
    );
    if let Ok(v) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `GET /static/app.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}

// ---------------------------------------------------------------- home and dashboard

/// `GET /`: the first creditor's dashboard, or a page saying there is none to see.
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Query(q): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let creditors = state.store().creditors_of(&session.user).await?;
    let wanted = q.c.as_deref().and_then(|c| c.parse::<i64>().ok());
    if let Some(c) = wanted.and_then(|w| creditors.iter().find(|c| c.id.0 == w)) {
        return Ok(see_other(&format!("/c/{}", c.id.0)));
    }
    if let Some(first) = creditors.first() {
        return Ok(see_other(&format!("/c/{}", first.id.0)));
    }
    let lang = Lang::of(&headers);
    let chrome = chrome(&state, &session, None, "/".into()).await?;
    Ok(Html(render(
        &state,
        "home.html",
        lang,
        minijinja::context! { chrome },
    )?)
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    c: Option<String>,
}

/// `GET /c/{creditor}`: see [`crate::dashboard`].
pub use crate::dashboard::page as dashboard;

// ---------------------------------------------------------------- customers

#[derive(Debug, Deserialize, Default)]
pub struct CustomersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    desc: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

impl CustomersQuery {
    pub fn to_store(&self, as_of: NaiveDate, limit: u32) -> CustomerQuery {
        CustomerQuery {
            search: self.q.chars().take(100).collect(),
            overdue_only: self.overdue.as_deref().is_some_and(|v| !v.is_empty()),
            sort: match self.sort.as_deref() {
                Some("name") => CustomerSort::Name,
                _ => CustomerSort::Code,
            },
            descending: self.desc.as_deref().is_some_and(|v| !v.is_empty()),
            after: self.after.clone().filter(|a| !a.is_empty()),
            limit,
            as_of: Some(as_of),
        }
    }
}

/// `GET /c/{creditor}/customers?q=&overdue=1&sort=code|name&desc=1&after=CURSOR`.
pub async fn customers(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<CustomersQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let today = today_for(&creditor);
    let query = q.to_store(today, 50);
    let page = state.store().customer_page(creditor.id, &query).await?;
    let base = format!(
        "/c/{}/customers?q={}&overdue={}&sort={}&desc={}",
        creditor.id.0,
        url_encode(&query.search),
        if query.overdue_only { "1" } else { "" },
        if query.sort == CustomerSort::Name {
            "name"
        } else {
            "code"
        },
        if query.descending { "1" } else { "" },
    );
    let next = page
        .next
        .as_ref()
        .map(|cursor| format!("{base}&after={}", url_encode(cursor)));
    let rows: Vec<_> = page
        .rows
        .iter()
        .map(|r| {
            minijinja::context! {
                code => r.code, name => r.name, kind => r.kind,
                url => format!("/c/{}/customers/{}", creditor.id.0, url_encode(&r.code)),
                open => r.balances.iter().map(|b| lang.money(&b.open)).collect::<Vec<_>>(),
                overdue => r.balances.iter().filter(|b| !b.overdue.is_zero()).map(|b| lang.money(&b.overdue)).collect::<Vec<_>>(),
            }
        })
        .collect();
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "customers.html",
        lang,
        minijinja::context! {
            chrome, rows, next, cid => creditor.id.0, active => "customers",
            first => if query.after.is_some() { Some(base) } else { None },
            q => query.search, overdue => query.overdue_only,
            sort => if query.sort == CustomerSort::Name { "name" } else { "code" },
            desc => query.descending,
        },
    )?)
    .into_response())
}

#[derive(Debug, Deserialize, Default)]
pub struct MessageQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

async fn find_customer(
    state: &AppState,
    creditor: &CreditorRecord,
    code: &str,
) -> Result<CustomerRecord, WebError> {
    state
        .store()
        .customer_by_code(creditor.id, code)
        .await?
        .ok_or(WebError::NotFound)
}

/// `GET /c/{creditor}/customers/{code}`: open items, case, contacts, timeline, and the forms.
pub async fn customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Query(msg): Query<MessageQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let customer = find_customer(&state, &creditor, &code).await?;
    let lang = Lang::of(&headers);
    let today = today_for(&creditor);
    let store = state.store();
    let items: Vec<ItemView> = store
        .customer_items(creditor.id, customer.id, false)
        .await?
        .iter()
        .map(|i| ItemView::of(i, creditor.id.0, lang))
        .collect();
    let timeline: Vec<_> = store
        .customer_timeline(creditor.id, customer.id)
        .await?
        .into_iter()
        .map(|e| {
            minijinja::context! {
                occurred_on => e.occurred_on, kind => e.kind, summary => e.summary, item => e.item,
            }
        })
        .collect();
    let case = store
        .case_summary(creditor.id, customer.id)
        .await?
        .map(|c| {
            minijinja::context! {
                status => c.status, cycle => c.cycle, last_step => c.last_step,
                next_action_on => c.next_action_on,
                promise => c.promise.map(|p| minijinja::context! {
                    promised_for => p.promised_for.to_string(), amount => lang.money(&p.amount),
                    made_on => p.made_on.to_string(),
                }),
                holds => c.holds.iter().filter(|h| h.until > today).map(|h| minijinja::context! {
                    from => h.from.to_string(), until => h.until.to_string(), reason => h.reason.clone(),
                }).collect::<Vec<_>>(),
            }
        });
    let open_invoices: Vec<&ItemView> = items.iter().filter(|i| i.kind == "invoice").collect();
    let payer =
        crate::insights::risk::customer_score(&state, &creditor, customer.id.0, lang).await?;
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    let action = format!(
        "/c/{}/customers/{}",
        creditor.id.0,
        url_encode(&customer.code)
    );
    Ok(Html(render(
        &state,
        "customer.html",
        lang,
        minijinja::context! {
            chrome, items, timeline, case, open_invoices, action, cid => creditor.id.0, payer,
            customer => minijinja::context! {
                code => customer.code, name => customer.name, kind => customer.kind.as_str(),
                emails => customer.emails, phones => customer.phones, address => customer.address,
                siren => customer.siren,
            },
            done => msg.done.is_some(), error => msg.error,
            today => today.to_string(),
        },
    )?)
    .into_response())
}

/// Shared checks of the customer forms: the creditor, the CSRF token, the role, the customer.
async fn form_context(
    state: &AppState,
    session: &Session,
    creditor: i64,
    code: &str,
    csrf: &str,
) -> Result<(CreditorRecord, CustomerRecord), WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    session.check_csrf(csrf)?;
    if !session.user.role.can_write() {
        return Err(WebError::Forbidden("your role can only view".into()));
    }
    let customer = find_customer(state, &creditor, code).await?;
    Ok((creditor, customer))
}

/// After a form: back to the customer page with a message; a refusal is shown there too.
fn after_form(
    creditor: &CreditorRecord,
    customer: &CustomerRecord,
    result: Result<(), WebError>,
) -> Result<Response, WebError> {
    let page = format!(
        "/c/{}/customers/{}",
        creditor.id.0,
        url_encode(&customer.code)
    );
    match result {
        Ok(()) => Ok(see_other(&format!("{page}?done=1"))),
        Err(WebError::BadRequest(m)) | Err(WebError::Store(StoreError::Refused(m))) => {
            Ok(see_other(&format!("{page}?error={}", url_encode(&m))))
        }
        Err(WebError::Store(e @ StoreError::UnknownInvoice(_))) => Ok(see_other(&format!(
            "{page}?error={}",
            url_encode(&e.to_string())
        ))),
        Err(e) => Err(e),
    }
}

pub(crate) fn parse_day(text: &str, name: &str, lang: Lang) -> Result<NaiveDate, WebError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| WebError::BadRequest(refusal(lang, "not_a_date", &[&field(lang, name), text])))
}

/// An optional amount typed in a form (`1250,50` or `1250.50`).
pub(crate) fn parse_amount_field(
    text: &str,
    lang: Lang,
) -> Result<Option<rust_decimal::Decimal>, WebError> {
    match text.trim() {
        "" => Ok(None),
        a => parse_amount(a)
            .map(Some)
            .map_err(|_| WebError::BadRequest(refusal(lang, "not_an_amount", &[a]))),
    }
}

async fn customer_owns(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: CustomerId,
    invoice: &str,
    lang: Lang,
) -> Result<(), WebError> {
    let items = state
        .store()
        .customer_items(creditor.id, customer, true)
        .await?;
    if items
        .iter()
        .any(|i| i.number == invoice && i.kind == "invoice")
    {
        Ok(())
    } else {
        Err(WebError::BadRequest(refusal(
            lang,
            "not_an_invoice_of_customer",
            &[invoice],
        )))
    }
}

#[derive(Debug, Deserialize)]
pub struct PromiseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    invoice: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    amount: String,
}

/// `POST …/promise`.
pub async fn promise(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Form(form): Form<PromiseForm>,
) -> Result<Response, WebError> {
    let (creditor, customer) = form_context(&state, &session, creditor, &code, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        customer_owns(&state, &creditor, customer.id, &form.invoice, lang).await?;
        let date = parse_day(&form.date, "date", lang)?;
        let amount = parse_amount_field(&form.amount, lang)?;
        state
            .store()
            .promise_to_pay(
                creditor.id,
                &form.invoice,
                date,
                amount,
                today_for(&creditor),
            )
            .await?;
        Ok(())
    }
    .await;
    after_form(&creditor, &customer, result)
}

#[derive(Debug, Deserialize)]
pub struct DisputeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    invoice: String,
    #[serde(default)]
    reason: String,
}

/// `POST …/dispute`.
pub async fn dispute(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Form(form): Form<DisputeForm>,
) -> Result<Response, WebError> {
    let (creditor, customer) = form_context(&state, &session, creditor, &code, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        customer_owns(&state, &creditor, customer.id, &form.invoice, lang).await?;
        let reason = form.reason.trim();
        if reason.is_empty() {
            return Err(WebError::BadRequest(refusal(lang, "reason_required", &[])));
        }
        state
            .store()
            .open_dispute(creditor.id, &form.invoice, reason, today_for(&creditor))
            .await?;
        Ok(())
    }
    .await;
    after_form(&creditor, &customer, result)
}

#[derive(Debug, Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// `POST …/hold`.
pub async fn hold(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Form(form): Form<HoldForm>,
) -> Result<Response, WebError> {
    let (creditor, customer) = form_context(&state, &session, creditor, &code, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        let until = parse_day(&form.until, "until", lang)?;
        let today = today_for(&creditor);
        if until <= today {
            return Err(WebError::BadRequest(refusal(
                lang,
                "until_after_today",
                &[],
            )));
        }
        let reason = form.reason.trim();
        if reason.is_empty() {
            return Err(WebError::BadRequest(refusal(lang, "reason_required", &[])));
        }
        state
            .store()
            .hold(creditor.id, &customer.code, until, reason, today)
            .await?;
        Ok(())
    }
    .await;
    after_form(&creditor, &customer, result)
}

#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// `POST …/note`.
pub async fn note(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Form(form): Form<NoteForm>,
) -> Result<Response, WebError> {
    let (creditor, customer) = form_context(&state, &session, creditor, &code, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        let text = form.text.trim();
        if text.is_empty() || text.chars().count() > 4000 {
            return Err(WebError::BadRequest(refusal(
                lang,
                "note_length",
                &["4000"],
            )));
        }
        state
            .store()
            .add_note(
                creditor.id,
                customer.id,
                text,
                &session.user.email,
                today_for(&creditor),
            )
            .await?;
        Ok(())
    }
    .await;
    after_form(&creditor, &customer, result)
}

// ---------------------------------------------------------------- invoice

/// `GET /c/{creditor}/invoices/{id}`.
pub async fn invoice(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, i64)>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let detail = state
        .store()
        .invoice_detail(creditor.id, ItemId(id))
        .await?
        .ok_or(WebError::NotFound)?;
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "invoice.html",
        lang,
        minijinja::context! {
            chrome, cid => creditor.id.0,
            item => ItemView::of(&detail.item, creditor.id.0, lang),
            customer => minijinja::context! {
                code => detail.customer.code.clone(), name => detail.customer.name,
                url => format!("/c/{}/customers/{}", creditor.id.0, url_encode(&detail.customer.code)),
            },
            allocations => detail.allocations.iter().map(|a| minijinja::context! {
                allocated_on => a.allocated_on, amount => lang.money(&a.amount), source => a.source,
            }).collect::<Vec<_>>(),
            disputes => detail.disputes.iter().map(|d| minijinja::context! {
                opened_on => d.opened_on, reason => d.reason,
            }).collect::<Vec<_>>(),
            events => detail.events.iter().map(|e| minijinja::context! {
                occurred_on => e.occurred_on, kind => e.kind, summary => e.summary,
            }).collect::<Vec<_>>(),
        },
    )?)
    .into_response())
}
