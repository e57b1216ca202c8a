//! The cache of bare clones: where a remote's clone lives, locking it between
//! processes, and cloning or syncing it.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use git2::{ErrorCode, Oid, Repository};

use super::*;

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
    pub(super) timeout: Duration,
}

/// Per-process locks keyed by cache path (the lock file covers other processes).
pub(super) fn path_lock(path: &Path) -> Arc<Mutex<()>> {
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
    pub(super) repo: Repository,
    pub(super) display: String,
    /// Idle timeout of the HTTP transport (from the cache).
    pub(super) timeout: Duration,
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

    pub(super) fn err(&self, context: impl Into<String>, e: git2::Error) -> GitError {
        git_err(context, &self.display, e)
    }

    pub(super) fn lookup_ref(&self, refname: &str) -> Result<Option<Oid>, GitError> {
        match self.repo.refname_to_id(refname) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) if e.code() == ErrorCode::InvalidSpec => Err(GitError::InvalidBranch {
                name: refname.to_string(),
            }),
            Err(e) => Err(self.err(format!("reading {refname}"), e)),
        }
    }
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
pub(super) fn url_for_config(url: &str) -> String {
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
pub(super) fn is_network_url(url: &str) -> bool {
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

/// Opens the bare repository at `path` exactly there. Not with
/// `Repository::open_bare`: libgit2's `git_repository_open_bare` does not
/// read the `shallow` file, so a shallow clone's boundary commits would
/// keep their (missing) parents and every walk over them would fail.
pub(super) fn open_shallow_aware(path: &Path) -> Result<Repository, git2::Error> {
    Repository::open_ext(
        path,
        git2::RepositoryOpenFlags::NO_SEARCH | git2::RepositoryOpenFlags::BARE,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
}

pub(super) fn open_bare(path: &Path, display: &str) -> Result<Repository, GitError> {
    open_shallow_aware(path).map_err(|e| GitError::Git {
        context: format!("opening cached clone {}", path.display()),
        url: display.to_string(),
        message: e.message().to_string(),
    })
}

pub(super) fn git_err(context: impl Into<String>, url: &str, e: git2::Error) -> GitError {
    GitError::Git {
        context: context.into(),
        url: url.to_string(),
        message: e.message().to_string(),
    }
}
