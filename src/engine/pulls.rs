//! The engine's side of GitHub pull requests: the adapter when configured, what an
//! observation found of each step's result, and the step's execution.

use super::journal::Journal;
use super::{Done, Engine};
use crate::plan::{Observed, Plan, PullRequestRequest, Seen, Step, StepId};

/// The adapter for PR steps (`--only pr`) of one run, or why it is not available.
pub struct Pulls {
    unavailable: String,
}

impl Pulls {
    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            unavailable: reason.to_string(),
        }
    }
}

impl Engine {
    /// Looks for the result of every pull step of `plan` (read only).
    pub(crate) async fn observe_pulls(
        &self,
        plan: &Plan,
        journal: &Journal,
    ) -> Vec<(StepId, Seen)> {
        let _ = (plan, journal);
        vec![]
    }

    /// Executes one pull step: finds its result first, then creates or
    /// updates only what differs.
    pub(crate) async fn execute_pull(
        &self,
        step: &Step,
        request: &PullRequestRequest,
        observed: &Observed,
    ) -> anyhow::Result<Done> {
        let _ = (request, observed);
        anyhow::bail!(
            "{}: the {} step cannot be applied yet ({}); use --skip {}",
            step.id,
            super::kind_name(step.kind),
            self.pulls.unavailable,
            step.kind
                .selector()
                .map(super::selector_name)
                .unwrap_or_default()
        )
    }
}
