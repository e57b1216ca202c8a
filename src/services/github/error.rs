//! The GitHub adapter's errors, their retry classification, GitHub's error text
//! and its rate-limit waits.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::services::http::{self, RetryError};

use super::*;

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
    /// A [`PullRequestRequest`] that cannot be sent.
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
