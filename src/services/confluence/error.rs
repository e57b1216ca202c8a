//! The Confluence adapter's errors, their retry classification, and
//! Confluence's own error text.

use std::time::Duration;

use serde_json::Value;

use crate::edit::storage::SpliceError;
use crate::services::http::RetryError;

use super::*;

/// Errors of the Confluence adapter. Messages show URLs without query or
/// credentials and never contain a token.
#[derive(Debug, thiserror::Error)]
pub enum ConfluenceError {
    /// Environment variables are missing.
    #[error(
        "Confluence is not configured: set {missing} (CONFLUENCE_URL is the site, e.g. \
         https://rubinobs.atlassian.net; Cloud uses CONFLUENCE_USER, the account e-mail, with \
         CONFLUENCE_API_TOKEN; Data Center uses CONFLUENCE_PAT, a personal access token)"
    )]
    NotConfigured {
        /// The variables to set.
        missing: String,
    },
    /// `CONFLUENCE_URL` is not usable.
    #[error("CONFLUENCE_URL is not a usable site URL: {reason}")]
    BadUrl {
        /// Why.
        reason: String,
    },
    /// 401 or 403: the credentials were refused.
    #[error(
        "Confluence at {url} refused the credentials (HTTP {status}: {message}); check that \
         {variables} are valid, not expired, and allowed to view and edit the space"
    )]
    Auth {
        /// The request URL (display form).
        url: String,
        /// 401 or 403.
        status: u16,
        /// The service's own text.
        message: String,
        /// The variables holding the credential used.
        variables: &'static str,
    },
    /// The space key is unknown (or invisible to the account).
    #[error("Confluence space {space} does not exist at {url}, or the account cannot see it")]
    SpaceNotFound {
        /// Space key.
        space: String,
        /// The site.
        url: String,
    },
    /// A 4xx answer other than 401, 403 and 409.
    #[error("Confluence refused {method} {url} (HTTP {status}): {message}")]
    Rejected {
        /// HTTP method.
        method: String,
        /// The request URL (display form).
        url: String,
        /// Status code.
        status: u16,
        /// The service's own text.
        message: String,
    },
    /// 409 on update: someone saved the page meanwhile.
    #[error(
        "page {id} changed while cycle was updating it (HTTP 409: {message}); rerun to merge \
         with the new version"
    )]
    Conflict {
        /// Page id.
        id: String,
        /// The service's own text.
        message: String,
    },
    /// 5xx, 429 or a transport error, after the retries.
    #[error("Confluence at {url} is unavailable: {message}")]
    Unavailable {
        /// The request URL (display form).
        url: String,
        /// What went wrong last.
        message: String,
    },
    /// The server asked for a longer wait than cycle allows.
    #[error("Confluence at {url} asks to wait {seconds} s before retrying; try again later")]
    RateLimited {
        /// The request URL (display form).
        url: String,
        /// The wait asked for.
        seconds: u64,
    },
    /// A success answer cycle cannot read.
    #[error("unexpected answer from {url}: {message}")]
    BadResponse {
        /// The request URL (display form).
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The live page's owned sections are broken (a marker was deleted or copied).
    #[error(
        "cannot update page \"{title}\": {source}; fix the anchors on the page (Edit, then the \
         anchor macros) and rerun"
    )]
    Page {
        /// Page title.
        title: String,
        /// What is wrong.
        source: SpliceError,
    },
    /// The rendered body is not made of owned sections (a template bug).
    #[error("the rendered body of page \"{title}\" is not usable: {source}")]
    Template {
        /// Page title.
        title: String,
        /// What is wrong.
        source: SpliceError,
    },
}

impl RetryError for ConfluenceError {
    fn wait_too_long(self, wait: Duration) -> Self {
        match self {
            ConfluenceError::Unavailable { url, .. } => ConfluenceError::RateLimited {
                url,
                seconds: wait.as_secs(),
            },
            other => other,
        }
    }
}

/// The service's own error text: v2 `errors[].title`/`detail`, v1
/// `message`, else the start of the body.
pub fn service_message(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(v) => {
            let v2: Vec<String> = v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let title = e["title"].as_str().or(e["message"].as_str())?;
                    Some(match e["detail"].as_str().filter(|d| !d.is_empty()) {
                        Some(detail) => format!("{title} ({detail})"),
                        None => title.to_string(),
                    })
                })
                .collect();
            if !v2.is_empty() {
                v2.join("; ")
            } else if let Some(m) = v["message"].as_str() {
                m.to_string()
            } else {
                body.trim().to_string()
            }
        }
        Err(_) => body.trim().to_string(),
    };
    if text.is_empty() {
        return "no error text".into();
    }
    let mut short: String = text.chars().take(MAX_MESSAGE).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// A transport error with its causes, without the URL.
pub(super) fn transport_message(e: &reqwest::Error) -> String {
    let mut message = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    if let Some(source) = std::error::Error::source(e) {
        message.push_str(": ");
        message.push_str(&crate::services::http::error_chain(source));
    }
    message
}
