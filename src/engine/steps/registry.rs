//! The registry: every step kind, one line each. The engine, the doctor
//! and the commands find a kind's behaviour here; none of them names a
//! kind.

use super::calendar::Calendar;
use super::cap_links::CapLinks;
use super::cap_story::CapStory;
use super::cap_version::CapVersion;
use super::config::Config;
use super::kind::Kind;
use super::manual::Manual;
use super::message::{Announcement, PageNotice, ReviewNotice};
use super::page::Page;
use super::page_line::PageLine;
use super::pull_request::PullRequest;
use super::reminder::Reminder;
use super::revert_notice::RevertNotice;
use super::scheduled::Scheduled;
use super::ticket::Ticket;
use super::unschedule::Unschedule;
use crate::engine::doctor::needs::Needs;
use crate::model::release::LoadedRelease;
use crate::model::site::LoadedSite;
use crate::plan::{Observed, Plan, PlanError, Planner, Step, StepKind};
use crate::render::Templates;

/// Every kind of step. A site's steps are planned in checklist order, and
/// within one item in this order.
pub static KINDS: &[&dyn Kind] = &[
    &Ticket,
    &Calendar,
    &CapVersion,
    &CapStory,
    &CapLinks,
    &Reminder,
    &Config,
    &Page,
    &PageLine,
    &PageNotice,
    &Announcement,
    &Scheduled,
    &Unschedule,
    &RevertNotice,
    &PullRequest,
    &ReviewNotice,
    &Manual,
];

/// Every kind's planning, in the registry's order.
pub fn planners() -> Vec<&'static dyn Planner> {
    KINDS.iter().map(|k| *k as &dyn Planner).collect()
}

/// The plan of `sites` for `release`, every registered kind planned (see
/// [`crate::plan::build`]).
pub fn build(
    release: &LoadedRelease,
    sites: &[&LoadedSite],
    all_sites: &[LoadedSite],
    templates: &Templates,
    observed: &Observed,
) -> Result<Plan, PlanError> {
    crate::plan::build(&planners(), release, sites, all_sites, templates, observed)
}

/// The plan of `cycle revert`: `sites` back to Cycle `to` from `release`
/// (the reverted cycle's manifest), planned by [`super::revert::Revert`].
pub fn build_revert(
    to: u32,
    release: &LoadedRelease,
    sites: &[&LoadedSite],
    all_sites: &[LoadedSite],
    templates: &Templates,
    observed: &Observed,
) -> Result<Plan, PlanError> {
    let revert = super::revert::Revert { to };
    let mut plan = crate::plan::build(&[&revert], release, sites, all_sites, templates, observed)?;
    plan.revert_to = Some(to);
    plan.label = format!("the revert to Cycle {to} from {}", release.id.label());
    Ok(plan)
}

/// The behaviour of `kind`.
pub fn kind(kind: StepKind) -> &'static dyn Kind {
    KINDS
        .iter()
        .copied()
        .find(|k| k.kind() == kind)
        .unwrap_or_else(|| unreachable!("every StepKind is registered (see the registry test)"))
}

/// The name of a step kind in messages ("Jira ticket").
pub fn kind_name(of: StepKind) -> &'static str {
    kind(of).name()
}

impl Needs {
    /// What `steps` need, each kind adding its own; a pull request's fork
    /// is the repository's setting, which its configuration step carries.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Self {
        let mut needs = Needs::default();
        for step in steps {
            kind(step.kind).needs(step, &mut needs);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Selector;

    #[test]
    fn every_kind_is_registered_once() {
        let all = [
            StepKind::Ticket,
            StepKind::Calendar,
            StepKind::Config,
            StepKind::Manual,
            StepKind::Page,
            StepKind::Message,
            StepKind::PullRequest,
            StepKind::ReviewNotice,
            StepKind::PageNotice,
            StepKind::Reminder,
            StepKind::Scheduled,
            StepKind::CapVersion,
            StepKind::CapStory,
            StepKind::CapLinks,
            StepKind::Unschedule,
            StepKind::RevertNotice,
            StepKind::PageLine,
        ];
        for k in all {
            assert_eq!(KINDS.iter().filter(|r| r.kind() == k).count(), 1, "{k:?}");
        }
        assert_eq!(KINDS.len(), all.len());
    }

    #[test]
    fn selectors_are_spelled_as_the_flags_take_them() {
        for s in [
            Selector::Jira,
            Selector::Calendar,
            Selector::Config,
            Selector::Confluence,
            Selector::Slack,
            Selector::Pr,
        ] {
            let name = s.name();
            assert!(!name.is_empty(), "{s:?}");
            assert_eq!(<Selector as clap::ValueEnum>::from_str(name, false), Ok(s));
        }
    }
}
