//! Placeholder, filled by the planner work.
