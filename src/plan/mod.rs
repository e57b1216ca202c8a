//! The plan: every checklist step of every site, as data.
//!
//! [`build`] is pure: from loaded sites, the release manifest, the templates
//! and what has been observed so far it decides, step by step, what each
//! step looks for and what it would change. `--dry-run` prints the plan; the
//! engine (`crate::engine`) builds it again each round with what it has
//! learnt (a created ticket's key names the branch, the commit, the PR and
//! the page) and executes its pending steps, each from its [`StepSpec`].
//! Every step has one side effect, a typed [`StepId`], and depends on typed
//! ids only.

pub mod check;
mod config;
pub mod finding;
pub mod page;
pub mod pr;
pub mod preflight;
mod resolve;
pub mod saved;
pub mod step;
mod ticket;

use std::collections::BTreeMap;

use serde::Serialize;

pub use config::config_step;
pub use page::CycleBuild;
pub use pr::pr_steps;
pub use resolve::{gate, resolve};
pub use step::{ManualStep, MessageKind, Selector, StepId, StepKind};
pub use ticket::{
    calendar_step, jira_step, plain_ticket_request, site_ticket_step, ticket_request,
};

use crate::edit::repo::FileChange;
use crate::model::context::{SiteContext, SiteRow};
use crate::model::release::LoadedRelease;
use crate::model::site::{EditSpec, LoadedSite, Repository};
use crate::render::{Templates, names};

/// Version of the JSON document; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 4;

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// JSON document version.
    pub schema_version: u32,
    /// Cycle number.
    pub cycle: u32,
    /// Revision number.
    pub revision: u32,
    /// Full tag, e.g. `c0044.000`.
    pub tag: String,
    /// Label, e.g. "Cycle 44".
    pub label: String,
    /// One entry per site, in the order asked for.
    pub sites: Vec<SitePlan>,
    /// Steps all sites of the cycle share (the Confluence page), planned once.
    pub cycle_steps: Vec<Step>,
    /// What the pre-flight checks found (`cycle prepare --dry-run` online;
    /// not checked otherwise).
    pub preflight: preflight::Preflight,
    /// `cycle check`'s findings that are not `ok`: pre-flight findings that
    /// inform, and block only what they concern (see [`check::blocks_page_ready`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<check::Finding>,
    /// For `cycle revert`: the cycle the sites go back to (the plan's own
    /// cycle is the one reverted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert_to: Option<u32>,
}

/// The steps of one site.
#[derive(Debug, Clone, Serialize)]
pub struct SitePlan {
    /// Site name (`summit`).
    pub site: String,
    /// Site heading (`Summit`).
    pub display_name: String,
    /// The configuration ticket, when known.
    pub ticket: Option<String>,
    /// The branch the configuration edits go on.
    pub branch: String,
    /// The checklist, in order.
    pub steps: Vec<Step>,
}

/// What a step will do when applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create something that does not exist yet (or is not known to exist).
    Create,
    /// Change something that exists.
    Update,
    /// Already in the desired state.
    None,
    /// A human step, tracked only.
    Manual,
    /// Cannot be applied now: it waits for a person, a time, another step
    /// this run does not apply, or a finding that gates it
    /// ([`Step::waiting_on`] says which). Not a failure.
    Waiting,
    /// Its time has passed without it: never sent late.
    Missed,
}

impl Action {
    /// Whether applying a step with this action writes something.
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }

    /// The action's name in JSON and text (`create`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::None => "none",
            Action::Manual => "manual",
            Action::Waiting => "waiting",
            Action::Missed => "missed",
        }
    }
}

/// What a waiting step waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "on", rename_all = "snake_case")]
pub enum Wait {
    /// A human step not yet recorded done with `cycle mark`.
    Person {
        /// The human step.
        step: StepId,
        /// The `cycle mark` command that records it done.
        mark: String,
    },
    /// A step this run does not apply: not selected, or waiting itself.
    Step {
        /// The step.
        step: StepId,
        /// `not selected`, or what that step waits for.
        why: String,
    },
    /// A time: the step can be applied from then on (in the site's zone).
    Time {
        /// From when.
        from: String,
    },
    /// Findings that gate the step (a version not yet released).
    Findings {
        /// One sentence each.
        findings: Vec<String>,
    },
    /// Something the step works on that is not there (a revert's line
    /// waits for the reverted cycle's page).
    Missing {
        /// What is missing, one sentence.
        what: String,
    },
}

