//! The plan: every checklist step of every site, as data.
//!
//! [`build`] is pure: from loaded sites, the release manifest, the templates
//! and what has been observed so far it decides, step by step, what each
//! step looks for and what it would change. `--dry-run` prints the plan and
//! `apply` executes the same plan.

pub mod output;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::edit::repo::FileChange;
use crate::model::context::{SiteContext, SiteRow, When};
use crate::model::release::LoadedRelease;
use crate::model::site::{EditSpec, LoadedSite, Repository};
use crate::render::{Templates, names};

/// Version of the JSON document; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// One checklist step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Stable id within the site, e.g. `config/lsst-sqre/phalanx`.
    pub id: String,
    /// Number of the checklist item it belongs to (1-6).
    pub checklist_item: u8,
    /// Human title.
    pub title: String,
    /// What the step will do.
    pub action: Action,
    /// Ids of steps that must finish first.
    pub depends_on: Vec<String>,
    /// What the step looks for before acting.
    pub observe: Vec<String>,
    /// What it changes.
    pub changes: Vec<Change>,
    /// Notes for the reader (e.g. why the current content is unknown).
    pub notes: Vec<String>,
}

/// One change a step makes.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// File a Jira issue.
    CreateIssue {
        /// Project key.
        project: String,
        /// Issue type.
        issue_type: String,
        /// Summary.
        summary: String,
        /// Description.
        description: String,
        /// Labels.
        labels: Vec<String>,
        /// Components.
        components: Vec<String>,
        /// Further fields (custom field id → value).
        fields: BTreeMap<String, String>,
        /// Assignee, when set.
        assignee: Option<String>,
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
    OpenPullRequest {
        /// Repository.
        repo: String,
        /// Head branch.
        head: String,
        /// Base branch.
        base: String,
        /// Title.
        title: String,
        /// Body (Markdown).
        body: String,
        /// Reviewers requested.
        reviewers: Vec<String>,
        /// Labels.
        labels: Vec<String>,
        /// Draft PR.
        draft: bool,
    },
    /// Create or update a Confluence page.
    PublishPage {
        /// Space key.
        space: String,
        /// Parent page id.
        parent_id: String,
        /// Page title.
        title: String,
        /// Storage-format body.
        body: String,
    },
    /// Post (or schedule) a Slack message.
    PostMessage {
        /// Channel.
        channel: String,
        /// Which message (`day_before`, `hour_before`, `start`, `pr_ready`).
        message: String,
        /// When to post; `None` posts when the step runs.
        at: Option<When>,
        /// Text (mrkdwn).
        text: String,
    },
    /// A human action.
    Manual {
        /// What to do.
        instructions: String,
    },
}

/// What is known about the world before planning (empty when offline).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Site → its configuration ticket key.
    pub tickets: BTreeMap<String, String>,
    /// (site, repo) → state of the repository.
    pub repos: BTreeMap<(String, String), RepoState>,
}

/// What is known of a repository's ticket branch.
#[derive(Debug, Clone)]
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

/// The JQL that finds a site's ticket by its exact summary (the summary form
/// of the old scripts, so their tickets are found too).
pub fn ticket_jql(project: &str, summary: &str) -> String {
    format!(
        "project = {} AND summary ~ {} ORDER BY created ASC",
        jql_string(project),
        jql_string(&format!("\"{}\"", phrase_escape(summary)))
    )
}

/// Escapes a phrase for Jira's text search (inside the phrase's quotes).
fn phrase_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn jql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Builds the plan of `sites` (in order). `all_sites` fills the cycle page's
/// ticket table, which lists every site.
pub fn build(
    release: &LoadedRelease,
    sites: &[&LoadedSite],
    all_sites: &[LoadedSite],
    templates: &Templates,
    observed: &Observed,
) -> Result<Plan, PlanError> {
    let rows = crate::model::context::site_rows(all_sites, release, &observed.tickets);
    let plans = sites
        .iter()
        .map(|site| plan_site(release, site, &rows, templates, observed))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        cycle: release.id.cycle,
        revision: release.id.revision,
        tag: release.id.full_tag(),
        label: release.id.label(),
        sites: plans,
    })
}

