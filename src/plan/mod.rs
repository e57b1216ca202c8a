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
pub mod finding;
pub mod page;
pub mod pr;
pub mod preflight;
pub mod saved;
pub mod step;

use std::collections::BTreeMap;

use serde::Serialize;

pub use page::CycleBuild;
pub use step::{ManualStep, MessageKind, Selector, StepId, StepKind};

use crate::edit::repo::FileChange;
use crate::model::context::{SiteContext, SiteRow, When};
use crate::model::release::LoadedRelease;
use crate::model::site::{
    CalendarSettings, EditSpec, FieldSpec, LoadedSite, Repository, WindowEdge,
};
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
}

/// A Jira issue to find by its exact summary, or create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRequest {
    /// Project key.
    pub project: String,
    /// Issue type.
    pub issue_type: String,
    /// Summary (found by exact match).
    pub summary: String,
    /// Description (plain text; the adapter converts it for the API).
    pub description: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Components, by name.
    pub components: Vec<String>,
    /// Further fields, field id → JSON value as Jira takes it.
    pub fields: BTreeMap<String, serde_json::Value>,
    /// User-picker fields, field id → the users as written (a Jira user
    /// search resolves them at apply).
    pub users: BTreeMap<String, Vec<String>>,
    /// Assignee, as written (resolved like [`TicketRequest::users`]).
    pub assignee: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Fields a rerun keeps equal to the request (the calendar dates).
    pub kept_in_sync: Vec<String>,
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
}

/// The cycle's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageRequest {
    /// Space key.
    pub space: String,
    /// Parent page id.
    pub parent_id: String,
    /// Title.
    pub title: String,
    /// Storage-format body.
    pub body: String,
    /// Pre-flight findings that stop the step (not accepted with
    /// `--accept-version-mismatch`); shown in the step's notes.
    #[serde(skip)]
    pub blocked_by: Vec<String>,
}

/// A Slack message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRequest {
    /// Site name.
    pub site: String,
    /// Channel name, e.g. `#summit-announce`.
    pub channel: String,
    /// Which message (`day_before`, `hour_before`, `start`, `pr_ready`, `page_ready`).
    pub message: String,
    /// What it is about when a site sends several of one kind (the
    /// repository of a review notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When to post; `None` posts when the step runs.
    pub at: Option<When>,
    /// Text (mrkdwn).
    pub text: String,
}

/// A pull request of a ticket branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullRequestRequest {
    /// Repository `owner/name`.
    pub repo: String,
    /// Owner of the head branch: the repository's owner, or the fork's.
    pub head_owner: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// Reviewers requested.
    pub reviewers: Vec<String>,
    /// Teams whose review is requested.
    pub team_reviewers: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Draft.
    pub draft: bool,
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

/// The configuration ticket request of a site.
pub fn ticket_request(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
) -> Result<TicketRequest, PlanError> {
    let jira = &loaded.site.jira;
    let hours = loaded.site.calendar.as_ref().map_or(8, |c| c.hours);
    let fields = TicketFields::new(release, loaded, hours, &jira.fields)?;
    Ok(TicketRequest {
        project: jira.project.clone(),
        issue_type: jira.issue_type.clone(),
        summary: templates.render_line(names::JIRA_SUMMARY, ctx)?,
        description: templates.render(names::JIRA_DESCRIPTION, ctx)?,
        labels: jira.labels.clone(),
        components: jira.components.clone(),
        fields: fields.values,
        users: fields.users,
        assignee: jira.assignee.clone(),
        priority: None,
        kept_in_sync: fields.kept_in_sync,
    })
}

/// A ticket's further fields as Jira takes them, split into what is known
/// now and the user fields resolved at apply.
struct TicketFields {
    values: BTreeMap<String, serde_json::Value>,
    users: BTreeMap<String, Vec<String>>,
    kept_in_sync: Vec<String>,
}

