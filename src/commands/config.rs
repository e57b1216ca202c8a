//! `cycle config`: the site's configuration edits as a commit on
//! `tickets/<KEY>` in each deployment configuration repository, pushed
//! without force; and [`observe`], which `prepare --dry-run` uses to show the
//! same edits as a diff.

use std::io::{BufRead, IsTerminal, Write};

use git2::{Oid, Signature};

use super::{Ctx, Outcome};
use crate::cli::{ConfigArgs, ReleaseArgs};
use crate::edit::repo::{self as configedit, Build, FileChange, FileTree};
use crate::model::cycle_id::CycleId;
use crate::model::site::{self, LoadedSite, Repository};
use crate::plan::output::{self as plan_output, Detail};
use crate::plan::{self, RepoState};
use crate::render::{Templates, names};
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
            let server = std::env::var("GITHUB_SERVER_URL")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "https://github.com".to_string());
            format!("{}/{}.git", server.trim_end_matches('/'), repo.repo)
        }
    }
}

/// Where the ticket branch starts and what it lacks.
struct BranchState {
    /// Commit the edits are applied on.
    tip: Oid,
    /// The branch exists locally or on the remote.
    exists: bool,
    /// The local branch has commits the remote lacks.
    unpushed: bool,
    /// Files still to change.
    changes: Vec<FileChange>,
}

impl BranchState {
    /// What the planner needs to know of this state.
    fn to_repo_state(&self, notes: Vec<String>) -> RepoState {
        RepoState::Known {
            branch_exists: self.exists,
            unpushed: self.unpushed,
            changes: self.changes.clone(),
            notes,
        }
    }
}

fn analyze(
    cached: &CachedRepo,
    repo: &Repository,
    branch: Option<&str>,
    edits: &[crate::model::site::EditSpec],
) -> anyhow::Result<BranchState> {
    let url = cached.url();
    let base = cached.remote_branch(&repo.base)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{}: base branch `{}` not found at {url}",
            repo.repo,
            repo.base
        )
    })?;
    let (local, remote) = match branch {
        Some(b) => (cached.local_branch(b)?, cached.remote_branch(b)?),
        None => (None, None),
    };
    let (tip, unpushed) = match (local, remote) {
        (None, None) => (base, false),
        (Some(l), None) => (l, true),
        (None, Some(r)) => (r, false),
        (Some(l), Some(r)) if l == r => (r, false),
        (Some(l), Some(r)) if cached.is_ancestor(r, l)? => (l, true),
        (Some(l), Some(r)) if cached.is_ancestor(l, r)? => (r, false),
        (Some(l), Some(r)) => anyhow::bail!(
            "{}: {} on {url} has diverged from the cached branch (remote {}, local {}); nothing was pushed. \
             Reconcile the branch by hand; cycle never force-pushes",
            repo.repo,
            branch.unwrap_or_default(),
            short(r),
            short(l)
        ),
    };
    let tree = CommitTree {
        repo: cached,
        commit: tip,
    };
    let changes = configedit::compute_changes(&repo.repo, &tree, edits)?;
    Ok(BranchState {
        tip,
        exists: local.is_some() || remote.is_some(),
        unpushed,
        changes,
    })
}

fn short(oid: Oid) -> String {
    oid.to_string()[..8].to_string()
}

/// Looks at a repository for `prepare --dry-run`: fetches into the cache
/// (read-only for the remote) unless offline, then computes the edits against
/// the ticket branch, or the base when there is no branch yet. Never fails:
/// what cannot be known is reported as [`RepoState::Unknown`].
pub fn observe(
    ctx: &Ctx,
    site: &LoadedSite,
    repo: &Repository,
    build: Build<'_>,
    ticket: Option<&str>,
    offline: bool,
) -> RepoState {
    let edits = match configedit::resolve_edits(repo, build, &site.site) {
        Ok(e) => e,
        Err(e) => {
            return RepoState::Unknown {
                reason: e.to_string(),
            };
        }
    };
    if edits.is_empty() {
        return RepoState::Known {
            branch_exists: false,
            unpushed: false,
            changes: vec![],
            notes: vec![format!("no edits for {}", build.id.label())],
        };
    }
    let cache = RepoCache::new(ctx.settings.cache_dir.join("repos"));
    let url = clone_url(repo);
    let mut notes = Vec::new();
    let cached = if offline {
        cache.open_cached(&url).ok().flatten()
    } else {
        match cache.sync(&url, &Credentials::from_env()) {
            Ok((c, _)) => Some(c),
            Err(e) => {
                notes.push(format!("could not fetch: {e}"));
                cache.open_cached(&url).ok().flatten()
            }
        }
    };
    let Some(cached) = cached else {
        let why = if offline {
            "offline".to_string()
        } else {
            notes.join("; ")
        };
        return RepoState::Unknown {
            reason: format!(
                "current content unknown ({why}; no cached clone of {})",
                git::sanitize_url(&url)
            ),
        };
    };
    if !notes.is_empty() {
        notes.push("showing the cached clone, which may be stale".into());
    }
    let branch = ticket.map(|k| plan::branch_name(Some(k), &site.site.jira.project));
    match analyze(&cached, repo, branch.as_deref(), &edits) {
        Ok(state) => state.to_repo_state(notes),
        Err(e) => RepoState::Unknown {
            reason: e.to_string(),
        },
    }
}

