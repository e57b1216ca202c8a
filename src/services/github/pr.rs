//! The pull-request step over any [`PullRequestApi`]: finding the cycle's PR,
//! creating or updating it, and the sticky comment.

use serde::Serialize;
use serde_json::json;

use super::*;

/// Keeps exactly one comment of pull request `number` carrying `marker`
/// (an HTML comment, invisible when rendered) with `body`: finds it among
/// the comments written by the token's identity ([`Identity::wrote`]: the
/// login `GET /user` names, or an app's bot account for an installation
/// token), rewrites it when it differs, adds it when there is none. A
/// comment by anyone else is left alone, marker or not. Never adds a
/// second one; when several of ours carry the marker, the oldest is kept
/// current.
pub async fn sticky_comment(
    api: &dyn PullRequestApi,
    repo: &RepoName,
    number: u64,
    marker: &str,
    body: &str,
) -> Result<(CommentAction, IssueComment), GithubError> {
    let full = format!("{marker}\n{body}");
    let identity = api.authenticated_user().await?;
    let existing = api.issue_comments(repo, number).await?;
    match existing
        .into_iter()
        .find(|c| c.body.contains(marker) && identity.wrote(&c.user))
    {
        Some(c) if c.body.trim_end() == full.trim_end() => Ok((CommentAction::Unchanged, c)),
        Some(c) => Ok((
            CommentAction::Updated,
            api.update_issue_comment(repo, c.id, &full).await?,
        )),
        None => Ok((
            CommentAction::Created,
            api.create_issue_comment(repo, number, &full).await?,
        )),
    }
}

/// What [`find`] saw, for a dry run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrFinding {
    /// No pull request from the branch into the base: one would be opened.
    None,
    /// Open, title and body as in the spec.
    Identical(PullRequest),
    /// Open, title or body differ: they would be updated.
    Differs {
        /// The pull request as it is.
        pr: PullRequest,
        /// The spec's title, when the title differs.
        title: Option<String>,
        /// Unified diff from the current body to the spec's, when it differs.
        body_diff: Option<String>,
    },
    /// Merged: nothing to do.
    Merged(PullRequest),
    /// Closed without merging: [`ensure`] would fail.
    Closed(PullRequest),
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrAction {
    /// Opened a new pull request.
    Opened,
    /// Reused an open one and wrote to it (title, body, reviewers or labels).
    Updated,
    /// Reused an open one as it was: nothing written.
    Unchanged,
    /// Already merged: nothing written.
    Merged,
}

/// The result of [`ensure`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrOutcome {
    /// Pull request number.
    pub number: u64,
    /// Web URL.
    pub url: String,
    /// What was done.
    pub action: PrAction,
}

/// Looks for the spec's pull request and compares it, reading only.
///
/// # Errors
/// [`GithubError::InvalidSpec`] and the API's errors.
pub async fn find<A: PullRequestApi + ?Sized>(
    api: &A,
    spec: &PullRequestRequest,
) -> Result<PrFinding, GithubError> {
    let repo = spec.validate()?;
    let pulls = api
        .list_pulls(&repo, &spec.head_label(), &spec.base)
        .await?;
    Ok(match pick(&pulls) {
        None => PrFinding::None,
        Some(pr) => match pr.state {
            PrState::Merged => PrFinding::Merged(pr.clone()),
            PrState::Closed => PrFinding::Closed(pr.clone()),
            PrState::Open => match pull_update(pr, spec) {
                None => PrFinding::Identical(pr.clone()),
                Some(update) => PrFinding::Differs {
                    pr: pr.clone(),
                    body_diff: update
                        .body
                        .as_ref()
                        .map(|_| body_diff(&pr.body, &spec.body)),
                    title: update.title,
                },
            },
        },
    })
}

/// Makes the spec's pull request exist: reuse an open one (writing only
/// what differs), report a merged one, open one when there is none; then
/// request the missing reviewers and add the missing labels.
///
/// # Errors
/// [`GithubError::ClosedUnmerged`] for a pull request closed without
/// merging, [`GithubError::InvalidSpec`], and the API's errors.
pub async fn ensure<A: PullRequestApi + ?Sized>(
    api: &A,
    spec: &PullRequestRequest,
) -> Result<PrOutcome, GithubError> {
    let repo = spec.validate()?;
    let head = spec.head_label();
    let pulls = api.list_pulls(&repo, &head, &spec.base).await?;
    let (mut pr, mut action) = match pick(&pulls) {
        Some(pr) => (settled(pr, spec)?, PrAction::Unchanged),
        None => match api.create_pull(&repo, &NewPull::from_spec(spec)).await? {
            Created::Opened(pr) => (*pr, PrAction::Opened),
            Created::AlreadyExists => {
                let again = api.list_pulls(&repo, &head, &spec.base).await?;
                let pr = pick(&again).ok_or_else(|| GithubError::ExistsButNotListed {
                    repo: repo.to_string(),
                    head: head.clone(),
                    base: spec.base.clone(),
                })?;
                (settled(pr, spec)?, PrAction::Unchanged)
            }
        },
    };
    if pr.state == PrState::Merged {
        return Ok(outcome(&pr, PrAction::Merged));
    }
    let wrote = |action: &mut PrAction| {
        if *action == PrAction::Unchanged {
            *action = PrAction::Updated;
        }
    };
    if let Some(update) = pull_update(&pr, spec) {
        pr = api.update_pull(&repo, pr.number, &update).await?;
        wrote(&mut action);
    }
    let reviewed = if action == PrAction::Opened || missing_reviewers(spec, &pr, &[]).is_empty() {
        Vec::new()
    } else {
        api.reviewed_by(&repo, pr.number).await?
    };
    let request = missing_reviewers(spec, &pr, &reviewed);
    if !request.is_empty() {
        api.request_reviewers(&repo, pr.number, &request).await?;
        wrote(&mut action);
    }
    let labels = missing_labels(spec, &pr);
    if !labels.is_empty() {
        api.add_labels(&repo, pr.number, &labels).await?;
        wrote(&mut action);
    }
    Ok(outcome(&pr, action))
}

