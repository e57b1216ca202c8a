//! Git adapter: a cache of bare clones edited without a working tree.
//!
//! Every remote repository `cycle` touches is kept as a **bare** clone under a
//! cache directory ([`RepoCache`]). Branches are prepared purely in the object
//! database: files are read from a commit's tree ([`CachedRepo::read_file`]),
//! new blobs and trees are written with [`git2::build::TreeUpdateBuilder`]
//! ([`CachedRepo::commit_files`]), and a local branch ref is moved
//! ([`CachedRepo::set_local_branch`]). Because nothing is ever checked out,
//! several sites can prepare different branches of the same repository at the
//! same time.
//!
//! Two kinds of clones:
//!
//! * [`RepoCache::sync`] keeps every branch with its whole history
//!   (`+refs/heads/*:refs/remotes/origin/*`, pruned): for small repositories
//!   read at any branch, tag or commit (ts_cycle_build);
//! * [`RepoCache::sync_branches`] keeps only the branches a run uses, and
//!   **shallow**: a clone or a fetch that brings a new tip brings it with
//!   depth 1 (its tree, not its history), so a run never pays for the
//!   length of the history or for the refs it does not use (GitHub
//!   advertises thousands of `refs/pull/*` for phalanx). The history checks
//!   ([`CachedRepo::is_ancestor`], [`CachedRepo::merge_base`]) answer from
//!   what the cache has; [`CachedRepo::history_complete`] tells when that
//!   answer may be cut short by the shallow boundary, and
//!   [`CachedRepo::deepen`] fetches more history. A remote-tracking ref of
//!   a branch the remote no longer has is pruned at each fetch.
//!
//! Over HTTP the server's advertisement is cut down to the refs asked for
//! before libgit2 reads it (see [`http`](self::http)); a push is shown only
//! the pushed branch and the branches the cache tracks, so libgit2 walks
//! those alone when it works out what the server lacks. Pushes are never
//! forced.
//!
//! # Transport and credentials
//!
//! `http://` and `https://` remotes go through this crate's own smart-HTTP
//! transport on reqwest ([`http`](self::http)): connect and idle timeouts
//! ([`RepoCache::with_timeout`]), rustls, kept-alive connections. The GitHub
//! token ([`Credentials`]) goes with each request as HTTP Basic auth
//! (`x-access-token`), only to the origin (scheme, host, port) of the GitHub
//! server it belongs to (`GITHUB_SERVER_URL`), and only over https or to this
//! machine; a repository anywhere else is reached without it, and a refusal
//! there is [`GitError::ForeignHost`]. It never enters a URL, the cache's
//! `config` file, an error message or `Debug` output. A rejected token fails
//! at once with [`GitError::AuthRejected`]; ssh URLs
//! authenticate through the ssh agent (libgit2's ssh transport).
//!
//! # Threads
//!
//! [`RepoCache`] is `Send + Sync`; [`RepoCache::sync`] serialises concurrent
//! syncs of the same URL (in-process mutex plus a lock file, so separate
//! processes are safe too). A [`CachedRepo`] wraps a [`git2::Repository`], which
//! is `Send` but not `Sync`: open one per thread (cheap) rather than sharing.
//!
//! # Environment
//!
//! `GITHUB_TOKEN` ([`Credentials::from_env`]), `GIT_AUTHOR_NAME`, `GIT_AUTHOR_EMAIL`,
//! `GIT_COMMITTER_NAME`, `GIT_COMMITTER_EMAIL` ([`signatures_from_env`]).

pub mod history;
mod http;

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::services::http::Origin;
use git2::build::TreeUpdateBuilder;
use git2::{
    AutotagOption, Cred, CredentialType, Direction, ErrorClass, ErrorCode, FetchOptions,
    FetchPrune, FileMode, ObjectType, Oid, PushOptions, RemoteCallbacks, Repository, Signature,
    TreeWalkMode, TreeWalkResult,
};

/// Name of the environment variable holding the GitHub token.
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

/// The name of the cloned remote in every cached clone.
pub const REMOTE: &str = "origin";
const FETCH_REFSPEC: &str = "+refs/heads/*:refs/remotes/origin/*";
/// libgit2's depth for "all the history" (`GIT_FETCH_DEPTH_UNSHALLOW`).
const UNSHALLOW: i32 = i32::MAX;
/// The depths a history check deepens a shallow cache to, in turn, before
/// it fetches the whole history.
pub const DEEPEN_STEPS: [i32; 2] = [32, 512];
const HTTP_USER: &str = "x-access-token";
/// The variable naming the GitHub server the token belongs to.
pub const SERVER_ENV: &str = "GITHUB_SERVER_URL";
/// The GitHub server when [`SERVER_ENV`] is not set.
pub const DEFAULT_SERVER: &str = "https://github.com";
/// Delays before the retries of a clone/fetch that failed with a transient
/// network error (so at most `1 + RETRY_DELAYS.len()` attempts).
const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(2000)];

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

/// A secret string whose `Debug`/`Display` never reveal it.
#[derive(Clone)]
struct Secret(String);

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
    fn is_server(&self, url: &str) -> bool {
        match &self.server {
            Some(server) => Origin::of(url).as_ref() == Some(server),
            None => self.token.is_none(),
        }
    }

    /// The token when `url` is on the token's own origin.
    fn token_for(&self, url: &str) -> Option<&Secret> {
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
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(Secret(t)) => crate::redact::Redactor::new(t).redact(text),
            None => text.to_string(),
        }
    }
}

/// Whether [`RepoCache::sync`] cloned the repository or fetched into an existing clone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// The repository was not cached and has been cloned.
    Cloned,
    /// The cached clone has been fetched (and pruned).
    Fetched,
}

/// What [`RepoCache::sync_branches`] did, and what the remote has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchSync {
    /// Cloned or fetched.
    pub kind: SyncKind,
    /// Every branch the remote advertised (names without `refs/heads/`),
    /// whether it was asked for or not: a branch missing here does not
    /// exist on the remote, so it needs no fetch.
    pub remote_branches: BTreeSet<String>,
}

/// A directory of bare clones, one per remote URL.
#[derive(Clone, Debug)]
pub struct RepoCache {
    root: PathBuf,
    /// Idle timeout of the HTTP transport.
    timeout: Duration,
}

/// Per-process locks keyed by cache path (the lock file covers other processes).
fn path_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut map = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    // The same clone by any spelling (a relative cache directory, a
    // libgit2 path with a trailing slash): the parent canonical, which
    // exists before a clone does.
    let key = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent
            .canonicalize()
            .map_or_else(|_| path.to_path_buf(), |p| p.join(name)),
        _ => path.to_path_buf(),
    };
    map.entry(key).or_default().clone()
}