impl TicketFields {
    /// The fields of `specs`; dates come from the site's deployment window.
    fn new(
        release: &LoadedRelease,
        loaded: &LoadedSite,
        hours: u32,
        specs: &BTreeMap<String, FieldSpec>,
    ) -> Result<Self, PlanError> {
        let mut window = None;
        let mut at = |edge: WindowEdge| -> Result<When, PlanError> {
            let (start, end) = match &window {
                Some(w) => w,
                None => window.insert(crate::model::context::deployment_window(
                    loaded, release, hours,
                )?),
            };
            Ok(match edge {
                WindowEdge::Start => start.clone(),
                WindowEdge::End => end.clone(),
            })
        };
        let mut fields = Self {
            values: BTreeMap::new(),
            users: BTreeMap::new(),
            kept_in_sync: Vec::new(),
        };
        for (id, spec) in specs {
            let value = match spec {
                FieldSpec::Date { at: edge } => {
                    fields.kept_in_sync.push(id.clone());
                    serde_json::json!(jira_date(&at(*edge)?))
                }
                FieldSpec::DateTime { at: edge } => {
                    fields.kept_in_sync.push(id.clone());
                    serde_json::json!(jira_datetime(&at(*edge)?))
                }
                FieldSpec::Option { value } => serde_json::json!({ "value": value }),
                FieldSpec::Options { values } => values
                    .iter()
                    .map(|v| serde_json::json!({ "value": v }))
                    .collect(),
                FieldSpec::Users { users } => {
                    fields.users.insert(id.clone(), users.clone());
                    continue;
                }
                FieldSpec::Plain { value } => value.clone(),
            };
            fields.values.insert(id.clone(), value);
        }
        Ok(fields)
    }
}

pub fn jira_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
    ticket: Option<&str>,
) -> Result<Step, PlanError> {
    let request = ticket_request(release, loaded, templates, ctx)?;
    let (action, changes, notes) = match ticket {
        Some(key) => (Action::None, vec![], vec![format!("ticket {key} is known")]),
        None => (
            Action::Create,
            vec![Change::CreateIssue(request.clone())],
            vec![],
        ),
    };
    let id = StepId::Ticket {
        site: loaded.site.name.clone(),
    };
    Ok(ticket_step(
        id,
        "Jira ticket",
        request,
        action,
        changes,
        notes,
    ))
}

/// A Jira step (configuration or calendar ticket): found by the JQL of its
/// exact summary, executed from its request.
fn ticket_step(
    id: StepId,
    what: &str,
    request: TicketRequest,
    action: Action,
    changes: Vec<Change>,
    notes: Vec<String>,
) -> Step {
    Step {
        kind: id.kind(),
        id,
        checklist_item: 1,
        title: format!("{what} \"{}\"", request.summary),
        action,
        selected: true,
        waiting_on: None,
        digest: String::new(),
        depends_on: vec![],
        shows: vec![],
        observe: vec![format!(
            "JQL: {}",
            ticket_jql(&request.project, &request.summary)
        )],
        changes,
        notes,
        spec: StepSpec::Ticket(request),
    }
}

/// Jira's date form in the site's zone, e.g. `2026-02-24`.
fn jira_date(when: &When) -> String {
    when.iso.chars().take(10).collect()
}

/// Jira's date-time form, e.g. `2026-02-24T09:00:00.000-0300`.
fn jira_datetime(when: &When) -> String {
    chrono::DateTime::parse_from_rfc3339(&when.iso)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string())
        .unwrap_or_else(|_| when.iso.clone())
}

pub fn calendar_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    cal: &CalendarSettings,
    templates: &Templates,
    ctx: &minijinja::Value,
    observed: &Observed,
) -> Result<Step, PlanError> {
    let site = &loaded.site;
    let fields = TicketFields::new(release, loaded, cal.hours, &cal.fields)?;
    let request = TicketRequest {
        project: cal.project.clone(),
        issue_type: cal.issue_type.clone(),
        summary: templates.render_line(names::CALENDAR_SUMMARY, ctx)?,
        description: templates.render(names::CALENDAR_DESCRIPTION, ctx)?,
        labels: cal.labels.clone(),
        components: cal.components.clone(),
        fields: fields.values,
        users: fields.users,
        kept_in_sync: fields.kept_in_sync,
        assignee: cal.assignee.clone(),
        priority: cal.priority.clone(),
    };
    let id = StepId::Calendar {
        site: site.name.clone(),
    };
    let key = observed.calendar.get(&site.name);
    let (action, changes, notes) = match (key, observed.done.get(&id)) {
        (Some(key), Some(note)) => (Action::None, vec![], vec![format!("{key}: {note}")]),
        (Some(key), None) => (
            Action::Update,
            vec![Change::UpdateIssue {
                key: key.clone(),
                fields: request.fields.clone(),
            }],
            vec![format!("{key} exists; its dates are kept in sync")],
        ),
        (None, _) => (
            Action::Create,
            vec![Change::CreateIssue(request.clone())],
            vec![],
        ),
    };
    Ok(ticket_step(
        id,
        "Calendar ticket",
        request,
        action,
        changes,
        notes,
    ))
}

