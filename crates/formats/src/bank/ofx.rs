//! OFX.
use super::{BankEntry, StatementSummary};
use crate::problem::ReadReport;
pub fn read_ofx(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(BankEntry),
) -> (ReadReport, StatementSummary) {
    let _ = (source, bytes, sink);
    (ReadReport::default(), StatementSummary::default())
}