impl Wait {
    /// The reader's sentence, e.g. "waiting for summit:build-team (mark it
    /// done with `cycle mark`)".
    pub fn describe(&self) -> String {
        match self {
            Wait::Person { step, mark } => {
                format!("waiting for {step} (a person's step: once done, run `{mark}`)")
            }
            Wait::Step { step, why } => format!("waiting for {step} ({why})"),
            Wait::Time { from } => format!(
                "waiting until {from}: Slack schedules at most 120 days ahead; run `cycle prepare` again from then"
            ),
            Wait::Findings { findings } => {
                format!("waiting on findings: {}", findings.join("; "))
            }
            Wait::Missing { what } => format!("waiting: {what}"),
        }
    }
}

/// How many steps of a plan do what; every summary counts with it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Selected steps that would write (create or update).
    pub to_apply: usize,
    /// Selected steps already done.
    pub up_to_date: usize,
    /// Selected steps waiting (for a person, a time, a step or a finding).
    pub waiting: usize,
    /// Selected steps whose time has passed.
    pub missed: usize,
    /// Human steps, tracked only.
    pub manual: usize,
    /// Steps `--only`/`--skip` leave out.
    pub not_selected: usize,
}

impl Counts {
    /// The counts of `steps`.
    pub fn of<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Self {
        let mut counts = Self::default();
        for step in steps {
            if step.kind.is_human() {
                counts.manual += 1;
                continue;
            }
            if !step.selected {
                counts.not_selected += 1;
                continue;
            }
            match step.action {
                Action::Create | Action::Update => counts.to_apply += 1,
                Action::None => counts.up_to_date += 1,
                Action::Manual => counts.manual += 1,
                Action::Waiting => counts.waiting += 1,
                Action::Missed => counts.missed += 1,
            }
        }
        counts
    }

    /// The summary's phrase: "3 to apply, 2 up to date, 1 waiting, 2 manual"
    /// (waiting, missed and not selected only when there are some).
    pub fn phrase(&self) -> String {
        let mut parts = vec![
            format!("{} to apply", self.to_apply),
            format!("{} up to date", self.up_to_date),
        ];
        if self.waiting > 0 {
            parts.push(format!("{} waiting", self.waiting));
        }
        if self.missed > 0 {
            parts.push(format!("{} missed", self.missed));
        }
        parts.push(format!("{} manual", self.manual));
        if self.not_selected > 0 {
            parts.push(format!("{} not selected", self.not_selected));
        }
        parts.join(", ")
    }
}

/// Which steps a run applies (`--only`, `--skip`, `cycle config --repo`):
/// part of the plan, so what is shown is what runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only these groups (all when empty).
    pub only: Vec<Selector>,
    /// Never these groups.
    pub skip: Vec<Selector>,
}

impl Selection {
    /// Whether the step is applied by this run (manual steps never are).
    pub fn selects(&self, step: &Step) -> bool {
        step.kind
            .selector()
            .is_some_and(|group| self.includes(group))
    }

    /// Whether any selected step of this kind's group may run.
    pub fn includes(&self, group: Selector) -> bool {
        (self.only.is_empty() || self.only.contains(&group)) && !self.skip.contains(&group)
    }

    /// Refuses a selection that leaves nothing to apply (`--only jira
    /// --skip jira`).
    pub fn check(&self) -> Result<(), String> {
        let any = [
            Selector::Jira,
            Selector::Calendar,
            Selector::Config,
            Selector::Confluence,
            Selector::Slack,
            Selector::Pr,
        ]
        .into_iter()
        .any(|g| self.includes(g));
        if any {
            Ok(())
        } else {
            Err("--only and --skip leave no step selected".to_string())
        }
    }
}

