//! The REST API under `/api`, with bearer tokens from `relance token create` and its OpenAPI
//! document at `/api/openapi.json` (utoipa, generated from the types below, so the document and
//! what the routes answer cannot drift apart).
//!
//! Every route that reads or writes a creditor's data takes the creditor's id in its path and goes
//! through [`access`]: another creditor's data answers 404, like a creditor that does not exist.
//! Lists are keyset-paginated: `limit` (1–500, default 100) and an opaque `cursor`, the
//! `next_cursor` of the previous page (`null` on the last page). Writes need a collector or an
//! admin, and take an optional `Idempotency-Key` header ([`idempotency`]). Errors are JSON
//! `{"code", "message"}` with a stable code.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use relance_core::ids::ItemId;
use relance_core::money::{parse_amount, Currency, Money};
use relance_store::api_queries::{ApiFilter, StoredResponse};
use relance_store::creditors::CreditorRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::users::UserRecord;
use relance_store::web_queries::{CustomerQuery, CustomerSort};
use relance_store::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::{sha256_hex, ApiUser};
use crate::error::WebError;
use crate::{access, today_for, AppState};

/// The API's routes, nested under `/api` by [`crate::router`].
pub fn routes(state: AppState) -> Router<AppState> {
    let writes = Router::new()
        .route("/c/{creditor}/payments", post(create_payment))
        .route(
            "/c/{creditor}/customers/{code}/promises",
            post(create_promise),
        )
        .route(
            "/c/{creditor}/customers/{code}/disputes",
            post(create_dispute),
        )
        .route("/c/{creditor}/customers/{code}/holds", post(create_hold))
        .layer(axum::middleware::from_fn_with_state(state, idempotency));
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/creditors", get(creditors))
        .route("/c/{creditor}/customers", get(customers))
        .route("/c/{creditor}/customers/{code}", get(customer))
        .route("/c/{creditor}/invoices", get(invoices))
        .route("/c/{creditor}/invoices/{id}", get(invoice))
        .route("/c/{creditor}/payments", get(payments))
        .route("/c/{creditor}/cases", get(cases))
        .route("/c/{creditor}/actions", get(actions))
        .route("/c/{creditor}/events", get(events))
        .route("/c/{creditor}/policies", get(policies))
        .route("/c/{creditor}/reports/aging", get(aging))
        .merge(writes)
}

// ---------------------------------------------------------------- the document

#[derive(OpenApi)]
#[openapi(
    info(
        title = "relance API",
        description = "Receivables follow-up: customers, invoices, payments, cases, actions, \
                       events, policies and reports of the creditors a token's user may see."
    ),
    paths(
        creditors, customers, customer, invoices, invoice, payments, create_payment, cases,
        actions, events, policies, aging, create_promise, create_dispute, create_hold
    ),
    components(schemas(ApiErrorBody, SortKey, SortOrder)),
    modifiers(&CommonResponses)
)]
pub struct ApiDoc;

impl ApiDoc {
    /// The document `/api/openapi.json` serves.
    pub fn openapi_document() -> OpenApiDoc {
        <ApiDoc as OpenApi>::openapi()
    }
}

/// The bearer scheme, and the error answers every operation may give, added to each operation
/// once here rather than repeated on every handler.
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let reads = item.get.iter_mut().map(|op| (op, false));
            let writes = item.post.iter_mut().map(|op| (op, true));
            for (op, write) in reads.chain(writes) {
                let r = &mut op.responses.responses;
                let mut add = |status: &str, what: &str| {
                    r.entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error(what)));
                };
                add("400", "Invalid parameter, cursor or body (`bad_request`).");
                add("401", "No or unknown bearer token (`unauthorized`).");
                add(
                    "404",
                    "No such creditor among those the token may see, or no such record (`not_found`).",
                );
                if write {
                    add("403", "The token's user may only read (`forbidden`).");
                    add(
                        "409",
                        "Refused by the ledger, or a request with this Idempotency-Key is still running (`conflict`).",
                    );
                    add(
                        "422",
                        "Refused rows, or an Idempotency-Key reused with another request (`unprocessable`, `idempotency_key_reused`).",
                    );
                }
            }
        }
    }
}

/// `GET /api/openapi.json`: this API's OpenAPI document (no token needed).
async fn openapi_json() -> Response {
    Json(ApiDoc::openapi_document()).into_response()
}

// ---------------------------------------------------------------- errors and extractors

/// What the API answers when it says no.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable, for programs: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `unprocessable`, `idempotency_key_reused`, `internal`.
    pub code: String,
    /// For people; 5xx details stay in the server's log.
    pub message: String,
    /// Refused rows of a write, one sentence each naming the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
}

/// A failed API request: a status and a JSON body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    problems: Option<Vec<String>>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        let status = match e {
            // A page's "log in first" is a 401 here.
            WebError::Login(_) => StatusCode::UNAUTHORIZED,
            ref other => other.status(),
        };
        let code = match status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
            _ => "internal",
        };
        let message = if status.is_server_error() {
            tracing::error!(error = %e, "API request failed");
            "internal error".to_string()
        } else {
            e.to_string()
        };
        ApiError::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from(WebError::from(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ApiErrorBody {
                code: self.code.to_string(),
                message: self.message,
                problems: self.problems,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The token's user, with the API's JSON 401.
struct Bearer(UserRecord);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        Ok(Bearer(user))
    }
}

/// Path parameters, refused as JSON 400 (not axum's text) when they do not parse.
struct ApiPath<T>(T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(ApiPath(value))
    }
}

