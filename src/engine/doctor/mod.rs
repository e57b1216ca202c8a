//! `cycle doctor` and the pre-flight checks of an online `cycle prepare
//! --dry-run`: is every service ready for what the plan would send, before
//! the first write? Every check only reads (the git checks may fetch into
//! the local clone cache; nothing is pushed).
//!
//! The checks work on the plan's steps, not on the site files: the
//! [`TicketRequest`](crate::plan::TicketRequest) of each ticket step (its
//! fields as the create request would carry them), the channels of the
//! message steps, the pull requests' repositories, reviewers, teams and
//! labels, the page's space and parent, the configuration repositories'
//! base branches and edited files. [`Needs::of`] gathers them from the
//! steps checked; each service's module then reads what it needs (each
//! service concurrently, each read once) and judges it with pure
//! functions into [`Finding`]s, one per check, each failure with its fix.

pub mod confluence;
pub mod git;
pub mod github;
pub mod jira;
pub mod slack;

use std::future::Future;
use std::time::Duration;

pub use crate::plan::preflight::{Counts, Finding, Preflight, Service, Status};
use crate::plan::{
    ConfigRequest, PageRequest, Plan, PullRequestRequest, Step, StepId, StepSpec, TicketRequest,
};

use super::Engine;

/// How long one service's checks may take in all (each request also has
/// the adapters' own timeouts and retries).
const SERVICE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the git checks may take (a first clone of a large repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(600);

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
}

impl Needs {
    /// What `steps` need; manual steps need nothing.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Self {
        let mut needs = Needs::default();
        for step in steps {
            let site = step.id.site().unwrap_or_default().to_string();
            match &step.spec {
                StepSpec::Ticket(request) => needs.tickets.push(TicketNeed {
                    site,
                    step: step.id.clone(),
                    request: request.clone(),
                }),
                StepSpec::Page(request) => needs.page = Some(request.clone()),
                StepSpec::Message(request) => {
                    let pair = (site, request.channel.clone());
                    if !needs.channels.contains(&pair) {
                        needs.channels.push(pair);
                    }
                }
                StepSpec::PullRequest(request) => needs.pulls.push(PullNeed {
                    site,
                    request: request.clone(),
                    fork: None,
                }),
                StepSpec::Config(request) => needs.repos.push((site, request.clone())),
                StepSpec::Manual => {}
            }
        }
        // The fork a pull request's branch is pushed to is the
        // repository's setting, which its configuration step carries.
        for pull in &mut needs.pulls {
            pull.fork = needs
                .repos
                .iter()
                .find(|(site, req)| *site == pull.site && req.repo.repo == pull.request.repo)
                .and_then(|(_, req)| req.repo.pull_request.as_ref()?.fork.clone());
        }
        needs
    }
}

/// What a service's checks need first: its credentials. A check starts
/// with [`Credentials::client`].
struct Credentials {
    /// The service.
    service: Service,
    /// What to set when they are missing or refused.
    fix: &'static str,
}

impl Credentials {
    /// The service's client, when there is anything to check (`needed`);
    /// otherwise no finding, and without a client the one finding of the
    /// missing credentials: `missing` is its status (see [`Engine::doctor`]),
    /// and only a failure carries the fix.
    fn client<T, E: std::fmt::Display>(
        &self,
        needed: bool,
        client: impl FnOnce() -> Result<T, E>,
        missing: Status,
    ) -> Result<T, Vec<Finding>> {
        if !needed {
            return Err(vec![]);
        }
        client().map_err(|reason| {
            let fix = (missing == Status::Fail).then(|| self.fix.to_string());
            vec![Finding::new(
                self.service,
                None,
                "credentials",
                missing,
                format!("{reason:#}"),
                fix,
            )]
        })
    }
}

/// Runs one service's checks within `limit`; past it, one failure says so.
async fn within(
    service: Service,
    limit: Duration,
    checks: impl Future<Output = Vec<Finding>>,
) -> Vec<Finding> {
    match tokio::time::timeout(limit, checks).await {
        Ok(findings) => findings,
        Err(_) => vec![Finding::fail(
            service,
            None,
            "answers",
            format!(
                "{} did not finish its checks within {} s",
                service.label(),
                limit.as_secs()
            ),
            format!(
                "check that {} is reachable from here, then run again",
                service.label()
            ),
        )],
    }
}

impl Engine {
    /// Checks every service for what `needs` would send (read only).
    /// `missing` is the status of a service that is not configured: a
    /// failure for `cycle doctor`, skipped for a dry run (which looks only
    /// at the services it has credentials for).
    pub async fn doctor(&self, needs: &Needs, missing: Status) -> Vec<Finding> {
        let (tickets, page, messages, pulls, repos) = tokio::join!(
            within(
                Service::Jira,
                SERVICE_TIMEOUT,
                jira::check(&self.tickets, &needs.tickets, missing)
            ),
            within(
                Service::Confluence,
                SERVICE_TIMEOUT,
                confluence::check(&self.pages, needs.page.as_ref(), missing)
            ),
            within(
                Service::Slack,
                SERVICE_TIMEOUT,
                slack::check(&self.messages, &needs.channels, missing)
            ),
            within(
                Service::Github,
                SERVICE_TIMEOUT,
                github::check(&self.pulls, &needs.pulls, missing)
            ),
            within(
                Service::Git,
                GIT_TIMEOUT,
                git::check(&self.git, &needs.repos)
            ),
        );
        let mut findings = tickets;
        findings.extend(page);
        findings.extend(messages);
        findings.extend(pulls);
        findings.extend(repos);
        findings
    }

    /// The pre-flight checks of a dry run: [`Engine::doctor`] for the
    /// selected steps that would change something now or once what they
    /// wait for is done, skipping the services that are not configured.
    /// Offline runs do not check.
    pub async fn preflight(&self, plan: &Plan) -> Preflight {
        if self.offline {
            return Preflight::skipped("offline (the services are not asked)");
        }
        let needs = Needs::of(plan.steps().filter(|s| {
            s.selected && (s.action.writes() || s.action == crate::plan::Action::Waiting)
        }));
        Preflight::checked(self.doctor(&needs, Status::Skipped).await)
    }
}