fn plan_site(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    rows: &[SiteRow],
    templates: &Templates,
    observed: &Observed,
) -> Result<SitePlan, PlanError> {
    let site = &loaded.site;
    let ticket = observed.tickets.get(&site.name).cloned();
    let branch = branch_name(ticket.as_deref(), &site.jira.project);
    let (ctx, page_title) = template_context(templates, release, loaded, ticket.clone(), rows)?;

    let mut steps = vec![jira_step(loaded, templates, &ctx, ticket.as_deref())?];
    let config_ids: Vec<String> = site
        .repositories
        .iter()
        .map(|r| format!("config/{}", r.repo))
        .collect();
    for repo in &site.repositories {
        steps.push(planned_config_step(
            release, loaded, repo, templates, &ctx, &branch, observed,
        )?);
    }
    steps.push(Step {
        id: "build-team".into(),
        checklist_item: 3,
        title: "Work with the build team during the build".into(),
        action: Action::Manual,
        depends_on: vec![],
        observe: vec![],
        changes: vec![Change::Manual {
            instructions: format!(
                "Follow the {} build with the build team: keep it on schedule and resolve problems as they come up.",
                release.id.label()
            ),
        }],
        notes: vec![],
    });
    steps.push(Step {
        id: "confluence-page".into(),
        checklist_item: 4,
        title: format!("Confluence page \"{page_title}\""),
        action: Action::Create,
        depends_on: vec!["jira-ticket".into()],
        observe: vec![format!(
            "page titled \"{page_title}\" in space {}",
            site.confluence.space
        )],
        changes: vec![Change::PublishPage {
            space: site.confluence.space.clone(),
            parent_id: site.confluence.parent_id.clone(),
            title: page_title.clone(),
            body: templates.render(names::CONFLUENCE_PAGE, &ctx)?,
        }],
        notes: vec![],
    });
    steps.push(slack_step(loaded, release, templates, &ctx)?);
    for repo in site
        .repositories
        .iter()
        .filter(|r| r.pull_request.is_some())
    {
        steps.push(pr_step(
            loaded,
            repo,
            templates,
            &ctx,
            &branch,
            &config_ids,
        )?);
    }
    Ok(SitePlan {
        site: site.name.clone(),
        display_name: site.display_name.clone(),
        ticket,
        branch,
        steps,
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

fn jira_step(
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
    ticket: Option<&str>,
) -> Result<Step, PlanError> {
    let jira = &loaded.site.jira;
    let summary = templates.render_line(names::JIRA_SUMMARY, ctx)?;
    let description = templates.render(names::JIRA_DESCRIPTION, ctx)?;
    let mut fields = BTreeMap::new();
    if let (Some(field), Some(team)) = (&jira.team_field, &jira.team) {
        fields.insert(field.clone(), team.clone());
    }
    let (action, changes, notes) = match ticket {
        Some(key) => (Action::None, vec![], vec![format!("ticket {key} is known")]),
        None => (
            Action::Create,
            vec![Change::CreateIssue {
                project: jira.project.clone(),
                issue_type: jira.issue_type.clone(),
                summary: summary.clone(),
                description,
                labels: jira.labels.clone(),
                components: jira.components.clone(),
                fields,
                assignee: jira.assignee.clone(),
            }],
            vec![],
        ),
    };
    Ok(Step {
        id: "jira-ticket".into(),
        checklist_item: 1,
        title: format!("Jira ticket \"{summary}\""),
        action,
        depends_on: vec![],
        observe: vec![format!("JQL: {}", ticket_jql(&jira.project, &summary))],
        changes,
        notes,
    })
}

fn planned_config_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    repo: &Repository,
    templates: &Templates,
    ctx: &minijinja::Value,
    branch: &str,
    observed: &Observed,
) -> Result<Step, PlanError> {
    let edits = crate::edit::repo::resolve_edits(repo, release, &loaded.site)?;
    let message = templates.render(names::COMMIT_MESSAGE, ctx)?;
    let state = observed
        .repos
        .get(&(loaded.site.name.clone(), repo.repo.clone()))
        .cloned()
        .unwrap_or(RepoState::Unknown {
            reason: "current content unknown (no cached clone was read)".into(),
        });
    Ok(config_step(repo, &edits, message.trim_end(), branch, state))
}

/// The configuration-branch step of one repository, from its resolved edits,
/// commit message and observed state.
pub fn config_step(
    repo: &Repository,
    edits: &[EditSpec],
    message: &str,
    branch: &str,
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
        branch: branch.to_string(),
        base: repo.base.clone(),
    };
    let commit = Change::Commit {
        repo: repo.repo.clone(),
        branch: branch.to_string(),
        message: message.to_string(),
    };
    let push = Change::Push {
        repo: repo.repo.clone(),
        branch: branch.to_string(),
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
                    format!("{branch} already has every edit")
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
                        path: f.path.clone(),
                        diff: f.unified_diff(),
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
        id: format!("config/{}", repo.repo),
        checklist_item: 2,
        title: format!("Configuration branch {branch} in {}", repo.repo),
        action,
        depends_on: vec!["jira-ticket".into()],
        observe: vec![format!(
            "branch {branch} in {} (cached clone and remote), base {}",
            repo.repo, repo.base
        )],
        changes,
        notes,
    }
}

fn slack_step(
    loaded: &LoadedSite,
    release: &LoadedRelease,
    templates: &Templates,
    ctx: &minijinja::Value,
) -> Result<Step, PlanError> {
    let site = &loaded.site;
    let times = crate::model::context::deployment_times(loaded, release)?;
    let messages = [
        ("day_before", names::SLACK_DAY_BEFORE, times.day_before),
        ("hour_before", names::SLACK_HOUR_BEFORE, times.hour_before),
        ("start", names::SLACK_START, times.start),
    ];
    let changes = messages
        .into_iter()
        .map(|(message, template, at)| {
            Ok(Change::PostMessage {
                channel: site.slack.channel.clone(),
                message: message.to_string(),
                at: Some(at),
                text: templates.render(template, ctx)?.trim_end().to_string(),
            })
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    Ok(Step {
        id: "slack-announcements".into(),
        checklist_item: 5,
        title: format!("Slack announcements in {}", site.slack.channel),
        action: Action::Create,
        depends_on: vec![],
        observe: vec![format!(
            "messages in {} with metadata event cycle_announcement (site {}, {})",
            site.slack.channel,
            site.name,
            release.id.full_tag()
        )],
        changes,
        notes: vec![],
    })
}

fn pr_step(
    loaded: &LoadedSite,
    repo: &Repository,
    templates: &Templates,
    ctx: &minijinja::Value,
    branch: &str,
    config_ids: &[String],
) -> Result<Step, PlanError> {
    let site = &loaded.site;
    let pr = repo.pull_request.clone().unwrap_or_default();
    Ok(Step {
        id: format!("pull-request/{}", repo.repo),
        checklist_item: 6,
        title: format!("Pull request {branch} → {} in {}", repo.base, repo.repo),
        action: Action::Create,
        depends_on: config_ids
            .iter()
            .filter(|id| id.ends_with(&repo.repo))
            .cloned()
            .collect(),
        observe: vec![format!(
            "open pull request in {} with head {branch}",
            repo.repo
        )],
        changes: vec![
            Change::OpenPullRequest {
                repo: repo.repo.clone(),
                head: branch.to_string(),
                base: repo.base.clone(),
                title: templates.render_line(names::PR_TITLE, ctx)?,
                body: templates.render(names::PR_BODY, ctx)?,
                reviewers: pr.reviewers,
                labels: pr.labels,
                draft: pr.draft,
            },
            Change::PostMessage {
                channel: site.slack.review_channel.clone(),
                message: "pr_ready".into(),
                at: None,
                text: templates
                    .render(names::PR_READY, ctx)?
                    .trim_end()
                    .to_string(),
            },
        ],
        notes: vec![],
    })
}

impl Plan {
    /// Whether applying the plan would change anything (manual steps aside).
    pub fn has_changes(&self) -> bool {
        self.sites
            .iter()
            .flat_map(|s| &s.steps)
            .any(Step::is_pending)
    }
}

impl Step {
    /// Whether applying the step would change something.
    pub fn is_pending(&self) -> bool {
        matches!(self.action, Action::Create | Action::Update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    struct Shipped {
        sites: Vec<LoadedSite>,
        release: LoadedRelease,
        templates: Templates,
    }

    fn shipped() -> Shipped {
        Shipped {
            sites: crate::model::site::load_all(&root().join("sites")).unwrap(),
            release: crate::model::release::load(&root().join("releases/c0044.000.yaml")).unwrap(),
            templates: Templates::load(&root().join("templates")).unwrap(),
        }
    }

    fn plan_for(s: &Shipped, site: &str, observed: &Observed) -> Plan {
        let chosen: Vec<&LoadedSite> = s.sites.iter().filter(|l| l.site.name == site).collect();
        build(&s.release, &chosen, &s.sites, &s.templates, observed).unwrap()
    }

    #[test]
    fn summit_plan_walks_the_checklist_in_order() {
        let s = shipped();
        let plan = plan_for(&s, "summit", &Observed::default());
        assert_eq!(plan.tag, "c0044.000");
        let steps = &plan.sites[0].steps;
        let items: Vec<u8> = steps.iter().map(|s| s.checklist_item).collect();
        assert_eq!(items, [1, 2, 2, 3, 4, 5, 6, 6]);
        let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "jira-ticket",
                "config/lsst-sqre/phalanx",
                "config/lsst-ts/docker-compose-ops",
                "build-team",
                "confluence-page",
                "slack-announcements",
                "pull-request/lsst-sqre/phalanx",
                "pull-request/lsst-ts/docker-compose-ops",
            ]
        );
        assert_eq!(steps[3].action, Action::Manual);
        assert!(plan.has_changes());
        match &steps[0].changes[0] {
            Change::CreateIssue {
                summary, fields, ..
            } => {
                assert_eq!(
                    summary,
                    "Ready summit deployment configuration for Cycle 44"
                );
                assert_eq!(fields["customfield_10056"], "Deployment");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_known_ticket_names_the_branch_and_skips_the_jira_step() {
        let s = shipped();
        let mut observed = Observed::default();
        observed.tickets.insert("summit".into(), "OSW-2010".into());
        let plan = plan_for(&s, "summit", &observed);
        let site = &plan.sites[0];
        assert_eq!(site.branch, "tickets/OSW-2010");
        assert_eq!(site.steps[0].action, Action::None);
        assert!(site.steps[1].title.contains("tickets/OSW-2010"));
    }

    #[test]
    fn slack_times_are_in_the_site_zone_with_its_abbreviation() {
        let s = shipped();
        let plan = plan_for(&s, "summit", &Observed::default());
        let slack = plan.sites[0]
            .steps
            .iter()
            .find(|s| s.id == "slack-announcements")
            .unwrap();
        let times: Vec<(String, String, String)> = slack
            .changes
            .iter()
            .map(|c| match c {
                Change::PostMessage {
                    message,
                    at: Some(at),
                    ..
                } => (message.clone(), at.time.clone(), at.zone.clone()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        // 24 February 2026 is summer time in Chile: UTC-3, read as CLST.
        assert_eq!(
            times,
            [
                ("day_before".into(), "09:00".into(), "CLST".into()),
                ("hour_before".into(), "08:00".into(), "CLST".into()),
                ("start".into(), "09:00".into(), "CLST".into()),
            ]
        );
        let tts = plan_for(&s, "tts", &Observed::default());
        let text = serde_json::to_string(&tts).unwrap();
        assert!(text.contains("\"zone\":\"MST\""));
        assert!(text.contains("integration testing"));
    }

    fn repo_step(state: RepoState) -> Step {
        let s = shipped();
        let site = s.sites.iter().find(|l| l.site.name == "summit").unwrap();
        let repo = &site.site.repositories[0];
        let edits = crate::edit::repo::resolve_edits(repo, &s.release, &site.site).unwrap();
        config_step(
            repo,
            &edits,
            "Summit: Update to Cycle 44.",
            "tickets/OSW-1",
            state,
        )
    }

    #[test]
    fn config_step_follows_what_was_observed() {
        let unknown = repo_step(RepoState::Unknown {
            reason: "offline".into(),
        });
        assert_eq!(unknown.action, Action::Create);
        assert!(matches!(unknown.changes[0], Change::CreateBranch { .. }));
        assert_eq!(unknown.notes, ["offline"]);

        let done = repo_step(RepoState::Known {
            branch_exists: false,
            unpushed: false,
            changes: vec![],
            notes: vec![],
        });
        assert_eq!(done.action, Action::None);
        assert!(done.changes.is_empty());
        assert_eq!(
            done.notes,
            ["main already has every edit; no branch needed"]
        );

        let unpushed = repo_step(RepoState::Known {
            branch_exists: true,
            unpushed: true,
            changes: vec![],
            notes: vec![],
        });
        assert_eq!(unpushed.action, Action::Update);
        assert!(matches!(unpushed.changes.as_slice(), [Change::Push { .. }]));

        let change = FileChange {
            path: "environments/values-summit.yaml".into(),
            before: "a: \"c0043\"\n".into(),
            after: "a: \"c0044\"\n".into(),
        };
        let edit = repo_step(RepoState::Known {
            branch_exists: false,
            unpushed: false,
            changes: vec![change],
            notes: vec![],
        });
        assert_eq!(edit.action, Action::Create);
        let diff = edit
            .changes
            .iter()
            .find_map(|c| match c {
                Change::FileDiff { diff, .. } => Some(diff.clone()),
                _ => None,
            })
            .unwrap();
        assert!(diff.contains("-a: \"c0043\"\n+a: \"c0044\"\n"), "{diff}");
        assert!(matches!(edit.changes.last(), Some(Change::Push { .. })));
    }

    #[test]
    fn test_stands_need_an_integration_testing_window() {
        let s = shipped();
        let mut release = s.release.clone();
        release
            .release
            .deployments
            .get_mut("tts")
            .unwrap()
            .integration_testing = None;
        let chosen: Vec<&LoadedSite> = s.sites.iter().filter(|l| l.site.name == "tts").collect();
        let err = build(
            &release,
            &chosen,
            &s.sites,
            &s.templates,
            &Observed::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c0044.000.yaml:"), "{err}");
        assert!(err.contains("deployments.tts"), "{err}");
        assert!(err.contains("integration_testing"), "{err}");
    }

    #[test]
    fn jql_quotes_the_summary_exactly() {
        assert_eq!(
            ticket_jql("OSW", "Ready summit deployment configuration for Cycle 44"),
            r#"project = "OSW" AND summary ~ "\"Ready summit deployment configuration for Cycle 44\"" ORDER BY created ASC"#
        );
        assert!(ticket_jql("OSW", r#"a "b" \c"#).contains(r#"\"a \\\"b\\\" \\\\c\""#));
    }

    #[test]
    fn branch_names_come_from_the_ticket() {
        assert_eq!(branch_name(Some("OSW-2010"), "OSW"), "tickets/OSW-2010");
        assert_eq!(branch_name(None, "OSW"), "tickets/<new OSW ticket>");
    }
}