/// Query parameters, refused as JSON 400.
struct ApiQuery<T>(T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(ApiQuery(value))
    }
}

/// A JSON body, refused as JSON 400.
struct ApiJson<T>(T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let Json(value) = Json::<T>::from_request(req, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        Ok(ApiJson(value))
    }
}

/// Text the databases cannot keep (PostgreSQL refuses NUL) is refused before it reaches them.
fn clean(field: &str, text: &str) -> ApiResult<()> {
    if text.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "{field}: NUL characters are not allowed"
        )));
    }
    Ok(())
}

/// A day between 1900 and 2999 (the calendar and the law have no business outside).
fn day(field: &str, text: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=2999).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{field}: \"{text}\" is not a date (YYYY-MM-DD, years 1900 to 2999)"
            ))
        })
}

/// A positive amount with no more decimals than the currency has, below a trillion.
fn positive_amount(field: &str, text: &str, currency: Currency) -> ApiResult<Money> {
    let value = parse_amount(text)
        .map_err(|e| ApiError::bad_request(format!("{field}: \"{text}\": {e}")))?;
    let minor = currency.minor_units();
    if value <= rust_decimal::Decimal::ZERO
        || value >= rust_decimal::Decimal::from(1_000_000_000_000i64)
        || value.round_dp(minor) != value
    {
        return Err(ApiError::bad_request(format!(
            "{field}: \"{text}\" must be positive, below 1000000000000 and have at most {minor} decimals"
        )));
    }
    Ok(Money::new(value, currency))
}

/// The creditor if the user may see it, else 404.
async fn creditor_of(state: &AppState, user: &UserRecord, id: i64) -> ApiResult<CreditorRecord> {
    Ok(access(state.store(), user, id).await?)
}

fn require_writer(user: &UserRecord) -> ApiResult<()> {
    if user.role.can_write() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {} may only read", user.role.as_str()),
        ))
    }
}

// ---------------------------------------------------------------- pagination

/// `limit` and `cursor`, common to every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the first page.
    cursor: Option<String>,
}

impl PageParams {
    fn limit(&self) -> ApiResult<u32> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=500) => Ok(n as u32),
            Some(n) => Err(ApiError::bad_request(format!(
                "limit: {n} is not between 1 and 500"
            ))),
        }
    }

    /// The cursor's text (hex-encoded in the URL, so that any key travels safely).
    fn cursor_text(&self) -> ApiResult<Option<String>> {
        let Some(c) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let bad = || ApiError::bad_request(format!("cursor: \"{c}\" is not a cursor of this list"));
        if c.len() % 2 != 0 || c.len() > 2048 {
            return Err(bad());
        }
        let bytes = (0..c.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(c.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        clean("cursor", &text)?;
        Ok(Some(text))
    }

    /// A cursor holding a row id.
    fn cursor_id(&self) -> ApiResult<i64> {
        match self.cursor_text()? {
            None => Ok(0),
            Some(t) => t.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ApiError::bad_request("cursor: not a cursor of this list".to_string())
            }),
        }
    }
}

fn encode_cursor(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A filter on one customer code, and on a status where the list has one.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerFilter {
    /// Only this customer's rows (its code).
    customer: Option<String>,
}

impl CustomerFilter {
    fn to_filter(&self) -> ApiResult<ApiFilter> {
        let customer = self.customer.clone().unwrap_or_default();
        clean("customer", &customer)?;
        Ok(ApiFilter {
            customer,
            ..ApiFilter::default()
        })
    }
}

// ---------------------------------------------------------------- shared shapes

/// An exact amount: a decimal string (never a float) and its ISO 4217 currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Amount {
    #[schema(example = "1200.00")]
    pub amount: String,
    #[schema(example = "EUR")]
    pub currency: String,
}

impl From<Money> for Amount {
    fn from(m: Money) -> Amount {
        Amount {
            amount: m.to_plain_string(),
            currency: m.currency.code().to_string(),
        }
    }
}

/// A creditor the token may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct Creditor {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditorList {
    pub data: Vec<Creditor>,
}

/// Open and overdue amounts in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerBalance {
    pub open: Amount,
    pub overdue: Amount,
}

/// A row of the customer list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `business` or `consumer`.
    pub kind: String,
    pub balances: Vec<CustomerBalance>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub data: Vec<CustomerSummary>,
    pub next_cursor: Option<String>,
}

/// A customer as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    /// `fr` or `en`.
    pub language: String,
    pub siren: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: String,
}

/// A customer with its open items, case and latest events.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    pub customer: Customer,
    pub open_items: Vec<Invoice>,
    pub case: Option<Case>,
    /// The 100 most recent events; `GET …/events?customer=` pages through all of them.
    pub events: Vec<Event>,
}

/// An invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invoice {
    pub id: i64,
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    /// The customer's code.
    pub customer: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: Amount,
    /// Paid or credited so far.
    pub settled: Amount,
    pub open: Amount,
    pub disputed: bool,
}

impl Invoice {
    fn from_line(item: relance_store::web_queries::ItemLine, customer: String) -> Invoice {
        Invoice {
            id: item.id,
            number: item.number,
            kind: item.kind,
            customer,
            issue_date: item.issue_date,
            due_date: item.due_date,
            total: item.total.into(),
            settled: item.settled.into(),
            open: item.open.into(),
            disputed: item.disputed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub data: Vec<Invoice>,
    pub next_cursor: Option<String>,
}

/// A payment or credit note lettered against an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct Allocation {
    pub allocated_on: String,
    pub amount: Amount,
    /// The payment's reference or the credit note's number.
    pub source: String,
}

/// A dispute on an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dispute {
    pub invoice: String,
    pub opened_on: String,
    pub reason: String,
    pub open_amount: Amount,
}

