//! The configuration-branch step: observe a repository's ticket branch
//! (fetching each repository once per run, whichever sites share it, and
//! only the branches the run uses), and apply the site's edits as one
//! commit on `tickets/<KEY>`, pushed without force. Both run on blocking
//! threads (git2 is synchronous).
//!
//! The clones are shallow ([`RepoCache::sync_branches`]): a question about
//! history (has the branch diverged? where did it leave its base?) is
//! answered from what the cache has when that is certain, else after
//! deepening the branches' history ([`git::DEEPEN_STEPS`], then all of it).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use git2::{Oid, Signature};

use crate::edit::repo::{self as configedit, FileChange, FileTree};
use crate::engine::journal::Outcome;
use crate::model::site::{EditSpec, Repository};
use crate::plan::{ConfigRequest, RepoState};
use crate::services::cycle_build;
use crate::services::git::{self, CachedRepo, Credentials, RepoCache};

/// The files of one commit of a cached clone.
struct CommitTree<'a> {
    repo: &'a CachedRepo,
    commit: Oid,
}

impl FileTree for CommitTree<'_> {
    fn list(&self, glob: &str) -> Result<Vec<String>, String> {
        self.repo
            .list_files(self.commit, glob)
            .map_err(|e| e.to_string())
    }

    fn read(&self, path: &str) -> Result<Option<String>, String> {
        self.repo
            .read_file(self.commit, path)
            .map_err(|e| e.to_string())
    }
}

/// The clone URL of a repository: its `url`, else `$GITHUB_SERVER_URL/owner/name.git`.
pub fn clone_url(repo: &Repository) -> String {
    match &repo.url {
        Some(url) => url.clone(),
        None => {
            let server = crate::services::http::env_var("GITHUB_SERVER_URL")
                .unwrap_or_else(|| "https://github.com".to_string());
            format!("{}/{}.git", server.trim_end_matches('/'), repo.repo)
        }
    }
}

/// The fork the ticket branch is pushed to, when the site names one: the
/// name of its remote in the cached clone (`fork-<owner>`) and its clone
/// URL, `$GITHUB_SERVER_URL/<owner>/<name>.git`.
pub fn fork_remote(repo: &Repository) -> Option<(String, String)> {
    let fork = repo.pull_request.as_ref()?.fork.as_deref()?;
    let owner = fork.split_once('/').map_or(fork, |(owner, _)| owner);
    let server = crate::services::http::env_var("GITHUB_SERVER_URL")
        .unwrap_or_else(|| "https://github.com".to_string());
    Some((
        format!("fork-{owner}"),
        format!("{}/{fork}.git", server.trim_end_matches('/')),
    ))
}

/// The ticket branch's tip where it is pushed: the fork's when the site
/// names one, else origin's.
fn pushed_tip(cached: &CachedRepo, repo: &Repository, branch: &str) -> anyhow::Result<Option<Oid>> {
    Ok(match fork_remote(repo) {
        Some((name, _)) => cached.other_branch(&name, branch)?,
        None => cached.remote_branch(branch)?,
    })
}

/// Where the ticket branch starts and what it lacks.
pub struct BranchState {
    /// Commit the edits are applied on.
    pub tip: Oid,
    /// The branch exists locally or on the remote.
    pub exists: bool,
    /// The local branch has commits the remote lacks.
    pub unpushed: bool,
    /// Files still to change.
    pub changes: Vec<FileChange>,
}

impl BranchState {
    /// What the planner needs to know of this state.
    pub fn to_repo_state(&self, notes: Vec<String>) -> RepoState {
        RepoState::Known {
            branch_exists: self.exists,
            unpushed: self.unpushed,
            changes: self.changes.clone(),
            notes,
        }
    }
}

/// The file changes computed in this run, by commit and edits. They are a
/// pure function of the commit's tree (named by its id) and the edits, so
/// a config step reuses what the observation computed on the same commit.
pub type ChangeMemo = Arc<Mutex<HashMap<(Oid, String), Vec<FileChange>>>>;

