//! relance-store (to be written).