/// An invoice with its allocations, disputes and events.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDetail {
    pub invoice: Invoice,
    pub allocations: Vec<Allocation>,
    pub disputes: Vec<Dispute>,
    pub events: Vec<Event>,
}

/// A payment as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Payment {
    pub id: i64,
    /// `null` while the payment waits in the reconciliation queue.
    pub customer: Option<String>,
    pub received_on: String,
    pub amount: Amount,
    /// What is not lettered to an invoice yet.
    pub unallocated: Amount,
    pub reference: String,
    pub invoice_number: Option<String>,
    pub bank_reference: Option<String>,
    /// `api`, or the file it was imported from.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPage {
    pub data: Vec<Payment>,
    pub next_cursor: Option<String>,
}

/// A payment to record: it goes to the invoice it names, else to the customer's oldest open
/// invoices, else (neither named) to the matching rules or the reconciliation queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// YYYY-MM-DD.
    #[schema(example = "2026-03-02", format = Date)]
    pub received_on: String,
    /// A positive decimal, `.` or `,` as the decimal separator, at most as many decimals as the
    /// currency has.
    #[schema(example = "1200.00", pattern = "^[0-9]{1,12}([.,][0-9]{1,3})?$")]
    pub amount: String,
    /// ISO 4217 (default EUR).
    #[schema(example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// The customer's code.
    pub customer: Option<String>,
    /// The invoice it pays.
    pub invoice: Option<String>,
    pub reference: Option<String>,
    /// The bank's own entry reference: the same one twice is recorded once.
    pub bank_reference: Option<String>,
    pub payer_name: Option<String>,
}

/// What recording a payment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResult {
    /// 1 when recorded, 0 when it was already (same bank reference, or same date, amount,
    /// customer, invoice and reference).
    pub created: i64,
    pub duplicates: i64,
    pub allocated: Amount,
    pub unallocated: Amount,
    /// 1 when it waits for a person in the reconciliation queue.
    pub to_reconcile: i64,
    pub lines: Vec<String>,
}

/// A promise to pay.
#[derive(Debug, Serialize, ToSchema)]
pub struct Promise {
    pub made_on: String,
    pub promised_for: String,
    pub amount: Amount,
    pub received: Amount,
}

/// A hold: nothing is sent from `from` until `until` (excluded).
#[derive(Debug, Serialize, ToSchema)]
pub struct HoldPeriod {
    pub from: String,
    pub until: String,
    pub reason: String,
}

/// A customer's dunning case.
#[derive(Debug, Serialize, ToSchema)]
pub struct Case {
    pub customer: String,
    pub customer_name: String,
    pub status: String,
    pub cycle: i64,
    pub last_step: Option<String>,
    /// A date, or `pending` when the next run plans it.
    pub next_action_on: Option<String>,
    pub promise: Option<Promise>,
    pub holds: Vec<HoldPeriod>,
}

fn promise_of(p: relance_core::planner::PromiseToPay) -> Promise {
    Promise {
        made_on: p.made_on.to_string(),
        promised_for: p.promised_for.to_string(),
        amount: p.amount.into(),
        received: p.received.into(),
    }
}

fn holds_of(holds: Vec<relance_core::planner::Hold>) -> Vec<HoldPeriod> {
    holds
        .into_iter()
        .map(|h| HoldPeriod {
            from: h.from.to_string(),
            until: h.until.to_string(),
            reason: h.reason,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub data: Vec<Case>,
    pub next_cursor: Option<String>,
}

/// An outbox action: one step of a case on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct Action {
    pub id: i64,
    pub customer: String,
    pub step: String,
    /// `email`, `letter`, `registered_letter`, `phone_call`, `sms`, `task`.
    pub channel: String,
    /// `planned`, `rendered`, `sending`, `sent`, `failed`, `cancelled`.
    pub status: String,
    pub planned_on: String,
    pub due_on: String,
    pub invoices: Vec<String>,
    pub amount: Amount,
    pub reason: String,
    pub sent_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPage {
    pub data: Vec<Action>,
    pub next_cursor: Option<String>,
}

/// An event of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    pub id: i64,
    pub customer: Option<String>,
    /// The invoice's number, when the event concerns one.
    pub invoice: Option<String>,
    /// `invoice_changed`, `payment_received`, `reminder_sent`, `promise`, `dispute`, `note`, …
    pub kind: String,
    pub occurred_on: String,
    pub recorded_at: String,
    pub summary: String,
    /// Details, as the kind of event has them.
    pub data: serde_json::Value,
}

impl From<relance_store::events::EventRecord> for Event {
    fn from(e: relance_store::events::EventRecord) -> Event {
        Event {
            id: e.id,
            customer: e.customer,
            invoice: e.item,
            kind: e.kind,
            occurred_on: e.occurred_on,
            recorded_at: e.recorded_at,
            summary: e.summary,
            data: e.data,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub data: Vec<Event>,
    pub next_cursor: Option<String>,
}

/// A reminder policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct Policy {
    pub id: String,
    pub name: String,
    /// The whole policy (steps, channels, conditions), as `relance policy show` prints it.
    pub definition: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyPage {
    pub data: Vec<Policy>,
    pub next_cursor: Option<String>,
}

/// The aged balance's column totals in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgingTotal {
    pub currency: String,
    /// Not yet due (less unallocated payments).
    pub not_due: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub over_90: String,
    pub total: String,
    pub open_invoices: i64,
    pub overdue_invoices: i64,
}

/// A customer's line of the aged balance in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgingRow {
    pub customer: String,
    pub customer_name: String,
    pub currency: String,
    pub not_due: String,
    pub days_1_30: String,
    pub days_31_60: String,
    pub days_61_90: String,
    pub over_90: String,
    pub total: String,
}

/// The aged balance on a day: totals per currency, and a page of customer lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgingReport {
    pub as_of: String,
    pub totals: Vec<AgingTotal>,
    pub data: Vec<AgingRow>,
    pub next_cursor: Option<String>,
}