fn outcome(pr: &PullRequest, action: PrAction) -> PrOutcome {
    PrOutcome {
        number: pr.number,
        url: pr.url.clone(),
        action,
    }
}

/// An existing pull request, unless it was closed without merging.
fn settled(pr: &PullRequest, spec: &PullRequestRequest) -> Result<PullRequest, GithubError> {
    if pr.state == PrState::Closed {
        return Err(GithubError::ClosedUnmerged {
            number: pr.number,
            url: pr.url.clone(),
            head: spec.head_label(),
            base: spec.base.clone(),
        });
    }
    Ok(pr.clone())
}

/// The pull request that counts among those of one head and base: an open
/// one, else a merged one, else a closed one; the newest of its kind.
pub fn pick(pulls: &[PullRequest]) -> Option<&PullRequest> {
    let rank = |s: PrState| match s {
        PrState::Open => 0,
        PrState::Merged => 1,
        PrState::Closed => 2,
    };
    pulls
        .iter()
        .min_by_key(|p| (rank(p.state), std::cmp::Reverse(p.number)))
}

/// Whether two texts are the same once line endings and trailing white
/// space are ignored (GitHub stores bodies edited on the web with `\r\n`).
pub fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.replace("\r\n", "\n")
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            .trim_end()
            .to_string()
    };
    norm(a) == norm(b)
}

/// The title and body to write so that `pr` matches `spec`, if any.
pub fn pull_update(pr: &PullRequest, spec: &PullRequestRequest) -> Option<PullUpdate> {
    let update = PullUpdate {
        title: (pr.title.trim() != spec.title.trim()).then(|| spec.title.clone()),
        body: (!same_text(&pr.body, &spec.body)).then(|| spec.body.clone()),
        state: None,
    };
    (update != PullUpdate::default()).then_some(update)
}

/// A unified diff from the current body to the wanted one.
pub fn body_diff(current: &str, wanted: &str) -> String {
    let current = current.replace("\r\n", "\n");
    similar::TextDiff::from_lines(current.as_str(), wanted)
        .unified_diff()
        .context_radius(2)
        .header("current body", "new body")
        .to_string()
}

/// A team slug from `slug` or `org/slug`.
fn team_slug(team: &str) -> &str {
    team.rsplit_once('/').map_or(team, |(_, slug)| slug).trim()
}

/// The organisation and slug of a team reviewer written `org/slug` or
/// `slug` (then the repository's owner `owner` is the organisation).
pub fn team_ref<'a>(team: &'a str, owner: &'a str) -> (&'a str, &'a str) {
    match team.trim().rsplit_once('/') {
        Some((org, slug)) => (org.trim(), slug.trim()),
        None => (owner, team.trim()),
    }
}

fn contains_ci(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(item))
}

/// The spec's reviewers that `pr` lacks: users neither requested nor among
/// `reviewed` (nor the author, whom GitHub refuses), and teams not
/// requested. Once someone has reviewed, a team no longer requested is not
/// asked again (a member's review removes the team's request).
pub fn missing_reviewers(
    spec: &PullRequestRequest,
    pr: &PullRequest,
    reviewed: &[String],
) -> ReviewRequest {
    let mut request = ReviewRequest::default();
    for login in &spec.reviewers {
        let login = login.trim();
        let is_author = pr
            .author
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(login));
        if !login.is_empty()
            && !is_author
            && !contains_ci(&pr.requested_reviewers, login)
            && !contains_ci(reviewed, login)
            && !contains_ci(&request.reviewers, login)
        {
            request.reviewers.push(login.to_string());
        }
    }
    if reviewed.is_empty() {
        for team in &spec.team_reviewers {
            let slug = team_slug(team);
            if !slug.is_empty()
                && !contains_ci(&pr.requested_teams, slug)
                && !contains_ci(&request.team_reviewers, slug)
            {
                request.team_reviewers.push(slug.to_string());
            }
        }
    }
    request
}

/// The spec's labels that `pr` lacks (names compared ignoring case).
pub fn missing_labels(spec: &PullRequestRequest, pr: &PullRequest) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    for label in &spec.labels {
        let label = label.trim();
        if !label.is_empty() && !contains_ci(&pr.labels, label) && !contains_ci(&missing, label) {
            missing.push(label.to_string());
        }
    }
    missing
}

/// The JSON body of `POST /repos/{owner}/{repo}/pulls`. The head is the
/// plain branch within the repository and `owner:branch` from a fork.
pub fn create_body(repo: &RepoName, new: &NewPull) -> serde_json::Value {
    let head = if new.head_owner.eq_ignore_ascii_case(&repo.owner) {
        new.branch.clone()
    } else {
        new.head_label()
    };
    json!({
        "title": new.title,
        "head": head,
        "base": new.base,
        "body": new.body,
        "draft": new.draft,
    })
}