/// Where the remote has the branches of a history question: the base on
/// origin, the ticket branch on origin or on the fork.
fn history_remotes(repo: &Repository, branch: Option<&str>) -> Vec<RemoteBranches> {
    let mut origin = vec![repo.base.clone()];
    let mut out = Vec::new();
    if let Some(branch) = branch {
        match fork_remote(repo) {
            Some((name, _)) => out.push((name, vec![branch.to_string()])),
            None => origin.push(branch.to_string()),
        }
    }
    out.insert(0, (git::REMOTE.to_string(), origin));
    out
}

/// A remote's name and the branches a run fetches from it.
type RemoteBranches = (String, Vec<String>);

/// Answers a history question on `cached`: `question` returns its answer
/// and whether the cache's history was deep enough for it to be certain.
/// An uncertain answer is asked again after deepening `remotes`' branches
/// (online, `creds` given) to each of `steps` ([`git::DEEPEN_STEPS`] for
/// the branches' relation, [`git::HISTORY_STEPS`] for a walk back to an
/// earlier cycle), then to the whole history; offline, or once the history
/// is whole, the last answer stands, with `false` for certainty.
fn with_history<T, E>(
    cached: &mut CachedRepo,
    deepen: Option<(&Credentials, &[RemoteBranches])>,
    steps: &[i32],
    question: impl Fn(&CachedRepo) -> Result<(T, bool), E>,
) -> anyhow::Result<(T, bool)>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut depths = steps.iter().copied().chain([i32::MAX]);
    loop {
        let (answer, certain) = question(cached)?;
        if certain {
            return Ok((answer, true));
        }
        let (Some((creds, remotes)), Some(depth)) = (deepen, depths.next()) else {
            return Ok((answer, false));
        };
        for (remote, branches) in remotes {
            cached.deepen(remote, branches, depth, creds)?;
        }
    }
}

/// How the local ticket branch `l` stands to the pushed one `r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    /// `l` has `r` and more: push it.
    LocalAhead,
    /// `r` has `l` (and maybe more): build on `r`.
    RemoteAhead,
    /// Each has commits the other lacks.
    Diverged,
}

/// [`Relation`] of `l` to `r` and whether it is certain: an ancestry found
/// is; a divergence is when a merge base was found and no commit of either
/// branch above it is at the shallow boundary (a path from one tip to the
/// other would then have been seen).
fn relation(cached: &CachedRepo, l: Oid, r: Oid) -> Result<(Relation, bool), git::GitError> {
    if cached.is_ancestor(r, l)? {
        return Ok((Relation::LocalAhead, true));
    }
    if cached.is_ancestor(l, r)? {
        return Ok((Relation::RemoteAhead, true));
    }
    let certain = match cached.merge_base(l, r)? {
        Some(base) => cached.history_complete(&[l, r], Some(base))?,
        None => cached.history_complete(&[l, r], None)?,
    };
    Ok((Relation::Diverged, certain))
}

