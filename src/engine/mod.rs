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

mod cancel;
pub mod check;
pub mod config;
pub mod doctor;
pub mod journal;
pub mod messages;
pub mod pages;
pub mod progress;
pub mod pulls;
pub mod report;
pub mod steps;
pub mod tickets;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::model::cycle_id::CycleId;
pub use crate::plan::Selection;
use crate::plan::{Action, Observed, Plan, PlanError, Step, StepId};
use config::{GitRun, Identity};
use journal::{Journal, JournalLock, Status};
use progress::{Ended, Progress};
pub use report::{Report, RunEnd, SummaryRow};
use steps::kind::{Cx, Phase};
pub use steps::kind::{Done, Services, WAITING};
pub use steps::registry::kind_name;
use steps::registry::{KINDS, kind};

/// Builds the plan from what is known; called once per round.
pub type PlanFn<'a> = dyn Fn(&Observed) -> Result<Plan, PlanError> + Sync + 'a;

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
    /// The journal's name when it is not the cycle's own (a revert's,
    /// `c0045.000.revert-to-44`, see [`journal::revert_journal_name`]), so
    /// that its steps are not the cycle's.
    pub journal: Option<String>,
}

/// One run of the engine over one cycle revision.
pub struct Engine {
    id: CycleId,
    git: GitRun,
    identity: Identity,
    selection: Selection,
    offline: bool,
    services: Services,
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
        let journal_path = match &settings.journal {
            Some(name) => journal::named_journal_path(&settings.state_dir, name),
            None => journal::journal_path(&settings.state_dir, settings.id),
        };
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
            services,
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
        crate::plan::resolve(&mut plan, &self.selection, &observed.withdrawn);
        *last = Some((observed.clone(), plan.clone()));
        Ok(plan)
    }

    fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run as the step kinds see it.
    fn cx(&self) -> Cx<'_> {
        Cx {
            id: self.id,
            services: &self.services,
            git: &self.git,
            identity: &self.identity,
            selection: &self.selection,
            offline: self.offline,
            journal: &self.journal,
            journal_path: &self.journal_path,
            progress: &self.progress,
        }
    }

    /// Looks at everything the plan can show without writing, phase by
    /// phase ([`Phase`]): each phase plans again with what the ones before
    /// it learnt, and the kinds of one phase look concurrently (the ticket
    /// lookups beside the repositories' one fetch each). Returns what is
    /// known in `observed`.
    pub async fn observe(
        &self,
        plan_fn: &PlanFn<'_>,
        observed: &mut Observed,
    ) -> anyhow::Result<()> {
        // What the command gave (`--ticket`) is taken as is.
        observed.given.extend(observed.tickets.keys().cloned());
        // What was cancelled on purpose stays so.
        observed.withdrawn = self.journal().withdrawn();
        let cx = self.cx();
        for phase in Phase::ALL {
            let plan = self.plan(plan_fn, observed)?;
            let known: &Observed = observed;
            let learnt = futures::future::join_all(
                KINDS
                    .iter()
                    .filter(|k| k.phases().contains(&phase))
                    .map(|k| k.observe(phase, &cx, &plan, known)),
            )
            .await;
            for learnt in learnt {
                observed.absorb(learnt);
            }
        }
        Ok(())
    }

    /// Lets every kind prepare off the critical path before the apply
    /// (the ticket kinds look up the people their creates name, once per
    /// run); read only, failures left for the steps to report.
    pub async fn warm(&self, plan_fn: &PlanFn<'_>, observed: &Observed) {
        if self.offline {
            return;
        }
        let Ok(plan) = self.plan(plan_fn, observed) else {
            return;
        };
        let cx = self.cx();
        futures::future::join_all(KINDS.iter().map(|k| k.warm(&cx, &plan))).await;
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
        observed.withdrawn = self.journal().withdrawn();
        let mut attempted: BTreeMap<StepId, bool> = BTreeMap::new();
        // What two runs at once left behind is repaired first.
        let plan = self.plan(plan_fn, observed)?;
        let cx = self.cx();
        let mut rows: Vec<SummaryRow> =
            futures::future::join_all(KINDS.iter().map(|k| k.repair(&cx, &plan)))
                .await
                .into_iter()
                .flatten()
                .collect();
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
            // A step cancelled on purpose is never applied.
            let withdrawn = observed.withdrawn.clone();
            let pending = |strict: bool| -> Vec<Step> {
                plan.steps()
                    .filter(|s| self.selection.selects(s) && !attempted.contains_key(&s.id))
                    .filter(|s| !withdrawn.contains_key(&s.id))
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
                for step in plan.steps().filter(|s| {
                    self.selection.selects(s)
                        && !attempted.contains_key(&s.id)
                        && !withdrawn.contains_key(&s.id)
                }) {
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
            let cx = self.cx();
            let work = futures::future::join_all(
                ready
                    .iter()
                    .map(|step| kind(step.kind).execute(&cx, step, &snapshot)),
            );
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
                            &format!(
                                "{} {}",
                                done.action,
                                kind(step.kind).shown(&cx, step, &done.outcome)
                            ),
                        );
                        if !done.waits() {
                            kind(step.kind).learn(observed, &step.id, &done.outcome);
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
            Some(d) if d.kind.is_human() => self.journal().entry(dep).status == Status::Finished,
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
        !unmet.is_empty() && unmet.iter().all(|dep| dep.kind().is_human())
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
                        && !(d.kind.is_human()
                            && self.journal().entry(dep).status == Status::Finished)
                })
            })
            .map(|dep| {
                let why = match attempted.get(dep) {
                    _ if dep.kind().is_human() => "not marked done with `cycle mark`",
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
}

impl Engine {
    /// What a saved plan was made against, as observed now (`inputs` left
    /// for the command to fill): the tickets found and each configuration
    /// step's base and ticket branch heads in the cache this run fetched.
    pub fn basis(&self, plan: &Plan, observed: &Observed) -> crate::plan::saved::Basis {
        let mut branches = BTreeMap::new();
        let mut seen = BTreeMap::new();
        let mut gates = BTreeMap::new();
        let cx = self.cx();
        for step in plan.steps() {
            kind(step.kind).basis(&cx, step, &mut branches);
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

/// Shares the engine's journal path with commands that only read it.
pub fn journal_for(state_dir: &std::path::Path, id: CycleId) -> anyhow::Result<Journal> {
    Ok(Journal::load(&journal::journal_path(state_dir, id), id)?)
}
