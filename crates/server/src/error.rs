//! What a handler can fail with, and the response each failure becomes.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use relance_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No session: the browser goes to the login page, then back to this path.
    #[error("login required")]
    Login(String),
    /// No or unknown API token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Also what a user gets for another creditor's data: its existence is not revealed.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many failed logins; try again later")]
    TooManyAttempts,
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Login(_) => StatusCode::SEE_OTHER,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            WebError::Store(StoreError::UnknownCustomer(_) | StoreError::UnknownInvoice(_)) => {
                StatusCode::NOT_FOUND
            }
            WebError::Store(StoreError::Refused(_)) => StatusCode::CONFLICT,
            WebError::Internal(_) | WebError::Store(_) | WebError::Template(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let WebError::Login(next) = &self {
            let target = format!("/login?next={}", crate::pages::url_encode(next));
            return (status, [(header::LOCATION, target)]).into_response();
        }
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "internal error".to_string()
        } else {
            self.to_string()
        };
        let mut response = (status, message).into_response();
        if let WebError::Unauthorized = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