/// Computes the edits against the ticket branch (or the base when the
/// branch does not exist); refuses a branch that diverged from the cache.
/// Changes already in `memo` for the same commit and edits are reused.
/// With `creds` (online) a shallow cache is deepened when the branches'
/// relation needs more history.
pub fn analyze(
    cached: &mut CachedRepo,
    repo: &Repository,
    branch: Option<&str>,
    edits: &[EditSpec],
    memo: &ChangeMemo,
    creds: Option<&Credentials>,
) -> anyhow::Result<BranchState> {
    let url = cached.url().to_string();
    let base = cached.remote_branch(&repo.base)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{}: base branch `{}` not found at {url}",
            repo.repo,
            repo.base
        )
    })?;
    let (local, remote) = match branch {
        Some(b) => (cached.local_branch(b)?, pushed_tip(cached, repo, b)?),
        None => (None, None),
    };
    let remotes = history_remotes(repo, branch);
    let (tip, unpushed) = match (local, remote) {
        (None, None) => (base, false),
        (Some(l), None) => (l, true),
        (None, Some(r)) => (r, false),
        (Some(l), Some(r)) if l == r => (r, false),
        (Some(l), Some(r)) => {
            let deepen = creds.map(|c| (c, remotes.as_slice()));
            match with_history(cached, deepen, &git::DEEPEN_STEPS, |c| relation(c, l, r))? {
                (Relation::LocalAhead, _) => (l, true),
                (Relation::RemoteAhead, _) => (r, false),
                (Relation::Diverged, certain) => anyhow::bail!(
                    "{}: {} on {} has diverged from the cached branch (remote {}, local {}); nothing was pushed. \
                     Reconcile the branch by hand; cycle never force-pushes{}",
                    repo.repo,
                    branch.unwrap_or_default(),
                    fork_remote(repo)
                        .map_or_else(|| url.clone(), |(_, fork)| git::sanitize_url(&fork)),
                    short(r),
                    short(l),
                    if certain {
                        ""
                    } else {
                        " (as far as the shallow cache shows: run online to look at the whole history)"
                    }
                ),
            }
        }
    };
    let key = (tip, serde_json::to_string(edits)?);
    let known = memo
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned();
    let changes = match known {
        Some(changes) => changes,
        None => {
            let tree = CommitTree {
                repo: &*cached,
                commit: tip,
            };
            let changes = configedit::compute_changes(&repo.repo, &tree, edits)?;
            memo.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, changes.clone());
            changes
        }
    };
    Ok(BranchState {
        tip,
        exists: local.is_some() || remote.is_some(),
        unpushed,
        changes,
    })
}

/// What the ticket branch changes against its base once every edit is on
/// it (what its pull request shows): for each file the branch changed since
/// it left the base, or that the edits still change, the content at the
/// merge base and the content the branch will have. A branch that does not
/// exist yet changes what the edits change on the base. With `creds`
/// (online) a shallow cache is deepened until the merge base is certain.
pub fn branch_changes(
    cached: &mut CachedRepo,
    repo: &Repository,
    branch: Option<&str>,
    state: &BranchState,
    creds: Option<&Credentials>,
) -> anyhow::Result<Vec<FileChange>> {
    if !state.exists {
        return Ok(state.changes.clone());
    }
    let Some(base) = cached.remote_branch(&repo.base)? else {
        return Ok(state.changes.clone());
    };
    let tip = state.tip;
    let remotes = history_remotes(repo, branch);
    let deepen = creds.map(|c| (c, remotes.as_slice()));
    let (fork_point, _) = with_history(cached, deepen, &git::DEEPEN_STEPS, |c| {
        let found = c.merge_base(base, tip)?;
        let certain = c.history_complete(&[base, tip], found)?;
        Ok::<_, git::GitError>((found, certain))
    })?;
    let Some(fork_point) = fork_point else {
        return Ok(state.changes.clone());
    };
    let mut paths = cached.changed_paths(fork_point, state.tip)?;
    paths.extend(state.changes.iter().map(|c| c.path().to_string()));
    paths.sort();
    paths.dedup();
    let mut out = Vec::new();
    for path in paths {
        let before = cached.read_file(fork_point, &path)?.unwrap_or_default();
        let after = match state.changes.iter().find(|c| c.path() == path) {
            Some(change) => change.after().to_string(),
            None => cached.read_file(state.tip, &path)?.unwrap_or_default(),
        };
        if before != after {
            out.push(FileChange::new(path, before, after));
        }
    }
    Ok(out)
}

fn short(oid: Oid) -> String {
    oid.to_string()[..8].to_string()
}

/// What this run fetched of one remote: the branches it fetched (or
/// learnt the remote does not have), and every branch the remote had.
#[derive(Default)]
struct Fetched {
    branches: BTreeSet<String>,
    remote: BTreeSet<String>,
}

