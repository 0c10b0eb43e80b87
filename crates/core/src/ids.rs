//! Typed identifiers, so that a customer id can never be passed where an invoice id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// A creditor (tenant): every stored row belongs to exactly one.
    CreditorId
);
row_id!(
    /// A customer's row id (the customer's own code is [`crate::party::CustomerCode`]).
    CustomerId
);
row_id!(
    /// An invoice or credit note row id.
    ItemId
);
row_id!(
    /// A payment row id.
    PaymentId
);
