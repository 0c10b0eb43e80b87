//! relance-formats (to be written).