/// The result of fetching one remote in this run (`None` until fetched).
type FetchSlot = Arc<Mutex<Option<Result<Fetched, String>>>>;

/// The git side of one run: the clone cache, the token, which URLs were
/// already fetched in this run (each is fetched once, whichever sites use
/// it) and the edits computed so far.
#[derive(Clone)]
pub struct GitRun {
    cache: RepoCache,
    creds: Credentials,
    offline: bool,
    fetched: Arc<Mutex<HashMap<String, FetchSlot>>>,
    changes: ChangeMemo,
}

impl GitRun {
    /// A run over the cache at `cache_dir/repos`; `offline` reads the cache only.
    pub fn new(cache_dir: &std::path::Path, creds: Credentials, offline: bool) -> Self {
        Self {
            cache: RepoCache::new(cache_dir.join("repos")),
            creds,
            offline,
            fetched: Arc::default(),
            changes: Arc::default(),
        }
    }

    /// The head of `branch` of `url` as this run last fetched it (the
    /// cached remote-tracking branch), `None` when the remote has no such
    /// branch or nothing is cached. Reads the cache only.
    pub fn cached_head(&self, url: &str, branch: &str) -> Option<String> {
        let cached = self.cache.open_cached(url).ok()??;
        cached
            .remote_branch(branch)
            .ok()?
            .map(|oid| oid.to_string())
    }

    /// The fork (`owner/name`) a repository's ticket branch is pushed to and
    /// that branch's tip in the cached clone (`None`: no such branch), when
    /// the site names a fork.
    pub fn cached_fork_head(
        &self,
        repo: &Repository,
        branch: Option<&str>,
    ) -> Option<(String, Option<String>)> {
        let fork = repo.pull_request.as_ref()?.fork.clone()?;
        let (name, _) = fork_remote(repo)?;
        let branch = branch?;
        let cached = self.cache.open_cached(&clone_url(repo)).ok()??;
        let head = cached
            .other_branch(&name, branch)
            .ok()
            .flatten()
            .map(|oid| oid.to_string());
        Some((fork, head))
    }

    /// The credentials of the run's fetches.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// Opens the cached clone of `url` with every branch and its whole
    /// history ([`RepoCache::sync`]), fetching it first unless it was
    /// fetched already in this run (or the run is offline). Blocking.
    pub fn open(&self, url: &str) -> anyhow::Result<CachedRepo> {
        if self.offline {
            return self.offline_clone(url);
        }
        self.fetch_once(format!("all {url}"), &[], |_| {
            self.cache.sync(url, &self.creds).map(|_| BTreeSet::new())
        })?;
        self.opened(url)
    }

    /// Opens the cached clone of `url` with the branches `branches` fetched
    /// in this run ([`RepoCache::sync_branches`], shallow): the first call
    /// for a URL fetches them; a later one fetches only those not fetched
    /// yet that the remote had at the first fetch (one it did not have
    /// needs no fetch: a ticket branch created in this run). Offline, the
    /// cache as it is. Blocking.
    pub fn open_branches(&self, url: &str, branches: &[String]) -> anyhow::Result<CachedRepo> {
        if self.offline {
            return self.offline_clone(url);
        }
        self.fetch_once(format!("branches {url}"), branches, |wanted| {
            self.cache
                .sync_branches(url, wanted, &self.creds)
                .map(|(_, synced)| synced.remote_branches)
        })?;
        self.opened(url)
    }

