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
//! connect and read timeouts set ([`http::CONNECT_TIMEOUT`](crate::services::http::CONNECT_TIMEOUT),
//! [`http::REQUEST_TIMEOUT`](crate::services::http::REQUEST_TIMEOUT); each whole exchange is bounded by the latter
//! too, as `http::client()` does: octocrab 0.54 builds on hyper, not on the
//! reqwest 0.12 client that `http::client()` returns) and
//! without octocrab's own retry: every call goes through
//! [`http::with_retry`](crate::services::http::with_retry) with a bounded exponential backoff. Reads and
//! idempotent writes are retried on 5xx, 429, secondary rate limits and
//! transport errors; a rate limit's wait (`Retry-After`, or
//! `x-ratelimit-reset` when `x-ratelimit-remaining` is 0) is waited out when
//! it is shorter than [`RetryPolicy::max_wait`](crate::services::http::RetryPolicy::max_wait) and reported with the time
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

mod client;
mod error;
mod pr;
mod tags;
#[cfg(test)]
mod tests;
mod types;
mod wire;

pub use self::client::*;
pub use self::error::*;
pub use self::pr::*;
pub use self::tags::*;
pub use self::types::*;
use self::wire::*;
pub use crate::model::request::PullRequestRequest;

use std::time::Duration;

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
