//! The apply engine: observe, plan what remains with what is now known,
//! apply every ready step concurrently, journal, repeat.
//!
//! The plan is rebuilt each round by the command's plan function (pure:
//! [`crate::plan::build`] for `prepare`, the config steps alone for
//! `cycle config`) from the [`Observed`] state, so a ticket key found or
//! created in one round names the branch, commit, PR and page in the next.
//! Every step executor looks for its result before creating it, so a rerun
//! after any failure, kill or lost journal finishes the job and creates
//! nothing twice. `--dry-run` runs the observation only: it never writes
//! anywhere remote.

pub mod check;
pub mod config;
pub mod doctor;
pub mod journal;
pub mod messages;
pub mod pages;
pub mod progress;
pub mod pulls;
mod repair;
pub mod tickets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;

use crate::model::cycle_id::CycleId;
pub use crate::plan::Selection;
use crate::plan::{
    Action, Observed, Plan, PlanError, Seen, Selector, Step, StepId, StepKind, StepSpec,
};
use config::{GitRun, Identity};
use journal::{Journal, JournalLock, Outcome, Status};
use messages::Messages;
use pages::Pages;
use progress::{Ended, Progress};
use pulls::Pulls;
use tickets::Tickets;

/// Builds the plan from what is known; called once per round.
pub type PlanFn<'a> = dyn Fn(&Observed) -> Result<Plan, PlanError> + Sync + 'a;

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

/// What a step execution produced.
pub(crate) struct Done {
    /// The typed outcome, journaled.
    pub(crate) outcome: Outcome,
    /// created, found, updated, unchanged, merged, …; [`WAITING`] keeps
    /// the step pending.
    pub(crate) action: String,
}

/// The action of a step that did all it can for now and must run again
/// later (a Slack message more than 120 days ahead): journaled PENDING with
/// its outcome, shown as waiting, not a failure.
pub(crate) const WAITING: &str = "waiting";

