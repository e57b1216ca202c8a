//! Pre-flight findings: what `cycle doctor` (and an online `cycle prepare
//! --dry-run`) found of each service before anything is written, each with
//! the fix for what failed. Pure data: the checks themselves are in
//! [`crate::engine::doctor`], the text, JSON and Markdown in [`crate::output`].

use serde::Serialize;

pub use super::finding::{Counts, Finding, Service, Status};

/// The pre-flight checks of a plan (`cycle prepare --dry-run`), in the
/// plan's JSON as `preflight`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preflight {
    /// Whether the checks ran.
    pub checked: bool,
    /// Why they did not run (offline), when they did not.
    pub skipped: Option<String>,
    /// What they found.
    pub findings: Vec<Finding>,
}

impl Preflight {
    /// The checks ran and found `findings`.
    pub fn checked(findings: Vec<Finding>) -> Self {
        Self {
            checked: true,
            skipped: None,
            findings,
        }
    }

    /// The checks did not run, for `reason`.
    pub fn skipped(reason: &str) -> Self {
        Self {
            checked: false,
            skipped: Some(reason.to_string()),
            findings: vec![],
        }
    }

    /// Whether a check failed.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }
}
