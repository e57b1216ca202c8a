//! GitHub pull-request adapter: open, reuse or report the pull request of a
//! ticket branch, without ever opening a second one.
//!
//! The engine calls two step functions, generic over the small
//! [`PullRequestApi`] trait so they run against the real client or a test
//! double:
//!
//! - [`find`] only reads (dry runs): is there a pull request from the ticket
//!   branch into the base, and does its title or body differ from the spec?
//! - [`ensure`] observes first and then writes only what differs: it reuses an
//!   open pull request (updating its title or body when they differ), reports
//!   a merged one as [`PrAction::Merged`], refuses a pull request closed
//!   without merging ([`GithubError::ClosedUnmerged`]: never reopened, never
//!   duplicated), and otherwise opens one. It then requests the missing
//!   reviewers and adds the missing labels.
//!
//! [`GithubClient`] is the real implementation, on `octocrab` with its
//! connect and read timeouts set ([`http::CONNECT_TIMEOUT`],
//! [`http::REQUEST_TIMEOUT`]; each whole exchange is bounded by the latter
//! too, as `http::client()` does: octocrab 0.54 builds on hyper, not on the
//! reqwest 0.12 client that `http::client()` returns) and
//! without octocrab's own retry: every call goes through
//! [`http::with_retry`] with a bounded exponential backoff. Reads and
//! idempotent writes are retried on 5xx, 429, secondary rate limits and
//! transport errors; a rate limit's wait (`Retry-After`, or
//! `x-ratelimit-reset` when `x-ratelimit-remaining` is 0) is waited out when
//! it is shorter than [`RetryPolicy::max_wait`] and reported with the time
//! the limit resets otherwise. Opening a pull request is retried only after
//! listing again: a lost response must not open it twice.
//!
//! The client uses octocrab's raw `_get`/`_post`/`_patch` rather than its
//! typed models: the typed `PullRequest` requires every field of every
//! embedded user (18 of them) and fails as a whole when one is missing, and
//! the retry decisions need the status, headers and GitHub's error text of
//! one response together. The adapter reads only the fields it decides on.
//!
//! # Environment
//!
//! `GITHUB_TOKEN` (required) and `GITHUB_API_URL` (default
//! `https://api.github.com`; GitHub Enterprise: `https://HOST/api/v3`), read
//! by [`Config::from_env`]. The token is sent as a `Bearer` header only; it is
//! never part of a URL, an error, `Debug` output or a log line.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;

use crate::services::http::{self, Attempt, RetryError, RetryPolicy, Secret};

/// Environment variable holding the GitHub token.
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";
/// Environment variable overriding the REST API root.
pub const API_URL_ENV: &str = "GITHUB_API_URL";
/// The REST API root of github.com.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How long to wait after a secondary rate limit that names no wait (GitHub's
/// documentation: "wait for at least one minute").
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Page size of the list calls (the head/base filter leaves a handful).
const PER_PAGE: &str = "100";

/// Errors of the GitHub adapter. Messages name the request (method and API
/// URL without query) and quote GitHub's own error text; none contains the
/// token.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// A required environment variable is missing.
    #[error(
        "GitHub is not configured: set {} (a token allowed to open pull requests; \
         {API_URL_ENV} optionally points at GitHub Enterprise, e.g. https://HOST/api/v3)",
        vars.join(", ")
    )]
    NotConfigured {
        /// The variables to set.
        vars: Vec<&'static str>,
    },
    /// `GITHUB_API_URL` is not an http(s) URL.
    #[error("{API_URL_ENV} {value:?} is not usable: {reason}")]
    InvalidApiUrl {
        /// The value, without userinfo.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The token holds characters an HTTP header cannot carry.
    #[error("{TOKEN_ENV} contains spaces or control characters; set it to the token alone")]
    InvalidToken,
    /// A [`PrSpec`] that cannot be sent.
    #[error("invalid pull request for {repo}: {reason}")]
    InvalidSpec {
        /// The spec's repository.
        repo: String,
        /// What is wrong.
        reason: String,
    },
    /// The client could not be built.
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
    /// GitHub rejected the token (401) or refused it this action (403).
    #[error(
        "GitHub refused the token in {TOKEN_ENV} on {method} {url} ({status}: {message}); \
         check that it is valid, not expired, and allowed to write pull requests in this repository"
    )]
    Credentials {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// A primary or secondary rate limit that was not waited out.
    #[error("GitHub rate limit on {method} {url} ({status}: {message}); {}", retry_hint(*retry_at))]
    RateLimited {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// HTTP status (403 or 429).
        status: u16,
        /// GitHub's message.
        message: String,
        /// When GitHub allows the next request, when it said so.
        retry_at: Option<DateTime<Utc>>,
    },
    /// The repository or pull request does not exist, or the token cannot
    /// see it (GitHub answers 404 for both).
    #[error(
        "{method} {url}: not found ({message}); check the repository name and that the token \
         in {TOKEN_ENV} can see the repository"
    )]
    NotFound {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// GitHub's message.
        message: String,
    },
    /// Any other error answer (after retries, for 5xx).
    #[error("{method} {url} failed with {status}: {message}{}", retry_at.map(|_| format!("; {}", retry_hint(*retry_at))).unwrap_or_default())]
    Api {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message and error details.
        message: String,
        /// When GitHub asked to retry, if the wait was too long to take.
        retry_at: Option<DateTime<Utc>>,
    },
    /// No answer (connection, timeout), after retries.
    #[error("{method} {url} failed: {message}")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// The transport error.
        message: String,
    },
    /// The API host did not resolve or refused the connection: no further
    /// request goes to it in this run (the same message for every one).
    #[error("cannot reach {host}: {cause}")]
    Unreachable {
        /// `host[:port]` of the API.
        host: String,
        /// Why ([`http::unreachable_cause`]).
        cause: &'static str,
    },
    /// A successful answer that is not the JSON expected.
    #[error("{method} {url}: unexpected answer from GitHub: {message}")]
    Decode {
        /// HTTP method.
        method: &'static str,
        /// API URL (no query).
        url: String,
        /// The parse error.
        message: String,
    },
    /// The ticket branch's pull request was closed without merging.
    #[error(
        "pull request #{number} ({url}) from {head} into {base} was closed without merging; \
         cycle neither reopens nor duplicates it: reopen it by hand, or delete the branch and start again"
    )]
    ClosedUnmerged {
        /// Its number.
        number: u64,
        /// Its web URL.
        url: String,
        /// `owner:branch`.
        head: String,
        /// Base branch.
        base: String,
    },
    /// GitHub said a pull request exists for the head, yet lists none.
    #[error(
        "GitHub refuses a new pull request from {head} into {base} of {repo} because one \
         already exists, but lists none for that head and base; check the repository's pull requests"
    )]
    ExistsButNotListed {
        /// `owner/name`.
        repo: String,
        /// `owner:branch`.
        head: String,
        /// Base branch.
        base: String,
    },
}

