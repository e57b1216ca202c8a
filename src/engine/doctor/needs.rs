//! What the checked steps need of each service: gathered by
//! [`Needs::of`] (each kind adds its own, see
//! [`crate::engine::steps::kind::Kind::needs`]), read by the services'
//! checks.

use crate::plan::{
    ConfigRequest, PageRequest, PullRequestRequest, StepId, TicketRequest, VersionRequest,
};

/// A ticket step to check: the site, the step and what it would send.
#[derive(Debug, Clone)]
pub struct TicketNeed {
    /// Site name.
    pub site: String,
    /// The step (`summit:jira`, `summit:calendar`).
    pub step: StepId,
    /// What the step would send.
    pub request: TicketRequest,
}

/// A pull request step to check.
#[derive(Debug, Clone)]
pub struct PullNeed {
    /// Site name.
    pub site: String,
    /// What the step would send.
    pub request: PullRequestRequest,
    /// The fork the branch is pushed to (`owner/name`), when the site names one.
    pub fork: Option<String>,
}

/// What the checked steps need of each service.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Jira: the ticket steps.
    pub tickets: Vec<TicketNeed>,
    /// Confluence: the page step (space and parent).
    pub page: Option<PageRequest>,
    /// Slack: (site, channel) of every message step.
    pub channels: Vec<(String, String)>,
    /// GitHub: the pull request steps.
    pub pulls: Vec<PullNeed>,
    /// git: (site, request) of every configuration step.
    pub repos: Vec<(String, ConfigRequest)>,
    /// Jira: the versions the plan would create, with their steps.
    pub versions: Vec<(StepId, VersionRequest)>,
}

impl Needs {
    /// Adds a (site, channel) the doctor must prove, once.
    pub fn channel(&mut self, site: &str, channel: &str) {
        let pair = (site.to_string(), channel.to_string());
        if !self.channels.contains(&pair) {
            self.channels.push(pair);
        }
    }
}