/// One checklist step: one side effect.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Typed id, e.g. `summit:config:lsst-sqre/phalanx`.
    pub id: StepId,
    /// The kind of side effect.
    pub kind: StepKind,
    /// Number of the checklist item it belongs to (1-6).
    pub checklist_item: u8,
    /// Human title.
    pub title: String,
    /// What the step will do.
    pub action: Action,
    /// Whether this run applies the step (`--only`/`--skip`); an unselected
    /// step keeps the action it would have.
    pub selected: bool,
    /// What a [`Action::Waiting`] step waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<Wait>,
    /// SHA-256 (hex) of exactly what the step would send (its action, its
    /// changes and what it waits for): a saved plan's steps are compared by it.
    pub digest: String,
    /// Steps that must finish first.
    pub depends_on: Vec<StepId>,
    /// Steps whose results this step shows (the page lists the PRs): when
    /// selected and still to do in this run, they go first, so one run
    /// leaves the step in its final state; they never block it (unselected,
    /// failed or blocked, the step goes ahead without them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shows: Vec<StepId>,
    /// What the step looks for before acting.
    pub observe: Vec<String>,
    /// What it changes.
    pub changes: Vec<Change>,
    /// Notes for the reader (e.g. why the current content is unknown).
    pub notes: Vec<String>,
    /// What the engine needs to execute the step (not part of the JSON).
    #[serde(skip)]
    pub spec: StepSpec,
}

/// The input of a step's execution, rendered with what is known.
#[derive(Debug, Clone)]
pub enum StepSpec {
    /// Find or create a Jira issue (configuration or calendar ticket).
    Ticket(TicketRequest),
    /// Commit a repository's edits on the ticket branch and push it.
    Config(ConfigRequest),
    /// A human step: nothing to execute.
    Manual,
    /// Create or update the cycle's Confluence page.
    Page(PageRequest),
    /// Schedule or post a Slack message (announcement or review notice).
    Message(MessageRequest),
    /// Find, open or update a pull request.
    PullRequest(PullRequestRequest),
    /// Find or create a Jira version.
    Version(VersionRequest),
    /// Move the links of one Jira issue to another.
    MoveLinks(LinkMoveRequest),
    /// Delete the pending scheduled copies of these messages.
    Unschedule(Vec<MessageRequest>),
    /// Add (or keep up to date) one owned section of a page that exists.
    PageLine(PageRequest),
}

/// A repository's edits on the ticket branch.
#[derive(Debug, Clone)]
pub struct ConfigRequest {
    /// The repository.
    pub repo: Repository,
    /// Edits with their values rendered for the cycle.
    pub edits: Vec<EditSpec>,
    /// The branch, `None` while the ticket is unknown.
    pub branch: Option<String>,
    /// Commit message.
    pub message: String,
    /// For a revert: the cycle the edits put back, found by its key and
    /// value in the base's history ([`Observed::reverts`] then holds the
    /// edits).
    pub revert: Option<crate::edit::revert::CycleMarker>,
}

/// One change a step makes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// File a Jira issue.
    CreateIssue(TicketRequest),
    /// Update fields of a Jira issue that exists.
    UpdateIssue {
        /// Issue key.
        key: String,
        /// Field id → new value.
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// Create a branch from a base.
    CreateBranch {
        /// Repository.
        repo: String,
        /// New branch.
        branch: String,
        /// Base branch.
        base: String,
    },
    /// Edit a file (or each file of a glob).
    EditFile {
        /// Repository.
        repo: String,
        /// File or glob.
        file: String,
        /// Edit kind (`set`, `reset`, `env`, `add`, `run_arg`).
        edit: String,
        /// What is edited (`controlSystem.imageTag`).
        target: String,
        /// The new value.
        value: String,
    },
    /// The resulting change of one file, when its current content is known.
    FileDiff {
        /// Repository.
        repo: String,
        /// File path.
        path: String,
        /// Unified diff.
        diff: String,
    },
    /// Commit on the branch.
    Commit {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// Commit message.
        message: String,
    },
    /// Push the branch (never forced).
    Push {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
    },
    /// Open a pull request.
    OpenPullRequest(PullRequestRequest),
    /// Create or update a Confluence page.
    PublishPage(PageRequest),
    /// Post (or schedule) a Slack message.
    PostMessage(MessageRequest),
    /// Create a Jira version.
    CreateVersion(VersionRequest),
    /// Move the links of a Jira issue to another.
    MoveLinks(LinkMoveRequest),
    /// Delete a pending scheduled message.
    CancelMessage(MessageRequest),
    /// Add a section to a page that exists.
    AddToPage(PageRequest),
    /// A human action.
    Manual {
        /// What to do.
        instructions: String,
    },
}

