//! ISO 20022 camt.053.
use super::{BankEntry, StatementSummary};
use crate::problem::ReadReport;
pub fn read_camt053(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(BankEntry),
) -> (ReadReport, StatementSummary) {
    let _ = (source, bytes, sink);
    (ReadReport::default(), StatementSummary::default())
}