/// The configuration-branch step of one repository, from its resolved edits,
/// commit message and observed state. `branch` is the ticket branch when the
/// ticket is known; `shown` is what the plan calls it either way.
pub fn config_step(
    site: &str,
    repo: &Repository,
    edits: &[EditSpec],
    message: &str,
    branch: Option<&str>,
    shown: &str,
    state: RepoState,
) -> Step {
    let edit_changes = edits.iter().map(|e| Change::EditFile {
        repo: repo.repo.clone(),
        file: e.file().to_string(),
        edit: e.kind().to_string(),
        target: e.target(),
        value: e.value().to_string(),
    });
    let create_branch = Change::CreateBranch {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
        base: repo.base.clone(),
    };
    let commit = Change::Commit {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
        message: message.to_string(),
    };
    let push = Change::Push {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
    };
    let (action, changes, notes) = match state {
        RepoState::Unknown { reason } => {
            let mut changes = vec![create_branch];
            changes.extend(edit_changes);
            changes.extend([commit, push]);
            (Action::Create, changes, vec![reason])
        }
        RepoState::Known {
            branch_exists,
            unpushed,
            changes: files,
            notes,
        } => {
            if files.is_empty() && !unpushed {
                let mut notes = notes;
                notes.push(if branch_exists {
                    format!("{shown} already has every edit")
                } else {
                    format!("{} already has every edit; no branch needed", repo.base)
                });
                (Action::None, vec![], notes)
            } else {
                let mut changes = Vec::new();
                if !branch_exists {
                    changes.push(create_branch);
                }
                if !files.is_empty() {
                    changes.extend(edit_changes);
                    changes.extend(files.iter().map(|f| Change::FileDiff {
                        repo: repo.repo.clone(),
                        path: f.path().to_string(),
                        diff: f.unified_diff().to_string(),
                    }));
                    changes.push(commit);
                }
                changes.push(push);
                let action = if branch_exists {
                    Action::Update
                } else {
                    Action::Create
                };
                (action, changes, notes)
            }
        }
    };
    Step {
        id: StepId::Config {
            site: site.to_string(),
            repo: repo.repo.clone(),
        },
        kind: StepKind::Config,
        checklist_item: 2,
        title: format!("Configuration branch {shown} in {}", repo.repo),
        action,
        selected: true,
        waiting_on: None,
        digest: String::new(),
        depends_on: vec![StepId::Ticket {
            site: site.to_string(),
        }],
        shows: vec![],
        observe: vec![format!(
            "branch {shown} in {} (cached clone and remote), base {}",
            repo.repo, repo.base
        )],
        changes,
        notes,
        spec: StepSpec::Config(ConfigRequest {
            repo: repo.clone(),
            edits: edits.to_vec(),
            branch: branch.map(str::to_string),
            message: message.to_string(),
        }),
    }
}

pub fn pr_steps(
    loaded: &LoadedSite,
    repo: &Repository,
    templates: &Templates,
    ctx: &minijinja::Value,
    branch: &str,
    observed: &Observed,
) -> Result<Vec<Step>, PlanError> {
    let site = &loaded.site;
    let pr = repo.pull_request.clone().unwrap_or_default();
    let pr_id = StepId::PullRequest {
        site: site.name.clone(),
        repo: repo.repo.clone(),
    };
    let changes = observed
        .branch_changes
        .get(&(site.name.clone(), repo.repo.clone()));
    let link = observed.seen.get(&pr_id).and_then(|s| s.link.as_deref());
    let ctx = pr::context(ctx, &repo.repo, changes.map(Vec::as_slice), link);
    let request = PullRequestRequest {
        repo: repo.repo.clone(),
        head_owner: pr::head_owner(repo),
        head: branch.to_string(),
        base: repo.base.clone(),
        title: templates.render_line(names::PR_TITLE, &ctx)?,
        body: templates.render(names::PR_BODY, &ctx)?,
        reviewers: pr.reviewers,
        team_reviewers: pr.team_reviewers,
        labels: pr.labels,
        draft: pr.draft,
    };
    let notice = MessageRequest {
        site: site.name.clone(),
        channel: site.slack.review_channel.clone(),
        message: "pr_ready".into(),
        subject: Some(repo.repo.clone()),
        at: None,
        text: templates
            .render(names::PR_READY, &ctx)?
            .trim_end()
            .to_string(),
    };
    let head = pr::head_label(&request);
    let mut pr_step = pending_step(
        pr_id.clone(),
        6,
        format!("Pull request {branch} → {} in {}", repo.base, repo.repo),
        vec![
            StepId::Ticket {
                site: site.name.clone(),
            },
            StepId::Config {
                site: site.name.clone(),
                repo: repo.repo.clone(),
            },
        ],
        vec![format!(
            "pull request in {} with head {head} and base {}",
            repo.repo, repo.base
        )],
        vec![Change::OpenPullRequest(request.clone())],
        StepSpec::PullRequest(request.clone()),
        observed,
    );
    if pr_step.action == Action::Create {
        pr_step.notes.insert(0, pr::open_note(&request));
    }
    if observed.merged.contains(&pr_id) {
        pr_step
            .notes
            .push("merged, so no review notice is sent".to_string());
        return Ok(vec![pr_step]);
    }
    // The base already has every edit and there is no ticket branch:
    // nothing to review, so no pull request and no notice are planned (the
    // configuration step says so).
    let no_branch = matches!(
        observed.repos.get(&(site.name.clone(), repo.repo.clone())),
        Some(RepoState::Known {
            branch_exists: false,
            unpushed: false,
            changes,
            ..
        }) if changes.is_empty()
    );
    if no_branch && pr_step.action == Action::Create {
        return Ok(vec![]);
    }
    Ok(vec![
        pr_step,
        pending_step(
            StepId::ReviewNotice {
                site: site.name.clone(),
                repo: repo.repo.clone(),
            },
            6,
            format!("Review notice for {} in {}", repo.repo, notice.channel),
            vec![pr_id],
            vec![format!(
                "message pr_ready of site {} for {} in {}",
                site.name, repo.repo, notice.channel
            )],
            vec![Change::PostMessage(notice.clone())],
            StepSpec::Message(notice),
            observed,
        ),
    ])
}

