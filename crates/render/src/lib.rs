//! relance-render: letters, e-mails and statements of account, from data to bytes.
//!
//! Pure apart from nothing: templates and fonts are embedded, no file is read at run time and
//! the clock is never read (the letter's date and the e-mail's `Date` are inputs).
//! - [`model`]: what a message says ([`LetterData`]);
//! - [`templates`]: minijinja templates per step, language and part, sandboxed and validated;
//! - [`pdf`]: A4 letters and statements of account, typeset with embedded DejaVu Sans;
//! - [`qr`]: the EPC069-12 SEPA credit-transfer QR code;
//! - [`email`]: the MIME message (.eml bytes).

pub mod email;
pub mod followup;
mod font;
pub mod format;
pub mod model;
pub mod pdf;
pub mod qr;
pub mod sms;
pub mod supplier;
pub mod templates;

pub use email::{build_email, EmailEnvelope};
pub use model::{
    CreditorInfo, DebtorInfo, InvoiceLine, LetterData, PenaltyLines, PenaltyPeriodLine,
    PriorContact, StepId, Totals,
};
pub use pdf::batch::{
    concat_pdfs, posting_label, render_print_batch, Batch, BatchCover, BatchLetter,
};
pub use pdf::litigation::{
    draft_request, render_litigation_pdf, ChronologyLine, ClaimLine, ClaimTotals, DocumentLine,
    LitigationData,
};
pub use pdf::{render_letter_pdf, render_statement_pdf, StatementData, StatementLine};
pub use qr::{epc_payload, EpcTransfer};
pub use templates::{Part, RenderedMessage, TemplateKey, Templates};

/// Everything that can go wrong while rendering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("font: {0}")]
    Font(String),
    #[error("QR code: {0}")]
    Qr(String),
    #[error("e-mail: {0}")]
    Email(String),
    #[error("invalid data: {0}")]
    Data(String),
}