impl Done {
    /// Whether the step stays pending (see [`WAITING`]).
    fn waits(&self) -> bool {
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

/// Settings of one run.
pub struct EngineSettings {
    /// The cycle revision (names the journal).
    pub id: CycleId,
    /// The state directory.
    pub state_dir: PathBuf,
    /// The cache directory.
    pub cache_dir: PathBuf,
    /// Read caches only; no network.
    pub offline: bool,
    /// Selected steps.
    pub selection: Selection,
    /// Commit identity.
    pub identity: Identity,
    /// `-q`.
    pub quiet: bool,
}

/// One run of the engine over one cycle revision.
pub struct Engine {
    id: CycleId,
    git: GitRun,
    identity: Identity,
    selection: Selection,
    offline: bool,
    tickets: Tickets,
    pulls: Pulls,
    messages: Messages,
    pages: Pages,
    journal_path: PathBuf,
    journal: Mutex<Journal>,
    progress: Progress,
    /// The last plan built and what it was built from: observing calls the
    /// planner after each service, often with nothing new learnt.
    last_plan: Mutex<Option<(Observed, Plan)>>,
}

impl Engine {
    /// Opens the cycle's journal (read only until [`Engine::apply`] takes
    /// the lock) and the services the selected steps need.
    pub fn new(settings: EngineSettings, services: Services) -> anyhow::Result<Self> {
        let journal_path = journal::journal_path(&settings.state_dir, settings.id);
        let journal = Journal::load(&journal_path, settings.id)?;
        Ok(Self {
            id: settings.id,
            git: GitRun::new(
                &settings.cache_dir,
                crate::services::git::Credentials::from_env(),
                settings.offline,
            ),
            identity: settings.identity,
            selection: settings.selection,
            offline: settings.offline,
            tickets: services.tickets,
            pulls: services.pulls,
            messages: services.messages,
            pages: services.pages,
            journal_path,
            journal: Mutex::new(journal),
            progress: Progress::new(settings.quiet),
            last_plan: Mutex::new(None),
        })
    }

    /// The plan for what is known now: `plan_fn`'s, built again only when
    /// `observed` changed since the last call (planning is pure).
    pub fn plan(&self, plan_fn: &PlanFn<'_>, observed: &Observed) -> Result<Plan, PlanError> {
        let mut last = self.last_plan.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, plan)) = &*last
            && seen == observed
        {
            return Ok(plan.clone());
        }
        let mut plan = plan_fn(observed)?;
        crate::plan::resolve(&mut plan, &self.selection);
        *last = Some((observed.clone(), plan.clone()));
        Ok(plan)
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Looks at everything the plan can show without writing: tickets (the
    /// journal's keys are tried first, then Jira when configured), then every
    /// configuration repository (each fetched once, while the tickets are
    /// looked up: a fetch needs no ticket key). Returns what is known.
    pub async fn observe(
        &self,
        plan_fn: &PlanFn<'_>,
        observed: &mut Observed,
    ) -> anyhow::Result<()> {
        let plan = self.plan(plan_fn, observed)?;
        let journal = self.journal().clone();
        let given = observed.tickets.clone();
        for step in plan.steps() {
            if let StepId::Ticket { site } = &step.id
                && !observed.tickets.contains_key(site)
                && let Some(key) = journal.ticket(site)
            {
                observed.tickets.insert(site.clone(), key);
            }
            // A human step recorded done with `cycle mark` no longer holds
            // anything back: the plan shows what waits for one that is not.
            if step.kind == StepKind::Manual && journal.entry(&step.id).status == Status::Finished {
                let note = journal.entry(&step.id).outcome.map_or_else(
                    || "marked done with `cycle mark`".to_string(),
                    |o| o.summary(),
                );
                observed.done.entry(step.id.clone()).or_insert(note);
            }
        }
        // With the journal's keys the plan names those sites' ticket
        // branches, which the prefetch then fetches with the bases.
        let plan = self.plan(plan_fn, observed)?;
        if !self.offline {
            // A ticket known from the journal is looked up too (beside
            // the prefetch, off the critical path): its status is part of
            // what a saved plan is made against. One given with `--ticket`
            // is taken as is.
            let lookups = plan
                .steps()
                .filter_map(|step| match (&step.id, &step.spec) {
                    // Also when the journal knows the key (and Jira is
                    // configured): Jira may hold duplicates to retire.
                    (StepId::Ticket { site }, StepSpec::Ticket(req))
                        if !given.contains_key(site)
                            && (!observed.tickets.contains_key(site)
                                || self.tickets.configured().is_ok()) =>
                    {
                        Some((step.id.clone(), req.clone()))
                    }
                    (StepId::Calendar { .. }, StepSpec::Ticket(req)) => {
                        Some((step.id.clone(), req.clone()))
                    }
                    _ => None,
                });
            let (found, ()) = tokio::join!(
                futures::future::join_all(
                    lookups.map(|(id, req)| async move { (id, self.tickets.find(&req).await) }),
                ),
                self.prefetch(&plan)
            );
            for (id, result) in found {
                if let Ok(Some(found)) = &result {
                    observed
                        .statuses
                        .insert(id.clone(), format!("{} {}", found.key, found.status));
                }
                for note in result.iter().flatten().flat_map(tickets::Found::notes) {
                    self.progress.note(&format!("{id}: {note}"));
                }
                match (id, result) {
                    (StepId::Ticket { site }, Ok(Some(found))) => {
                        // Jira is the source of truth: its key wins over the
                        // journal's (which may name a retired duplicate).
                        observed.tickets.insert(site, found.key);
                    }
                    (id @ StepId::Calendar { .. }, Ok(Some(found))) => {
                        if let Some(site) = id.site() {
                            observed
                                .calendar
                                .insert(site.to_string(), found.key.clone());
                        }
                        if found.in_sync {
                            observed
                                .done
                                .insert(id, "exists with the manifest's dates".to_string());
                        }
                    }
                    (_, Ok(_)) => {}
                    (id, Err(e)) => self.progress.note(&format!("{id}: not looked up: {e}")),
                }
            }
        }
        // Every known ticket's link, as the page's table shows it: the dry
        // run plans the page the apply writes.
        for (site, key) in &observed.tickets {
            if let Some(url) = self.tickets.browse_url(key) {
                observed
                    .seen
                    .entry(StepId::Ticket { site: site.clone() })
                    .or_insert(Seen {
                        action: Action::None,
                        note: format!("ticket {key}"),
                        detail: vec![],
                        link: Some(url),
                        waiting_on: None,
                        basis: None,
                    });
            }
        }
        let plan = self.plan(plan_fn, observed)?;
        // The branches are read for the config steps and for the pull
        // requests' change summaries; not when neither is selected.
        let read_repos =
            self.selection.includes(Selector::Config) || self.selection.includes(Selector::Pr);
        let repos =
            plan.steps()
                .filter(|_| read_repos)
                .filter_map(|step| match (&step.id, &step.spec) {
                    (StepId::Config { site, repo }, StepSpec::Config(req)) => {
                        Some(((site.clone(), repo.clone()), req.clone()))
                    }
                    _ => None,
                });
        let states = futures::future::join_all(repos.map(|(key, req)| {
            let git = self.git.clone();
            async move {
                let state = tokio::task::spawn_blocking(move || git.observe_branch(&req))
                    .await
                    .unwrap_or_else(|e| {
                        let reason = format!("observing the repository failed: {e}");
                        (crate::plan::RepoState::Unknown { reason }, None)
                    });
                (key, state)
            }
        }))
        .await;
        for (key, (state, changes)) in states {
            if let Some(changes) = changes {
                observed.branch_changes.insert(key.clone(), changes);
            }
            observed.repos.insert(key, state);
        }
        let plan = self.plan(plan_fn, observed)?;
        self.observe_page_inputs(&plan, observed).await;
        if !self.offline {
            // Pull requests first: a found PR's link goes into the review
            // notice's text and the page's ticket table.
            let plan = self.plan(plan_fn, observed)?;
            self.observe_pulls(&plan, &journal, observed).await;
            let plan = self.plan(plan_fn, observed)?;
            let (messages, page) = tokio::join!(
                self.observe_messages(&plan, &journal, |kind| kind != StepKind::PageNotice),
                self.observe_page(&plan, &journal)
            );
            observed.seen.extend(messages);
            observed.seen.extend(page);
            // The page's announcement links the page: compared with what
            // Slack holds once the page's link is known.
            let plan = self.plan(plan_fn, observed)?;
            let notices = self
                .observe_messages(&plan, &journal, |kind| kind == StepKind::PageNotice)
                .await;
            observed.seen.extend(notices);
        } else {
            let plan = self.plan(plan_fn, observed)?;
            let messages = self.observe_messages(&plan, &journal, |_| true).await;
            observed.seen.extend(messages);
        }
        Ok(())
    }

    /// Looks up (once per run, cached by [`Tickets::user`]) every person the
    /// selected ticket steps that would be created name, so the creates do
    /// not wait for it; read only, failures left for the step to report.
    pub async fn resolve_people(&self, plan_fn: &PlanFn<'_>, observed: &Observed) {
        if self.offline || self.tickets.configured().is_err() {
            return;
        }
        let Ok(plan) = self.plan(plan_fn, observed) else {
            return;
        };
        let people: std::collections::BTreeSet<String> = plan
            .steps()
            .filter(|s| s.is_pending())
            .filter_map(|s| match &s.spec {
                StepSpec::Ticket(req) => Some(req),
                _ => None,
            })
            .flat_map(|req| {
                req.assignee
                    .iter()
                    .chain(req.users.values().flatten())
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        futures::future::join_all(people.iter().map(|p| self.tickets.user(p))).await;
    }

    /// Fetches every configuration repository of the plan once, with the
    /// branches its steps read (their bases, and the ticket branches whose
    /// keys are known); a failure is kept and reported when the repository
    /// is observed.
    async fn prefetch(&self, plan: &Plan) {
        // Only what a selected step reads: the branches are read for the
        // config steps and the pull requests' change summaries.
        if !(self.selection.includes(Selector::Config) || self.selection.includes(Selector::Pr)) {
            return;
        }
        let mut urls: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for step in plan.steps() {
            if let StepSpec::Config(req) = &step.spec {
                urls.entry(config::clone_url(&req.repo))
                    .or_default()
                    .extend(GitRun::origin_branches(&req.repo, req.branch.as_deref()));
            }
        }
        futures::future::join_all(urls.into_iter().map(|(url, branches)| {
            let git = self.git.clone();
            tokio::task::spawn_blocking(move || {
                let branches: Vec<String> = branches.into_iter().collect();
                let _ = git.open_branches(&url, &branches);
            })
        }))
        .await;
    }

    /// Applies the plan in rounds until no selected step is ready; returns
    /// the summary. `observed` comes from [`Engine::observe`]; every step
    /// looks again before it acts. Takes the journal's lock for the whole run.
    pub async fn apply(
        &self,
        plan_fn: &PlanFn<'_>,
        observed: &mut Observed,
    ) -> anyhow::Result<Report> {
        let _lock = JournalLock::acquire(&self.journal_path, self.id)?;
        // Reread under the lock: another run may have finished meanwhile.
        *self.journal() = Journal::load(&self.journal_path, self.id)?;
        let mut attempted: BTreeMap<StepId, bool> = BTreeMap::new();
        let mut rows: Vec<SummaryRow> = self.repair(&self.plan(plan_fn, observed)?).await;
        loop {
            let plan = self.plan(plan_fn, observed)?;
            {
                let mut journal = self.journal();
                for step in plan.steps().filter(|s| self.selection.selects(s)) {
                    if journal.entry(&step.id).status == Status::Unset {
                        journal.set_status(&step.id, Status::Pending, None);
                    }
                }
            }
            // A waiting step is not applied: the plan showed it waiting,
            // and nothing this run does can change that.
            let waiting: Vec<&Step> = plan
                .steps()
                .filter(|s| {
                    s.selected && s.action == Action::Waiting && !attempted.contains_key(&s.id)
                })
                .collect();
            for step in waiting {
                self.journal().wait(&step.id);
                rows.push(SummaryRow {
                    id: step.id.clone(),
                    action: WAITING.into(),
                    detail: step
                        .waiting_on
                        .as_ref()
                        .map_or_else(|| "waiting".to_string(), crate::plan::Wait::describe),
                    link: None,
                });
                attempted.insert(step.id.clone(), false);
            }
            let pending = |strict: bool| -> Vec<Step> {
                plan.steps()
                    .filter(|s| self.selection.selects(s) && !attempted.contains_key(&s.id))
                    .filter(|s| self.deps_ready(&plan, s, &attempted))
                    .filter(|s| !strict || self.shown_ready(&plan, s, &attempted))
                    .cloned()
                    .collect()
            };
            // A step waits for the steps whose results it shows while any
            // of them can still move; once nothing else can, it goes ahead.
            let mut ready = pending(true);
            if ready.is_empty() {
                ready = pending(false);
            }
            if ready.is_empty() {
                for step in plan
                    .steps()
                    .filter(|s| self.selection.selects(s) && !attempted.contains_key(&s.id))
                {
                    // Waiting for a person (`cycle mark`) is not a failure:
                    // the step stays PENDING and a later run sends it.
                    let action = if self.waits_for_people(&plan, step, &attempted) {
                        WAITING
                    } else {
                        "blocked"
                    };
                    rows.push(SummaryRow {
                        id: step.id.clone(),
                        action: action.into(),
                        detail: self.blocked_reason(&plan, step, &attempted),
                        link: None,
                    });
                }
                // What waits is journaled PENDING, for `cycle status`.
                self.journal().save(&self.journal_path)?;
                break;
            }
            {
                let mut journal = self.journal();
                for step in &ready {
                    journal.set_status(&step.id, Status::Running, None);
                    self.progress.start(&step.id, &step.title);
                }
                journal.save(&self.journal_path)?;
            }
            let snapshot = observed.clone();
            let work =
                futures::future::join_all(ready.iter().map(|step| self.execute(step, &snapshot)));
            let results = tokio::select! {
                results = work => results,
                _ = tokio::signal::ctrl_c() => {
                    let mut journal = self.journal();
                    journal.cancel_running();
                    journal.save(&self.journal_path)?;
                    for step in &ready {
                        self.progress.end(&step.id, Ended::Stopped, "cancelled");
                        rows.push(SummaryRow {
                            id: step.id.clone(),
                            action: "cancelled".into(),
                            detail: "interrupted".into(),
                            link: None,
                        });
                    }
                    return Ok(Report { end: RunEnd::Interrupted, rows });
                }
            };
            let mut journal = self.journal();
            for (step, result) in ready.iter().zip(results) {
                match result {
                    Ok(done) => {
                        self.progress.end(
                            &step.id,
                            if done.waits() {
                                Ended::Stopped
                            } else {
                                Ended::Done
                            },
                            &format!("{} {}", done.action, self.shown(step, &done.outcome)),
                        );
                        if !done.waits() {
                            learn(observed, &step.id, &done.outcome);
                        }
                        rows.push(SummaryRow {
                            id: step.id.clone(),
                            action: done.action.clone(),
                            detail: done.outcome.summary(),
                            link: done.outcome.link().map(str::to_string),
                        });
                        if done.waits() {
                            journal.keep_pending(&step.id, done.outcome, &done.action);
                        } else {
                            journal.finish(&step.id, done.outcome, &done.action);
                        }
                        attempted.insert(step.id.clone(), true);
                    }
                    Err(e) => {
                        let message = format!("{e:#}");
                        self.progress.end(&step.id, Ended::Failed, &message);
                        journal.set_status(&step.id, Status::Failed, Some(message.clone()));
                        rows.push(SummaryRow {
                            id: step.id.clone(),
                            action: "failed".into(),
                            detail: message,
                            link: None,
                        });
                        attempted.insert(step.id.clone(), false);
                    }
                }
            }
            journal.save(&self.journal_path)?;
        }
        let complete = rows
            .iter()
            .all(|r| !matches!(r.action.as_str(), "failed" | "blocked" | "cancelled"));
        Ok(Report {
            end: if complete {
                RunEnd::Complete
            } else {
                RunEnd::Incomplete
            },
            rows,
        })
    }

    /// Whether every dependency of `step` is satisfied: finished in this
    /// run, already done (planned with no action), or not part of the plan
    /// (the command supplied what it provides, e.g. `--ticket`).
    fn deps_ready(&self, plan: &Plan, step: &Step, attempted: &BTreeMap<StepId, bool>) -> bool {
        step.depends_on
            .iter()
            .all(|dep| self.dep_met(plan, dep, attempted))
    }

    /// Whether every step whose result `step` shows ([`Step::shows`]) is
    /// out of the way: attempted in this run, nothing to do, or not
    /// selected.
    fn shown_ready(&self, plan: &Plan, step: &Step, attempted: &BTreeMap<StepId, bool>) -> bool {
        step.shows.iter().all(|id| {
            attempted.contains_key(id)
                || plan
                    .step(id)
                    .is_none_or(|s| s.action == Action::None || !self.selection.selects(s))
        })
    }

    /// Whether one dependency is satisfied (see [`Self::deps_ready`]); a
    /// human step is once `cycle mark` recorded it done.
    fn dep_met(&self, plan: &Plan, dep: &StepId, attempted: &BTreeMap<StepId, bool>) -> bool {
        match plan.step(dep) {
            None => true,
            Some(d) if d.action == Action::None => true,
            Some(d) if d.kind == StepKind::Manual => {
                self.journal().entry(dep).status == Status::Finished
            }
            Some(_) => attempted.get(dep) == Some(&true),
        }
    }

    /// Whether every unmet dependency of `step` is a human step not yet
    /// recorded with `cycle mark`.
    fn waits_for_people(
        &self,
        plan: &Plan,
        step: &Step,
        attempted: &BTreeMap<StepId, bool>,
    ) -> bool {
        let unmet: Vec<&StepId> = step
            .depends_on
            .iter()
            .filter(|dep| !self.dep_met(plan, dep, attempted))
            .collect();
        !unmet.is_empty() && unmet.iter().all(|dep| dep.kind() == StepKind::Manual)
    }

    fn blocked_reason(
        &self,
        plan: &Plan,
        step: &Step,
        attempted: &BTreeMap<StepId, bool>,
    ) -> String {
        let waiting: Vec<String> = step
            .depends_on
            .iter()
            .filter(|dep| {
                plan.step(dep).is_some_and(|d| {
                    d.action != Action::None
                        && attempted.get(*dep) != Some(&true)
                        && !(d.kind == StepKind::Manual
                            && self.journal().entry(dep).status == Status::Finished)
                })
            })
            .map(|dep| {
                let why = match attempted.get(dep) {
                    _ if dep.kind() == StepKind::Manual => "not marked done with `cycle mark`",
                    _ if plan.step(dep).is_some_and(|d| !self.selection.selects(d)) => {
                        "not selected"
                    }
                    _ => "not done",
                };
                format!("{dep} ({why})")
            })
            .collect();
        format!("waiting for {}", waiting.join(", "))
    }

    async fn execute(&self, step: &Step, observed: &Observed) -> anyhow::Result<Done> {
        match &step.spec {
            StepSpec::Config(request) => {
                let git = self.git.clone();
                let identity = self.identity.clone();
                let request = request.clone();
                let applied =
                    tokio::task::spawn_blocking(move || git.apply(&request, &identity)).await??;
                Ok(Done {
                    outcome: applied.outcome,
                    action: applied.action.to_string(),
                })
            }
            StepSpec::Ticket(request) => {
                let known = match &step.id {
                    StepId::Ticket { site } => observed.tickets.get(site),
                    _ => None,
                };
                if let Some(key) = known {
                    return Ok(Done {
                        outcome: Outcome::Ticket {
                            key: key.clone(),
                            url: self.tickets.browse_url(key),
                        },
                        action: "found".into(),
                    });
                }
                let ensured = self.tickets.ensure(request).await?;
                for note in ensured.notes() {
                    self.progress.note(&format!("{}: {note}", step.id));
                }
                Ok(Done {
                    outcome: Outcome::Ticket {
                        url: self.tickets.browse_url(&ensured.key),
                        key: ensured.key,
                    },
                    action: ensured.action,
                })
            }
            StepSpec::Manual => anyhow::bail!("a manual step: record it with `cycle mark`"),
            StepSpec::PullRequest(request) => self.execute_pull(step, request, observed).await,
            StepSpec::Message(request) => self.execute_message(step, request, observed).await,
            StepSpec::Page(request) => self.execute_page(step, request, observed).await,
        }
    }
}

impl Engine {
    /// What a saved plan was made against, as observed now (`inputs` left
    /// for the command to fill): the tickets found and each configuration
    /// step's base and ticket branch heads in the cache this run fetched.
    pub fn basis(&self, plan: &Plan, observed: &Observed) -> crate::plan::saved::Basis {
        let mut branches = BTreeMap::new();
        let mut seen = BTreeMap::new();
        let mut gates = BTreeMap::new();
        for step in plan.steps() {
            if let StepSpec::Config(request) = &step.spec {
                let url = config::clone_url(&request.repo);
                for branch in std::iter::once(&request.repo.base).chain(request.branch.as_ref()) {
                    branches.insert(
                        format!("{} {branch}", request.repo.repo),
                        self.git.cached_head(&url, branch),
                    );
                }
                if let (Some(branch), Some((fork, head))) = (
                    request.branch.as_ref(),
                    self.git
                        .cached_fork_head(&request.repo, request.branch.as_deref()),
                ) {
                    branches.insert(format!("{fork} {branch}"), head);
                }
            }
            let found = observed
                .statuses
                .get(&step.id)
                .cloned()
                .or_else(|| observed.seen.get(&step.id).and_then(|s| s.basis.clone()));
            if let Some(found) = found {
                seen.insert(step.id.to_string(), found);
            }
            if let Some(crate::plan::Wait::Findings { findings }) = &step.waiting_on {
                gates.insert(step.id.to_string(), findings.clone());
            }
        }
        crate::plan::saved::Basis {
            inputs: BTreeMap::new(),
            tickets: observed.tickets.clone(),
            calendar: observed.calendar.clone(),
            branches,
            observed: seen,
            gates,
            identity: self.identity.describe(),
            settings: BTreeMap::new(),
        }
    }
}

impl Engine {
    /// A step's outcome as the progress line shows it: a message's channel
    /// by its name and its time in the site's zone, like the summary.
    fn shown(&self, step: &Step, outcome: &Outcome) -> String {
        let (
            StepSpec::Message(request),
            Outcome::Message {
                ts,
                scheduled_id,
                post_at,
                ..
            },
        ) = (&step.spec, outcome)
        else {
            return outcome.summary();
        };
        // ` for 2026-02-23 09:00 CLST` (after `word`), or nothing.
        let when = |word: &str| {
            post_at
                .map(|t| format!("{word} {}", self.messages.time(&request.site, t)))
                .unwrap_or_default()
        };
        let channel = &request.channel;
        match (ts, scheduled_id) {
            (Some(ts), _) => format!("posted {ts} in {channel}"),
            (None, Some(id)) => format!("scheduled {id} in {channel}{}", when(" for")),
            (None, None) => format!("nothing in {channel}{}", when(", due")),
        }
    }
}

/// Records what a finished step taught the planner.
fn learn(observed: &mut Observed, id: &StepId, outcome: &Outcome) {
    match (id, outcome) {
        (StepId::Ticket { site }, Outcome::Ticket { key, url }) => {
            observed.tickets.insert(site.clone(), key.clone());
            if let Some(url) = url {
                observed.seen.insert(
                    id.clone(),
                    Seen {
                        action: Action::None,
                        note: format!("ticket {key}"),
                        detail: vec![],
                        link: Some(url.clone()),
                        waiting_on: None,
                        basis: None,
                    },
                );
            }
        }
        (StepId::Calendar { site }, Outcome::Ticket { key, .. }) => {
            observed.calendar.insert(site.clone(), key.clone());
            observed.done.insert(id.clone(), outcome.summary());
        }
        _ => {
            if let Outcome::PullRequest { merged: true, .. } = outcome {
                observed.merged.insert(id.clone());
            }
            observed.done.insert(id.clone(), outcome.summary());
            if let Some(link) = outcome.link() {
                observed.seen.insert(
                    id.clone(),
                    Seen {
                        action: Action::None,
                        note: outcome.summary(),
                        detail: vec![],
                        link: Some(link.to_string()),
                        waiting_on: None,
                        basis: None,
                    },
                );
            }
        }
    }
}

/// The name of a step kind in messages.
pub fn kind_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Ticket => "Jira ticket",
        StepKind::Calendar => "calendar ticket",
        StepKind::Config => "configuration branch",
        StepKind::Manual => "manual",
        StepKind::Page => "Confluence page",
        StepKind::Message => "Slack message",
        StepKind::PullRequest => "pull request",
        StepKind::ReviewNotice => "review notice",
        StepKind::PageNotice => "page announcement",
    }
}

/// The `--only`/`--skip` spelling of a group.
pub fn selector_name(selector: Selector) -> &'static str {
    match selector {
        Selector::Jira => "jira",
        Selector::Calendar => "calendar",
        Selector::Config => "config",
        Selector::Confluence => "confluence",
        Selector::Slack => "slack",
        Selector::Pr => "pr",
    }
}

/// Shares the engine's journal path with commands that only read it.
pub fn journal_for(state_dir: &std::path::Path, id: CycleId) -> anyhow::Result<Journal> {
    Ok(Journal::load(&journal::journal_path(state_dir, id), id)?)
}