/// What a promise, dispute or hold did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// One sentence, as it stands on the timeline.
    pub summary: String,
    /// The customer's case afterwards.
    pub case: Option<Case>,
}

/// A promise to pay an invoice by a date: the case pauses until the business day after it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPromise {
    /// The invoice's number (an invoice of this customer).
    pub invoice: String,
    /// YYYY-MM-DD.
    #[schema(example = "2026-04-30", format = Date)]
    pub promised_for: String,
    /// Decimal; the invoice's open amount when absent.
    #[schema(example = "500.00", pattern = "^[0-9]{1,12}([.,][0-9]{1,3})?$")]
    pub amount: Option<String>,
}

/// A dispute on an invoice: it leaves the case until resolved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDispute {
    pub invoice: String,
    pub reason: String,
}

/// A hold on the customer's case until a date (excluded).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// YYYY-MM-DD, after today.
    #[schema(example = "2026-05-15", format = Date)]
    pub until: String,
    pub reason: String,
}

// ---------------------------------------------------------------- read routes

/// The creditors the token's user may see.
#[utoipa::path(get, path = "/api/creditors", tag = "creditors",
    responses((status = 200, description = "The creditors", body = CreditorList)))]
async fn creditors(
    State(state): State<AppState>,
    Bearer(user): Bearer,
) -> ApiResult<Json<CreditorList>> {
    let data = state
        .store()
        .creditors_of(&user)
        .await?
        .into_iter()
        .map(|c| Creditor {
            id: c.id.0,
            name: c.name,
            time_zone: c.time_zone,
        })
        .collect();
    Ok(Json(CreditorList { data }))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Code,
    Name,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Filters and order of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerListParams {
    /// Words that begin a word of the name, code, SIREN or an e-mail address (case and
    /// accents ignored): `hotel dur` finds "Hôtel Durand".
    search: Option<String>,
    /// Only customers with an overdue invoice.
    overdue: Option<bool>,
    sort: Option<SortKey>,
    order: Option<SortOrder>,
}

/// Customers, sorted by code (or name), with their open and overdue amounts.
#[utoipa::path(get, path = "/api/c/{creditor}/customers", tag = "customers",
    params(("creditor" = i64, Path, description = "The creditor's id"), CustomerListParams, PageParams),
    responses((status = 200, description = "A page of customers", body = CustomerPage)))]
async fn customers(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<CustomerListParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<CustomerPage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let search = filter.search.unwrap_or_default();
    clean("search", &search)?;
    let sort = match filter.sort {
        Some(SortKey::Name) => CustomerSort::Name,
        _ => CustomerSort::Code,
    };
    let query = CustomerQuery {
        search: search.chars().take(100).collect(),
        overdue_only: filter.overdue.unwrap_or(false),
        sort,
        descending: matches!(filter.order, Some(SortOrder::Desc)),
        after: page.cursor_text()?,
        limit: page.limit()?,
        as_of: Some(today_for(&creditor)),
    };
    let found = state.store().customer_page(creditor.id, &query).await?;
    Ok(Json(CustomerPage {
        data: found
            .rows
            .into_iter()
            .map(|r| CustomerSummary {
                id: r.id,
                code: r.code,
                name: r.name,
                kind: r.kind,
                balances: r
                    .balances
                    .into_iter()
                    .map(|b| CustomerBalance {
                        open: b.open.into(),
                        overdue: b.overdue.into(),
                    })
                    .collect(),
            })
            .collect(),
        next_cursor: found.next.as_deref().map(encode_cursor),
    }))
}

async fn case_of(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: relance_core::ids::CustomerId,
    code: &str,
    name: &str,
) -> ApiResult<Option<Case>> {
    Ok(state
        .store()
        .case_summary(creditor.id, customer)
        .await?
        .map(|c| Case {
            customer: code.to_string(),
            customer_name: name.to_string(),
            status: c.status,
            cycle: c.cycle,
            last_step: c.last_step,
            next_action_on: c.next_action_on,
            promise: c.promise.map(promise_of),
            holds: holds_of(c.holds),
        }))
}

async fn customer_record(
    state: &AppState,
    creditor: &CreditorRecord,
    code: &str,
) -> ApiResult<relance_store::customers::CustomerRecord> {
    clean("code", code)?;
    state
        .store()
        .customer_by_code(creditor.id, code)
        .await?
        .ok_or_else(|| ApiError::from(WebError::NotFound))
}

/// One customer with its open items, case and latest events.
#[utoipa::path(get, path = "/api/c/{creditor}/customers/{code}", tag = "customers",
    params(("creditor" = i64, Path, description = "The creditor's id"),
           ("code" = String, Path, description = "The customer's code")),
    responses((status = 200, description = "The customer", body = CustomerDetail)))]