/// Applies `selection` to the plan and settles what each step can do in a
/// run of it: a step that would write but depends on a human step not yet
/// marked done, on a step the run does not apply, or on a waiting or missed
/// step, waits (typed in [`Step::waiting_on`]); then every step's
/// [`Step::digest`] is computed. Pure; the engine calls it on every plan it
/// builds, so the dry run, the saved plan, the prompt and the apply read the
/// same value.
pub fn resolve(plan: &mut Plan, selection: &Selection) {
    let release = if plan.revision > 0 {
        format!("--cycle {} --revision {}", plan.cycle, plan.revision)
    } else {
        format!("--cycle {}", plan.cycle)
    };
    for step in plan.steps_mut() {
        step.selected = !step.kind.is_human() && selection.selects(step);
    }
    // To a fixed point: a wait travels down the dependency chains.
    loop {
        let known: BTreeMap<StepId, (Action, bool, Option<Wait>)> = plan
            .steps()
            .map(|s| (s.id.clone(), (s.action, s.selected, s.waiting_on.clone())))
            .collect();
        let mut changed = false;
        for step in plan.steps_mut() {
            if !step.action.writes() {
                continue;
            }
            let wait = step.depends_on.iter().find_map(|dep| {
                let (action, selected, waits) = known.get(dep)?;
                match action {
                    Action::Manual => Some(Wait::Person {
                        step: dep.clone(),
                        mark: format!(
                            "cycle mark --site {} {release} {} done",
                            dep.site().unwrap_or(step::CYCLE_SCOPE),
                            dep.local()
                        ),
                    }),
                    Action::Waiting => Some(Wait::Step {
                        step: dep.clone(),
                        why: waits
                            .as_ref()
                            .map_or_else(|| "waiting".to_string(), Wait::describe),
                    }),
                    Action::Missed => Some(Wait::Step {
                        step: dep.clone(),
                        why: "missed".to_string(),
                    }),
                    Action::Create | Action::Update if !selected => Some(Wait::Step {
                        step: dep.clone(),
                        why: "not selected".to_string(),
                    }),
                    _ => None,
                }
            });
            if let Some(wait) = wait {
                step.action = Action::Waiting;
                step.waiting_on = Some(wait);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for step in plan.steps_mut() {
        step.digest = intent_digest(step);
    }
}

/// SHA-256 (hex) of what a step would send: its action, its changes and
/// what it waits for.
fn intent_digest(step: &Step) -> String {
    use sha2::Digest as _;
    let intent = serde_json::json!({
        "action": step.action,
        "changes": step.changes,
        "waiting_on": step.waiting_on,
    });
    let digest = sha2::Sha256::digest(intent.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks a step that would write as waiting on `findings` that gate it
/// (none: unchanged).
pub fn gate(step: &mut Step, findings: &[String]) {
    if step.action.writes() && !findings.is_empty() {
        step.action = Action::Waiting;
        step.waiting_on = Some(Wait::Findings {
            findings: findings.to_vec(),
        });
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