    /// Runs `fetch` for the branches of `branches` that the slot `key` has
    /// not fetched in this run (all of them the first time; then only those
    /// the remote had), once per slot and branch. `fetch` returns every
    /// branch the remote has. A failed first fetch is remembered.
    fn fetch_once(
        &self,
        key: String,
        branches: &[String],
        fetch: impl FnOnce(&[String]) -> Result<BTreeSet<String>, git::GitError>,
    ) -> anyhow::Result<()> {
        let slot = {
            let mut map = self.fetched.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key).or_default().clone()
        };
        let mut done = slot.lock().unwrap_or_else(|e| e.into_inner());
        let wanted: Vec<String> = match &*done {
            Some(Err(e)) => anyhow::bail!("{e}"),
            None => branches.to_vec(),
            Some(Ok(fetched)) => branches
                .iter()
                .filter(|b| !fetched.branches.contains(*b) && fetched.remote.contains(*b))
                .cloned()
                .collect(),
        };
        if done.is_none() || !wanted.is_empty() {
            match fetch(&wanted) {
                Ok(remote) => match &mut *done {
                    Some(Ok(fetched)) => fetched.remote = remote,
                    _ => {
                        *done = Some(Ok(Fetched {
                            branches: BTreeSet::new(),
                            remote,
                        }));
                    }
                },
                Err(e) => {
                    if done.is_none() {
                        *done = Some(Err(e.to_string()));
                    }
                    return Err(e.into());
                }
            }
        }
        if let Some(Ok(fetched)) = &mut *done {
            fetched.branches.extend(branches.iter().cloned());
        }
        Ok(())
    }

    /// The cached clone of `url`, offline.
    fn offline_clone(&self, url: &str) -> anyhow::Result<CachedRepo> {
        self.cache.open_cached(url)?.ok_or_else(|| {
            anyhow::anyhow!("offline and no cached clone of {}", git::sanitize_url(url))
        })
    }

    /// The cached clone of `url` after a fetch.
    fn opened(&self, url: &str) -> anyhow::Result<CachedRepo> {
        self.cache.open_cached(url)?.ok_or_else(|| {
            anyhow::anyhow!(
                "no cached clone of {} after fetching",
                git::sanitize_url(url)
            )
        })
    }

    /// The branches of `repo` a run reads on origin: the base, and the
    /// ticket branch `branch` unless it is pushed to a fork.
    pub fn origin_branches(repo: &Repository, branch: Option<&str>) -> Vec<String> {
        let mut out = vec![repo.base.clone()];
        if let Some(branch) = branch
            && fork_remote(repo).is_none()
        {
            out.push(branch.to_string());
        }
        out
    }

    /// Opens the cached clone of `repo` with its base and the ticket branch
    /// `branch` fetched ([`GitRun::open_branches`]) and, when the site names
    /// a fork, the ticket branch fetched from the fork (once per run, never
    /// offline). Blocking.
    fn open_repo(&self, repo: &Repository, branch: Option<&str>) -> anyhow::Result<CachedRepo> {
        let url = clone_url(repo);
        let cached = self.open_branches(&url, &Self::origin_branches(repo, branch))?;
        if let Some((name, fork_url)) = fork_remote(repo)
            && !self.offline
        {
            let branches: Vec<String> = branch.map(str::to_string).into_iter().collect();
            self.fetch_once(format!("fork {url} {fork_url}"), &branches, |wanted| {
                cached.fetch_other(&name, &fork_url, wanted, &self.creds)
            })?;
        }
        Ok(cached)
    }

    /// The credentials for deepening a shallow clone; none offline.
    fn history_creds(&self) -> Option<&Credentials> {
        (!self.offline).then_some(&self.creds)
    }

    /// What a revert of `repo` puts back: the newest commit of its base
    /// (first-parent line) whose `marker` key has the marker's value (the
    /// cycle returned to), and the edits that give today's base that
    /// commit's cycle-owned values ([`crate::edit::revert::revert_edits`]).
    /// The shallow clone is deepened as the walk needs ([`git::HISTORY_STEPS`],
    /// then all of it); offline, the cached clone must reach far enough.
    /// Blocking; the error is the plan's sentence.
    pub fn revert_source(
        &self,
        repo: &Repository,
        marker: &crate::edit::revert::CycleMarker,
    ) -> Result<crate::plan::RevertSource, String> {
        use git::history::{Found, find_value};
        let url = clone_url(repo);
        let shown = git::sanitize_url(&url);
        let mut cached = self
            .open_branches(&url, std::slice::from_ref(&repo.base))
            .map_err(|e| format!("cannot read {shown}: {e:#}"))?;
        let base = cached
            .remote_branch(&repo.base)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("base branch `{}` not found at {shown}", repo.base))?;
        let wanted = format!("{} `{}: {}`", marker.file, marker.path, marker.value);
        let remotes = [(git::REMOTE.to_string(), vec![repo.base.clone()])];
        let deepen = self.history_creds().map(|creds| (creds, &remotes[..]));
        let (found, _) = with_history(&mut cached, deepen, &git::HISTORY_STEPS, |c| {
            let found = find_value(
                c.repository(),
                base,
                &marker.file,
                &marker.path,
                &marker.value,
            )?;
            Ok::<_, git::history::HistoryError>((found, !matches!(found, Found::Truncated { .. })))
        })
        .map_err(|e| format!("{e:#}"))?;
        let found = match found {
            Found::At(commit) => commit,
            Found::Nowhere { walked } => {
                return Err(format!(
                    "no commit of {} ({walked} looked at) has {wanted}",
                    repo.base
                ));
            }
            Found::Truncated { walked, .. } => {
                return Err(format!(
                    "the cached clone's history of {} ends after {walked} commits without {wanted} (run online to fetch more of it)",
                    repo.base
                ));
            }
        };
        let old = CommitTree {
            repo: &cached,
            commit: found,
        };
        let today = CommitTree {
            repo: &cached,
            commit: base,
        };
        let edits = crate::edit::revert::revert_edits(&repo.repo, &repo.edits, &old, &today)
            .map_err(|e| e.to_string())?;
        let base_value = today.read(&marker.file).ok().flatten().and_then(|text| {
            crate::edit::yaml::get_scalar(&text, &marker.path)
                .ok()
                .flatten()
        });
        Ok(crate::plan::RevertSource {
            commit: short(found),
            edits,
            base_value,
        })
    }

    /// Reads ts_cycle_build's `cycle/cycle.env` at `source`'s ref through
    /// the clone cache, fetched once per run (offline: the cached clone,
    /// or [`cycle_build::Observed::Offline`] without one). Blocking.
    pub fn cycle_build(
        &self,
        source: &cycle_build::Source,
    ) -> anyhow::Result<cycle_build::Observed> {
        if self.offline {
            return Ok(cycle_build::observe(&self.cache, source, None)?);
        }
        let repo = self.open(&source.url)?;
        Ok(cycle_build::read(&repo, source, Some(&self.creds))?)
    }

    /// Looks at a repository for a plan: never fails; what cannot be known
    /// is [`RepoState::Unknown`]. A fetch failure falls back to the cache
    /// with a note. Blocking.
    pub fn observe(&self, request: &ConfigRequest) -> RepoState {
        self.observe_branch(request).0
    }

    /// [`GitRun::observe`], and what the ticket branch changes against its
    /// base once every edit is on it (see [`branch_changes`]), when known.
    /// Blocking.
    pub fn observe_branch(&self, request: &ConfigRequest) -> (RepoState, Option<Vec<FileChange>>) {
        let url = clone_url(&request.repo);
        let mut notes = Vec::new();
        let cached = match self.open_repo(&request.repo, request.branch.as_deref()) {
            Ok(c) => Some(c),
            Err(e) => {
                if !self.offline {
                    notes.push(format!("could not fetch: {e}"));
                }
                self.cache.open_cached(&url).ok().flatten()
            }
        };
        let Some(mut cached) = cached else {
            let why = if self.offline {
                "offline".to_string()
            } else {
                notes.join("; ")
            };
            let state = RepoState::Unknown {
                reason: format!(
                    "current content unknown ({why}; no cached clone of {})",
                    git::sanitize_url(&url)
                ),
            };
            return (state, None);
        };
        if !notes.is_empty() {
            notes.push("showing the cached clone, which may be stale".into());
        }
        let creds = if notes.is_empty() {
            self.history_creds()
        } else {
            None
        };
        match analyze(
            &mut cached,
            &request.repo,
            request.branch.as_deref(),
            &request.edits,
            &self.changes,
            creds,
        ) {
            Ok(state) => {
                let changes = branch_changes(
                    &mut cached,
                    &request.repo,
                    request.branch.as_deref(),
                    &state,
                    creds,
                )
                .ok();
                (state.to_repo_state(notes), changes)
            }
            Err(e) => (
                RepoState::Unknown {
                    reason: e.to_string(),
                },
                None,
            ),
        }
    }

    /// Applies a repository's edits: looks at the branch again, commits
    /// what is missing and pushes (never forced). Blocking.
    pub fn apply(&self, request: &ConfigRequest, identity: &Identity) -> anyhow::Result<Applied> {
        let Some(branch) = request.branch.as_deref() else {
            anyhow::bail!(
                "{}: the ticket key is not known, so the branch has no name (run the jira step, or pass --ticket)",
                request.repo.repo
            );
        };
        let mut cached = self.open_repo(&request.repo, Some(branch))?;
        let remote = fork_remote(&request.repo).map_or_else(|| git::REMOTE.to_string(), |f| f.0);
        let mut races = 0;
        loop {
            match self.commit_and_push(&mut cached, request, identity, branch, &remote) {
                // Another run pushed the branch since it was fetched (two
                // release managers at once): its commit replaces this run's,
                // which was never pushed, and only what it lacks is added.
                // Its push may still hold the ref's lock: then the branch
                // is not there yet, and this run's push is tried again.
                Err(e)
                    if races < MAX_PUSH_RACES
                        && e.downcast_ref::<git::GitError>()
                            .is_some_and(git::GitError::is_raced) =>
                {
                    races += 1;
                    let wanted = [branch.to_string()];
                    if remote == git::REMOTE {
                        // A fresh handle sees the shallow boundary the fetch moved.
                        let url = clone_url(&request.repo);
                        cached = self.cache.sync_branches(&url, &wanted, &self.creds)?.0;
                    } else {
                        cached.fetch_branches(&remote, &wanted, &self.creds)?;
                    }
                    match cached.other_branch(&remote, branch)? {
                        Some(theirs) => cached.set_local_branch(branch, theirs)?,
                        None => std::thread::sleep(std::time::Duration::from_millis(
                            100 * u64::from(races),
                        )),
                    }
                }
                done => return done,
            }
        }
    }

    /// Commits what the branch lacks and pushes it to `remote` (never
    /// forced). Blocking.
    fn commit_and_push(
        &self,
        cached: &mut git::CachedRepo,
        request: &ConfigRequest,
        identity: &Identity,
        branch: &str,
        remote: &str,
    ) -> anyhow::Result<Applied> {
        let state = analyze(
            cached,
            &request.repo,
            Some(branch),
            &request.edits,
            &self.changes,
            self.history_creds(),
        )?;
        if state.changes.is_empty() && !state.unpushed {
            let commit = pushed_tip(cached, &request.repo, branch)?.map(|oid| oid.to_string());
            return Ok(Applied {
                outcome: Outcome::Branch {
                    repo: request.repo.repo.clone(),
                    branch: branch.to_string(),
                    commit,
                },
                action: "unchanged",
            });
        }
        let mut tip = state.tip;
        if !state.changes.is_empty() {
            let (author, committer) = identity.signatures(cached)?;
            let files: Vec<(String, String)> = state
                .changes
                .iter()
                .map(|c| (c.path().to_string(), c.after().to_string()))
                .collect();
            tip = cached.commit_files(state.tip, &files, &request.message, &author, &committer)?;
            cached.set_local_branch(branch, tip)?;
        }
        cached.push_to(remote, branch, &self.creds)?;
        Ok(Applied {
            outcome: Outcome::Branch {
                repo: request.repo.repo.clone(),
                branch: branch.to_string(),
                commit: Some(tip.to_string()),
            },
            action: if state.exists { "updated" } else { "created" },
        })
    }
}

