//! relance-deliver (to be written).