/// What is known about the world before planning (empty when offline).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Site → its configuration ticket key.
    pub tickets: BTreeMap<String, String>,
    /// Site → its calendar ticket key.
    pub calendar: BTreeMap<String, String>,
    /// (site, repo) → state of the repository.
    pub repos: BTreeMap<(String, String), RepoState>,
    /// Steps found already done (their outcome observed remotely or
    /// finished in this run): planned with action `none`.
    pub done: BTreeMap<StepId, String>,
    /// What the engine saw of a pull request, message or page step's result
    /// (see [`Seen`]); a step with no entry is planned as a creation.
    pub seen: BTreeMap<StepId, Seen>,
    /// (site, repo) → what its ticket branch changes against the base once
    /// every edit is on it (the PR body's change summary).
    pub branch_changes: BTreeMap<(String, String), Vec<FileChange>>,
    /// Pull request steps whose PR is merged: no review notice is planned.
    pub merged: std::collections::BTreeSet<StepId>,
    /// ts_cycle_build's versions reconciled with the manifest, once read
    /// (only when the page step is selected).
    pub cycle_build: Option<CycleBuild>,
    /// The pre-flight checks' findings, once made (see [`preflight`]).
    pub preflight: preflight::Preflight,
    /// For a revision: each ticket of its XML release with the ts_xml
    /// commits that merged it (the page's revision section), once read.
    pub xml_changes: Option<Vec<check::XmlChange>>,
    /// `cycle check`'s findings, run before planning (empty when not run).
    pub checks: Vec<check::Finding>,
    /// What looking a ticket up found, ticket or calendar step → its key
    /// and status (`OSW-12 In Progress`): a saved plan is compared on it.
    pub statuses: BTreeMap<StepId, String>,
    /// Sites whose ticket the command was given (`--ticket`): taken as is,
    /// never looked up.
    pub given: std::collections::BTreeSet<String>,
    /// Steps the journal says were cancelled on purpose (`cycle cancel`,
    /// `cycle revert`, `cycle mark … cancelled`), with why: planned as
    /// done, never applied, until `cycle mark … pending`.
    pub withdrawn: BTreeMap<StepId, String>,
    /// Cycle-level ticket-like step → the key of its issue, once found or
    /// created (the CAP story's, which the link step reads; a site's
    /// tickets are in [`Observed::tickets`] and [`Observed::calendar`]).
    pub issues: BTreeMap<StepId, String>,
    /// For a revert, (site, repo) → what the base's history gave: the
    /// edits that put the cycle returned to back, or why they are unknown.
    pub reverts: BTreeMap<(String, String), Result<RevertSource, String>>,
}

/// What the history of a repository's base gave a revert.
#[derive(Debug, Clone, PartialEq)]
pub struct RevertSource {
    /// The newest commit of the base on the cycle returned to (short id).
    pub commit: String,
    /// The edits that put its values back on today's base (none when the
    /// base has them).
    pub edits: Vec<EditSpec>,
    /// The marker key's value on today's base (`c0045`), when it has one.
    pub base_value: Option<String>,
}

impl Observed {
    /// Adds what an observation learnt: its entries win over the ones
    /// known; what it did not look at is kept.
    pub fn absorb(&mut self, learnt: Observed) {
        let Observed {
            tickets,
            calendar,
            repos,
            done,
            seen,
            branch_changes,
            merged,
            cycle_build,
            preflight: _,
            xml_changes,
            checks,
            statuses,
            given,
            withdrawn,
            issues,
            reverts,
        } = learnt;
        self.tickets.extend(tickets);
        self.calendar.extend(calendar);
        self.repos.extend(repos);
        self.done.extend(done);
        self.seen.extend(seen);
        self.branch_changes.extend(branch_changes);
        self.merged.extend(merged);
        if cycle_build.is_some() {
            self.cycle_build = cycle_build;
        }
        if xml_changes.is_some() {
            self.xml_changes = xml_changes;
        }
        self.checks.extend(checks);
        self.statuses.extend(statuses);
        self.given.extend(given);
        self.withdrawn.extend(withdrawn);
        self.issues.extend(issues);
        self.reverts.extend(reverts);
    }
}

