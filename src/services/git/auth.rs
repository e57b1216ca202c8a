//! Credentials for the git remotes (the token, only to the server's origin),
//! the credential callback's state, and retries of remote operations.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::services::http::Origin;
use git2::{Cred, CredentialType, ErrorClass, ErrorCode, RemoteCallbacks};

use super::*;

/// A secret string whose `Debug`/`Display` never reveal it.
#[derive(Clone)]
pub(super) struct Secret(pub(super) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for remote operations: an optional GitHub token, and the
/// origin (scheme, host, port) of the GitHub server it belongs to.
///
/// The token goes only to that origin, and only over https or to this
/// machine (plain http to loopback, for test servers): a repository on any
/// other host, another port or another scheme is reached without it,
/// whatever a site file's `url:` says. `Debug` prints `<redacted>` instead
/// of the token.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    token: Option<Secret>,
    /// Where the token may go; `None` when it may go nowhere (no server,
    /// or plain http to another machine).
    server: Option<Origin>,
    /// The server's URL as configured, for messages.
    server_url: String,
}

impl Credentials {
    /// No token: anonymous https, ssh agent for ssh URLs.
    pub fn none() -> Self {
        Self::default()
    }

    /// Uses `token` (empty means none) for the GitHub server at
    /// `server_url` (its origin only; never over plain http to another
    /// machine).
    pub fn with_token(token: impl Into<String>, server_url: &str) -> Self {
        let token: String = token.into();
        let token = token.trim().to_string();
        crate::redact::register(&token);
        Self {
            token: (!token.is_empty()).then_some(Secret(token)),
            server: Origin::of(server_url).filter(Origin::carries_credentials),
            server_url: sanitize_url(server_url.trim()),
        }
    }

    /// Reads the token from `GITHUB_TOKEN` (unset or empty means none), for
    /// the server of `GITHUB_SERVER_URL` (default `https://github.com`).
    pub fn from_env() -> Self {
        let server = crate::services::http::env_var(SERVER_ENV)
            .unwrap_or_else(|| DEFAULT_SERVER.to_string());
        Self::with_token(std::env::var(TOKEN_ENV).unwrap_or_default(), &server)
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `url` is on the token's server (with no server known: when
    /// there is no token either, so a refusal means "no token").
    pub(super) fn is_server(&self, url: &str) -> bool {
        match &self.server {
            Some(server) => Origin::of(url).as_ref() == Some(server),
            None => self.token.is_none(),
        }
    }

    /// The token when `url` is on the token's own origin.
    pub(super) fn token_for(&self, url: &str) -> Option<&Secret> {
        let server = self.server.as_ref()?;
        let token = self.token.as_ref()?;
        (Origin::of(url).as_ref() == Some(server)).then_some(token)
    }

    /// The GitHub server the token belongs to, for messages.
    fn server_shown(&self) -> String {
        if self.server_url.is_empty() {
            DEFAULT_SERVER.to_string()
        } else {
            self.server_url.clone()
        }
    }

    /// Replaces every occurrence of the token in `text`, in any encoding
    /// (defence in depth for messages coming from libgit2 or a server).
    pub(super) fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(Secret(t)) => crate::redact::Redactor::new(t).redact(text),
            None => text.to_string(),
        }
    }
}

/// What happened in the ssh credentials callback during one operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthOutcome {
    Fine,
    SshRejected,
    Unsupported(CredentialType),
}

/// The credentials of one operation: the HTTP session (token, timeout,
/// HTTP failure) and the state of libgit2's credentials callback (ssh).
pub(super) struct AuthState<'a> {
    creds: &'a Credentials,
    pub(super) session: Arc<http::Session>,
    outcome: Rc<Cell<AuthOutcome>>,
}

impl<'a> AuthState<'a> {
    /// The state of an operation whose advertisements libgit2 sees cut down
    /// to the refs `filter` keeps.
    pub(super) fn new(creds: &'a Credentials, timeout: Duration, filter: http::RefFilter) -> Self {
        Self {
            creds,
            session: http::Session::filtered(creds.clone(), timeout, filter),
            outcome: Rc::new(Cell::new(AuthOutcome::Fine)),
        }
    }