/// Registers this process as a user of the cached clone at `path` for the
/// rest of the run: a shared lock on `<path>.users`, held until the process
/// ends. The first process to find no other `cycle` run using the clone (the
/// exclusive lock is free) first removes the lock files a killed run left in
/// it (`refs/**/*.lock`, `packed-refs.lock`, `HEAD.lock`, `config.lock`,
/// `FETCH_HEAD.lock`): git holds them only while writing, so with no other
/// run they are stale, and they would make every later update of that ref
/// fail. (The cache is `cycle`'s own; a `git` command run by hand inside it
/// does not count as a user.)
fn register_user(path: &Path) -> Result<(), GitError> {
    static USERS: OnceLock<Mutex<HashMap<PathBuf, File>>> = OnceLock::new();
    let mut users = USERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if users.contains_key(path) {
        return Ok(());
    }
    let lock_path = path.with_extension("users");
    let io = |context: &'static str| {
        let path = lock_path.clone();
        move |source| GitError::Io {
            context,
            path,
            source,
        }
    };
    let file = File::create(&lock_path).map_err(io("creating lock file"))?;
    match file.try_lock() {
        Ok(()) => {
            let removed = remove_stale_locks(path);
            // Released before the shared lock is taken: converting a held
            // lock is unspecified on some platforms.
            file.unlock().map_err(io("unlocking"))?;
            removed.map_err(io("removing stale lock files next to"))?;
        }
        Err(fs::TryLockError::WouldBlock) => {}
        Err(fs::TryLockError::Error(e)) => return Err(io("locking")(e)),
    }
    file.lock_shared().map_err(io("locking"))?;
    users.insert(path.to_path_buf(), file);
    Ok(())
}

/// Removes the lock files git leaves behind when killed while writing a ref
/// or the config of the bare repository at `git_dir`.
fn remove_stale_locks(git_dir: &Path) -> std::io::Result<()> {
    fn below(dir: &Path) -> std::io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                below(&path)?;
            } else if path.extension().is_some_and(|e| e == "lock") {
                fs::remove_file(&path)?;
            }
        }
        Ok(())
    }
    below(&git_dir.join("refs"))?;
    for name in [
        "packed-refs.lock",
        "HEAD.lock",
        "config.lock",
        "FETCH_HEAD.lock",
    ] {
        match fs::remove_file(git_dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

impl RepoCache {
    /// A cache rooted at `root` (created on first sync).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            timeout: http::IDLE_TIMEOUT,
        }
    }

    /// The same cache with another idle timeout for HTTP remotes: the
    /// longest wait for a response, or between two reads of one (60 s by
    /// default; connecting has its own 10 s limit). Repositories opened from
    /// this cache keep it for their pushes and fetches.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Directory of the bare clone of `url`: a readable slug of host and path
    /// plus a hash of the normalised URL. Userinfo, a trailing `/` and `.git`
    /// are ignored, so it never contains credentials.
    pub fn path_for(&self, url: &str) -> PathBuf {
        let normalised = normalise_url(url);
        let slug: String = normalised
            .split_once("://")
            .map_or(normalised.as_str(), |(_, rest)| rest)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let slug = slug.trim_matches(|c| c == '_' || c == '.');
        let slug: String = slug
            .chars()
            .rev()
            .take(80)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        self.root
            .join(format!("{slug}-{:016x}.git", fnv1a(normalised.as_bytes())))
    }

    /// Brings the cached clone of `url` up to date with every branch and its
    /// whole history: clones it (bare) when absent, else fetches
    /// `+refs/heads/*:refs/remotes/origin/*` with prune (a shallow clone is
    /// made whole). Transient network errors are retried twice with
    /// backoff; auth errors are not. Concurrent syncs of the same URL are
    /// serialised.
    pub fn sync(&self, url: &str, creds: &Credentials) -> Result<(CachedRepo, SyncKind), GitError> {
        let (repo, kind, _) = self.sync_with(url, creds, &FetchSpec::all_branches())?;
        Ok((repo, kind))
    }

    /// Brings the branches `branches` (names without `refs/heads/`) of the
    /// cached clone of `url` up to date, and only them: a clone when absent
    /// (bare, shallow: each tip with depth 1), else a fetch of those
    /// branches, a new tip again with depth 1 (a clone made by
    /// [`RepoCache::sync`] keeps its whole history). A branch the remote
    /// does not have loses its remote-tracking ref, and so does any other
    /// the cache tracks that the remote no longer has. Returns what was
    /// done and the names of every branch the remote has, asked or not
    /// (the refs of other kinds, such as `refs/pull/*`, are neither fetched
    /// nor, over HTTP, shown to libgit2). Retries and locking as in
    /// [`RepoCache::sync`].
    pub fn sync_branches(
        &self,
        url: &str,
        branches: &[String],
        creds: &Credentials,
    ) -> Result<(CachedRepo, BranchSync), GitError> {
        for branch in branches {
            check_branch(branch)?;
        }
        let spec = FetchSpec::branches(REMOTE, branches, History::Shallow);
        let (repo, kind, remote_branches) = self.sync_with(url, creds, &spec)?;
        Ok((
            repo,
            BranchSync {
                kind,
                remote_branches,
            },
        ))
    }

    /// Clones or fetches `url` into the cache with `spec`; returns the
    /// repository, what was done and the remote's branch names.
    fn sync_with(
        &self,
        url: &str,
        creds: &Credentials,
        spec: &FetchSpec<'_>,
    ) -> Result<(CachedRepo, SyncKind, BTreeSet<String>), GitError> {
        let path = self.path_for(url);
        let display = sanitize_url(url);
        let stored = url_for_config(url);
        fs::create_dir_all(&self.root).map_err(|source| GitError::Io {
            context: "creating cache directory",
            path: self.root.clone(),
            source,
        })?;
        let mutex = path_lock(&path);
        let _guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
        let lock_path = path.with_extension("lock");
        let lock_file = File::create(&lock_path).map_err(|source| GitError::Io {
            context: "creating lock file",
            path: lock_path.clone(),
            source,
        })?;
        lock_file.lock().map_err(|source| GitError::Io {
            context: "locking",
            path: lock_path.clone(),
            source,
        })?;
        register_user(&path)?;

        let fetch_into = |repo: &Repository, op| {
            let branches =
                with_retries(|| fetch_refs(repo, &display, creds, self.timeout, op, spec))?;
            prune_tracking(repo, &display, REMOTE, &branches)?;
            Ok::<_, GitError>(branches)
        };
        let (repo, kind, branches) = if path.exists() {
            let repo = open_bare(&path, &display)?;
            // Keep the stored URL credential-free and current.
            let current = repo
                .find_remote(REMOTE)
                .ok()
                .and_then(|r| r.url().ok().map(str::to_string));
            if current.is_none() {
                repo.remote_with_fetch(REMOTE, &stored, FETCH_REFSPEC)
                    .map_err(|e| git_err("configuring remote", &display, e))?;
            } else if current.as_deref() != Some(stored.as_str()) {
                repo.remote_set_url(REMOTE, &stored)
                    .map_err(|e| git_err("configuring remote", &display, e))?;
            }
            let branches = fetch_into(&repo, "fetching")?;
            // A handle opened after the fetch sees the shallow boundary it
            // moved.
            drop(repo);
            (open_bare(&path, &display)?, SyncKind::Fetched, branches)
        } else {
            // Clone into a temporary directory and rename, so an interrupted
            // clone never looks like a cached repository.
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            let _ = fs::remove_dir_all(&tmp);
            let result = (|| {
                let repo = Repository::init_bare(&tmp)
                    .map_err(|e| git_err("creating bare repository", &display, e))?;
                repo.remote_with_fetch(REMOTE, &stored, FETCH_REFSPEC)
                    .map_err(|e| git_err("configuring remote", &display, e))?;
                fetch_into(&repo, "cloning")
            })();
            let branches = match result {
                Ok(branches) => branches,
                Err(e) => {
                    let _ = fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            };
            fs::rename(&tmp, &path).map_err(|source| GitError::Io {
                context: "moving fresh clone into the cache at",
                path: path.clone(),
                source,
            })?;
            (open_bare(&path, &display)?, SyncKind::Cloned, branches)
        };
        let _ = lock_file.unlock();
        Ok((
            CachedRepo {
                repo,
                display,
                timeout: self.timeout,
            },
            kind,
            branches,
        ))
    }

    /// Opens the cached clone of `url` without any network access; `None`
    /// when it has never been synced.
    pub fn open_cached(&self, url: &str) -> Result<Option<CachedRepo>, GitError> {
        let path = self.path_for(url);
        if !path.exists() {
            return Ok(None);
        }
        // Best effort: reading a clone needs no lock, and the cache may be
        // read-only.
        let _ = register_user(&path);
        let display = sanitize_url(url);
        Ok(Some(CachedRepo {
            repo: open_bare(&path, &display)?,
            display,
            timeout: self.timeout,
        }))
    }
}

/// A bare clone in the cache. `Send` but not `Sync` (see the module docs).
pub struct CachedRepo {
    repo: Repository,
    display: String,
    /// Idle timeout of the HTTP transport (from the cache).
    timeout: Duration,
}

impl fmt::Debug for CachedRepo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedRepo")
            .field("url", &self.display)
            .field("path", &self.repo.path())
            .finish()
    }
}