async fn customer(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath((creditor, code)): ApiPath<(i64, String)>,
) -> ApiResult<Json<CustomerDetail>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let store = state.store();
    let c = customer_record(&state, &creditor, &code).await?;
    let items = store.customer_items(creditor.id, c.id, false).await?;
    let mut events = store.customer_timeline(creditor.id, c.id).await?;
    events.truncate(100);
    let case = case_of(&state, &creditor, c.id, &c.code, &c.name).await?;
    Ok(Json(CustomerDetail {
        open_items: items
            .into_iter()
            .map(|i| Invoice::from_line(i, c.code.clone()))
            .collect(),
        case,
        events: events.into_iter().map(Event::from).collect(),
        customer: Customer {
            id: c.id.0,
            kind: c.kind.as_str().to_string(),
            language: c.language.as_str().to_string(),
            code: c.code,
            name: c.name,
            siren: c.siren,
            emails: c.emails,
            phones: c.phones,
            address: c.address,
        },
    }))
}

/// Filters of the invoice list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceListParams {
    /// Only this customer's invoices (its code).
    customer: Option<String>,
    /// Only invoices and credit notes with an open amount.
    open: Option<bool>,
}

/// Invoices and credit notes, in the order they were recorded.
#[utoipa::path(get, path = "/api/c/{creditor}/invoices", tag = "invoices",
    params(("creditor" = i64, Path, description = "The creditor's id"), InvoiceListParams, PageParams),
    responses((status = 200, description = "A page of invoices", body = InvoicePage)))]
async fn invoices(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<InvoiceListParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<InvoicePage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let customer = filter.customer.unwrap_or_default();
    clean("customer", &customer)?;
    let filter = ApiFilter {
        customer,
        open_only: filter.open.unwrap_or(false),
        ..ApiFilter::default()
    };
    let found = state
        .store()
        .invoice_page(creditor.id, page.cursor_id()?, page.limit()?, &filter)
        .await?;
    let next_cursor = next_id(found.more, found.rows.last().map(|r| r.item.id));
    Ok(Json(InvoicePage {
        data: found
            .rows
            .into_iter()
            .map(|r| Invoice::from_line(r.item, r.customer))
            .collect(),
        next_cursor,
    }))
}

fn next_id(more: bool, last: Option<i64>) -> Option<String> {
    last.filter(|_| more)
        .map(|id| encode_cursor(&id.to_string()))
}

/// One invoice with its allocations, disputes and events.
#[utoipa::path(get, path = "/api/c/{creditor}/invoices/{id}", tag = "invoices",
    params(("creditor" = i64, Path, description = "The creditor's id"),
           ("id" = i64, Path, description = "The invoice's id")),
    responses((status = 200, description = "The invoice", body = InvoiceDetail)))]
async fn invoice(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath((creditor, id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<InvoiceDetail>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let d = state
        .store()
        .invoice_detail(creditor.id, ItemId(id))
        .await?
        .ok_or_else(|| ApiError::from(WebError::NotFound))?;
    Ok(Json(InvoiceDetail {
        invoice: Invoice::from_line(d.item, d.customer.code),
        allocations: d
            .allocations
            .into_iter()
            .map(|a| Allocation {
                allocated_on: a.allocated_on,
                amount: a.amount.into(),
                source: a.source,
            })
            .collect(),
        disputes: d
            .disputes
            .into_iter()
            .map(|x| Dispute {
                invoice: x.invoice,
                opened_on: x.opened_on,
                reason: x.reason,
                open_amount: x.open_amount.into(),
            })
            .collect(),
        events: d.events.into_iter().map(Event::from).collect(),
    }))
}

/// Payments, in the order they were recorded.
#[utoipa::path(get, path = "/api/c/{creditor}/payments", tag = "payments",
    params(("creditor" = i64, Path, description = "The creditor's id"), CustomerFilter, PageParams),
    responses((status = 200, description = "A page of payments", body = PaymentPage)))]
async fn payments(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<CustomerFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<PaymentPage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let found = state
        .store()
        .payment_page(
            creditor.id,
            page.cursor_id()?,
            page.limit()?,
            &filter.to_filter()?,
        )
        .await?;
    let next_cursor = next_id(found.more, found.rows.last().map(|r| r.id));
    Ok(Json(PaymentPage {
        data: found
            .rows
            .into_iter()
            .map(|p| Payment {
                id: p.id,
                customer: p.customer,
                received_on: p.received_on,
                amount: p.amount.into(),
                unallocated: p.unallocated.into(),
                reference: p.reference,
                invoice_number: p.invoice_number,
                bank_reference: p.bank_reference,
                source: p.source,
            })
            .collect(),
        next_cursor,
    }))
}

/// Filters of the case and action lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusFilter {
    /// Only this customer's rows (its code).
    customer: Option<String>,
    /// Only rows with this status.
    status: Option<String>,
}

impl StatusFilter {
    fn to_filter(&self) -> ApiResult<ApiFilter> {
        let customer = self.customer.clone().unwrap_or_default();
        let status = self.status.clone().unwrap_or_default();
        clean("customer", &customer)?;
        clean("status", &status)?;
        Ok(ApiFilter {
            customer,
            status,
            open_only: false,
        })
    }
}

/// Dunning cases, by customer code.
#[utoipa::path(get, path = "/api/c/{creditor}/cases", tag = "cases",
    params(("creditor" = i64, Path, description = "The creditor's id"), StatusFilter, PageParams),
    responses((status = 200, description = "A page of cases", body = CasePage)))]