fn retry_hint(at: Option<DateTime<Utc>>) -> String {
    match at {
        Some(at) => {
            let secs = (at - Utc::now()).num_seconds().max(0);
            format!(
                "GitHub allows the next request at {} (in {secs} s); run again after that",
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )
        }
        None => "wait a few minutes and run again".to_string(),
    }
}

impl GithubError {
    /// Whether GitHub refused because the token is an installation token
    /// (`403 Resource not accessible by integration`), not a user's.
    pub fn is_integration_refusal(&self) -> bool {
        matches!(self, GithubError::Credentials { status: 403, message, .. }
            if message.contains("Resource not accessible by integration"))
    }
}

impl RetryError for GithubError {
    fn wait_too_long(self, wait: Duration) -> Self {
        let at = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|d| Utc::now().checked_add_signed(d));
        match self {
            GithubError::RateLimited {
                method,
                url,
                status,
                message,
                ..
            } => GithubError::RateLimited {
                method,
                url,
                status,
                message,
                retry_at: at,
            },
            GithubError::Api {
                method,
                url,
                status,
                message,
                ..
            } => GithubError::Api {
                method,
                url,
                status,
                message,
                retry_at: at,
            },
            other => other,
        }
    }
}

/// Where and as whom to call GitHub.
#[derive(Clone)]
pub struct Config {
    api_url: reqwest::Url,
    token: Secret,
    retry: RetryPolicy,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_url", &http::display_url(&self.api_url))
            .field("token", &self.token)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Config {
    /// Reads `GITHUB_TOKEN` and `GITHUB_API_URL` from the environment.
    ///
    /// # Errors
    /// [`GithubError::NotConfigured`] naming `GITHUB_TOKEN` when it is unset
    /// or empty; [`GithubError::InvalidApiUrl`], [`GithubError::InvalidToken`].
    pub fn from_env() -> Result<Self, GithubError> {
        Self::from_vars(http::env_var)
    }

    /// [`Config::from_env`] over any lookup of variables (`None`: unset).
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, GithubError> {
        let nonempty = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(token) = nonempty(TOKEN_ENV) else {
            return Err(GithubError::NotConfigured {
                vars: vec![TOKEN_ENV],
            });
        };
        let api_url = nonempty(API_URL_ENV).unwrap_or_else(|| DEFAULT_API_URL.to_string());
        Self::new(&api_url, Secret::new(token))
    }

    /// A configuration for the API root `api_url` (e.g. a test server).
    ///
    /// # Errors
    /// [`GithubError::InvalidApiUrl`] unless `api_url` is an http(s) URL
    /// without credentials or query; [`GithubError::InvalidToken`].
    pub fn new(api_url: &str, token: Secret) -> Result<Self, GithubError> {
        let invalid = |value: String, reason: &str| GithubError::InvalidApiUrl {
            value,
            reason: reason.to_string(),
        };
        let url = reqwest::Url::parse(api_url.trim())
            .map_err(|e| invalid(token.scrub(api_url), &e.to_string()))?;
        let shown = http::display_url(&url);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(shown, "the scheme must be https (or http)"));
        }
        if let Some(reason) = http::refuses_credentials(url.as_str()) {
            return Err(invalid(shown, reason));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                shown,
                "it must not carry credentials; put the token in GITHUB_TOKEN",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(shown, "it must not have a query or fragment"));
        }
        if token.expose().is_empty() || !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return Err(GithubError::InvalidToken);
        }
        Ok(Self {
            api_url: url,
            token,
            retry: RetryPolicy::default(),
        })
    }

    /// The same configuration with another retry policy (tests use short
    /// delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The API root, for messages (no credentials, no query).
    pub fn api_url(&self) -> String {
        http::display_url(&self.api_url)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
}

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

/// The pull request a ticket branch should have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrSpec {
    /// Target repository, `owner/name`.
    pub repo: String,
    /// Owner of the head branch: the fork's owner, or the repository owner.
    pub head_owner: String,
    /// Head branch, e.g. `tickets/OSW-2010`.
    pub branch: String,
    /// Base branch, e.g. `main`.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// Open as a draft (only when opening; an existing pull request keeps
    /// its draft state).
    pub draft: bool,
    /// Labels to have (added when missing, never removed).
    pub labels: Vec<String>,
    /// User logins whose review to request.
    pub reviewers: Vec<String>,
    /// Team slugs whose review to request (`org/slug` is read as `slug`).
    pub team_reviewers: Vec<String>,
}