impl CachedRepo {
    /// The underlying libgit2 repository (bare).
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// Path of the bare repository.
    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// The remote URL, with any userinfo removed.
    pub fn url(&self) -> &str {
        &self.display
    }

    fn err(&self, context: impl Into<String>, e: git2::Error) -> GitError {
        git_err(context, &self.display, e)
    }

    fn lookup_ref(&self, refname: &str) -> Result<Option<Oid>, GitError> {
        match self.repo.refname_to_id(refname) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) if e.code() == ErrorCode::InvalidSpec => Err(GitError::InvalidBranch {
                name: refname.to_string(),
            }),
            Err(e) => Err(self.err(format!("reading {refname}"), e)),
        }
    }

    /// Tip of `refs/remotes/origin/<name>` as of the last sync.
    pub fn remote_branch(&self, name: &str) -> Result<Option<Oid>, GitError> {
        check_branch(name)?;
        self.lookup_ref(&format!("refs/remotes/{REMOTE}/{name}"))
    }

    /// Fetches the tag `refs/tags/<name>` from origin into the cache (sync
    /// fetches branches only) and returns the commit it points at; `None`
    /// when the remote has no such tag. A shallow cache gets the tagged
    /// commit with depth 1. Transient network errors are retried like
    /// [`RepoCache::sync`].
    pub fn fetch_tag(&self, name: &str, creds: &Credentials) -> Result<Option<Oid>, GitError> {
        let refname = format!("refs/tags/{name}");
        if name.is_empty() || !git2::Reference::is_valid_name(&refname) {
            return Err(GitError::InvalidTag {
                name: name.to_string(),
            });
        }
        let spec = FetchSpec {
            remote: REMOTE,
            refspecs: vec![format!("+{refname}:{refname}")],
            filter: http::RefFilter {
                names: BTreeSet::from([refname.clone()]),
                prefixes: Vec::new(),
            },
            history: History::Shallow,
        };
        with_retries(|| {
            fetch_refs(
                &self.repo,
                &self.display,
                creds,
                self.timeout,
                "fetching",
                &spec,
            )
        })?;
        match self.repo.find_reference(&refname) {
            Ok(r) => r
                .peel_to_commit()
                .map(|c| Some(c.id()))
                .map_err(|e| self.err(format!("reading tag {name}"), e)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.err(format!("reading tag {name}"), e)),
        }
    }

    /// Fetches every tag of origin into the cache (`+refs/tags/*`) and
    /// returns each tag's name and commit, sorted by name. Transient network
    /// errors are retried like [`RepoCache::sync`].
    pub fn fetch_tags(&self, creds: &Credentials) -> Result<Vec<(String, Oid)>, GitError> {
        let spec = FetchSpec {
            remote: REMOTE,
            refspecs: vec!["+refs/tags/*:refs/tags/*".to_string()],
            filter: http::RefFilter {
                names: BTreeSet::new(),
                prefixes: vec!["refs/tags/".to_string()],
            },
            history: History::Full,
        };
        with_retries(|| {
            fetch_refs(
                &self.repo,
                &self.display,
                creds,
                self.timeout,
                "fetching tags of",
                &spec,
            )
        })?;
        self.tags()
    }

    /// The tags in the cache (as last fetched) with their commits, sorted by name.
    pub fn tags(&self) -> Result<Vec<(String, Oid)>, GitError> {
        let names = self
            .repo
            .tag_names(None)
            .map_err(|e| self.err("listing tags", e))?;
        let mut out = Vec::new();
        for name in names.iter().filter_map(|n| n.ok().flatten()) {
            if let Ok(commit) = self
                .repo
                .find_reference(&format!("refs/tags/{name}"))
                .and_then(|r| r.peel_to_commit())
            {
                out.push((name.to_string(), commit.id()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// The merge commits reachable from `tip` but not from `since`, newest
    /// first (topological, then time order), each with its summary line.
    pub fn merges(&self, tip: Oid, since: Oid) -> Result<Vec<(Oid, String)>, GitError> {
        let walk_err = |e: git2::Error| self.err(format!("walking the history of {tip}"), e);
        let mut walk = self.repo.revwalk().map_err(walk_err)?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
            .map_err(walk_err)?;
        walk.push(tip).map_err(walk_err)?;
        walk.hide(since).map_err(walk_err)?;
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(walk_err)?;
            let commit = self.repo.find_commit(oid).map_err(walk_err)?;
            if commit.parent_count() > 1 {
                out.push((
                    oid,
                    commit
                        .summary()
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                        .to_string(),
                ));
            }
        }
        Ok(out)
    }

    /// Tip of the local branch `refs/heads/<name>`.
    pub fn local_branch(&self, name: &str) -> Result<Option<Oid>, GitError> {
        check_branch(name)?;
        self.lookup_ref(&format!("refs/heads/{name}"))
    }

    fn tree_of(&self, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| self.err(format!("reading commit {commit}"), e))
    }

    /// Content of `path` in `commit`; `None` when the path does not exist.
    /// Errors when it is not a regular file or not UTF-8.
    pub fn read_file(&self, commit: Oid, path: &str) -> Result<Option<String>, GitError> {
        let path = check_path(path)?;
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(&path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(self.err(format!("looking up {path} in {commit}"), e)),
        };
        let mode = entry.filemode();
        if entry.kind() != Some(ObjectType::Blob) || !is_regular_mode(mode) {
            return Err(GitError::NotAFile {
                url: self.display.clone(),
                commit,
                path,
            });
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| self.err(format!("reading {path} in {commit}"), e))?;
        String::from_utf8(blob.content().to_vec())
            .map(Some)
            .map_err(|_| GitError::NotUtf8 {
                url: self.display.clone(),
                commit,
                path,
            })
    }

    /// Paths of the files (blobs and symlinks) in `commit` matching the
    /// globset pattern `glob`, sorted. `*` does not cross `/`; use `**` for
    /// any depth.
    pub fn list_files(&self, commit: Oid, glob: &str) -> Result<Vec<String>, GitError> {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| GitError::InvalidGlob {
                glob: glob.to_string(),
                message: e.kind().to_string(),
            })?
            .compile_matcher();
        let tree = self.tree_of(commit)?;
        let mut out = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && let Ok(name) = entry.name()
            {
                let path = format!("{dir}{name}");
                if matcher.is_match(&path) {
                    out.push(path);
                }
            }
            TreeWalkResult::Ok
        })
        .map_err(|e| self.err(format!("listing files of {commit}"), e))?;
        out.sort();
        Ok(out)
    }

    /// Creates a commit on top of `parent` whose tree is `parent`'s with each
    /// `(path, content)` of `changes` written (created or replaced). Existing
    /// files keep their mode (e.g. executable); new files are `100644`.
    /// No ref is moved. When the changes leave the tree identical, no commit
    /// is created and `parent` is returned.
    ///
    /// The new blobs, trees and commit are written as one pack file, not as
    /// loose objects (a file and often a directory each).
    pub fn commit_files(
        &self,
        parent: Oid,
        changes: &[(String, String)],
        message: &str,
        author: &Signature<'_>,
        committer: &Signature<'_>,
    ) -> Result<Oid, GitError> {
        // A handle of its own, whose object database writes to memory first.
        let repo = open_shallow_aware(self.repo.path())
            .map_err(|e| self.err("opening the cached clone", e))?;
        let odb = repo
            .odb()
            .map_err(|e| self.err("opening the object database", e))?;
        let _memory = odb
            .add_new_mempack_backend(1000)
            .map_err(|e| self.err("preparing the commit", e))?;
        let parent_commit = repo
            .find_commit(parent)
            .map_err(|e| self.err(format!("reading commit {parent}"), e))?;
        let base = parent_commit
            .tree()
            .map_err(|e| self.err(format!("reading tree of {parent}"), e))?;
        let mut update = TreeUpdateBuilder::new();
        let mut written = Vec::with_capacity(changes.len());
        for (path, content) in changes {
            let path = check_path(path)?;
            let mode = match base.get_path(Path::new(&path)) {
                Ok(entry) if entry.kind() == Some(ObjectType::Blob) => match entry.filemode() {
                    m if m == i32::from(FileMode::BlobExecutable) => FileMode::BlobExecutable,
                    m if is_regular_mode(m) => FileMode::Blob,
                    _ => {
                        return Err(GitError::NotAFile {
                            url: self.display.clone(),
                            commit: parent,
                            path,
                        });
                    }
                },
                Ok(_) => {
                    return Err(GitError::NotAFile {
                        url: self.display.clone(),
                        commit: parent,
                        path,
                    });
                }
                Err(e) if e.code() == ErrorCode::NotFound => FileMode::Blob,
                Err(e) => return Err(self.err(format!("looking up {path} in {parent}"), e)),
            };
            let blob = repo
                .blob(content.as_bytes())
                .map_err(|e| self.err(format!("writing {path}"), e))?;
            update.upsert(path.as_str(), blob, mode);
            written.push((path, blob));
        }
        let tree_id = update
            .create_updated(&repo, &base)
            .map_err(|e| self.err("building the new tree", e))?;
        if tree_id == base.id() {
            return Ok(parent);
        }
        let tree = repo
            .find_tree(tree_id)
            .map_err(|e| self.err("reading the new tree", e))?;
        let commit = repo
            .commit(None, author, committer, message, &tree, &[&parent_commit])
            .map_err(|e| self.err("creating commit", e))?;
        self.store_as_pack(&repo, &odb, commit, &tree, &written)?;
        Ok(commit)
    }

    /// Copies the objects [`CachedRepo::commit_files`] wrote to `repo`'s
    /// memory into one pack file of the cached clone: `commit`, the `blobs`
    /// written (repository path and id), and the trees of `tree` on their
    /// paths (an unchanged one is already stored, and packing it again is
    /// harmless).
    fn store_as_pack(
        &self,
        repo: &Repository,
        odb: &git2::Odb<'_>,
        commit: Oid,
        tree: &git2::Tree<'_>,
        blobs: &[(String, Oid)],
    ) -> Result<(), GitError> {
        let mut builder = repo
            .packbuilder()
            .map_err(|e| self.err("packing the commit", e))?;
        let mut objects = std::collections::BTreeSet::from([commit, tree.id()]);
        for (path, blob) in blobs {
            objects.insert(*blob);
            for dir in Path::new(path).ancestors().skip(1) {
                if dir.as_os_str().is_empty() {
                    break; // the root tree, already listed
                }
                let entry = tree.get_path(dir).map_err(|e| {
                    self.err(format!("finding {} in the new tree", dir.display()), e)
                })?;
                objects.insert(entry.id());
            }
        }
        for oid in objects {
            builder
                .insert_object(oid, None)
                .map_err(|e| self.err("packing the commit", e))?;
        }
        let mut pack = git2::Buf::new();
        builder
            .write_buf(&mut pack)
            .map_err(|e| self.err("packing the commit", e))?;
        let mut writer = odb
            .packwriter()
            .map_err(|e| self.err("writing the commit's pack", e))?;
        std::io::Write::write_all(&mut writer, &pack).map_err(|source| GitError::Io {
            context: "writing the commit's pack to",
            path: self.repo.path().to_path_buf(),
            source,
        })?;
        writer
            .commit()
            .map_err(|e| self.err("writing the commit's pack", e))?;
        Ok(())
    }

    /// Points the local branch `refs/heads/<name>` at `oid` (created or moved).
    pub fn set_local_branch(&self, name: &str, oid: Oid) -> Result<(), GitError> {
        check_branch(name)?;
        self.repo
            .reference(
                &format!("refs/heads/{name}"),
                oid,
                true,
                &format!("cycle: set {name}"),
            )
            .map(|_| ())
            .map_err(|e| self.err(format!("setting branch {name}"), e))
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors, as far
    /// as the cached history shows: in a shallow cache a commit not fetched
    /// is not an ancestor ([`Self::history_complete`] says whether the
    /// answer is certain).
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, GitError> {
        if ancestor == descendant {
            return Ok(true);
        }
        match self.repo.graph_descendant_of(descendant, ancestor) {
            Ok(found) => Ok(found),
            Err(e)
                if self.is_shallow()
                    && (e.code() == ErrorCode::NotFound || e.class() == git2::ErrorClass::Odb) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err(format!("comparing {ancestor} and {descendant}"), e)),
        }
    }

    /// The best common ancestor of commits `a` and `b`, `None` when they
    /// share no history.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>, GitError> {
        match self.repo.merge_base(a, b) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.err(format!("finding the merge base of {a} and {b}"), e)),
        }
    }

    /// Paths that differ between the trees of commits `a` and `b`, sorted
    /// (renames appear as a deletion and an addition).
    pub fn changed_paths(&self, a: Oid, b: Oid) -> Result<Vec<String>, GitError> {
        let ta = self.tree_of(a)?;
        let tb = self.tree_of(b)?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&ta), Some(&tb), None)
            .map_err(|e| self.err(format!("diffing {a} and {b}"), e))?;
        let mut paths: Vec<String> = diff
            .deltas()
            .flat_map(|d| [d.old_file().path(), d.new_file().path()])
            .flatten()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// Pushes the local branch `<branch>` to `refs/heads/<branch>` on origin,
    /// never forcing. A non-fast-forward or a ref the server refuses yields
    /// [`GitError::PushRejected`]. On success `refs/remotes/origin/<branch>`
    /// is updated too. Not retried.
    pub fn push(&self, branch: &str, creds: &Credentials) -> Result<(), GitError> {
        self.push_to(REMOTE, branch, creds)
    }

    /// Fetches the branches `branches` of `url` (another home of the same
    /// project, e.g. a fork) into `refs/remotes/<name>/*`, as
    /// [`CachedRepo::fetch_branches`] does; the remote `name` is added, or
    /// its URL updated (without credentials). Returns every branch the
    /// remote has.
    pub fn fetch_other(
        &self,
        name: &str,
        url: &str,
        branches: &[String],
        creds: &Credentials,
    ) -> Result<BTreeSet<String>, GitError> {
        let display = sanitize_url(url);
        let stored = url_for_config(url);
        let refspec = format!("+refs/heads/*:refs/remotes/{name}/*");
        if !git2::Remote::is_valid_name(name) || name == REMOTE {
            return Err(GitError::InvalidBranch {
                name: name.to_string(),
            });
        }
        match self.repo.find_remote(name) {
            Ok(remote) if remote.url().ok() == Some(stored.as_str()) => {}
            Ok(_) => self
                .repo
                .remote_set_url(name, &stored)
                .map_err(|e| git_err("configuring remote", &display, e))?,
            Err(_) => {
                self.repo
                    .remote_with_fetch(name, &stored, &refspec)
                    .map_err(|e| git_err("configuring remote", &display, e))?;
            }
        }
        self.fetch_branches(name, branches, creds)
    }

    /// Fetches the branches `branches` of the remote `name` (origin, or one
    /// added by [`CachedRepo::fetch_other`]) as [`RepoCache::sync_branches`]
    /// does: a new tip of a shallow cache with depth 1; a branch the remote
    /// does not have, or no longer has, loses its remote-tracking ref.
    /// Returns every branch the remote has. Transient network errors are
    /// retried as in [`RepoCache::sync`].
    pub fn fetch_branches(
        &self,
        name: &str,
        branches: &[String],
        creds: &Credentials,
    ) -> Result<BTreeSet<String>, GitError> {
        for branch in branches {
            check_branch(branch)?;
        }
        // The cache's lock, as a sync takes it: another thread's fetch into
        // the same clone would race for `shallow.lock`.
        let mutex = path_lock(self.repo.path());
        let _guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
        let spec = FetchSpec::branches(name, branches, History::Shallow);
        let display = self.remote_display(name);
        let remote_branches = with_retries(|| {
            fetch_refs(&self.repo, &display, creds, self.timeout, "fetching", &spec)
        })?;
        prune_tracking(&self.repo, &display, name, &remote_branches)?;
        Ok(remote_branches)
    }

    /// Whether the cache is shallow (some commits' parents are not in it).
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// Deepens the history of the branches `branches` of the remote `name`
    /// to `depth` commits from their tips ([`i32::MAX`]: all of it), so
    /// that history checks can see further back; the handle is reopened
    /// (commits read before still had their old, cut parents). Retried as
    /// [`RepoCache::sync`].
    pub fn deepen(
        &mut self,
        name: &str,
        branches: &[String],
        depth: i32,
        creds: &Credentials,
    ) -> Result<(), GitError> {
        for branch in branches {
            check_branch(branch)?;
        }
        let spec = FetchSpec::branches(name, branches, History::Deepen(depth.max(1)));
        let display = self.remote_display(name);
        with_retries(|| {
            fetch_refs(
                &self.repo,
                &display,
                creds,
                self.timeout,
                "deepening",
                &spec,
            )
        })?;
        self.repo = open_bare(self.repo.path(), &self.display)?;
        Ok(())
    }

    /// Whether every commit reachable from `tips` and not from `hide` is in
    /// the cache with its parents (none is a shallow boundary), so that
    /// [`CachedRepo::is_ancestor`] and [`CachedRepo::merge_base`] over
    /// them answer as they would on the whole history. Always true for a
    /// clone that is not shallow; otherwise it walks those commits.
    pub fn history_complete(&self, tips: &[Oid], hide: Option<Oid>) -> Result<bool, GitError> {
        if !self.repo.is_shallow() {
            return Ok(true);
        }
        let shallow = self.shallow_commits()?;
        let mut walk = self
            .repo
            .revwalk()
            .map_err(|e| self.err("walking the history", e))?;
        for tip in tips {
            walk.push(*tip)
                .map_err(|e| self.err(format!("walking the history of {tip}"), e))?;
        }
        if let Some(hide) = hide {
            walk.hide(hide)
                .map_err(|e| self.err(format!("walking the history of {hide}"), e))?;
        }
        for oid in walk {
            let oid = oid.map_err(|e| self.err("walking the history", e))?;
            if shallow.contains(&oid) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The commits of the cache's shallow boundary (`shallow`).
    fn shallow_commits(&self) -> Result<BTreeSet<Oid>, GitError> {
        let path = self.repo.path().join("shallow");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(source) => {
                return Err(GitError::Io {
                    context: "reading",
                    path,
                    source,
                });
            }
        };
        Ok(text
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect())
    }

    /// The sanitised URL of the remote `name` (the cache's own URL when it
    /// cannot be read).
    fn remote_display(&self, name: &str) -> String {
        self.repo
            .find_remote(name)
            .ok()
            .and_then(|r| r.url().ok().map(sanitize_url))
            .unwrap_or_else(|| self.display.clone())
    }

    /// Tip of `refs/remotes/<name>/<branch>` as of the last
    /// [`CachedRepo::fetch_other`] or [`CachedRepo::push_to`].
    pub fn other_branch(&self, name: &str, branch: &str) -> Result<Option<Oid>, GitError> {
        check_branch(branch)?;
        self.lookup_ref(&format!("refs/remotes/{name}/{branch}"))
    }

    /// [`CachedRepo::push`] to the remote `name` (origin, or one added by
    /// [`CachedRepo::fetch_other`]); `refs/remotes/<name>/<branch>` follows.
    ///
    /// A transient failure (network trouble, HTTP 5xx or 429) is retried
    /// with backoff like a fetch: pushing the same commit again is
    /// idempotent (the remote branch is already there, or moves to it). A
    /// rejection (not a fast-forward, a protected branch) is not retried.
    pub fn push_to(&self, name: &str, branch: &str, creds: &Credentials) -> Result<(), GitError> {
        with_retries(|| self.push_once(name, branch, creds))
    }

    /// One attempt of [`CachedRepo::push_to`].
    fn push_once(&self, name: &str, branch: &str, creds: &Credentials) -> Result<(), GitError> {
        check_branch(branch)?;
        if self.local_branch(branch)?.is_none() {
            return Err(GitError::PushRejected {
                url: self.display.clone(),
                branch: branch.to_string(),
                reason: "there is no local branch of that name to push".into(),
            });
        }
        let mut remote = self
            .repo
            .find_remote(name)
            .map_err(|e| self.err(format!("opening remote {name}"), e))?;
        let display = remote
            .url()
            .map(sanitize_url)
            .unwrap_or_else(|_| self.display.clone());
        // The server is shown to libgit2 with the pushed branch and the
        // branches the cache tracks on it, nothing else: libgit2 hides
        // (walks) every advertised commit it has, to leave out of the pack
        // what the server has.
        let prefix = format!("refs/remotes/{name}/");
        let mut names = BTreeSet::from([format!("refs/heads/{branch}")]);
        let tracked = self
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(|e| self.err("listing remote-tracking branches", e))?;
        for r in tracked {
            let r = r.map_err(|e| self.err("listing remote-tracking branches", e))?;
            if let Some(tracked) = r.name().ok().and_then(|n| n.strip_prefix(&prefix)) {
                names.insert(format!("refs/heads/{tracked}"));
            }
        }
        let filter = http::RefFilter {
            names,
            prefixes: Vec::new(),
        };
        let auth = AuthState::new(creds, self.timeout, filter);
        let rejections: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
        let mut callbacks = auth.callbacks();
        let rej = rejections.clone();
        callbacks.push_update_reference(move |refname, status| {
            if let Some(status) = status {
                rej.borrow_mut()
                    .push((refname.to_string(), status.to_string()));
            }
            Ok(())
        });
        let mut opts = PushOptions::new();
        opts.remote_callbacks(callbacks);
        let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
        let result = auth
            .session
            .run(|| remote.push(&[refspec.as_str()], Some(&mut opts)));
        drop(opts);
        if let Err(e) = result {
            if let Some(err) = auth.error(&display, &e) {
                return Err(err);
            }
            if e.code() == ErrorCode::NotFastForward {
                return Err(GitError::PushRejected {
                    url: display.clone(),
                    branch: branch.to_string(),
                    reason: format!(
                        "{NOT_FAST_FORWARD}: the remote branch has commits that are not in \
                         the local branch (cycle never force-pushes; sync and rebuild the \
                         branch, or resolve it by hand)"
                    ),
                });
            }
            return Err(GitError::Remote {
                op: "pushing to",
                url: display.clone(),
                message: remote_message(creds, &e),
            });
        }
        if let Some((refname, status)) = rejections.borrow().first() {
            return Err(GitError::PushRejected {
                url: display.clone(),
                branch: branch.to_string(),
                reason: creds.scrub(&format!("the remote refused {refname}: {status}")),
            });
        }
        Ok(())
    }
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
const NOT_FAST_FORWARD: &str = "not a fast-forward";

/// Author and committer signatures ("now") for commits made by `cycle`.
///
/// Author: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, else `user.name`/`user.email`
/// from git config (global/system, as seen from `repo`). Committer:
/// `GIT_COMMITTER_NAME`/`GIT_COMMITTER_EMAIL`, else the author's values.
/// Errors with a message naming the variables to set.
pub fn signatures_from_env(
    repo: &CachedRepo,
) -> Result<(Signature<'static>, Signature<'static>), GitError> {
    let config = repo
        .repo
        .config()
        .and_then(|mut c| c.snapshot())
        .map_err(|e| repo.err("reading git config", e))?;
    signatures_from(|k| std::env::var(k).ok(), |k| config.get_string(k).ok())
}

/// [`signatures_from_env`] with injectable lookups (for tests).
fn signatures_from(
    env: impl Fn(&str) -> Option<String>,
    config: impl Fn(&str) -> Option<String>,
) -> Result<(Signature<'static>, Signature<'static>), GitError> {
    let get = |var: &str, key: &str| {
        env(var)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| config(key).filter(|v| !v.trim().is_empty()))
    };
    let author_name = get("GIT_AUTHOR_NAME", "user.name").ok_or(GitError::MissingIdentity {
        missing: "author name",
    })?;
    let author_email = get("GIT_AUTHOR_EMAIL", "user.email").ok_or(GitError::MissingIdentity {
        missing: "author email",
    })?;
    let non_empty = |v: &str| env(v).filter(|v| !v.trim().is_empty());
    let committer_name = non_empty("GIT_COMMITTER_NAME").unwrap_or_else(|| author_name.clone());
    let committer_email = non_empty("GIT_COMMITTER_EMAIL").unwrap_or_else(|| author_email.clone());
    let sig = |n: &str, e: &str, missing| {
        Signature::now(n.trim(), e.trim()).map_err(|_| GitError::MissingIdentity { missing })
    };
    Ok((
        sig(&author_name, &author_email, "a valid author name/email")?,
        sig(
            &committer_name,
            &committer_email,
            "a valid committer name/email",
        )?,
    ))
}

