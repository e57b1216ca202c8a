//! git's checks for the configuration steps: each repository is fetched
//! (once per run, into the local clone cache; nothing is pushed), its base
//! branch exists, and every file (or glob) the site's edits name is on it.

use std::collections::BTreeSet;

use super::{Finding, Service, Status};
use crate::engine::config::{GitRun, clone_url};
use crate::plan::ConfigRequest;
use crate::services::git::sanitize_url;

/// What one repository's base holds of what the edits name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The repository could not be fetched (or opened).
    Unreachable(String),
    /// No such branch.
    Missing,
    /// The branch's tip, and for each edited file or glob the files it matches
    /// (or the error reading them).
    Found {
        /// Commit id, shortened.
        tip: String,
        /// (file or glob, matching files or why they could not be listed).
        files: Vec<(String, Result<Vec<String>, String>)>,
    },
}

/// Whether `file` is a glob rather than a path.
fn is_glob(file: &str) -> bool {
    file.contains(['*', '?', '[', '{'])
}

/// Reads one repository's base and the files of its edits. Blocking.
pub fn read_base(git: &GitRun, request: &ConfigRequest) -> Base {
    let url = clone_url(&request.repo);
    // The base alone, as the config step fetches it (shallow, once per
    // run): the check costs no clone of the whole history.
    let cached = match git.open_branches(&url, std::slice::from_ref(&request.repo.base)) {
        Ok(cached) => cached,
        Err(e) => return Base::Unreachable(format!("{e:#}")),
    };
    let tip = match cached.remote_branch(&request.repo.base) {
        Ok(Some(tip)) => tip,
        Ok(None) => return Base::Missing,
        Err(e) => return Base::Unreachable(e.to_string()),
    };
    let wanted: BTreeSet<&str> = request.repo.edits.iter().map(|e| e.file()).collect();
    let files = wanted
        .into_iter()
        .map(|file| {
            let found = if is_glob(file) {
                cached.list_files(tip, file).map_err(|e| e.to_string())
            } else {
                match cached.read_file(tip, file) {
                    Ok(Some(_)) => Ok(vec![file.to_string()]),
                    Ok(None) => Ok(vec![]),
                    Err(e) => Err(e.to_string()),
                }
            };
            (file.to_string(), found)
        })
        .collect();
    Base::Found {
        tip: tip.to_string()[..8].to_string(),
        files,
    }
}

/// Checks every configuration step of `needs` ((site, request) pairs),
/// each repository on a blocking thread (fetched once per run).
pub async fn check(git: &GitRun, needs: &[(String, ConfigRequest)]) -> Vec<Finding> {
    let bases = futures::future::join_all(needs.iter().map(|(_, request)| {
        let git = git.clone();
        let request = request.clone();
        async move {
            tokio::task::spawn_blocking(move || read_base(&git, &request))
                .await
                .unwrap_or_else(|e| Base::Unreachable(format!("the check stopped: {e}")))
        }
    }))
    .await;
    needs
        .iter()
        .zip(bases)
        .flat_map(|((site, request), base)| evaluate(site, request, &base))
        .collect()
}

/// Judges one repository's base (pure).
pub fn evaluate(site: &str, request: &ConfigRequest, base: &Base) -> Vec<Finding> {
    let repo = &request.repo.repo;
    let branch = &request.repo.base;
    let site = Some(site);
    let check = format!("{repo}: base branch {branch}");
    match base {
        Base::Unreachable(e) => vec![Finding::fail(
            Service::Git,
            site,
            check,
            format!(
                "cannot read {}: {e}",
                sanitize_url(&clone_url(&request.repo))
            ),
            "check the repository (repositories[].repo or url) in the site file, GITHUB_SERVER_URL, and that \
             GITHUB_TOKEN may read it",
        )],
        Base::Missing => vec![Finding::fail(
            Service::Git,
            site,
            check,
            format!("{repo} has no branch `{branch}`"),
            format!(
                "fix repositories[].base of {repo} in the site file (the branch the pull request goes into)"
            ),
        )],
        Base::Found { tip, files } => {
            let mut findings = vec![Finding::ok(Service::Git, site, check, format!("at {tip}"))];
            for (file, found) in files {
                let check = format!("{repo}: {file} on {branch}");
                findings.push(match found {
                    Ok(paths) if paths.is_empty() => Finding::fail(
                        Service::Git,
                        site,
                        check,
                        if is_glob(file) {
                            format!("no file on {branch} of {repo} matches {file}")
                        } else {
                            format!("{file} is not on {branch} of {repo}")
                        },
                        format!(
                            "fix the edit's file in the site file (repositories[].edits of {repo}), or check that \
                             {branch} is the right base"
                        ),
                    ),
                    Ok(paths) if is_glob(file) => Finding::ok(
                        Service::Git,
                        site,
                        check,
                        format!("{} file{}", paths.len(), if paths.len() == 1 { "" } else { "s" }),
                    ),
                    Ok(_) => Finding::ok(Service::Git, site, check, "exists"),
                    Err(e) => Finding::new(
                        Service::Git,
                        site,
                        check,
                        Status::Fail,
                        e.clone(),
                        Some(format!("fix the edit's file pattern in the site file (repositories[].edits of {repo})")),
                    ),
                });
            }
            findings
        }
    }
}
