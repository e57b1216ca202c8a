//! The step-kind trait: what every kind of step tells the engine, and the
//! view of the run ([`Cx`]) a kind works with.
//!
//! A kind says how it is shown ([`Kind::name`]), which `--only`/`--skip`
//! group selects it ([`Kind::selector`]), what it looks for before acting
//! and when ([`Kind::phases`], [`Kind::observe`]), how it executes
//! ([`Kind::execute`]), what its result teaches the planner
//! ([`Kind::learn`]), how its outcome reads on a progress line
//! ([`Kind::shown`]) and what `cycle doctor` must prove for it
//! ([`Kind::needs`]). The engine, the doctor and the commands go through
//! [`super::registry`]; none of them names a kind.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::engine::config::{GitRun, Identity};
use crate::engine::doctor::Needs;
use crate::engine::journal::{Journal, Outcome};
use crate::engine::messages::Messages;
use crate::engine::pages::Pages;
use crate::engine::progress::Progress;
use crate::engine::pulls::Pulls;
use crate::engine::report::SummaryRow;
use crate::engine::tickets::Tickets;
use crate::model::cycle_id::CycleId;
use crate::plan::{
    Action, Observed, Plan, Planner, Seen, Selection, Selector, Step, StepId, StepKind,
};

/// When a kind observes, in order: each phase plans again with what the
/// phases before it learnt, and the kinds of one phase look concurrently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// What the journal records (ticket keys, steps marked done): no
    /// request.
    Journal,
    /// Lookups that need nothing found before them (tickets by summary,
    /// every repository fetched once).
    Lookup,
    /// What needs the tickets' keys (the branches, read from the fetched
    /// clones).
    Branches,
    /// What the page is made from (ts_cycle_build's versions, the
    /// revision's XML changes).
    Inputs,
    /// Results other steps link (pull requests).
    Links,
    /// Results that link those (announcements, the page).
    Results,
    /// Results that link the page (its announcement).
    Notices,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 7] = [
        Phase::Journal,
        Phase::Lookup,
        Phase::Branches,
        Phase::Inputs,
        Phase::Links,
        Phase::Results,
        Phase::Notices,
    ];
}

/// What a step execution produced.
pub struct Done {
    /// The typed outcome, journaled.
    pub outcome: Outcome,
    /// created, found, updated, unchanged, merged, …; [`WAITING`] keeps
    /// the step pending.
    pub action: String,
}

/// The action of a step that did all it can for now and must run again
/// later (a Slack message more than 120 days ahead): journaled PENDING with
/// its outcome, shown as waiting, not a failure.
pub const WAITING: &str = "waiting";

impl Done {
    /// Whether the step stays pending (see [`WAITING`]).
    pub fn waits(&self) -> bool {
        self.action == WAITING
    }
}

/// The remote services of a run, each configured only when a selected step
/// needs it (or, for a dry run, when its credentials are present).
pub struct Services {
    /// Jira: configuration and calendar tickets.
    pub tickets: Tickets,
    /// GitHub: pull requests.
    pub pulls: Pulls,
    /// Slack: announcements and notices.
    pub messages: Messages,
    /// Confluence: the cycle's page.
    pub pages: Pages,
}

impl Services {
    /// No remote service (offline runs, `cycle config`).
    pub fn none(reason: &str) -> Self {
        Self {
            tickets: Tickets::none(reason),
            pulls: Pulls::none(reason),
            messages: Messages::none(reason),
            pages: Pages::none(reason),
        }
    }
}

/// The run as a kind sees it: the services, the clone cache, the commit
/// identity, the selection, the journal (a hint) and the progress lines.
pub struct Cx<'a> {
    /// The cycle revision.
    pub id: CycleId,
    /// The services.
    pub services: &'a Services,
    /// The clone cache of this run.
    pub git: &'a GitRun,
    /// Who commits.
    pub identity: &'a Identity,
    /// What this run applies.
    pub selection: &'a Selection,
    /// Read caches only.
    pub offline: bool,
    /// The cycle's journal.
    pub journal: &'a Mutex<Journal>,
    /// Where the journal is saved.
    pub journal_path: &'a std::path::Path,
    /// Progress lines and notes.
    pub progress: &'a Progress,
}

impl Cx<'_> {
    /// A copy of the journal as it is now.
    pub fn journal(&self) -> Journal {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The steps of `plan` of kind `kind`.
    pub fn steps_of(plan: &Plan, kind: StepKind) -> impl Iterator<Item = &Step> {
        plan.steps().filter(move |s| s.kind == kind)
    }
}

/// One kind of step: one module under `engine/steps/`, one line of
/// [`super::registry::KINDS`].
#[async_trait(?Send)]
pub trait Kind: Planner + Send + Sync {
    /// The kind this implements.
    fn kind(&self) -> StepKind;

    /// Its name in messages ("Jira ticket").
    fn name(&self) -> &'static str;

    /// The `--only`/`--skip` group that selects it; `None` for steps that
    /// are never applied (human steps).
    fn selector(&self) -> Option<Selector>;

    /// The phases in which [`Kind::observe`] is called.
    fn phases(&self) -> &'static [Phase] {
        &[]
    }

    /// Looks (read only) for the results of the kind's steps of `plan` in
    /// one of its phases; returns what was learnt, which the engine merges
    /// into what is known ([`Observed::absorb`]).
    async fn observe(
        &self,
        _phase: Phase,
        _cx: &Cx<'_>,
        _plan: &Plan,
        _observed: &Observed,
    ) -> Observed {
        Observed::default()
    }

    /// Executes one step of the kind: looks for its result first, then
    /// creates or updates only what differs.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, observed: &Observed) -> anyhow::Result<Done>;

    /// Records what a finished step taught the planner: by default, the
    /// step is done, with its result's link when it has one.
    fn learn(&self, observed: &mut Observed, id: &StepId, outcome: &Outcome) {
        observed.done.insert(id.clone(), outcome.summary());
        if let Some(link) = outcome.link() {
            observed
                .seen
                .insert(id.clone(), linked(outcome.summary(), link));
        }
    }

    /// The outcome as a progress line shows it.
    fn shown(&self, _cx: &Cx<'_>, _step: &Step, outcome: &Outcome) -> String {
        outcome.summary()
    }

    /// Adds what `cycle doctor` must prove for `step` to `needs`.
    fn needs(&self, _step: &Step, _needs: &mut Needs) {}

    /// Prepares, before the apply and off its critical path, what the
    /// kind's writes will need (read only; failures are left for the steps
    /// to report).
    async fn warm(&self, _cx: &Cx<'_>, _plan: &Plan) {}

    /// Repairs, before the apply's rounds, what two runs at once left of
    /// the kind's results; one summary row per thing repaired or reported.
    async fn repair(&self, _cx: &Cx<'_>, _plan: &Plan) -> Vec<SummaryRow> {
        vec![]
    }

    /// Adds what a saved plan of `step` was made against (branch heads,
    /// `owner/name branch` → commit) to `branches`.
    fn basis(&self, _cx: &Cx<'_>, _step: &Step, _branches: &mut BTreeMap<String, Option<String>>) {}
}

/// What is seen of a result that is already as wanted: its note and link.
pub fn linked(note: String, link: &str) -> Seen {
    Seen {
        action: Action::None,
        note,
        detail: vec![],
        link: Some(link.to_string()),
        waiting_on: None,
        basis: None,
    }
}
