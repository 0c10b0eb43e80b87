//! The store's error type: what went wrong, in terms a caller can act on.

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL \"{0}\": use sqlite://FILE or postgres://…")]
    UnsupportedUrl(String),
    #[error("no creditor is set up yet: run `relance init --name \"Your company\"` first")]
    NoCreditor,
    #[error("several creditors exist ({0}): choose one with --creditor")]
    SeveralCreditors(String),
    #[error("no creditor named or numbered \"{0}\"")]
    UnknownCreditor(String),
    #[error("unknown customer \"{0}\"")]
    UnknownCustomer(String),
    #[error("unknown invoice \"{0}\"")]
    UnknownInvoice(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Money(#[from] relance_core::MoneyError),
    #[error("{0}")]
    Unsupported(String),
    /// A command that the current state does not allow ("invoice F-1 has no open dispute").
    #[error("{0}")]
    Refused(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
