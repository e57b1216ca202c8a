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
//! Remote-tracking refs use the refspec `+refs/heads/*:refs/remotes/origin/*`
//! and are pruned on every fetch. Pushes are never forced.
//!
//! # Transport and credentials
//!
//! `http://` and `https://` remotes go through this crate's own smart-HTTP
//! transport on reqwest ([`http`](self::http)): connect and idle timeouts
//! ([`RepoCache::with_timeout`]), rustls, kept-alive connections. The GitHub
//! token ([`Credentials`]) goes with each request as HTTP Basic auth
//! (`x-access-token`), only to the repository's own host. It never enters a
//! URL, the cache's `config` file, an error message or `Debug` output. A
//! rejected token fails at once with [`GitError::AuthRejected`]; ssh URLs
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

mod http;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use git2::build::TreeUpdateBuilder;
use git2::{
    AutotagOption, Cred, CredentialType, ErrorClass, ErrorCode, FetchOptions, FetchPrune, FileMode,
    ObjectType, Oid, PushOptions, RemoteCallbacks, Repository, Signature, TreeWalkMode,
    TreeWalkResult,
};

/// Name of the environment variable holding the GitHub token.
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

const REMOTE: &str = "origin";
const FETCH_REFSPEC: &str = "+refs/heads/*:refs/remotes/origin/*";
const HTTP_USER: &str = "x-access-token";
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

/// Credentials for remote operations: an optional GitHub token.
///
/// `Debug` prints `<redacted>` instead of the token.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    token: Option<Secret>,
}

impl Credentials {
    /// No token: anonymous https, ssh agent for ssh URLs.
    pub fn none() -> Self {
        Self { token: None }
    }

    /// Uses `token` for https remotes (empty means none).
    pub fn with_token(token: impl Into<String>) -> Self {
        let token: String = token.into();
        let token = token.trim().to_string();
        Self {
            token: (!token.is_empty()).then_some(Secret(token)),
        }
    }

