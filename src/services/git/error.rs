//! The git adapter's errors and which of them are worth retrying.

use std::path::PathBuf;

use git2::Oid;

/// Errors of the git adapter. Every message names the (sanitised) repository
/// URL or the path involved and never contains a credential.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The server rejected the token from `GITHUB_TOKEN`.
    #[error(
        "authentication to {url} failed: the token in GITHUB_TOKEN was rejected \
         (check that it is valid, not expired, and has access to this repository)"
    )]
    AuthRejected {
        /// Sanitised repository URL.
        url: String,
    },
    /// The server asked for credentials but no token is configured.
    #[error(
        "{url} requires authentication but GITHUB_TOKEN is not set; export a GitHub token in GITHUB_TOKEN"
    )]
    TokenMissing {
        /// Sanitised repository URL.
        url: String,
    },
    /// ssh authentication failed (the agent has no accepted key).
    #[error(
        "ssh authentication to {url} failed: {message} \
         (is ssh-agent running with a key that has access to this repository?)"
    )]
    SshAuth {
        /// Sanitised repository URL.
        url: String,
        /// Underlying message.
        message: String,
    },
    /// A host the token does not belong to asks for credentials: the
    /// repository's own, or a redirect's target.
    #[error(
        "{url}: {host} refused access without credentials (HTTP {status}); GITHUB_TOKEN is only \
         sent to the GitHub server of GITHUB_SERVER_URL ({server}), never to another host, port \
         or scheme: clone the repository from that server, or make it readable without credentials"
    )]
    ForeignHost {
        /// Sanitised repository URL.
        url: String,
        /// The host (and port) that refused.
        host: String,
        /// 401 or 403.
        status: u16,
        /// The GitHub server's URL.
        server: String,
    },
    /// Authentication was requested in a way `cycle` cannot satisfy (an
    /// unsupported credential type, or a proxy/redirect host asking for the token).
    #[error("authentication to {url} is not possible: {detail}")]
    UnsupportedAuth {
        /// Sanitised repository URL.
        url: String,
        /// What was asked for.
        detail: String,
    },
    /// Cloning, fetching or pushing failed (after retries, if transient).
    #[error("{op} {url} failed: {message}")]
    Remote {
        /// What was being done ("cloning", "fetching", "pushing to").
        op: &'static str,
        /// Sanitised repository URL.
        url: String,
        /// Underlying message.
        message: String,
    },
    /// The remote refused to update a branch (never force-pushed).
    #[error("push of branch {branch} to {url} was rejected: {reason}")]
    PushRejected {
        /// Sanitised repository URL.
        url: String,
        /// Branch name (without `refs/heads/`).
        branch: String,
        /// Why the remote (or the fast-forward check) refused it.
        reason: String,
    },
    /// A branch name git does not accept.
    #[error("invalid branch name {name:?}")]
    InvalidBranch {
        /// The offending name.
        name: String,
    },
    /// A tag name git does not accept.
    #[error("invalid tag name {name:?}")]
    InvalidTag {
        /// The offending name.
        name: String,
    },
    /// A repository-relative file path that is empty, absolute or escapes the tree.
    #[error("invalid file path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A glob pattern globset cannot parse.
    #[error("invalid glob {glob:?}: {message}")]
    InvalidGlob {
        /// The offending pattern.
        glob: String,
        /// Parser message.
        message: String,
    },
    /// The path exists in the tree but is not a regular file.
    #[error("{path} in commit {commit} of {url} is not a regular file")]
    NotAFile {
        /// Sanitised repository URL.
        url: String,
        /// Commit looked at.
        commit: Oid,
        /// Path inside the tree.
        path: String,
    },
    /// The file content is not valid UTF-8.
    #[error("{path} in commit {commit} of {url} is not valid UTF-8")]
    NotUtf8 {
        /// Sanitised repository URL.
        url: String,
        /// Commit looked at.
        commit: Oid,
        /// Path inside the tree.
        path: String,
    },
    /// No committer/author identity could be determined.
    #[error(
        "no git identity configured: set GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL \
         (optionally GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL), \
         or `git config --global user.name/user.email` (missing: {missing})"
    )]
    MissingIdentity {
        /// Which value is missing.
        missing: &'static str,
    },
    /// Filesystem error on the cache.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// Path involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Any other libgit2 error on a cached repository.
    #[error("{context} ({url}): {message}")]
    Git {
        /// What was being done.
        context: String,
        /// Sanitised repository URL.
        url: String,
        /// libgit2 message.
        message: String,
    },
}

impl GitError {
    /// Whether a push was refused because the remote branch moved, or
    /// appeared, since it was fetched (another push got there first): not
    /// a fast-forward, or the server refusing the update as stale (a
    /// branch created meanwhile "already exists", "fetch first", a ref
    /// locked by the other push: git's "cannot lock ref", libgit2's "failed
    /// to lock file" on a local remote).
    pub fn is_raced(&self) -> bool {
        let GitError::PushRejected { reason, .. } = self else {
            return false;
        };
        let reason = reason.to_ascii_lowercase();
        reason.starts_with(NOT_FAST_FORWARD)
            || [
                "already exists",
                "fetch first",
                "non-fast-forward",
                "stale info",
                "cannot lock ref",
                "failed to lock file",
                "failed to create locked file",
            ]
            .iter()
            .any(|r| reason.contains(r))
    }
}

/// How a non-fast-forward rejection's reason starts.
pub(super) const NOT_FAST_FORWARD: &str = "not a fast-forward";
