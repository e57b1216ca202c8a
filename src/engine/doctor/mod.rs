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
//! steps checked (each kind says what it needs); each service's module then reads what it needs (each
//! service concurrently, each read once) and judges it with pure
//! functions into [`Finding`]s, one per check, each failure with its fix.

pub mod confluence;
pub mod git;
pub mod github;
pub mod jira;
pub mod needs;
pub mod slack;

use std::future::Future;
use std::time::Duration;

use crate::plan::Plan;
pub use crate::plan::preflight::{Counts, Finding, Preflight, Service, Status};
pub use needs::{Needs, PullNeed, TicketNeed};

use super::Engine;

/// How long one service's checks may take in all (each request also has
/// the adapters' own timeouts and retries).
const SERVICE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the git checks may take (a first clone of a large repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(600);

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
                jira::check(
                    &self.services.tickets,
                    &needs.tickets,
                    &needs.versions,
                    missing
                )
            ),
            within(
                Service::Confluence,
                SERVICE_TIMEOUT,
                confluence::check(&self.services.pages, needs.page.as_ref(), missing)
            ),
            within(
                Service::Slack,
                SERVICE_TIMEOUT,
                slack::check(&self.services.messages, &needs.channels, missing)
            ),
            within(
                Service::Github,
                SERVICE_TIMEOUT,
                github::check(&self.services.pulls, &needs.pulls, missing)
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