/// Runs `cycle config`.
pub fn run(ctx: &Ctx, args: &ConfigArgs) -> anyhow::Result<Outcome> {
    let loaded = site::load_named(&ctx.settings.sites_dir, &args.site)?;
    let id = CycleId::new(args.release.cycle, args.release.revision)
        .map_err(|e| anyhow::anyhow!("--cycle/--revision: {e}"))?;
    super::prepare::check_ticket_key(&args.ticket).map_err(|e| anyhow::anyhow!("--ticket: {e}"))?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    // A revision restarts the components its release manifest names.
    let release = if id.is_revision() {
        let args = ReleaseArgs {
            cycle: Some(id.cycle),
            revision: Some(id.revision),
            release: None,
        };
        Some(super::load_release(&ctx.settings, &args)?)
    } else {
        None
    };
    let build = match &release {
        Some(release) => Build::from(release),
        None => Build::from(id),
    };
    let value_ctx = crate::model::context::build_context(id, build.restarted, &loaded.site);
    let message = templates
        .render(names::COMMIT_MESSAGE, &value_ctx)?
        .trim_end()
        .to_string();
    let repos: Vec<&Repository> = match &args.repo {
        Some(name) => {
            let found: Vec<&Repository> = loaded
                .site
                .repositories
                .iter()
                .filter(|r| &r.repo == name)
                .collect();
            if found.is_empty() {
                anyhow::bail!(
                    "--repo {name}: not a repository of site {} ({})",
                    loaded.site.name,
                    loaded
                        .site
                        .repositories
                        .iter()
                        .map(|r| r.repo.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            found
        }
        None => loaded.site.repositories.iter().collect(),
    };
    let branch = plan::branch_name(Some(&args.ticket), &loaded.site.jira.project);
    let dry_run = args.dry_run || args.offline;
    let creds = Credentials::from_env();
    let cache = RepoCache::new(ctx.settings.cache_dir.join("repos"));

    // Observe every repository first: nothing is committed unless every
    // repository's edits can be computed.
    let mut work = Vec::new();
    for repo in &repos {
        let edits = configedit::resolve_edits(repo, build, &loaded.site)?;
        if edits.is_empty() {
            ctx.note(&format!("{}: no edits for {}", repo.repo, id.label()));
            continue;
        }
        let url = clone_url(repo);
        let cached = if args.offline {
            cache.open_cached(&url)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: offline and no cached clone of {}",
                    repo.repo,
                    git::sanitize_url(&url)
                )
            })?
        } else {
            ctx.note(&format!("fetching {}", git::sanitize_url(&url)));
            cache.sync(&url, &creds)?.0
        };
        let state = analyze(&cached, repo, Some(&branch), &edits)?;
        work.push((*repo, edits, cached, state));
    }

    let steps: Vec<plan::Step> = work
        .iter()
        .map(|(repo, edits, _, state)| {
            plan::config_step(repo, edits, &message, &branch, state.to_repo_state(vec![]))
        })
        .collect();
    let pending = steps.iter().any(plan::Step::is_pending);
    let detail = if ctx.verbose {
        Detail::Full
    } else {
        Detail::Summary
    };
    ctx.print(&plan_output::steps_text(&steps, ctx.style, detail))?;
    if dry_run || !pending {
        return Ok(if pending {
            Outcome::Pending
        } else {
            Outcome::Clean
        });
    }
    if !args.yes && !confirm(&format!("Commit and push {branch}?"))? {
        anyhow::bail!("cancelled; nothing was committed or pushed");
    }

    // The identity is settled before anything is committed anywhere.
    let identity = match work.iter().find(|(.., state)| !state.changes.is_empty()) {
        Some((_, _, cached, _)) => Some(identities(
            cached,
            args.author.as_deref(),
            args.committer.as_deref(),
        )?),
        None => None,
    };
    for (repo, _, cached, state) in &work {
        if state.changes.is_empty() && !state.unpushed {
            continue;
        }
        if let Some((author, committer)) = identity.as_ref().filter(|_| !state.changes.is_empty()) {
            let files: Vec<(String, String)> = state
                .changes
                .iter()
                .map(|c| (c.path.clone(), c.after.clone()))
                .collect();
            let oid = cached.commit_files(state.tip, &files, &message, author, committer)?;
            cached.set_local_branch(&branch, oid)?;
            ctx.note(&format!(
                "{}: committed {} on {branch}",
                repo.repo,
                short(oid)
            ));
        }
        cached.push(&branch, &creds)?;
        ctx.note(&format!("{}: pushed {branch}", repo.repo));
    }
    Ok(Outcome::Clean)
}

/// Author and committer: `--author`/`--committer` when given, else the
/// environment and git config (see [`git::signatures_from_env`]).
fn identities(
    cached: &CachedRepo,
    author: Option<&str>,
    committer: Option<&str>,
) -> anyhow::Result<(Signature<'static>, Signature<'static>)> {
    let author = author.map(|a| parse_identity("--author", a)).transpose()?;
    let committer = committer
        .map(|c| parse_identity("--committer", c))
        .transpose()?;
    if let (Some(a), Some(c)) = (&author, &committer) {
        return Ok((a.clone(), c.clone()));
    }
    match (git::signatures_from_env(cached), author, committer) {
        (Ok((a, c)), author, committer) => Ok((author.unwrap_or(a), committer.unwrap_or(c))),
        (Err(_), Some(a), None) => Ok((a.clone(), a)),
        (Err(e), _, _) => Err(e.into()),
    }
}

fn parse_identity(flag: &str, text: &str) -> anyhow::Result<Signature<'static>> {
    let (name, email) = text
        .trim()
        .strip_suffix('>')
        .and_then(|s| s.split_once('<'))
        .map(|(n, e)| (n.trim(), e.trim()))
        .filter(|(n, e)| !n.is_empty() && e.contains('@'))
        .ok_or_else(|| anyhow::anyhow!("{flag} {text:?}: write it as \"Name <email>\""))?;
    Ok(Signature::now(name, email)?)
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to commit and push without confirmation: pass --yes (or --dry-run)"
        );
    }
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
