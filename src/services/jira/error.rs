//! The Jira adapter's errors, their advice and retry classification, and Jira's
//! error text.

use std::time::Duration;

use crate::services::http::RetryError;

/// Errors of the Jira adapter. Messages name the (sanitised) URL and quote
/// Jira's own error text; they never contain a credential.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Variables are missing from the environment.
    #[error("Jira is not configured: set {missing}")]
    NotConfigured {
        /// What to set.
        missing: String,
    },
    /// `JIRA_URL` is not a usable address.
    #[error("JIRA_URL is not a usable Jira address: {reason}")]
    InvalidUrl {
        /// Why.
        reason: String,
    },
    /// Jira answered 401 or 403.
    #[error(
        "Jira at {url} refused the credentials (HTTP {status}){detail}: check that {variables} \
         are valid, not expired, and allowed to use this project"
    )]
    Auth {
        /// Sanitised URL of the request.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The variables the credentials came from.
        variables: &'static str,
        /// Jira's text (with a leading `: `), or empty.
        detail: String,
    },
    /// Jira refused the request (a 4xx other than 401, 403 and 429).
    #[error("{op} failed: Jira answered HTTP {status} at {url}: {message}")]
    Rejected {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// HTTP status.
        status: u16,
        /// Jira's `errorMessages` and `errors`.
        message: String,
    },
    /// Jira kept answering 429 or 5xx until the attempts ran out.
    #[error("{op} failed: Jira at {url} kept answering HTTP {status}: {message}")]
    Unavailable {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// HTTP status of the last answer.
        status: u16,
        /// Jira's text of the last answer.
        message: String,
        /// `Retry-After` of the last answer, if any.
        retry_after: Option<Duration>,
    },
    /// Jira asked to wait longer than the retry policy allows.
    #[error(
        "{op} failed: Jira at {url} asks to wait {}s before the next request; try again later",
        wait.as_secs()
    )]
    WaitTooLong {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// The wait Jira asked for.
        wait: Duration,
    },
    /// Jira could not be reached (after retries, when transient).
    #[error("{op} failed: could not reach Jira at {url}: {message}")]
    Transport {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Jira answered with something this adapter cannot read.
    #[error("{op}: unexpected answer from Jira at {url}: {message}")]
    InvalidResponse {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Several issues carry the ticket's exact summary.
    #[error(
        "several {issue_type} issues in {project} are titled exactly \"{summary}\": {}; \
         close, retitle or move all but one (cycle does not choose between them)",
        keys.join(", ")
    )]
    Ambiguous {
        /// Project key.
        project: String,
        /// Issue type.
        issue_type: String,
        /// The summary.
        summary: String,
        /// Keys of the matching issues.
        keys: Vec<String>,
    },
    /// A duplicate `cycle` filed has no transition into a "done" status.
    #[error(
        "{key} duplicates {winner} (cycle filed both) but no transition closes it; close it \
         as a duplicate by hand"
    )]
    CannotRetire {
        /// The duplicate.
        key: String,
        /// The ticket kept.
        winner: String,
    },
    /// No active Jira user matches a user named in a site file.
    #[error(
        "no active Jira user matches \"{query}\": write their login, email address or \
         display name as Jira's user search finds it"
    )]
    UnknownUser {
        /// The user as written.
        query: String,
    },
    /// Several Jira users match a user named in a site file, none exactly.
    #[error(
        "several Jira users match \"{query}\" ({}): write one's email address instead",
        candidates.join(", ")
    )]
    AmbiguousUser {
        /// The user as written.
        query: String,
        /// The matching users' display names and emails.
        candidates: Vec<String>,
    },
    /// The ticket specification cannot be filed as it is.
    #[error("ticket \"{summary}\": {reason}")]
    InvalidSpec {
        /// The ticket's summary.
        summary: String,
        /// What is wrong.
        reason: String,
    },
}

impl RetryError for JiraError {
    fn wait_too_long(self, wait: Duration) -> Self {
        match self {
            JiraError::Unavailable { op, url, .. } | JiraError::Transport { op, url, .. } => {
                JiraError::WaitTooLong { op, url, wait }
            }
            other => other,
        }
    }
}

/// Jira's error text from an error body: `errorMessages`, then each
/// `errors` entry as `field: message` (and v3's `error`), joined with `; `.
/// A body that is not Jira's error JSON is quoted, shortened, instead.
pub(super) fn error_text(body: &str) -> String {
    if let Ok(errors) = serde_json::from_str::<gouqi::Errors>(body) {
        let mut parts = errors.error_messages;
        parts.extend(
            errors
                .errors
                .iter()
                .map(|(field, m)| format!("{field}: {m}")),
        );
        parts.extend(errors.error);
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(300) {
        _ if text.is_empty() => "(no error text)".to_string(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
