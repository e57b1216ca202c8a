//! The engine's side of GitHub pull requests: the adapter when configured,
//! the plan's [`PullRequestRequest`] turned into the adapter's [`PullRequestRequest`],
//! what a lookup found of each PR step's result, and the step's execution.
//!
//! A PR is found by its head (`owner:tickets/<KEY>`, the fork's owner when
//! the site names a fork) and base, in every state: an open one is reused
//! (its title and body rewritten only when the templates now give other
//! text), a merged one finishes the step as "merged", and one closed
//! without merging fails the step with a message naming it (never reopened,
//! never duplicated). See [`crate::services::github`].

use std::sync::OnceLock;

use crate::plan::{Action, PullRequestRequest, Seen};
use crate::services::github::{self, Config, GithubClient, PrAction, PrFinding, PullRequest};

/// What keeping the plan comment up to date did.
pub use crate::services::github::CommentAction;

/// GitHub for one run, or why it is not available. The client is built on
/// first use, inside the run's Tokio runtime (octocrab needs one).
pub struct Pulls {
    config: Result<Config, String>,
    client: OnceLock<Result<GithubClient, String>>,
}

impl Pulls {
    /// GitHub from the environment (`GITHUB_TOKEN`, `GITHUB_API_URL`). When
    /// `required` (a selected PR step runs) a missing or unusable token is
    /// an error before any step runs; otherwise lookups are skipped.
    pub fn from_env(required: bool) -> anyhow::Result<Self> {
        match Config::from_env() {
            Ok(config) => Ok(Self {
                config: Ok(config),
                client: OnceLock::new(),
            }),
            Err(e) if required => Err(e.into()),
            Err(e) => Ok(Self::none(&e.to_string())),
        }
    }

    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            config: Err(reason.to_string()),
            client: OnceLock::new(),
        }
    }

    /// The client (built on first use), or why GitHub is not available.
    pub(crate) fn api(&self) -> anyhow::Result<&GithubClient> {
        let config = self.config.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        self.client
            .get_or_init(|| GithubClient::new(config.clone()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

impl Pulls {
    /// Keeps one comment carrying `marker` on pull request `number` of
    /// `repo` (`owner/name`) saying `body`: added once, then updated in
    /// place. Returns what was done and the comment's URL.
    pub async fn sticky_comment(
        &self,
        repo: &str,
        number: u64,
        marker: &str,
        body: &str,
    ) -> anyhow::Result<(github::CommentAction, String)> {
        let name = github::RepoName::parse(repo)
            .ok_or_else(|| anyhow::anyhow!("`{repo}` is not a GitHub repository OWNER/NAME"))?;
        let api = self.api()?;
        let body = crate::redact::redact(body);
        let (action, comment) = github::sticky_comment(api, &name, number, marker, &body).await?;
        Ok((action, comment.html_url))
    }
}

/// What the plan shows for what [`github::find`] saw; `reviewed` are the
/// logins that already reviewed an open PR (never asked again).
pub fn seen(finding: &PrFinding, spec: &PullRequestRequest, reviewed: &[String]) -> Seen {
    match finding {
        PrFinding::None => Seen {
            action: Action::Create,
            note: format!("no PR from {} into {} yet", spec.head_label(), spec.base),
            detail: vec![],
            link: None,
            waiting_on: None,
            basis: Some("no PR".to_string()),
        },
        PrFinding::Identical(pr) => open_seen(pr, spec, reviewed, None, None),
        PrFinding::Differs {
            pr,
            title,
            body_diff,
        } => open_seen(pr, spec, reviewed, title.as_deref(), body_diff.as_deref()),
        PrFinding::Merged(pr) => Seen {
            action: Action::None,
            note: format!("PR #{} was merged", pr.number),
            detail: vec![],
            link: Some(pr.url.clone()),
            waiting_on: None,
            basis: Some(format!("PR #{} merged", pr.number)),
        },
        PrFinding::Closed(pr) => Seen {
            action: Action::Update,
            note: format!(
                "PR #{} was closed without merging: applying fails (cycle neither reopens nor \
                 duplicates it; reopen it by hand, or delete the branch and start again)",
                pr.number
            ),
            detail: vec![],
            link: Some(pr.url.clone()),
            waiting_on: None,
            basis: Some(format!("PR #{} closed", pr.number)),
        },
    }
}

fn open_seen(
    pr: &PullRequest,
    spec: &PullRequestRequest,
    reviewed: &[String],
    title: Option<&str>,
    body_diff: Option<&str>,
) -> Seen {
    let mut changes = Vec::new();
    let mut detail = Vec::new();
    match (title, body_diff) {
        (Some(_), Some(_)) => changes.push("title and body would change".to_string()),
        (Some(_), None) => changes.push("title would change".to_string()),
        (None, Some(_)) => changes.push("body would change".to_string()),
        (None, None) => {}
    }
    if let Some(new) = title {
        detail.push(format!("title: {:?} → {new:?}", pr.title));
    }
    if let Some(diff) = body_diff {
        detail.extend(diff.lines().map(str::to_string));
    }
    let request = github::missing_reviewers(spec, pr, reviewed);
    let mut asked: Vec<String> = request.reviewers.clone();
    asked.extend(request.team_reviewers.iter().map(|t| format!("team {t}")));
    if !asked.is_empty() {
        changes.push(format!("reviewers {} would be asked", asked.join(", ")));
    }
    let labels = github::missing_labels(spec, pr);
    if !labels.is_empty() {
        changes.push(format!("labels {} would be added", labels.join(", ")));
    }
    let (action, note) = if changes.is_empty() {
        (
            Action::None,
            format!("PR #{} exists and is up to date", pr.number),
        )
    } else {
        (
            Action::Update,
            format!("PR #{} exists; {}", pr.number, changes.join("; ")),
        )
    };
    Seen {
        action,
        note,
        detail,
        link: Some(pr.url.clone()),
        waiting_on: None,
        basis: Some(format!("PR #{} open", pr.number)),
    }
}

/// The summary's verb for what [`github::ensure`] did.
pub fn action_name(action: PrAction) -> &'static str {
    match action {
        PrAction::Opened => "created",
        PrAction::Unchanged => "found",
        PrAction::Updated => "updated",
        PrAction::Merged => "merged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::github::PrState;

    fn spec() -> PullRequestRequest {
        PullRequestRequest {
            repo: "lsst-sqre/phalanx".into(),
            head_owner: "lsst-sqre".into(),
            head: "tickets/OSW-2010".into(),
            base: "main".into(),
            title: "Cycle 44 Summit configuration".into(),
            body: "new\n".into(),
            draft: false,
            labels: vec![],
            reviewers: vec!["alice".into()],
            team_reviewers: vec![],
        }
    }

    fn pr(state: PrState) -> PullRequest {
        PullRequest {
            number: 6384,
            url: "https://github.com/lsst-sqre/phalanx/pull/6384".into(),
            state,
            title: "Cycle 44 Summit configuration".into(),
            body: "new\n".into(),
            draft: false,
            author: Some("cycle-bot".into()),
            head: "lsst-sqre:tickets/OSW-2010".into(),
            base: "main".into(),
            labels: vec![],
            requested_reviewers: vec!["alice".into()],
            requested_teams: vec![],
        }
    }

    #[test]
    fn an_identical_open_pr_needs_nothing() {
        let seen = seen(&PrFinding::Identical(pr(PrState::Open)), &spec(), &[]);
        assert_eq!(seen.action, Action::None);
        assert_eq!(seen.note, "PR #6384 exists and is up to date");
        assert_eq!(
            seen.link.as_deref(),
            Some("https://github.com/lsst-sqre/phalanx/pull/6384")
        );
    }

    #[test]
    fn a_changed_body_is_shown_with_its_diff() {
        let mut old = pr(PrState::Open);
        old.body = "old\n".into();
        old.requested_reviewers.clear();
        let finding = PrFinding::Differs {
            body_diff: Some(github::body_diff(&old.body, "new\n")),
            pr: old,
            title: None,
        };
        let seen = seen(&finding, &spec(), &[]);
        assert_eq!(seen.action, Action::Update);
        assert_eq!(
            seen.note,
            "PR #6384 exists; body would change; reviewers alice would be asked"
        );
        assert!(seen.detail.contains(&"-old".to_string()), "{seen:?}");
        assert!(seen.detail.contains(&"+new".to_string()), "{seen:?}");
        // Someone who already reviewed is not asked again.
        let again = super::seen(&finding, &spec(), &["alice".into()]);
        assert_eq!(again.note, "PR #6384 exists; body would change");
    }

    #[test]
    fn merged_is_done_and_closed_is_shown_as_a_failure_to_come() {
        let merged = seen(&PrFinding::Merged(pr(PrState::Merged)), &spec(), &[]);
        assert_eq!(merged.action, Action::None);
        assert_eq!(merged.note, "PR #6384 was merged");
        let closed = seen(&PrFinding::Closed(pr(PrState::Closed)), &spec(), &[]);
        assert_eq!(closed.action, Action::Update);
        assert!(
            closed
                .note
                .starts_with("PR #6384 was closed without merging")
        );
        let none = seen(&PrFinding::None, &spec(), &[]);
        assert_eq!(none.action, Action::Create);
        assert_eq!(
            none.note,
            "no PR from lsst-sqre:tickets/OSW-2010 into main yet"
        );
    }

    #[test]
    fn actions_read_as_the_summary_says() {
        assert_eq!(action_name(PrAction::Opened), "created");
        assert_eq!(action_name(PrAction::Unchanged), "found");
        assert_eq!(action_name(PrAction::Updated), "updated");
        assert_eq!(action_name(PrAction::Merged), "merged");
    }
}
