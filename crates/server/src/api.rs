//! A first slice of the JSON API under `/api`, with bearer tokens from `relance token create`:
//! the creditors a token may see, customers (cursor pagination), one customer with its open
//! items and timeline, one invoice. Scoped like the pages: another creditor answers 404.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use relance_core::ids::ItemId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::WebError;
use crate::pages::CustomersQuery;
use crate::{access, today_for, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/creditors", get(creditors))
        .route("/c/{creditor}/customers", get(customers))
        .route("/c/{creditor}/customers/{code}", get(customer))
        .route("/c/{creditor}/invoices/{id}", get(invoice))
}

async fn creditors(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, WebError> {
    let list: Vec<Value> = state
        .store()
        .creditors_of(&user)
        .await?
        .into_iter()
        .map(|c| json!({ "id": c.id.0, "name": c.name }))
        .collect();
    Ok(Json(json!({ "data": list })))
}

#[derive(Debug, Deserialize)]
struct ApiCustomersQuery {
    #[serde(flatten)]
    filter: CustomersQuery,
    #[serde(default)]
    limit: Option<String>,
}

async fn customers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(creditor): Path<i64>,
    Query(q): Query<ApiCustomersQuery>,
) -> Result<Json<Value>, WebError> {
    let creditor = access(state.store(), &user, creditor).await?;
    let query = q.filter.to_store(
        today_for(&creditor),
        q.limit
            .and_then(|l| l.parse::<u32>().ok())
            .unwrap_or(100)
            .clamp(1, 500),
    );
    let page = state.store().customer_page(creditor.id, &query).await?;
    Ok(Json(json!({ "data": page.rows, "next_cursor": page.next })))
}

async fn customer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((creditor, code)): Path<(i64, String)>,
) -> Result<Json<Value>, WebError> {
    let creditor = access(state.store(), &user, creditor).await?;
    let store = state.store();
    let customer = store
        .customer_by_code(creditor.id, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let items = store
        .customer_items(creditor.id, customer.id, false)
        .await?;
    let events = store.customer_timeline(creditor.id, customer.id).await?;
    let case = store.case_summary(creditor.id, customer.id).await?;
    Ok(Json(json!({
        "customer": customer,
        "open_items": items,
        "case": case,
        "events": events,
    })))
}

async fn invoice(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((creditor, id)): Path<(i64, i64)>,
) -> Result<Json<Value>, WebError> {
    let creditor = access(state.store(), &user, creditor).await?;
    let detail = state
        .store()
        .invoice_detail(creditor.id, ItemId(id))
        .await?
        .ok_or(WebError::NotFound)?;
    Ok(Json(json!(detail)))
}
