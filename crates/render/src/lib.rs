//! relance-render (to be written).
