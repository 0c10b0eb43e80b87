//! Placeholder, filled by the law work.
