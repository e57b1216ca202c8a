//! What an apply (or `cycle cancel`) did: how it ended and one row per
//! step.

use serde::Serialize;

use crate::plan::StepId;

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// Every selected step finished.
    Complete,
    /// Some selected step failed or could not run.
    Incomplete,
    /// Ctrl-C.
    Interrupted,
}

/// One line of the end-of-run summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The step.
    pub id: StepId,
    /// created, found, updated, unchanged, merged, failed, blocked, cancelled.
    pub action: String,
    /// What was produced, or why it failed.
    pub detail: String,
    /// A link for people, when there is one.
    pub link: Option<String>,
}

/// The result of an apply.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How it ended.
    pub end: RunEnd,
    /// One row per selected step.
    pub rows: Vec<SummaryRow>,
}