    /// Callbacks whose credentials callback answers ssh (the agent, once);
    /// HTTP credentials never come through it (see [`http`]).
    pub(super) fn callbacks(&self) -> RemoteCallbacks<'a> {
        let mut cb = RemoteCallbacks::new();
        let outcome = self.outcome.clone();
        let mut ssh_attempts = 0u32;
        cb.credentials(move |_url, username_from_url, allowed| {
            let fail = |o: AuthOutcome| {
                outcome.set(o);
                Err(git2::Error::new(
                    ErrorCode::Auth,
                    ErrorClass::Callback,
                    "authentication failed",
                ))
            };
            if allowed.contains(CredentialType::SSH_KEY) {
                ssh_attempts += 1;
                if ssh_attempts > 1 {
                    return fail(AuthOutcome::SshRejected);
                }
                return Cred::ssh_key_from_agent(username_from_url.unwrap_or("git"));
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(username_from_url.unwrap_or("git"));
            }
            fail(AuthOutcome::Unsupported(allowed))
        });
        cb
    }

    /// Maps a failed operation to an auth error, if auth was the cause.
    pub(super) fn error(&self, display: &str, e: &git2::Error) -> Option<GitError> {
        let url = display.to_string();
        match self.session.failure() {
            Some(http::Failure::Unauthorized { token_sent: true }) => {
                return Some(GitError::AuthRejected { url });
            }
            Some(http::Failure::Unauthorized { token_sent: false }) => {
                return Some(GitError::TokenMissing { url });
            }
            Some(http::Failure::ForeignHost { host, status }) => {
                return Some(GitError::ForeignHost {
                    url,
                    host,
                    status,
                    server: self.creds.server_shown(),
                });
            }
            None => {}
        }
        match self.outcome.get() {
            AuthOutcome::Fine if e.code() == ErrorCode::Auth => Some(if self.creds.has_token() {
                GitError::AuthRejected { url }
            } else {
                GitError::TokenMissing { url }
            }),
            AuthOutcome::Fine => None,
            AuthOutcome::SshRejected => Some(GitError::SshAuth {
                url,
                message: self.creds.scrub(e.message()),
            }),
            AuthOutcome::Unsupported(allowed) => Some(GitError::UnsupportedAuth {
                url,
                detail: format!("the server accepts only {allowed:?} credentials"),
            }),
        }
    }
}

/// libgit2's message for a failed remote operation, scrubbed of the token,
/// with a hint for HTTP 403/404 (GitHub's answers for missing permissions).
pub(super) fn remote_message(creds: &Credentials, e: &git2::Error) -> String {
    let message = creds.scrub(e.message());
    if message.contains("status code: 403") {
        format!("{message} (the token in GITHUB_TOKEN lacks permission for this repository)")
    } else if message.contains("status code: 404") {
        format!(
            "{message} (the repository does not exist or the token in GITHUB_TOKEN cannot see it)"
        )
    } else {
        message
    }
}

/// Whether a failed fetch or push is worth retrying (network trouble, HTTP
/// 5xx or 429).
pub(super) fn is_transient(e: &GitError) -> bool {
    match e {
        GitError::Remote { message, .. } => {
            let m = message.to_ascii_lowercase();
            [
                "timed out",
                "timeout",
                "connection reset",
                "connection refused",
                "connection aborted",
                "broken pipe",
                "early eof",
                "unexpected eof",
                "failed to resolve address",
                "could not resolve host",
                "status code: 5",
                "status code: 429",
                "failed to connect",
                "failed to send request",
                "network is unreachable",
            ]
            .iter()
            .any(|needle| m.contains(needle))
        }
        _ => false,
    }
}

/// Runs `op`, again after each of [`RETRY_DELAYS`] while it fails
/// transiently; a server's `Retry-After` (see [`retry_after`]) lengthens the
/// wait, up to [`MAX_RETRY_AFTER`] (a longer one is not waited for).
pub(super) fn with_retries<T>(mut op: impl FnMut() -> Result<T, GitError>) -> Result<T, GitError> {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        match op() {
            Err(e) if is_transient(&e) => match delays.next() {
                Some(delay) => {
                    let asked = retry_after(&e).unwrap_or_default();
                    if asked > MAX_RETRY_AFTER {
                        return Err(e);
                    }
                    thread::sleep((*delay).max(asked));
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

/// The longest `Retry-After` a retry waits for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The wait a server asked for in its answer (`(retry after Ns)`, which
/// [`http`] adds to a 429's or 503's message when it sent `Retry-After`).
pub(super) fn retry_after(e: &GitError) -> Option<Duration> {
    let GitError::Remote { message, .. } = e else {
        return None;
    };
    let (_, rest) = message.split_once("(retry after ")?;
    let seconds = rest.split_once("s)")?.0;
    seconds.parse().ok().map(Duration::from_secs)
}
