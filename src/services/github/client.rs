//! [`PullRequestApi`], the calls the pull-request steps need, and
//! [`GithubClient`], its implementation over GitHub's REST API.

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::services::http::{self, Attempt, RetryPolicy, Secret};

use super::*;

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

pub(super) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Clone, Copy)]
pub(super) enum Method {
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
pub(super) struct Answer {
    status: StatusCode,
    pub(super) headers: HeaderMap,
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
    pub(super) async fn call(
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

    pub(super) fn decode<T: serde::de::DeserializeOwned>(
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