    /// Reads the token from `GITHUB_TOKEN` (unset or empty means none).
    pub fn from_env() -> Self {
        std::env::var(TOKEN_ENV)
            .map(Self::with_token)
            .unwrap_or_default()
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Replaces every occurrence of the token in `text` (defence in depth for
    /// messages coming from libgit2 or a server).
    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(Secret(t)) if !t.is_empty() => text.replace(t.as_str(), "<redacted>"),
            _ => text.to_string(),
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
    map.entry(path.to_path_buf()).or_default().clone()
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

    /// Brings the cached clone of `url` up to date: clones it (bare) when
    /// absent, else fetches `+refs/heads/*:refs/remotes/origin/*` with prune.
    /// Transient network errors are retried twice with backoff; auth errors
    /// are not. Concurrent syncs of the same URL are serialised.
    pub fn sync(&self, url: &str, creds: &Credentials) -> Result<(CachedRepo, SyncKind), GitError> {
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

        let (repo, kind) = if path.exists() {
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
            with_retries(|| fetch(&repo, &display, creds, self.timeout, "fetching"))?;
            (repo, SyncKind::Fetched)
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
                with_retries(|| fetch(&repo, &display, creds, self.timeout, "cloning"))?;
                Ok::<_, GitError>(())
            })();
            if let Err(e) = result {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
            fs::rename(&tmp, &path).map_err(|source| GitError::Io {
                context: "moving fresh clone into the cache at",
                path: path.clone(),
                source,
            })?;
            (open_bare(&path, &display)?, SyncKind::Cloned)
        };
        let _ = lock_file.unlock();
        Ok((
            CachedRepo {
                repo,
                display,
                timeout: self.timeout,
            },
            kind,
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
    /// when the remote has no such tag. Transient network errors are retried
    /// like [`RepoCache::sync`].
    pub fn fetch_tag(&self, name: &str, creds: &Credentials) -> Result<Option<Oid>, GitError> {
        let refname = format!("refs/tags/{name}");
        if name.is_empty() || !git2::Reference::is_valid_name(&refname) {
            return Err(GitError::InvalidTag {
                name: name.to_string(),
            });
        }
        let refspec = format!("+{refname}:{refname}");
        with_retries(|| {
            fetch_refspec(
                &self.repo,
                REMOTE,
                &self.display,
                creds,
                self.timeout,
                "fetching",
                &refspec,
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
        with_retries(|| {
            fetch_refspec(
                &self.repo,
                REMOTE,
                &self.display,
                creds,
                self.timeout,
                "fetching tags of",
                "+refs/tags/*:refs/tags/*",
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
        let repo = Repository::open_bare(self.repo.path())
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

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, GitError> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(descendant, ancestor)
            .map_err(|e| self.err(format!("comparing {ancestor} and {descendant}"), e))
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

    /// Fetches every branch of `url` (another home of the same project,
    /// e.g. a fork) into `refs/remotes/<name>/*`, pruned; the remote `name`
    /// is added, or its URL updated (without credentials). Transient
    /// network errors are retried as in [`RepoCache::sync`].
    pub fn fetch_other(&self, name: &str, url: &str, creds: &Credentials) -> Result<(), GitError> {
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
        with_retries(|| {
            fetch_refspec(
                &self.repo,
                name,
                &display,
                creds,
                self.timeout,
                "fetching",
                &refspec,
            )
        })
    }

    /// Tip of `refs/remotes/<name>/<branch>` as of the last
    /// [`CachedRepo::fetch_other`] or [`CachedRepo::push_to`].
    pub fn other_branch(&self, name: &str, branch: &str) -> Result<Option<Oid>, GitError> {
        check_branch(branch)?;
        self.lookup_ref(&format!("refs/remotes/{name}/{branch}"))
    }

    /// [`CachedRepo::push`] to the remote `name` (origin, or one added by
    /// [`CachedRepo::fetch_other`]); `refs/remotes/<name>/<branch>` follows.
    pub fn push_to(&self, name: &str, branch: &str, creds: &Credentials) -> Result<(), GitError> {
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
        let auth = AuthState::new(creds, &display, self.timeout);
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
                    reason: "not a fast-forward: the remote branch has commits that are not in \
                             the local branch (cycle never force-pushes; sync and rebuild the \
                             branch, or resolve it by hand)"
                        .into(),
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

/// Lower-cased host (without userinfo and port) of a `scheme://` URL.
fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        &host[..host.find(']').map_or(host.len(), |i| i + 1)]
    } else {
        host.split(':').next().unwrap_or_default()
    };
    Some(host.to_ascii_lowercase())
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

fn open_bare(path: &Path, display: &str) -> Result<Repository, GitError> {
    Repository::open_bare(path).map_err(|e| GitError::Git {
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
    fn new(creds: &'a Credentials, url: &str, timeout: Duration) -> Self {
        Self {
            creds,
            session: http::Session::new(creds.token.clone(), url, timeout),
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
            Some(http::Failure::ForeignHost) => {
                return Some(GitError::UnsupportedAuth {
                    url,
                    detail: "another host (a redirect's target) asks for credentials; \
                             GITHUB_TOKEN is only sent to the repository's own host"
                        .into(),
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

/// Whether a failed fetch is worth retrying (network trouble, HTTP 5xx).
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

fn with_retries<T>(mut op: impl FnMut() -> Result<T, GitError>) -> Result<T, GitError> {
    let mut delays = RETRY_DELAYS.iter();
    loop {
        match op() {
            Err(e) if is_transient(&e) => match delays.next() {
                Some(delay) => thread::sleep(*delay),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

fn fetch(
    repo: &Repository,
    display: &str,
    creds: &Credentials,
    timeout: Duration,
    op: &'static str,
) -> Result<(), GitError> {
    fetch_refspec(repo, REMOTE, display, creds, timeout, op, FETCH_REFSPEC)
}

fn fetch_refspec(
    repo: &Repository,
    name: &str,
    display: &str,
    creds: &Credentials,
    timeout: Duration,
    op: &'static str,
    refspec: &str,
) -> Result<(), GitError> {
    let mut remote = repo
        .find_remote(name)
        .map_err(|e| git_err(format!("opening remote {name}"), display, e))?;
    let auth = AuthState::new(creds, display, timeout);
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(auth.callbacks());
    opts.prune(FetchPrune::On);
    opts.download_tags(AutotagOption::None);
    // Nothing reads FETCH_HEAD; not writing it leaves no lock file for a
    // killed run to strand.
    opts.update_fetchhead(false);
    let result = auth
        .session
        .run(|| remote.fetch(&[refspec], Some(&mut opts), Some("cycle: fetch")));
    drop(opts);
    result.map_err(|e| {
        auth.error(display, &e).unwrap_or_else(|| GitError::Remote {
            op,
            url: display.to_string(),
            message: remote_message(creds, &e),
        })
    })
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
    fn host_extraction() {
        assert_eq!(
            url_host("https://u:p@GitHub.com:443/o/n").as_deref(),
            Some("github.com")
        );
        assert_eq!(url_host("http://[::1]:8080/x").as_deref(), Some("[::1]"));
        assert_eq!(url_host("git@github.com:o/n"), None);
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
        let c = Credentials::with_token("ghp_topsecret");
        let d = format!("{c:?}");
        assert!(d.contains("<redacted>"), "{d}");
        assert!(!d.contains("topsecret"));
        assert!(!Credentials::with_token("  ").has_token());
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
    }
}