async fn cases(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<StatusFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<CasePage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let limit = page.limit()?;
    let after = page.cursor_text()?.unwrap_or_default();
    let found = state
        .store()
        .case_page(creditor.id, &after, limit, &filter.to_filter()?)
        .await?;
    let next_cursor = found
        .rows
        .last()
        .filter(|_| found.more)
        .map(|c| encode_cursor(&c.customer));
    Ok(Json(CasePage {
        data: found
            .rows
            .into_iter()
            .map(|c| Case {
                customer: c.customer,
                customer_name: c.customer_name,
                status: c.status,
                cycle: c.cycle,
                last_step: c.last_step,
                next_action_on: c.next_action_on,
                promise: c.promise.map(promise_of),
                holds: holds_of(c.holds),
            })
            .collect(),
        next_cursor,
    }))
}

/// Outbox actions (reminders, letters, calls), in the order they were planned.
#[utoipa::path(get, path = "/api/c/{creditor}/actions", tag = "actions",
    params(("creditor" = i64, Path, description = "The creditor's id"), StatusFilter, PageParams),
    responses((status = 200, description = "A page of actions", body = ActionPage)))]
async fn actions(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<StatusFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<ActionPage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let found = state
        .store()
        .action_page(
            creditor.id,
            page.cursor_id()?,
            page.limit()?,
            &filter.to_filter()?,
        )
        .await?;
    let next_cursor = next_id(found.more, found.rows.last().map(|r| r.id));
    Ok(Json(ActionPage {
        data: found
            .rows
            .into_iter()
            .map(|a| Action {
                id: a.id,
                customer: a.customer,
                step: a.step,
                channel: a.channel,
                status: a.status,
                planned_on: a.planned_on,
                due_on: a.due_on,
                invoices: a.invoices,
                amount: a.amount.into(),
                reason: a.reason,
                sent_at: a.sent_at,
            })
            .collect(),
        next_cursor,
    }))
}

/// The timeline, newest first.
#[utoipa::path(get, path = "/api/c/{creditor}/events", tag = "events",
    params(("creditor" = i64, Path, description = "The creditor's id"), CustomerFilter, PageParams),
    responses((status = 200, description = "A page of events", body = EventPage)))]
async fn events(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(filter): ApiQuery<CustomerFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<EventPage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let found = state
        .store()
        .event_page(
            creditor.id,
            page.cursor_id()?,
            page.limit()?,
            &filter.to_filter()?,
        )
        .await?;
    let next_cursor = next_id(found.more, found.rows.last().map(|r| r.id));
    Ok(Json(EventPage {
        data: found.rows.into_iter().map(Event::from).collect(),
        next_cursor,
    }))
}

/// Reminder policies (the default one first).
#[utoipa::path(get, path = "/api/c/{creditor}/policies", tag = "policies",
    params(("creditor" = i64, Path, description = "The creditor's id"), PageParams),
    responses((status = 200, description = "A page of policies", body = PolicyPage)))]
async fn policies(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<PolicyPage>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    // A creditor has a handful of policies: they are read whole and cut by position.
    let all = state.store().policies(creditor.id).await?;
    let start = usize::try_from(page.cursor_id()?).unwrap_or(usize::MAX);
    let limit = page.limit()? as usize;
    let end = start.saturating_add(limit).min(all.len());
    let data = all
        .get(start.min(all.len())..end)
        .unwrap_or_default()
        .iter()
        .map(|p| {
            Ok(Policy {
                id: p.id.clone(),
                name: p.name.clone(),
                definition: serde_json::to_value(p)
                    .map_err(|e| ApiError::from(WebError::Internal(format!("policy: {e}"))))?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let next_cursor = (end < all.len()).then(|| encode_cursor(&end.to_string()));
    Ok(Json(PolicyPage { data, next_cursor }))
}

/// The day of the aged balance.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgingParams {
    /// YYYY-MM-DD; today in the creditor's time zone when absent.
    as_of: Option<String>,
    /// Only this customer's lines (its code).
    customer: Option<String>,
}

fn minor_text(minor: i64, currency: Currency) -> String {
    Money::from_minor(minor, currency).to_plain_string()
}

/// The aged balance: what is open, by how late it is (not due, 1–30, 31–60, 61–90, over 90
/// days), with the column totals per currency and a page of customer lines.
#[utoipa::path(get, path = "/api/c/{creditor}/reports/aging", tag = "reports",
    params(("creditor" = i64, Path, description = "The creditor's id"), AgingParams, PageParams),
    responses((status = 200, description = "The aged balance", body = AgingReport)))]
async fn aging(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiQuery(params): ApiQuery<AgingParams>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<AgingReport>> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    let as_of = match params.as_of.as_deref() {
        Some(d) => day("as_of", d)?,
        None => today_for(&creditor),
    };
    let customer = params.customer.unwrap_or_default();
    clean("customer", &customer)?;
    let limit = page.limit()? as usize;
    let after = page.cursor_text()?;
    let store = state.store();
    let totals = store
        .aging_totals(creditor.id, as_of)
        .await?
        .into_iter()
        .map(|t| AgingTotal {
            currency: t.currency.code().to_string(),
            not_due: minor_text(t.buckets[0], t.currency),
            days_1_30: minor_text(t.buckets[1], t.currency),
            days_31_60: minor_text(t.buckets[2], t.currency),
            days_61_90: minor_text(t.buckets[3], t.currency),
            over_90: minor_text(t.buckets[4], t.currency),
            total: minor_text(t.total(), t.currency),
            open_invoices: t.open_invoices,
            overdue_invoices: t.overdue_invoices,
        })
        .collect();
    let lines = store
        .aging(
            creditor.id,
            as_of,
            Some(customer.as_str()).filter(|c| !c.is_empty()),
        )
        .await?;
    // Lines come by customer code then currency: the cursor is "code\u{1f}currency" of the last.
    let key = |l: &relance_core::aging::AgingLine| format!("{}\u{1f}{}", l.customer, l.currency);
    let mut rows: Vec<_> = lines
        .into_iter()
        .filter(|l| after.as_ref().is_none_or(|a| key(l).as_str() > a.as_str()))
        .take(limit + 1)
        .collect();
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = rows.last().filter(|_| more).map(|l| encode_cursor(&key(l)));
    let data = rows
        .into_iter()
        .map(|l| {
            let b = |i: usize| l.buckets[i].to_string();
            AgingRow {
                not_due: b(0),
                days_1_30: b(1),
                days_31_60: b(2),
                days_61_90: b(3),
                over_90: b(4),
                total: l.buckets.iter().sum::<rust_decimal::Decimal>().to_string(),
                customer: l.customer,
                customer_name: l.customer_name,
                currency: l.currency,
            }
        })
        .collect();
    Ok(Json(AgingReport {
        as_of: as_of.to_string(),
        totals,
        data,
        next_cursor,
    }))
}

// ---------------------------------------------------------------- write routes

/// Records a payment (201), allocated like an imported one.
#[utoipa::path(post, path = "/api/c/{creditor}/payments", tag = "payments",
    params(("creditor" = i64, Path, description = "The creditor's id"), IdempotencyHeader),
    request_body = NewPayment,
    responses((status = 201, description = "Recorded (or found already recorded)", body = PaymentResult)))]