/// What looking for a step's result found, and what applying the step
/// would therefore do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seen {
    /// What applying the step would do now ([`Action::None`] when its
    /// result is already as wanted).
    pub action: Action,
    /// The plan's sentence, e.g. "PR #123 exists; body would change".
    pub note: String,
    /// Further lines for the reader (a body diff, old and new times).
    pub detail: Vec<String>,
    /// The existing result's link (PR, page or message), when there is one.
    pub link: Option<String>,
    /// What a [`Action::Waiting`] step waits for (a time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<Wait>,
    /// What was found, in a stable short form a saved plan is compared on
    /// ("page 123 version 4", "PR #12 open", "scheduled Q1 at 1767…");
    /// `None` when nothing was looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// What is known of a repository's ticket branch.
#[derive(Debug, Clone, PartialEq)]
pub enum RepoState {
    /// Not looked at (offline without a cached clone, or no ticket yet).
    Unknown {
        /// Why, for the reader.
        reason: String,
    },
    /// Computed from the branch (or the base when the branch does not exist yet).
    Known {
        /// Whether the ticket branch exists (locally or on the remote).
        branch_exists: bool,
        /// Whether the local branch has commits the remote lacks.
        unpushed: bool,
        /// Files that would change.
        changes: Vec<FileChange>,
        /// What the reader should know (e.g. the cache could not be refreshed).
        notes: Vec<String>,
    },
}

/// Why planning failed.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A template failed.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// The manifest lacks something a site needs.
    #[error(transparent)]
    Source(#[from] crate::model::yamlfile::SourceError),
    /// An edit value failed.
    #[error(transparent)]
    Edit(#[from] crate::edit::repo::ConfigEditError),
}

/// The branch the configuration edits of a ticket go on.
pub fn branch_name(ticket: Option<&str>, project: &str) -> String {
    match ticket {
        Some(key) => format!("tickets/{key}"),
        None => format!("tickets/<new {project} ticket>"),
    }
}

pub use crate::model::jql::ticket_jql;
pub use crate::model::request::{
    LinkMoveRequest, MessageRequest, PageRequest, PullRequestRequest, TicketRequest, VersionRequest,
};

/// What a kind's planning reads of one site.
pub struct SiteInput<'a> {
    /// The release (its versions filled from ts_cycle_build when read).
    pub release: &'a LoadedRelease,
    /// The site.
    pub site: &'a LoadedSite,
    /// The templates.
    pub templates: &'a Templates,
    /// The site's template context (with the page's title).
    pub ctx: &'a minijinja::Value,
    /// The page's ticket table (every site).
    pub rows: &'a [SiteRow],
    /// What is known.
    pub observed: &'a Observed,
    /// The site's ticket key, once known.
    pub ticket: Option<&'a str>,
    /// The branch the edits go on (a placeholder while the key is unknown).
    pub branch: &'a str,
}

/// What a kind's planning reads of the cycle (the steps all sites share).
pub struct CycleInput<'a> {
    /// The release (its versions filled from ts_cycle_build when read).
    pub release: &'a LoadedRelease,
    /// The sites being planned, in order.
    pub sites: &'a [&'a LoadedSite],
    /// The page's ticket table (every site).
    pub rows: &'a [SiteRow],
    /// The templates.
    pub templates: &'a Templates,
    /// What is known.
    pub observed: &'a Observed,
    /// The sites' plans, already made.
    pub site_plans: &'a [SitePlan],
}

/// How a kind of step is planned: pure, from the site files, the release,
/// the templates and what is known. Each kind implements it in its module
/// (`engine/steps/`), and [`build`] asks every registered kind in order.
pub trait Planner: Sync {
    /// The kind's steps of one site.
    fn plan_site(&self, _input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        Ok(vec![])
    }

    /// The kind's steps of the whole cycle (one for all sites).
    fn plan_cycle(&self, _input: &CycleInput<'_>) -> Result<Vec<Step>, PlanError> {
        Ok(vec![])
    }
}

