//! Placeholder, filled by the calendar work.