async fn create_payment(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath(creditor): ApiPath<i64>,
    ApiJson(body): ApiJson<NewPayment>,
) -> ApiResult<(StatusCode, Json<PaymentResult>)> {
    let creditor = creditor_of(&state, &user, creditor).await?;
    require_writer(&user)?;
    let date = day("received_on", &body.received_on)?;
    let currency = Currency::parse(body.currency.as_deref().unwrap_or("EUR")).map_err(|e| {
        ApiError::bad_request(format!(
            "currency: \"{}\": {e}",
            body.currency.as_deref().unwrap_or("")
        ))
    })?;
    let amount = positive_amount("amount", &body.amount, currency)?;
    let texts = [
        ("customer", &body.customer),
        ("invoice", &body.invoice),
        ("reference", &body.reference),
        ("bank_reference", &body.bank_reference),
        ("payer_name", &body.payer_name),
    ];
    for (field, value) in texts {
        clean(field, value.as_deref().unwrap_or(""))?;
    }
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let record = PaymentRecord {
        line: 1,
        date,
        amount,
        reference: body.reference.clone().unwrap_or_default(),
        customer_code: non_empty(&body.customer),
        invoice_number: non_empty(&body.invoice),
        bank_reference: non_empty(&body.bank_reference),
        payer_name: non_empty(&body.payer_name),
        payer_iban: None,
    };
    let outcome = state
        .store()
        .import_payments(creditor.id, "api", &[record], today_for(&creditor))
        .await?;
    match outcome {
        PaymentImport::Done(s) => Ok((
            StatusCode::CREATED,
            Json(PaymentResult {
                created: s.created as i64,
                duplicates: s.duplicates as i64,
                allocated: Money::from_minor(s.allocated_minor, currency).into(),
                unallocated: Money::from_minor(s.unallocated_minor, currency).into(),
                to_reconcile: s.to_reconcile as i64,
                lines: s.lines,
            }),
        )),
        PaymentImport::Refused(problems) => {
            let mut e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "the payment is refused",
            );
            e.problems = Some(
                problems
                    .into_iter()
                    .map(|p| format!("{}: \"{}\": {}", api_field(p.column), p.value, p.message))
                    .collect(),
            );
            Err(e)
        }
    }
}

/// The body field a store problem's column stands for.
fn api_field(column: &str) -> &str {
    match column {
        "customer_code" | "customer" => "customer",
        "invoice_number" | "invoice" => "invoice",
        other => other,
    }
}

/// The optional `Idempotency-Key` header of every write.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyHeader {
    /// Any string of 1 to 255 visible ASCII characters, chosen by the client. The same key with
    /// the same request replays the first response; with another request it is refused (422).
    #[serde(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

/// The customer, for a write by `user`.
async fn write_target(
    state: &AppState,
    user: &UserRecord,
    creditor: i64,
    code: &str,
) -> ApiResult<(CreditorRecord, relance_store::customers::CustomerRecord)> {
    let creditor = creditor_of(state, user, creditor).await?;
    let customer = customer_record(state, &creditor, code).await?;
    require_writer(user)?;
    Ok((creditor, customer))
}

/// The currency of the customer's invoice `invoice`; refused when it is not one of theirs.
async fn customer_invoice(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: relance_core::ids::CustomerId,
    invoice: &str,
) -> ApiResult<Currency> {
    clean("invoice", invoice)?;
    let items = state
        .store()
        .customer_items(creditor.id, customer, true)
        .await?;
    if let Some(item) = items
        .iter()
        .find(|i| i.number == invoice && i.kind == "invoice")
    {
        Ok(item.total.currency)
    } else {
        Err(ApiError::bad_request(format!(
            "invoice: \"{invoice}\" is not an invoice of this customer"
        )))
    }
}

async fn recorded(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: &relance_store::customers::CustomerRecord,
    summary: String,
) -> ApiResult<(StatusCode, Json<Recorded>)> {
    let case = case_of(state, creditor, customer.id, &customer.code, &customer.name).await?;
    Ok((StatusCode::CREATED, Json(Recorded { summary, case })))
}