/// Builds the plan of `sites` (in order) with every kind of `planners`.
/// `all_sites` fills the cycle page's ticket table, which lists every site.
/// A site's steps are in checklist order (the planners' order within an
/// item).
pub fn build(
    planners: &[&dyn Planner],
    release: &LoadedRelease,
    sites: &[&LoadedSite],
    all_sites: &[LoadedSite],
    templates: &Templates,
    observed: &Observed,
) -> Result<Plan, PlanError> {
    let filled;
    let release = match &observed.cycle_build {
        Some(build) if !build.filled.is_empty() => {
            filled = page::filled_release(release, build);
            &filled
        }
        _ => release,
    };
    let mut rows = crate::model::context::site_rows(all_sites, release, &observed.tickets);
    page::link_rows(&mut rows, observed);
    let plans = sites
        .iter()
        .map(|site| plan_site(planners, release, site, &rows, templates, observed))
        .collect::<Result<Vec<_>, _>>()?;
    let mut cycle_steps = Vec::new();
    if !sites.is_empty() {
        let input = CycleInput {
            release,
            sites,
            rows: &rows,
            templates,
            observed,
            site_plans: &plans,
        };
        for planner in planners {
            cycle_steps.extend(planner.plan_cycle(&input)?);
        }
    }
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        cycle: release.id.cycle,
        revision: release.id.revision,
        tag: release.id.full_tag(),
        label: release.id.label(),
        sites: plans,
        cycle_steps,
        preflight: observed.preflight.clone(),
        checks: observed
            .checks
            .iter()
            .filter(|f| f.status != check::Status::Ok)
            .cloned()
            .collect(),
        revert_to: None,
    })
}

fn plan_site(
    planners: &[&dyn Planner],
    release: &LoadedRelease,
    loaded: &LoadedSite,
    rows: &[SiteRow],
    templates: &Templates,
    observed: &Observed,
) -> Result<SitePlan, PlanError> {
    let site = &loaded.site;
    let name = &site.name;
    let ticket = observed.tickets.get(name).cloned();
    let branch = branch_name(ticket.as_deref(), &site.jira.project);
    let (ctx, _) = template_context(templates, release, loaded, ticket.clone(), rows)?;
    let input = SiteInput {
        release,
        site: loaded,
        templates,
        ctx: &ctx,
        rows,
        observed,
        ticket: ticket.as_deref(),
        branch: &branch,
    };
    let mut steps = Vec::new();
    for planner in planners {
        steps.extend(planner.plan_site(&input)?);
    }
    steps.sort_by_key(|s| s.checklist_item);
    Ok(SitePlan {
        site: name.clone(),
        display_name: site.display_name.clone(),
        ticket,
        branch,
        steps,
    })
}

/// The plan of `cycle config`: the configuration steps of one site's
/// repositories alone, for a known ticket. Needs no release manifest: the
/// edits and the commit message depend on the cycle numbers only.
pub fn config_plan(
    build: crate::edit::repo::Build<'_>,
    loaded: &LoadedSite,
    repos: &[&Repository],
    templates: &Templates,
    ticket: &str,
    observed: &Observed,
) -> Result<Plan, PlanError> {
    let site = &loaded.site;
    let id = build.id;
    let branch = branch_name(Some(ticket), &site.jira.project);
    let ctx = crate::model::context::build_context(id, build.restarted, site);
    let message = templates.render(names::COMMIT_MESSAGE, &ctx)?;
    let steps = repos
        .iter()
        .map(|repo| {
            let edits = crate::edit::repo::resolve_edits(repo, build, site)?;
            let state = observed
                .repos
                .get(&(site.name.clone(), repo.repo.clone()))
                .cloned()
                .unwrap_or(RepoState::Unknown {
                    reason: "current content unknown (no cached clone was read)".into(),
                });
            Ok(config_step(
                &site.name,
                repo,
                &edits,
                message.trim_end(),
                Some(&branch),
                &branch,
                state,
            ))
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        cycle: id.cycle,
        revision: id.revision,
        tag: id.full_tag(),
        label: id.label(),
        sites: vec![SitePlan {
            site: site.name.clone(),
            display_name: site.display_name.clone(),
            ticket: Some(ticket.to_string()),
            branch,
            steps,
        }],
        cycle_steps: vec![],
        preflight: observed.preflight.clone(),
        checks: vec![],
        revert_to: None,
    })
}