/// How often a configuration step takes another run's push of its branch
/// and pushes again before giving up.
const MAX_PUSH_RACES: u32 = 3;

/// What applying a configuration step did.
pub struct Applied {
    /// The branch and its tip.
    pub outcome: Outcome,
    /// `created`, `updated` or `unchanged`.
    pub action: &'static str,
}

/// The commit identity: `--author`/`--committer` when given, else the
/// environment (`GIT_AUTHOR_*`, `GIT_COMMITTER_*`) and git config; a missing
/// committer falls back to the author.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    author: Option<(String, String)>,
    committer: Option<(String, String)>,
}

impl Identity {
    /// Who will author and commit, as the run will sign (flags, then
    /// `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, then git's global `user.*`):
    /// `author NAME <EMAIL>; committer NAME <EMAIL>`.
    pub fn describe(&self) -> String {
        let config = git2::Config::open_default()
            .and_then(|mut c| c.snapshot())
            .ok();
        let get = |var: &str, key: &str| {
            crate::services::http::env_var(var)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| config.as_ref().and_then(|c| c.get_string(key).ok()))
                .unwrap_or_else(|| "?".to_string())
        };
        let author = self.author.clone().unwrap_or_else(|| {
            (
                get("GIT_AUTHOR_NAME", "user.name"),
                get("GIT_AUTHOR_EMAIL", "user.email"),
            )
        });
        let committer = self.committer.clone().unwrap_or_else(|| {
            match (
                crate::services::http::env_var("GIT_COMMITTER_NAME")
                    .filter(|v| !v.trim().is_empty()),
                crate::services::http::env_var("GIT_COMMITTER_EMAIL")
                    .filter(|v| !v.trim().is_empty()),
            ) {
                (Some(n), Some(e)) => (n, e),
                _ => author.clone(),
            }
        });
        format!(
            "author {} <{}>; committer {} <{}>",
            author.0, author.1, committer.0, committer.1
        )
    }

    /// Parses `--author` and `--committer` (`Name <email>`).
    pub fn from_flags(author: Option<&str>, committer: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self {
            author: author.map(|a| parse_identity("--author", a)).transpose()?,
            committer: committer
                .map(|c| parse_identity("--committer", c))
                .transpose()?,
        })
    }

    /// Author and committer signatures, stamped now.
    pub fn signatures(
        &self,
        cached: &CachedRepo,
    ) -> anyhow::Result<(Signature<'static>, Signature<'static>)> {
        let sig = |(name, email): &(String, String)| Signature::now(name, email);
        match (&self.author, &self.committer) {
            (Some(a), Some(c)) => Ok((sig(a)?, sig(c)?)),
            (Some(a), None) => {
                let author = sig(a)?;
                // The committer is the environment's when set, else the author.
                let committer = match (
                    crate::services::http::env_var("GIT_COMMITTER_NAME"),
                    crate::services::http::env_var("GIT_COMMITTER_EMAIL"),
                ) {
                    (Some(n), Some(e)) => Signature::now(&n, &e)?,
                    _ => author.clone(),
                };
                Ok((author, committer))
            }
            (None, committer) => {
                let (a, c) = git::signatures_from_env(cached)?;
                Ok((a, committer.as_ref().map(sig).transpose()?.unwrap_or(c)))
            }
        }
    }
}

fn parse_identity(flag: &str, text: &str) -> anyhow::Result<(String, String)> {
    let (name, email) = text
        .trim()
        .strip_suffix('>')
        .and_then(|s| s.split_once('<'))
        .map(|(n, e)| (n.trim(), e.trim()))
        .filter(|(n, e)| !n.is_empty() && e.contains('@'))
        .ok_or_else(|| anyhow::anyhow!("{flag} {text:?}: write it as \"Name <email>\""))?;
    Ok((name.to_string(), email.to_string()))
}