/// Removes userinfo (`user:password@`) from a URL for display. scp-like ssh
/// addresses (`git@host:path`) are returned unchanged (they carry no secret).
pub fn sanitize_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://{}{tail}", &authority[at + 1..]),
        None => url.to_string(),
    }
}

/// The URL stored in the cache's config: http(s) without any userinfo; for
/// other schemes only a password is dropped (an ssh user name is kept).
fn url_for_config(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        return sanitize_url(url);
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// Whether `url` names a repository across a network (http, https, ssh,
/// git, or scp-like `host:path`) rather than a local path or `file://`.
fn is_network_url(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, _)) => ["http", "https", "ssh", "git"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s)),
        None => url
            .split_once(':')
            .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/')),
    }
}

fn normalise_url(url: &str) -> String {
    let url = sanitize_url(url.trim());
    let url = url.trim_end_matches('/');
    url.strip_suffix(".git").unwrap_or(url).to_string()
}

/// 64-bit FNV-1a: stable across Rust versions (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn is_regular_mode(mode: i32) -> bool {
    mode == i32::from(FileMode::Blob)
        || mode == i32::from(FileMode::BlobExecutable)
        || mode == i32::from(FileMode::BlobGroupWritable)
}

fn check_branch(name: &str) -> Result<(), GitError> {
    if name.is_empty() || !git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        return Err(GitError::InvalidBranch {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Validates a repository-relative path and returns it in canonical form.
fn check_path(path: &str) -> Result<String, GitError> {
    let bad = |reason| GitError::InvalidPath {
        path: path.to_string(),
        reason,
    };
    if path.is_empty() {
        return Err(bad("empty path"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(bad("backslashes and NUL are not allowed"));
    }
    let p = Path::new(path);
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => {
                let s = s.to_str().ok_or_else(|| bad("not UTF-8"))?;
                if s.eq_ignore_ascii_case(".git") {
                    return Err(bad("must not contain a .git component"));
                }
                parts.push(s);
            }
            Component::CurDir => return Err(bad("must not contain `.` components")),
            _ => return Err(bad("must be relative to the repository root, without `..`")),
        }
    }
    if parts.is_empty() || path.ends_with('/') {
        return Err(bad("must name a file"));
    }
    Ok(parts.join("/"))
}

/// Opens the bare repository at `path` exactly there. Not with
/// `Repository::open_bare`: libgit2's `git_repository_open_bare` does not
/// read the `shallow` file, so a shallow clone's boundary commits would
/// keep their (missing) parents and every walk over them would fail.
fn open_shallow_aware(path: &Path) -> Result<Repository, git2::Error> {
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::NO_SEARCH | git2::RepositoryOpenFlags::BARE,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
}

fn open_bare(path: &Path, display: &str) -> Result<Repository, GitError> {
    open_shallow_aware(path).map_err(|e| GitError::Git {
        context: format!("opening cached clone {}", path.display()),
        url: display.to_string(),
        message: e.message().to_string(),
    })
}

fn git_err(context: impl Into<String>, url: &str, e: git2::Error) -> GitError {
    GitError::Git {
        context: context.into(),
        url: url.to_string(),
        message: e.message().to_string(),
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
struct AuthState<'a> {
    creds: &'a Credentials,
    session: Arc<http::Session>,
    outcome: Rc<Cell<AuthOutcome>>,
}

impl<'a> AuthState<'a> {
    /// The state of an operation whose advertisements libgit2 sees cut down
    /// to the refs `filter` keeps.
    fn new(creds: &'a Credentials, timeout: Duration, filter: http::RefFilter) -> Self {
        Self {
            creds,
            session: http::Session::filtered(creds.clone(), timeout, filter),
            outcome: Rc::new(Cell::new(AuthOutcome::Fine)),
        }
    }

    /// Callbacks whose credentials callback answers ssh (the agent, once);
    /// HTTP credentials never come through it (see [`http`]).
    fn callbacks(&self) -> RemoteCallbacks<'a> {
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
    fn error(&self, display: &str, e: &git2::Error) -> Option<GitError> {
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
fn remote_message(creds: &Credentials, e: &git2::Error) -> String {
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
fn is_transient(e: &GitError) -> bool {
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
fn with_retries<T>(mut op: impl FnMut() -> Result<T, GitError>) -> Result<T, GitError> {
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
fn retry_after(e: &GitError) -> Option<Duration> {
    let GitError::Remote { message, .. } = e else {
        return None;
    };
    let (_, rest) = message.split_once("(retry after ")?;
    let seconds = rest.split_once("s)")?.0;
    seconds.parse().ok().map(Duration::from_secs)
}

/// What one fetch asks for.
struct FetchSpec<'s> {
    /// The remote's name in the cache.
    remote: &'s str,
    /// Refspecs (`+src:dst`).
    refspecs: Vec<String>,
    /// The refs of the advertisement libgit2 is shown (HTTP remotes).
    filter: http::RefFilter,
    /// How much history to bring.
    history: History,
}

/// How much history a fetch brings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum History {
    /// Everything (a shallow cache is made whole).
    Full,
    /// A new tip comes with depth 1 when the cache is shallow or empty; a
    /// full cache stays full. A fetch whose tips are all in the cache
    /// downloads nothing.
    Shallow,
    /// The asked tips again, with their history to this depth (deepening
    /// a shallow cache; [`UNSHALLOW`] for all of it).
    Deepen(i32),
}

impl FetchSpec<'static> {
    /// Every branch of origin, whole: `+refs/heads/*:refs/remotes/origin/*`.
    fn all_branches() -> Self {
        Self {
            remote: REMOTE,
            refspecs: vec![FETCH_REFSPEC.to_string()],
            filter: http::RefFilter {
                names: BTreeSet::new(),
                prefixes: vec!["refs/heads/".to_string()],
            },
            history: History::Full,
        }
    }
}

impl<'s> FetchSpec<'s> {
    /// `branches` of `remote` into `refs/remotes/<remote>/<branch>`.
    fn branches(remote: &'s str, branches: &[String], history: History) -> Self {
        Self {
            remote,
            refspecs: branches
                .iter()
                .map(|b| format!("+refs/heads/{b}:refs/remotes/{remote}/{b}"))
                .collect(),
            filter: http::RefFilter {
                names: branches.iter().map(|b| format!("refs/heads/{b}")).collect(),
                prefixes: Vec::new(),
            },
            history,
        }
    }
}

/// Fetches `spec` into `repo` (pruning the remote-tracking refs of asked
/// branches the remote does not have) and returns the names of the
/// branches the remote advertised, all of them, asked or not.
fn fetch_refs(
    repo: &Repository,
    display: &str,
    creds: &Credentials,
    timeout: Duration,
    op: &'static str,
    spec: &FetchSpec<'_>,
) -> Result<BTreeSet<String>, GitError> {
    let mut remote = repo
        .find_remote(spec.remote)
        .map_err(|e| git_err(format!("opening remote {}", spec.remote), display, e))?;
    let auth = AuthState::new(creds, timeout, spec.filter.clone());
    // libgit2's local transport fetches no shallow history; a local remote
    // costs no network either.
    let depth_allowed = remote.url().is_ok_and(is_network_url);
    let shallow = depth_allowed && (repo.is_shallow() || repo.is_empty().unwrap_or(false));
    let result = auth.session.run(|| {
        let mut connection = remote.connect_auth(Direction::Fetch, Some(auth.callbacks()), None)?;
        let heads: Vec<(String, Oid)> = connection
            .list()?
            .iter()
            .map(|h| (h.name().to_string(), h.oid()))
            .collect();
        let depth = match spec.history {
            History::Full if repo.is_shallow() => UNSHALLOW,
            History::Full => 0,
            History::Deepen(_) if !depth_allowed => 0,
            History::Deepen(depth) => depth,
            History::Shallow if !shallow => 0,
            History::Shallow => {
                // libgit2 asks again for every tip when a depth is set:
                // only when one is missing, so a fetch with nothing new
                // stays one request.
                let odb = repo.odb()?;
                let wanted = |name: &str| spec.filter.names.contains(name);
                let missing = heads
                    .iter()
                    .any(|(name, oid)| wanted(name) && !odb.exists(*oid));
                if missing { 1 } else { 0 }
            }
        };
        let mut opts = FetchOptions::new();
        opts.remote_callbacks(auth.callbacks());
        opts.prune(FetchPrune::On);
        opts.download_tags(AutotagOption::None);
        opts.depth(depth);
        // Nothing reads FETCH_HEAD; not writing it leaves no lock file for a
        // killed run to strand.
        opts.update_fetchhead(false);
        connection
            .remote()
            .fetch(&spec.refspecs, Some(&mut opts), Some("cycle: fetch"))?;
        Ok(heads)
    });
    let heads = result.map_err(|e| {
        auth.error(display, &e).unwrap_or_else(|| GitError::Remote {
            op,
            url: display.to_string(),
            message: remote_message(creds, &e),
        })
    })?;
    Ok(auth.session.advertised_branches().unwrap_or_else(|| {
        heads
            .iter()
            .filter_map(|(name, _)| name.strip_prefix("refs/heads/"))
            .map(str::to_string)
            .collect()
    }))
}

/// Deletes the remote-tracking refs `refs/remotes/<remote>/*` of branches
/// not in `branches` (the remote no longer has them).
fn prune_tracking(
    repo: &Repository,
    display: &str,
    remote: &str,
    branches: &BTreeSet<String>,
) -> Result<(), GitError> {
    let prefix = format!("refs/remotes/{remote}/");
    let refs = repo
        .references_glob(&format!("{prefix}*"))
        .map_err(|e| git_err("listing remote-tracking branches", display, e))?;
    let mut gone = Vec::new();
    for r in refs {
        let r = r.map_err(|e| git_err("listing remote-tracking branches", display, e))?;
        if let Ok(name) = r.name()
            && let Some(branch) = name.strip_prefix(&prefix)
            && branch != "HEAD"
            && !branches.contains(branch)
        {
            gone.push(name.to_string());
        }
    }
    for name in gone {
        match repo.find_reference(&name).and_then(|mut r| r.delete()) {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => return Err(git_err(format!("pruning {name}"), display, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_userinfo() {
        assert_eq!(
            sanitize_url("https://user:s3cret@github.com/o/n.git"),
            "https://github.com/o/n.git"
        );
        assert_eq!(
            sanitize_url("https://tok@github.com/o/n"),
            "https://github.com/o/n"
        );
        assert_eq!(
            sanitize_url("git@github.com:o/n.git"),
            "git@github.com:o/n.git"
        );
        assert_eq!(sanitize_url("file:///tmp/x"), "file:///tmp/x");
        assert_eq!(
            url_for_config("ssh://git:pw@github.com/o/n.git"),
            "ssh://git@github.com/o/n.git"
        );
        assert_eq!(
            url_for_config("https://tok@github.com/o/n"),
            "https://github.com/o/n"
        );
    }

    #[test]
    fn network_urls() {
        for url in [
            "https://github.com/o/n.git",
            "http://127.0.0.1:8080/o/n",
            "ssh://git@github.com/o/n",
            "git@github.com:o/n.git",
        ] {
            assert!(is_network_url(url), "{url}");
        }
        for url in ["file:///tmp/x.git", "/tmp/x.git", "relative/x.git"] {
            assert!(!is_network_url(url), "{url}");
        }
    }

    #[test]
    fn path_for_is_stable_and_credential_free() {
        let cache = RepoCache::new("/c");
        let a = cache.path_for("https://github.com/lsst/phalanx.git");
        let b = cache.path_for("https://x:SECRET@github.com/lsst/phalanx/");
        let c = cache.path_for("https://github.com/lsst/other.git");
        assert_eq!(a, b);
        assert_ne!(a, c);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("github.com_lsst_phalanx-"), "{name}");
        assert!(!b.to_string_lossy().contains("SECRET"));
    }

    #[test]
    fn debug_of_credentials_is_redacted() {
        let c = Credentials::with_token("ghp_topsecret", DEFAULT_SERVER);
        let d = format!("{c:?}");
        assert!(d.contains("<redacted>"), "{d}");
        assert!(!d.contains("topsecret"));
        assert!(!Credentials::with_token("  ", DEFAULT_SERVER).has_token());
    }

    #[test]
    fn path_validation() {
        assert_eq!(check_path("a/b.yaml").unwrap(), "a/b.yaml");
        for bad in ["", "/abs", "a/../b", "./a", "a/", ".git/config", "a\\b"] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn signatures_prefer_env_then_config() {
        let env = |k: &str| match k {
            "GIT_AUTHOR_NAME" => Some("Ann".to_string()),
            "GIT_COMMITTER_EMAIL" => Some("bot@example.org".to_string()),
            _ => None,
        };
        let cfg = |k: &str| match k {
            "user.name" => Some("Cfg".to_string()),
            "user.email" => Some("cfg@example.org".to_string()),
            _ => None,
        };
        let (a, c) = signatures_from(env, cfg).unwrap();
        assert_eq!(a.name().unwrap(), "Ann");
        assert_eq!(a.email().unwrap(), "cfg@example.org");
        assert_eq!(c.name().unwrap(), "Ann");
        assert_eq!(c.email().unwrap(), "bot@example.org");
        let err = signatures_from(|_| None, |_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("GIT_AUTHOR_NAME") && err.contains("user.name"),
            "{err}"
        );
    }

    #[test]
    fn transient_classification() {
        let remote = |m: &str| GitError::Remote {
            op: "fetching",
            url: "u".into(),
            message: m.into(),
        };
        assert!(is_transient(&remote(
            "failed to connect to x: Connection refused"
        )));
        assert!(is_transient(&remote("unexpected http status code: 502")));
        assert!(!is_transient(&remote("unexpected http status code: 404")));
        assert!(!is_transient(&remote(
            "failed to resolve path '/x/missing.git': No such file or directory"
        )));
        assert!(is_transient(&remote(
            "failed to resolve address for github.com: Name or service not known"
        )));
        assert!(!is_transient(&GitError::AuthRejected { url: "u".into() }));
        let limited = remote("unexpected http status code: 429 (retry after 3s)");
        assert!(is_transient(&limited));
        assert_eq!(retry_after(&limited), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after(&remote("unexpected http status code: 500")),
            None
        );
    }
}