/// The template context of a site, with the cycle page's title rendered
/// into it; returns the context and that title.
pub fn template_context(
    templates: &Templates,
    release: &LoadedRelease,
    site: &LoadedSite,
    ticket: Option<String>,
    rows: &[SiteRow],
) -> Result<(minijinja::Value, String), PlanError> {
    let ctx = SiteContext::new(site, release, ticket, rows.to_vec())?;
    let title = templates.render_line(names::CONFLUENCE_TITLE, &ctx.to_value())?;
    Ok((ctx.with_page_title(title.clone()).to_value(), title))
}

/// A step that is pending unless [`Observed::done`] has it; `done` notes say
/// what was found.
#[allow(clippy::too_many_arguments)]
pub fn pending_step(
    id: StepId,
    checklist_item: u8,
    title: String,
    depends_on: Vec<StepId>,
    observe: Vec<String>,
    changes: Vec<Change>,
    spec: StepSpec,
    observed: &Observed,
) -> Step {
    let (action, changes, notes) = match (observed.done.get(&id), observed.seen.get(&id)) {
        (Some(found), _) => (Action::None, vec![], vec![found.clone()]),
        (None, Some(seen)) => {
            let mut notes = vec![seen.note.clone()];
            notes.extend(seen.detail.iter().cloned());
            let changes = if seen.action.writes() || seen.action == Action::Waiting {
                changes
            } else {
                vec![]
            };
            (seen.action, changes, notes)
        }
        (None, None) => (Action::Create, changes, vec![]),
    };
    let waiting_on = match (observed.done.get(&id), observed.seen.get(&id)) {
        (None, Some(seen)) if seen.action == Action::Waiting => seen.waiting_on.clone(),
        _ => None,
    };
    Step {
        kind: id.kind(),
        id,
        checklist_item,
        title,
        action,
        selected: true,
        waiting_on,
        digest: String::new(),
        depends_on,
        shows: vec![],
        observe,
        changes,
        notes,
        spec,
    }
}

pub fn manual_step(
    site: &str,
    which: ManualStep,
    checklist_item: u8,
    title: &str,
    instructions: String,
    observed: &Observed,
) -> Step {
    let id = StepId::Manual {
        site: site.to_string(),
        step: which,
    };
    // Recorded done with `cycle mark`: nothing left for anyone.
    let done = observed.done.get(&id).cloned();
    let action = if done.is_some() {
        Action::None
    } else {
        Action::Manual
    };
    Step {
        kind: StepKind::Manual,
        id,
        checklist_item,
        title: title.to_string(),
        action,
        selected: false,
        waiting_on: None,
        digest: String::new(),
        depends_on: vec![],
        shows: vec![],
        observe: vec![],
        changes: vec![Change::Manual { instructions }],
        notes: done.into_iter().collect(),
        spec: StepSpec::Manual,
    }
}

impl Plan {
    /// Every step, mutably: each site's, then the cycle's.
    pub fn steps_mut(&mut self) -> impl Iterator<Item = &mut Step> {
        self.sites
            .iter_mut()
            .flat_map(|s| &mut s.steps)
            .chain(&mut self.cycle_steps)
    }

    /// How many steps do what.
    pub fn counts(&self) -> Counts {
        Counts::of(self.steps())
    }

    /// Every step: each site's, then the cycle's.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.sites
            .iter()
            .flat_map(|s| &s.steps)
            .chain(&self.cycle_steps)
    }

    /// Whether applying the plan would write anything.
    pub fn has_changes(&self) -> bool {
        self.steps().any(Step::is_pending)
    }

    /// The step with this id.
    pub fn step(&self, id: &StepId) -> Option<&Step> {
        self.steps().find(|s| &s.id == id)
    }
}

impl Step {
    /// Whether applying the plan would change something with this step: it
    /// is selected and would create or update.
    pub fn is_pending(&self) -> bool {
        self.selected && self.action.writes()
    }
}