/// Records a promise to pay: the customer's case pauses until the day after the promised date.
#[utoipa::path(post, path = "/api/c/{creditor}/customers/{code}/promises", tag = "cases",
    params(("creditor" = i64, Path, description = "The creditor's id"),
           ("code" = String, Path, description = "The customer's code"), IdempotencyHeader),
    request_body = NewPromise,
    responses((status = 201, description = "Recorded", body = Recorded)))]
async fn create_promise(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath((creditor, code)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<NewPromise>,
) -> ApiResult<(StatusCode, Json<Recorded>)> {
    let (creditor, customer) = write_target(&state, &user, creditor, &code).await?;
    let currency = customer_invoice(&state, &creditor, customer.id, &body.invoice).await?;
    let date = day("promised_for", &body.promised_for)?;
    let amount = match body.amount.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(positive_amount("amount", a, currency)?.amount),
    };
    let summary = state
        .store()
        .promise_to_pay(
            creditor.id,
            &body.invoice,
            date,
            amount,
            today_for(&creditor),
        )
        .await?;
    recorded(&state, &creditor, &customer, summary).await
}

/// Opens a dispute on one of the customer's invoices: it leaves the case until resolved.
#[utoipa::path(post, path = "/api/c/{creditor}/customers/{code}/disputes", tag = "cases",
    params(("creditor" = i64, Path, description = "The creditor's id"),
           ("code" = String, Path, description = "The customer's code"), IdempotencyHeader),
    request_body = NewDispute,
    responses((status = 201, description = "Recorded", body = Recorded)))]
async fn create_dispute(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath((creditor, code)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<NewDispute>,
) -> ApiResult<(StatusCode, Json<Recorded>)> {
    let (creditor, customer) = write_target(&state, &user, creditor, &code).await?;
    customer_invoice(&state, &creditor, customer.id, &body.invoice).await?;
    let reason = body.reason.trim();
    clean("reason", reason)?;
    if reason.is_empty() {
        return Err(ApiError::bad_request("reason: required"));
    }
    let summary = state
        .store()
        .open_dispute(creditor.id, &body.invoice, reason, today_for(&creditor))
        .await?;
    recorded(&state, &creditor, &customer, summary).await
}

/// Puts the customer's case on hold until a date: nothing is sent meanwhile.
#[utoipa::path(post, path = "/api/c/{creditor}/customers/{code}/holds", tag = "cases",
    params(("creditor" = i64, Path, description = "The creditor's id"),
           ("code" = String, Path, description = "The customer's code"), IdempotencyHeader),
    request_body = NewHold,
    responses((status = 201, description = "Recorded", body = Recorded)))]
async fn create_hold(
    State(state): State<AppState>,
    Bearer(user): Bearer,
    ApiPath((creditor, code)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<NewHold>,
) -> ApiResult<(StatusCode, Json<Recorded>)> {
    let (creditor, customer) = write_target(&state, &user, creditor, &code).await?;
    let until = day("until", &body.until)?;
    let today = today_for(&creditor);
    if until <= today {
        return Err(ApiError::bad_request("until: must be after today"));
    }
    let reason = body.reason.trim();
    clean("reason", reason)?;
    if reason.is_empty() {
        return Err(ApiError::bad_request("reason: required"));
    }
    let summary = state
        .store()
        .hold(creditor.id, &customer.code, until, reason, today)
        .await?;
    recorded(&state, &creditor, &customer, summary).await
}

// ---------------------------------------------------------------- Idempotency-Key

/// Largest body a write takes.
const MAX_BODY: usize = 64 * 1024;

/// Middleware of the write routes: with an `Idempotency-Key` header, the first request with that
/// key (per user) runs and its response is kept; the same key with the same method, path and body
/// replays the kept response (header `Idempotent-Replayed: true`); with another request it is
/// refused with 422. The key is reserved before the handler runs, so two concurrent requests
/// with one key cannot both act: the second gets 409 until the first has answered. A 5xx is not
/// kept (the key is released so the client may retry).
async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match idempotent(state, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn idempotent(state: AppState, req: Request, next: Next) -> ApiResult<Response> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(key) = req.headers().get("idempotency-key") else {
        return Ok(next.run(req).await);
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| ApiError::bad_request("Idempotency-Key: 1 to 255 visible ASCII characters"))?
        .to_string();
    let (mut parts, body) = req.into_parts();
    let Bearer(user) = Bearer::from_request_parts(&mut parts, &state).await?;
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::bad_request(format!("body: larger than {MAX_BODY} bytes")))?;
    let fingerprint = sha256_hex(&format!(
        "{} {}\n{}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&bytes)
    ));
    let store = state.store();
    let reserved = store
        .reserve_idempotency_key(user.id, &key, &fingerprint)
        .await?;
    if let Some(stored) = reserved {
        if stored.request_hash != fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key: already used with another request",
            ));
        }
        if stored.status == 0 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "Idempotency-Key: a request with this key is still running",
            ));
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = (status, stored.body).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status().is_server_error() {
        store.release_idempotency_key(user.id, &key).await?;
        return Ok(response);
    }
    let (rparts, rbody) = response.into_parts();
    let rbytes = match axum::body::to_bytes(rbody, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            store.release_idempotency_key(user.id, &key).await?;
            return Err(WebError::Internal(format!("response body: {e}")).into());
        }
    };
    store
        .complete_idempotency_key(
            user.id,
            &key,
            &StoredResponse {
                request_hash: fingerprint,
                status: rparts.status.as_u16(),
                body: String::from_utf8_lossy(&rbytes).into_owned(),
            },
        )
        .await?;
    Ok(Response::from_parts(rparts, Body::from(rbytes)))
}