impl PrSpec {
    /// The head as GitHub's list filter and messages write it: `owner:branch`.
    pub fn head_label(&self) -> String {
        format!("{}:{}", self.head_owner, self.branch)
    }

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
        if !branch_ok(&self.branch) {
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
    pub fn from_spec(spec: &PrSpec) -> Self {
        Self {
            head_owner: spec.head_owner.clone(),
            branch: spec.branch.clone(),
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

/// The GitHub calls the step functions need. Implementations retry
/// transient failures themselves; [`GithubClient`] is the real one.
#[async_trait::async_trait]
pub trait PullRequestApi: Send + Sync {
    /// Pull requests from `head` (`owner:branch`) into `base`, in every
    /// state (`GET /repos/{owner}/{repo}/pulls?head=&base=&state=all`).
    async fn list_pulls(
        &self,
        repo: &RepoName,
        head: &str,
        base: &str,
    ) -> Result<Vec<PullRequest>, GithubError>;

    /// Opens a pull request (`POST /repos/{owner}/{repo}/pulls`). A 422
    /// "A pull request already exists" is [`Created::AlreadyExists`].
    async fn create_pull(&self, repo: &RepoName, new: &NewPull) -> Result<Created, GithubError>;

    /// Writes title and body (`PATCH /repos/{owner}/{repo}/pulls/{number}`).
    async fn update_pull(
        &self,
        repo: &RepoName,
        number: u64,
        update: &PullUpdate,
    ) -> Result<PullRequest, GithubError>;

    /// Logins that submitted a review (`GET .../pulls/{number}/reviews`).
    async fn reviewed_by(&self, repo: &RepoName, number: u64) -> Result<Vec<String>, GithubError>;

    /// Requests reviews (`POST .../pulls/{number}/requested_reviewers`).
    async fn request_reviewers(
        &self,
        repo: &RepoName,
        number: u64,
        request: &ReviewRequest,
    ) -> Result<(), GithubError>;

    /// Adds labels (`POST /repos/{owner}/{repo}/issues/{number}/labels`).
    async fn add_labels(
        &self,
        repo: &RepoName,
        number: u64,
        labels: &[String],
    ) -> Result<(), GithubError>;

    /// Whose the token is (`GET /user`): a user's login, or an
    /// installation token, which GitHub answers `403 Resource not
    /// accessible by integration`; read only.
    async fn authenticated_user(&self) -> Result<Identity, GithubError>;

    /// The repository and what the token's user may do in it
    /// (`GET /repos/{owner}/{repo}`); `None` when GitHub answers 404 (no
    /// such repository, or the token cannot see it). Read only.
    async fn repository(&self, repo: &RepoName) -> Result<Option<RepoInfo>, GithubError>;

    /// Whether `login` is a collaborator of the repository, so that a review
    /// can be requested from them (`GET /repos/{owner}/{repo}/collaborators/{login}`:
    /// 204 or 404). Read only.
    async fn is_collaborator(&self, repo: &RepoName, login: &str) -> Result<bool, GithubError>;

    /// Whether team `slug` exists in organisation `org`
    /// (`GET /orgs/{org}/teams/{slug}`: 200 or 404). Read only.
    async fn team_exists(&self, org: &str, slug: &str) -> Result<bool, GithubError>;

    /// Whether the repository has label `name`
    /// (`GET /repos/{owner}/{repo}/labels/{name}`: 200 or 404). Read only.
    async fn label_exists(&self, repo: &RepoName, name: &str) -> Result<bool, GithubError>;

    /// Every comment of issue or pull request `number`, oldest first
    /// (`GET /repos/{owner}/{repo}/issues/{number}/comments`, all pages).
    async fn issue_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError>;

    /// Adds a comment (`POST /repos/{owner}/{repo}/issues/{number}/comments`).
    async fn create_issue_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError>;

    /// Rewrites comment `id` (`PATCH /repos/{owner}/{repo}/issues/comments/{id}`).
    async fn update_issue_comment(
        &self,
        repo: &RepoName,
        id: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError>;
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
    spec: &PrSpec,
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
    spec: &PrSpec,
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
fn settled(pr: &PullRequest, spec: &PrSpec) -> Result<PullRequest, GithubError> {
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
pub fn pull_update(pr: &PullRequest, spec: &PrSpec) -> Option<PullUpdate> {
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
pub fn missing_reviewers(spec: &PrSpec, pr: &PullRequest, reviewed: &[String]) -> ReviewRequest {
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
pub fn missing_labels(spec: &PrSpec, pr: &PullRequest) -> Vec<String> {
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

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    errors: Vec<serde_json::Value>,
}

/// GitHub's error text: its `message` and each `errors[]` entry's message
/// (or `resource.field: code`); the body itself when it is plain text, the
/// status's reason when it is empty or HTML.
pub fn error_text(status: StatusCode, body: &str) -> String {
    let Ok(parsed) = serde_json::from_str::<ErrorBody>(body) else {
        // A proxy's HTML page says no more than the status.
        let text: String = body.trim().chars().take(300).collect();
        return if text.is_empty() || text.starts_with('<') {
            status
                .canonical_reason()
                .unwrap_or("no message")
                .to_string()
        } else {
            text
        };
    };
    let mut text = parsed
        .message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no message")
                .to_string()
        });
    let details: Vec<String> = parsed
        .errors
        .iter()
        .map(|e| match e {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => match o.get("message").and_then(|m| m.as_str()) {
                Some(m) => m.to_string(),
                None => {
                    let get = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("");
                    format!("{}.{}: {}", get("resource"), get("field"), get("code"))
                }
            },
            other => other.to_string(),
        })
        .collect();
    if !details.is_empty() {
        text.push_str(": ");
        text.push_str(&details.join("; "));
    }
    text
}

/// Whether a 422 answer to opening a pull request says one already exists.
pub fn already_exists(status: StatusCode, body: &str) -> bool {
    status == StatusCode::UNPROCESSABLE_ENTITY
        && serde_json::from_str::<ErrorBody>(body).is_ok_and(|b| {
            b.errors.iter().any(|e| {
                e.get("message")
                    .and_then(|m| m.as_str())
                    .or_else(|| e.as_str())
                    .is_some_and(|m| m.contains("A pull request already exists"))
            })
        })
}

/// Whether an answer is a rate limit, and the wait it asks for: 429, or 403
/// with `Retry-After`, `x-ratelimit-remaining: 0` or a message about a rate
/// limit. A limit that names no wait gets GitHub's documented minute.
pub fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<Duration> {
    let told = http::retry_after(headers);
    let says_limit = message.to_ascii_lowercase().contains("rate limit");
    match status {
        StatusCode::TOO_MANY_REQUESTS => Some(told.unwrap_or(SECONDARY_LIMIT_WAIT)),
        StatusCode::FORBIDDEN if told.is_some() || says_limit => {
            Some(told.unwrap_or(SECONDARY_LIMIT_WAIT))
        }
        _ => None,
    }
}

/// Percent-encodes a query component or path segment (everything but
/// unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `null` read as the default (GitHub sends `null` for some empty lists).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct WireLogin {
    login: String,
}

#[derive(Deserialize)]
struct WireTeam {
    slug: String,
}

#[derive(Deserialize)]
struct WireLabel {
    name: String,
}

#[derive(Deserialize)]
struct WireRef {
    #[serde(rename = "ref")]
    branch: String,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
struct WirePull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default, deserialize_with = "nullable")]
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    draft: bool,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    user: Option<WireLogin>,
    head: WireRef,
    base: WireRef,
    #[serde(default, deserialize_with = "nullable")]
    labels: Vec<WireLabel>,
    #[serde(default, deserialize_with = "nullable")]
    requested_reviewers: Vec<WireLogin>,
    #[serde(default, deserialize_with = "nullable")]
    requested_teams: Vec<WireTeam>,
}

impl From<WirePull> for PullRequest {
    fn from(w: WirePull) -> Self {
        let state = if w.merged_at.is_some() {
            PrState::Merged
        } else if w.state.eq_ignore_ascii_case("open") {
            PrState::Open
        } else {
            PrState::Closed
        };
        PullRequest {
            number: w.number,
            url: w.html_url,
            state,
            title: w.title,
            body: w.body.unwrap_or_default(),
            draft: w.draft,
            author: w.user.map(|u| u.login),
            head: w.head.label.unwrap_or(w.head.branch),
            base: w.base.branch,
            labels: w.labels.into_iter().map(|l| l.name).collect(),
            requested_reviewers: w.requested_reviewers.into_iter().map(|u| u.login).collect(),
            requested_teams: w.requested_teams.into_iter().map(|t| t.slug).collect(),
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
struct WirePermissions {
    #[serde(default)]
    push: bool,
    #[serde(default)]
    pull: bool,
}

#[derive(Deserialize)]
struct WireRepo {
    full_name: String,
    /// Absent for an installation token (GitHub Actions' `GITHUB_TOKEN`).
    #[serde(default)]
    permissions: Option<WirePermissions>,
    #[serde(default, deserialize_with = "nullable")]
    archived: bool,
}

#[derive(Deserialize)]
struct WireReview {
    #[serde(default)]
    user: Option<WireLogin>,
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// An answer with its body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// The real [`PullRequestApi`]: octocrab with timeouts, `Bearer` token, and
/// [`http::with_retry`] around every call. Build it inside a Tokio runtime
/// (octocrab spawns its request worker there) and use it on that runtime.
pub struct GithubClient {
    crab: octocrab::Octocrab,
    api_url: String,
    token: Secret,
    retry: RetryPolicy,
    reach: http::Reachability,
}

impl fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubClient")
            .field("api_url", &self.api_url)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl GithubClient {
    /// A client for `config`.
    ///
    /// # Errors
    /// [`GithubError::Setup`] outside a Tokio runtime or when octocrab
    /// refuses the API URL.
    pub fn new(config: Config) -> Result<Self, GithubError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(GithubError::Setup(
                "it must be created inside a Tokio runtime".into(),
            ));
        }
        let api_url = config.api_url();
        let crab = octocrab::Octocrab::builder()
            .base_uri(config.api_url.as_str())
            .map_err(|e| GithubError::Setup(format!("API URL {api_url}: {e}")))?
            .personal_token(config.token.expose().to_string())
            .add_header(
                reqwest::header::ACCEPT,
                "application/vnd.github+json".to_string(),
            )
            .set_connect_timeout(Some(http::CONNECT_TIMEOUT))
            .set_read_timeout(Some(http::REQUEST_TIMEOUT))
            .set_write_timeout(Some(http::REQUEST_TIMEOUT))
            .build()
            .map_err(|e| GithubError::Setup(config.token.scrub(&e.to_string())))?;
        Ok(Self {
            crab,
            api_url: api_url.trim_end_matches('/').to_string(),
            token: config.token,
            retry: config.retry,
            reach: http::Reachability::default(),
        })
    }

    /// A client from [`Config::from_env`].
    ///
    /// # Errors
    /// As [`Config::from_env`] and [`GithubClient::new`].
    pub fn from_env() -> Result<Self, GithubError> {
        Self::new(Config::from_env()?)
    }

    /// The API URL of `path` for messages (no query).
    fn shown(&self, path: &str) -> String {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        format!("{}{path}", self.api_url)
    }

    /// One request, no retry: `Done(Ok)` for any answer, `Retry` for a
    /// transport failure worth retrying (a whole request, answer included,
    /// taking longer than [`http::REQUEST_TIMEOUT`] is one).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Attempt<Answer, GithubError> {
        let failed = |message: String| GithubError::Transport {
            method: method.as_str(),
            url: self.shown(path),
            message: self.token.scrub(&message),
        };
        let host = http::host_of(&self.api_url);
        let unreachable = |cause| {
            Attempt::Done(Err(GithubError::Unreachable {
                host: host.clone(),
                cause,
            }))
        };
        if let Some(cause) = self.reach.cause(&host) {
            return unreachable(cause);
        }
        let exchange = async {
            let response = match method {
                Method::Get => self.crab._get(path).await,
                Method::Post => self.crab._post(path, body).await,
                Method::Patch => self.crab._patch(path, body).await,
            }?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self.crab.body_to_string(response).await?;
            Ok::<_, octocrab::Error>(Answer {
                status,
                headers,
                body,
            })
        };
        match tokio::time::timeout(http::REQUEST_TIMEOUT, exchange).await {
            Ok(Ok(answer)) => Attempt::Done(Ok(answer)),
            Ok(Err(e)) => {
                let transient = matches!(
                    e,
                    octocrab::Error::Hyper { .. } | octocrab::Error::Service { .. }
                );
                let chain = http::error_chain(&e);
                if let Some(cause) = self.reach.record(&host, &chain) {
                    return unreachable(cause);
                }
                let error = failed(chain);
                if transient {
                    Attempt::Retry { error, after: None }
                } else {
                    Attempt::Done(Err(error))
                }
            }
            Err(_) => Attempt::Retry {
                error: failed(format!(
                    "no answer within {} s",
                    http::REQUEST_TIMEOUT.as_secs()
                )),
                after: None,
            },
        }
    }

    /// Sorts an answer: success, an error worth retrying, or a final error.
    fn judge(&self, method: Method, path: &str, answer: Answer) -> Attempt<Answer, GithubError> {
        let status = answer.status;
        if status.is_success() {
            return Attempt::Done(Ok(answer));
        }
        let method = method.as_str();
        let url = self.shown(path);
        let message = self.token.scrub(&error_text(status, &answer.body));
        if let Some(wait) = rate_limit_wait(status, &answer.headers, &message) {
            return Attempt::Retry {
                error: GithubError::RateLimited {
                    method,
                    url,
                    status: status.as_u16(),
                    message,
                    retry_at: None,
                },
                after: Some(wait),
            };
        }
        let error = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => GithubError::Credentials {
                method,
                url,
                status: status.as_u16(),
                message,
            },
            StatusCode::NOT_FOUND => GithubError::NotFound {
                method,
                url,
                message,
            },
            _ => GithubError::Api {
                method,
                url,
                status: status.as_u16(),
                message,
                retry_at: None,
            },
        };
        if http::is_transient(status) {
            Attempt::Retry {
                error,
                after: http::retry_after(&answer.headers),
            }
        } else {
            Attempt::Done(Err(error))
        }
    }

    /// A request that is safe to repeat, retried per the policy.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GithubError> {
        http::with_retry(&self.retry, |_| async move {
            match self.send(method, path, body).await {
                Attempt::Done(Ok(answer)) => self.judge(method, path, answer),
                other => other,
            }
        })
        .await
    }

    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        answer: &Answer,
    ) -> Result<T, GithubError> {
        serde_json::from_str(&answer.body).map_err(|e| GithubError::Decode {
            method: method.as_str(),
            url: self.shown(path),
            message: e.to_string(),
        })
    }

    /// A read that may find nothing: the answer, or `None` on a 404.
    async fn probe(&self, path: &str) -> Result<Option<Answer>, GithubError> {
        match self.call(Method::Get, path, None).await {
            Ok(answer) => Ok(Some(answer)),
            Err(GithubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn pulls(
        &self,
        repo: &RepoName,
        head: &str,
        base: &str,
        state: &str,
    ) -> Result<Vec<PullRequest>, GithubError> {
        let path = format!(
            "/repos/{}/{}/pulls?{}",
            repo.owner,
            repo.name,
            query(&[
                ("head", head),
                ("base", base),
                ("state", state),
                ("per_page", PER_PAGE)
            ])
        );
        let answer = self.call(Method::Get, &path, None).await?;
        let pulls: Vec<WirePull> = self.decode(Method::Get, &path, &answer)?;
        Ok(pulls.into_iter().map(PullRequest::from).collect())
    }
}

/// Most pages of tags read for one repository (100 tags each).
const MAX_TAG_PAGES: u32 = 50;

/// The tags of a repository: what `cycle check` compares the cycle's
/// versions with.
#[async_trait::async_trait]
pub trait TagApi: Send + Sync {
    /// Every tag name of `repo` (all pages of `GET /repos/{o}/{r}/tags`,
    /// GitHub's order: newest first for version-like names).
    async fn tags(&self, repo: &RepoName) -> Result<Vec<String>, GithubError>;
}

/// The page after this one, from a `Link` header (`<url>; rel="next"`).
fn has_next_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|part| part.contains("rel=\"next\"")))
}

#[async_trait::async_trait]
impl TagApi for GithubClient {
    async fn tags(&self, repo: &RepoName) -> Result<Vec<String>, GithubError> {
        #[derive(Deserialize)]
        struct WireTag {
            name: String,
        }
        let mut names = Vec::new();
        for page in 1..=MAX_TAG_PAGES {
            let path = format!(
                "/repos/{}/{}/tags?per_page={PER_PAGE}&page={page}",
                repo.owner, repo.name
            );
            let answer = self.call(Method::Get, &path, None).await?;
            let tags: Vec<WireTag> = self.decode(Method::Get, &path, &answer)?;
            names.extend(tags.into_iter().map(|t| t.name));
            if !has_next_page(&answer.headers) {
                break;
            }
        }
        Ok(names)
    }
}

#[async_trait::async_trait]
impl PullRequestApi for GithubClient {
    async fn issue_comments(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError> {
        let mut all = Vec::new();
        for page in 1.. {
            let path = format!(
                "/repos/{}/{}/issues/{number}/comments?per_page={PER_PAGE}&page={page}",
                encode(&repo.owner),
                encode(&repo.name)
            );
            let answer = self.call(Method::Get, &path, None).await?;
            let comments: Vec<IssueComment> = self.decode(Method::Get, &path, &answer)?;
            let last = comments.len() < PER_PAGE.parse::<usize>().unwrap_or(100);
            all.extend(comments);
            if last {
                break;
            }
        }
        Ok(all)
    }

    async fn create_issue_comment(
        &self,
        repo: &RepoName,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = format!(
            "/repos/{}/{}/issues/{number}/comments",
            encode(&repo.owner),
            encode(&repo.name)
        );
        let answer = self
            .call(Method::Post, &path, Some(&json!({ "body": body })))
            .await?;
        self.decode(Method::Post, &path, &answer)
    }

    async fn update_issue_comment(
        &self,
        repo: &RepoName,
        id: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let path = format!(
            "/repos/{}/{}/issues/comments/{id}",
            encode(&repo.owner),
            encode(&repo.name)
        );
        let answer = self
            .call(Method::Patch, &path, Some(&json!({ "body": body })))
            .await?;
        self.decode(Method::Patch, &path, &answer)
    }

    async fn list_pulls(
        &self,
        repo: &RepoName,
        head: &str,
        base: &str,
    ) -> Result<Vec<PullRequest>, GithubError> {
        self.pulls(repo, head, base, "all").await
    }

    async fn create_pull(&self, repo: &RepoName, new: &NewPull) -> Result<Created, GithubError> {
        let path = format!("/repos/{}/{}/pulls", repo.owner, repo.name);
        let body = create_body(repo, new);
        let head = new.head_label();
        let (path, body, head) = (&path, &body, &head);
        http::with_retry(&self.retry, |attempt| async move {
            if attempt > 1 {
                // The last attempt may have opened it before its answer was lost.
                match self.pulls(repo, head, &new.base, "open").await {
                    Ok(open) => {
                        if let Some(pr) = pick(&open) {
                            return Attempt::Done(Ok(Created::Opened(Box::new(pr.clone()))));
                        }
                    }
                    Err(e) => return Attempt::Done(Err(e)),
                }
            }
            let answer = match self.send(Method::Post, path, Some(body)).await {
                Attempt::Done(Ok(answer)) => answer,
                Attempt::Done(Err(e)) => return Attempt::Done(Err(e)),
                Attempt::Retry { error, after } => return Attempt::Retry { error, after },
            };
            if already_exists(answer.status, &answer.body) {
                return Attempt::Done(Ok(Created::AlreadyExists));
            }
            match self.judge(Method::Post, path, answer) {
                Attempt::Done(Ok(answer)) => Attempt::Done(
                    self.decode::<WirePull>(Method::Post, path, &answer)
                        .map(|w| Created::Opened(Box::new(w.into()))),
                ),
                Attempt::Done(Err(e)) => Attempt::Done(Err(e)),
                Attempt::Retry { error, after } => Attempt::Retry { error, after },
            }
        })
        .await
    }

    async fn update_pull(
        &self,
        repo: &RepoName,
        number: u64,
        update: &PullUpdate,
    ) -> Result<PullRequest, GithubError> {
        let path = format!("/repos/{}/{}/pulls/{number}", repo.owner, repo.name);
        let body = serde_json::to_value(update).map_err(|e| GithubError::Decode {
            method: "PATCH",
            url: self.shown(&path),
            message: e.to_string(),
        })?;
        let answer = self.call(Method::Patch, &path, Some(&body)).await?;
        Ok(self
            .decode::<WirePull>(Method::Patch, &path, &answer)?
            .into())
    }

    async fn reviewed_by(&self, repo: &RepoName, number: u64) -> Result<Vec<String>, GithubError> {
        let path = format!(
            "/repos/{}/{}/pulls/{number}/reviews?per_page={PER_PAGE}",
            repo.owner, repo.name
        );
        let answer = self.call(Method::Get, &path, None).await?;
        let reviews: Vec<WireReview> = self.decode(Method::Get, &path, &answer)?;
        Ok(reviews
            .into_iter()
            .filter_map(|r| r.user.map(|u| u.login))
            .collect())
    }

    async fn request_reviewers(
        &self,
        repo: &RepoName,
        number: u64,
        request: &ReviewRequest,
    ) -> Result<(), GithubError> {
        let path = format!(
            "/repos/{}/{}/pulls/{number}/requested_reviewers",
            repo.owner, repo.name
        );
        let body = json!({
            "reviewers": request.reviewers,
            "team_reviewers": request.team_reviewers,
        });
        self.call(Method::Post, &path, Some(&body)).await.map(drop)
    }

    async fn add_labels(
        &self,
        repo: &RepoName,
        number: u64,
        labels: &[String],
    ) -> Result<(), GithubError> {
        let path = format!("/repos/{}/{}/issues/{number}/labels", repo.owner, repo.name);
        let body = json!({ "labels": labels });
        self.call(Method::Post, &path, Some(&body)).await.map(drop)
    }

    async fn authenticated_user(&self) -> Result<Identity, GithubError> {
        match self.call(Method::Get, "/user", None).await {
            Ok(answer) => Ok(Identity::User(
                self.decode::<WireLogin>(Method::Get, "/user", &answer)?
                    .login,
            )),
            Err(e) if e.is_integration_refusal() => Ok(Identity::Installation),
            Err(e) => Err(e),
        }
    }

    async fn repository(&self, repo: &RepoName) -> Result<Option<RepoInfo>, GithubError> {
        let path = format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name));
        let Some(answer) = self.probe(&path).await? else {
            return Ok(None);
        };
        let wire: WireRepo = self.decode(Method::Get, &path, &answer)?;
        let permissions = wire.permissions.unwrap_or_default();
        Ok(Some(RepoInfo {
            full_name: wire.full_name,
            permissions_shown: wire.permissions.is_some(),
            push: permissions.push,
            pull: permissions.pull,
            archived: wire.archived,
        }))
    }

    async fn is_collaborator(&self, repo: &RepoName, login: &str) -> Result<bool, GithubError> {
        let path = format!(
            "/repos/{}/{}/collaborators/{}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(login)
        );
        Ok(self.probe(&path).await?.is_some())
    }

    async fn team_exists(&self, org: &str, slug: &str) -> Result<bool, GithubError> {
        let path = format!("/orgs/{}/teams/{}", encode(org), encode(slug));
        Ok(self.probe(&path).await?.is_some())
    }

    async fn label_exists(&self, repo: &RepoName, name: &str) -> Result<bool, GithubError> {
        let path = format!(
            "/repos/{}/{}/labels/{}",
            encode(&repo.owner),
            encode(&repo.name),
            encode(name)
        );
        Ok(self.probe(&path).await?.is_some())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_sticky_comment_s_author_is_the_token_s_identity() {
        let author = |login: &str, kind: &str| CommentAuthor {
            login: login.into(),
            kind: kind.into(),
        };
        let user = Identity::User("cycle-bot".into());
        assert!(user.wrote(&author("cycle-bot", "User")));
        assert!(user.wrote(&author("Cycle-Bot", "User")));
        assert!(!user.wrote(&author("rbovill", "User")));
        assert!(!user.wrote(&author("github-actions[bot]", "Bot")));
        let app = Identity::Installation;
        assert!(app.wrote(&author("github-actions[bot]", "Bot")));
        assert!(!app.wrote(&author("rbovill", "User")));
        // A person cannot be a bot by name alone.
        assert!(!app.wrote(&author("mallory[bot]", "User")));
        assert!(!app.wrote(&author("cycle-bot", "Bot")));
    }
    use super::*;
    use reqwest::header::HeaderValue;

    fn spec() -> PrSpec {
        PrSpec {
            repo: "lsst-sqre/phalanx".into(),
            head_owner: "lsst-sqre".into(),
            branch: "tickets/OSW-2010".into(),
            base: "main".into(),
            title: "Cycle 44 Summit configuration".into(),
            body: "OSW-2010\n\n- New tag: `c0044`\n".into(),
            draft: false,
            labels: vec!["cycle".into()],
            reviewers: vec!["alice".into(), "bob".into()],
            team_reviewers: vec!["lsst-ts/build-team".into()],
        }
    }

    fn pr(number: u64, state: PrState) -> PullRequest {
        PullRequest {
            number,
            url: format!("https://github.com/lsst-sqre/phalanx/pull/{number}"),
            state,
            title: "Cycle 44 Summit configuration".into(),
            body: "OSW-2010\r\n\r\n- New tag: `c0044`".into(),
            draft: false,
            author: Some("cycle-bot".into()),
            head: "lsst-sqre:tickets/OSW-2010".into(),
            base: "main".into(),
            labels: vec!["Cycle".into()],
            requested_reviewers: vec!["Alice".into()],
            requested_teams: vec![],
        }
    }

    #[test]
    fn config_needs_a_token_and_an_http_url() {
        let err = Config::from_vars(|_| None).unwrap_err();
        assert!(matches!(&err, GithubError::NotConfigured { vars } if vars == &["GITHUB_TOKEN"]));
        assert!(err.to_string().contains("set GITHUB_TOKEN"), "{err}");
        let c = Config::from_vars(|n| (n == TOKEN_ENV).then(|| "  tok-1 \n".into())).unwrap();
        assert_eq!(c.api_url(), "https://api.github.com/");
        assert!(!format!("{c:?}").contains("tok-1"));
        let ghe = |url: &str| {
            Config::from_vars(|n| match n {
                TOKEN_ENV => Some("tok-1".into()),
                _ => Some(url.into()),
            })
        };
        assert_eq!(
            ghe("https://ghe.example.org/api/v3").unwrap().api_url(),
            "https://ghe.example.org/api/v3"
        );
        let err = ghe("https://user:tok-1@ghe.example.org/api/v3").unwrap_err();
        assert!(!err.to_string().contains("tok-1"), "{err}");
        assert!(matches!(
            ghe("ftp://x/").unwrap_err(),
            GithubError::InvalidApiUrl { .. }
        ));
        assert!(matches!(
            Config::new(DEFAULT_API_URL, Secret::new("a b")),
            Err(GithubError::InvalidToken)
        ));
    }

    #[test]
    fn spec_validation_names_the_field() {
        assert_eq!(
            spec().validate().unwrap(),
            RepoName {
                owner: "lsst-sqre".into(),
                name: "phalanx".into()
            }
        );
        let bad = |f: fn(&mut PrSpec)| {
            let mut s = spec();
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert!(bad(|s| s.repo = "phalanx".into()).contains("owner/name"));
        assert!(bad(|s| s.repo = "a/b/c".into()).contains("owner/name"));
        assert!(bad(|s| s.head_owner = "a:b".into()).contains("head owner"));
        assert!(bad(|s| s.branch = "".into()).contains("head branch"));
        assert!(bad(|s| s.base = "ma in".into()).contains("base branch"));
        assert!(bad(|s| s.title = " ".into()).contains("title"));
    }

    #[test]
    fn pick_prefers_open_then_merged_then_closed_newest_first() {
        assert_eq!(pick(&[]), None);
        let list = [
            pr(1, PrState::Closed),
            pr(3, PrState::Merged),
            pr(2, PrState::Merged),
        ];
        assert_eq!(pick(&list).map(|p| p.number), Some(3));
        let list = [
            pr(1, PrState::Closed),
            pr(4, PrState::Open),
            pr(3, PrState::Merged),
        ];
        assert_eq!(pick(&list).map(|p| p.number), Some(4));
        assert_eq!(pick(&[pr(1, PrState::Closed)]).map(|p| p.number), Some(1));
    }

    #[test]
    fn update_only_what_differs_ignoring_line_endings() {
        let open = pr(7, PrState::Open);
        assert_eq!(pull_update(&open, &spec()), None);
        let mut s = spec();
        s.body.push_str("- 3 revisions reset to 0\n");
        let update = pull_update(&open, &s).unwrap();
        assert_eq!(update.title, None);
        assert_eq!(update.body.as_deref(), Some(s.body.as_str()));
        let diff = body_diff(&open.body, &s.body);
        assert!(diff.contains("+- 3 revisions reset to 0"), "{diff}");
        assert!(!diff.contains("-OSW-2010"), "{diff}");
        s.title = "Cycle 45 Summit configuration".into();
        let update = pull_update(&open, &s).unwrap();
        assert_eq!(
            update.title.as_deref(),
            Some("Cycle 45 Summit configuration")
        );
        assert_eq!(
            serde_json::to_value(PullUpdate {
                title: None,
                body: Some("b".into()),
                state: None,
            })
            .unwrap(),
            json!({"body": "b"})
        );
    }

    #[test]
    fn reviewers_and_labels_only_the_missing_ones() {
        let mut s = spec();
        s.reviewers.push("cycle-bot".into());
        s.reviewers.push("BOB".into());
        let open = pr(7, PrState::Open);
        let r = missing_reviewers(&s, &open, &[]);
        assert_eq!(r.reviewers, ["bob"]);
        assert_eq!(r.team_reviewers, ["build-team"]);
        let r = missing_reviewers(&s, &open, &["bob".into()]);
        assert!(r.is_empty(), "{r:?}");
        assert_eq!(missing_labels(&s, &open), Vec::<String>::new());
        s.labels = vec!["cycle".into(), "summit".into(), "Summit".into()];
        assert_eq!(missing_labels(&s, &open), ["summit"]);
    }

    #[test]
    fn create_body_uses_owner_prefix_only_from_a_fork() {
        let repo = spec().validate().unwrap();
        let mut new = NewPull::from_spec(&spec());
        let body = create_body(&repo, &new);
        assert_eq!(body["head"], "tickets/OSW-2010");
        assert_eq!(body["base"], "main");
        assert_eq!(body["draft"], false);
        new.head_owner = "fork".into();
        assert_eq!(create_body(&repo, &new)["head"], "fork:tickets/OSW-2010");
    }

    #[test]
    fn github_error_bodies_are_quoted() {
        let exists = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for lsst-sqre:tickets/OSW-2010."}],"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}"#;
        assert!(already_exists(StatusCode::UNPROCESSABLE_ENTITY, exists));
        assert!(!already_exists(StatusCode::BAD_REQUEST, exists));
        assert_eq!(
            error_text(StatusCode::UNPROCESSABLE_ENTITY, exists),
            "Validation Failed: A pull request already exists for lsst-sqre:tickets/OSW-2010."
        );
        let invalid = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"head","code":"invalid"}]}"#;
        assert!(!already_exists(StatusCode::UNPROCESSABLE_ENTITY, invalid));
        assert_eq!(
            error_text(StatusCode::UNPROCESSABLE_ENTITY, invalid),
            "Validation Failed: PullRequest.head: invalid"
        );
        assert_eq!(error_text(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
        assert_eq!(
            error_text(StatusCode::BAD_GATEWAY, "<html>oops"),
            "Bad Gateway"
        );
        assert_eq!(
            error_text(StatusCode::BAD_GATEWAY, "upstream timed out"),
            "upstream timed out"
        );
    }

    #[test]
    fn rate_limits_are_told_from_other_refusals() {
        let none = HeaderMap::new();
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &none, "Resource not accessible"),
            None
        );
        assert_eq!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &none,
                "You have exceeded a secondary rate limit."
            ),
            Some(SECONDARY_LIMIT_WAIT)
        );
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, "x"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h, "x"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            rate_limit_wait(StatusCode::UNAUTHORIZED, &h, "Bad credentials"),
            None
        );
    }

    #[test]
    fn a_long_wait_names_the_reset_time() {
        let err = GithubError::RateLimited {
            method: "GET",
            url: "https://api.github.com/repos/o/r/pulls".into(),
            status: 403,
            message: "You have exceeded a secondary rate limit.".into(),
            retry_at: None,
        }
        .wait_too_long(Duration::from_secs(3600));
        let text = err.to_string();
        assert!(text.contains("allows the next request at"), "{text}");
        assert!(
            text.contains("UTC (in 3599 s)") || text.contains("UTC (in 3600 s)"),
            "{text}"
        );
    }

    #[test]
    fn wire_pulls_read_state_from_merged_at() {
        let w: WirePull = serde_json::from_value(json!({
            "number": 5, "html_url": "https://github.com/o/r/pull/5", "state": "closed",
            "title": "t", "body": null, "merged_at": "2026-01-02T03:04:05Z",
            "user": {"login": "u"}, "head": {"ref": "b", "label": "fork:b"},
            "base": {"ref": "main", "label": "o:main"}, "labels": null,
            "requested_reviewers": [{"login": "r"}], "requested_teams": [{"slug": "t"}]
        }))
        .unwrap();
        let p = PullRequest::from(w);
        assert_eq!(
            (p.state, p.body.as_str(), p.head.as_str()),
            (PrState::Merged, "", "fork:b")
        );
        assert_eq!(
            (p.requested_reviewers, p.requested_teams),
            (vec!["r".to_string()], vec!["t".to_string()])
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query(&[("head", "o:tickets/OSW-1"), ("state", "all")]),
            "head=o%3Atickets%2FOSW-1&state=all"
        );
    }

    #[test]
    fn link_headers_say_whether_another_page_follows() {
        let mut headers = HeaderMap::new();
        assert!(!has_next_page(&headers));
        headers.insert(
            reqwest::header::LINK,
            HeaderValue::from_static(
                "<https://api.github.com/repositories/1/tags?page=1>; rel=\"prev\", \
                 <https://api.github.com/repositories/1/tags?page=3>; rel=\"next\"",
            ),
        );
        assert!(has_next_page(&headers));
        headers.insert(
            reqwest::header::LINK,
            HeaderValue::from_static("<https://api.github.com/x?page=1>; rel=\"first\""),
        );
        assert!(!has_next_page(&headers));
    }
}
