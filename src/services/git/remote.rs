//! Talking to the remotes of a cached clone: fetching branches, tags and
//! history, deepening a shallow clone, and pushing.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fs::{self};
use std::rc::Rc;
use std::time::Duration;

use git2::{
    AutotagOption, Direction, ErrorCode, FetchOptions, FetchPrune, Oid, PushOptions, Repository,
};

use super::*;

impl CachedRepo {
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
}

impl CachedRepo {
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
        // The cache's lock, as a fetch takes it: two walks of one clone's
        // history (two sites on one repository) would race for
        // `shallow.lock`.
        let mutex = path_lock(self.repo.path());
        let _guard = mutex.lock().unwrap_or_else(|e| e.into_inner());
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

/// What one fetch asks for.
pub(super) struct FetchSpec<'s> {
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
pub(super) enum History {
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
    pub(super) fn all_branches() -> Self {
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
    pub(super) fn branches(remote: &'s str, branches: &[String], history: History) -> Self {
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
pub(super) fn fetch_refs(
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
pub(super) fn prune_tracking(
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
