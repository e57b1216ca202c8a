//! The pull-request request and GitHub's answers as the steps see them:
//! repositories, pull requests, reviews, comments.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::*;

/// A repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoName {
    /// Owner (user or organisation).
    pub owner: String,
    /// Repository name.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`; both parts are GitHub names (letters, digits,
    /// `-`, `_`, `.`).
    pub fn parse(full: &str) -> Option<Self> {
        let (owner, name) = full.trim().split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (valid(owner) && valid(name)).then(|| Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// What GitHub refuses of a pull request to open.
impl PullRequestRequest {
    /// Checks the fields GitHub would refuse and returns the repository.
    ///
    /// # Errors
    /// [`GithubError::InvalidSpec`] naming the field.
    pub fn validate(&self) -> Result<RepoName, GithubError> {
        let fail = |reason: &str| GithubError::InvalidSpec {
            repo: self.repo.clone(),
            reason: reason.to_string(),
        };
        let repo = RepoName::parse(&self.repo)
            .ok_or_else(|| fail("the repository must be written owner/name"))?;
        let owner_ok = !self.head_owner.is_empty()
            && self
                .head_owner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !owner_ok {
            return Err(fail(
                "the head owner must be a GitHub user or organisation name",
            ));
        }
        let branch_ok = |b: &str| {
            !b.is_empty()
                && !b
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == ':')
        };
        if !branch_ok(&self.head) {
            return Err(fail("the head branch is empty or holds a space or `:`"));
        }
        if !branch_ok(&self.base) {
            return Err(fail("the base branch is empty or holds a space or `:`"));
        }
        if self.title.trim().is_empty() {
            return Err(fail("the title is empty"));
        }
        Ok(repo)
    }
}

/// State of a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrState {
    /// Open (draft or not).
    Open,
    /// Merged (`merged_at` set).
    Merged,
    /// Closed without merging.
    Closed,
}

/// What the adapter knows of a pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    /// Number.
    pub number: u64,
    /// Web URL (`html_url`).
    pub url: String,
    /// State.
    pub state: PrState,
    /// Title.
    pub title: String,
    /// Body (empty when GitHub has none).
    pub body: String,
    /// Whether it is a draft.
    pub draft: bool,
    /// Author's login.
    pub author: Option<String>,
    /// Head as `owner:branch`.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Logins whose review is requested (and not yet given).
    pub requested_reviewers: Vec<String>,
    /// Slugs of the teams whose review is requested.
    pub requested_teams: Vec<String>,
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPull {
    /// Owner of the head branch.
    pub head_owner: String,
    /// Head branch.
    pub branch: String,
    /// Base branch.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Open as a draft.
    pub draft: bool,
}

impl NewPull {
    /// The fields of `spec` used to open its pull request.
    pub fn from_spec(spec: &PullRequestRequest) -> Self {
        Self {
            head_owner: spec.head_owner.clone(),
            branch: spec.head.clone(),
            base: spec.base.clone(),
            title: spec.title.clone(),
            body: spec.body.clone(),
            draft: spec.draft,
        }
    }

    /// `owner:branch`.
    pub fn head_label(&self) -> String {
        format!("{}:{}", self.head_owner, self.branch)
    }
}

/// What opening a pull request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Opened (or found open when looking again after a lost answer).
    Opened(Box<PullRequest>),
    /// GitHub refused: a pull request for this head and base already exists.
    AlreadyExists,
}

/// Title and body to write to an existing pull request (`None`: keep).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PullUpdate {
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// New state (`closed` closes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// Reviewers to request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReviewRequest {
    /// User logins.
    pub reviewers: Vec<String>,
    /// Team slugs.
    pub team_reviewers: Vec<String>,
}

impl ReviewRequest {
    /// Whether there is nobody to request.
    pub fn is_empty(&self) -> bool {
        self.reviewers.is_empty() && self.team_reviewers.is_empty()
    }
}

/// Whose a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A user's (or a machine user's) token: its login.
    User(String),
    /// An installation token of a GitHub App (GitHub Actions'
    /// `GITHUB_TOKEN`, `ghs_…`): `GET /user` is refused, and what it writes
    /// is authored by the app's bot account (`github-actions[bot]`).
    Installation,
}

impl Identity {
    /// Whether `author` (a comment's `user`) is this identity: the user's
    /// login, or for an installation token an app's bot account (`type`
    /// `Bot`, login ending in `[bot]`, such as `github-actions[bot]`). A
    /// person's account is never one.
    pub fn wrote(&self, author: &CommentAuthor) -> bool {
        match self {
            Identity::User(login) => author.login.eq_ignore_ascii_case(login),
            Identity::Installation => author.kind == "Bot" && author.login.ends_with("[bot]"),
        }
    }
}

/// The author of a comment (`user`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct CommentAuthor {
    /// Login (`github-actions[bot]` for GitHub Actions' token).
    #[serde(default, deserialize_with = "nullable")]
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(default, rename = "type", deserialize_with = "nullable")]
    pub kind: String,
}

/// A comment of an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueComment {
    /// Comment id.
    pub id: u64,
    /// Who wrote it.
    #[serde(default, deserialize_with = "nullable")]
    pub user: CommentAuthor,
    /// Its Markdown.
    #[serde(default, deserialize_with = "nullable")]
    pub body: String,
    /// Its page (`html_url`).
    #[serde(default, deserialize_with = "nullable")]
    pub html_url: String,
}

/// What [`sticky_comment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// No comment carried the marker: one was added.
    Created,
    /// The marked comment was rewritten.
    Updated,
    /// The marked comment already said this.
    Unchanged,
}

/// A repository as `GET /repos/{owner}/{repo}` shows it to the token's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// `owner/name` as GitHub spells it.
    pub full_name: String,
    /// Whether the answer showed the token's `permissions` (not to an
    /// installation token): `push` and `pull` mean something only then.
    pub permissions_shown: bool,
    /// `permissions.push`: the user may push branches.
    pub push: bool,
    /// `permissions.pull`: the user may read it (and open pull requests into it).
    pub pull: bool,
    /// Archived repositories take no pushes and no pull requests.
    pub archived: bool,
}
