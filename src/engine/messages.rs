//! The engine's side of Slack messages: the adapter when configured, what an
//! observation found of each step's result, and the step's execution.

use super::journal::Journal;
use super::{Done, Engine};
use crate::plan::{MessageRequest, Observed, Plan, Seen, Step, StepId};

/// The adapter for message steps (announcements, review notices) of one run, or why it is not available.
pub struct Messages {
    unavailable: String,
}

impl Messages {
    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            unavailable: reason.to_string(),
        }
    }
}

impl Engine {
    /// Looks for the result of every message step of `plan` (read only).
    pub(crate) async fn observe_messages(
        &self,
        plan: &Plan,
        journal: &Journal,
    ) -> Vec<(StepId, Seen)> {
        let _ = (plan, journal);
        vec![]
    }

    /// Executes one message step: finds its result first, then creates or
    /// updates only what differs.
    pub(crate) async fn execute_message(
        &self,
        step: &Step,
        request: &MessageRequest,
        observed: &Observed,
    ) -> anyhow::Result<Done> {
        let _ = (request, observed);
        anyhow::bail!(
            "{}: the {} step cannot be applied yet ({}); use --skip {}",
            step.id,
            super::kind_name(step.kind),
            self.messages.unavailable,
            step.kind
                .selector()
                .map(super::selector_name)
                .unwrap_or_default()
        )
    }
}
