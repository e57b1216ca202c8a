//! The configuration edits of one repository, computed without touching git.
//!
//! Given the files of a commit (through [`FileTree`]) and a site's edits with
//! their values rendered for the cycle, [`compute_changes`] returns the new
//! content of every file that changes. The git adapter supplies the tree and
//! commits the result; the planner shows the same result as a diff. Files
//! are edited format-preserving (see [`crate::edit::yaml`], [`crate::edit::env`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::edit::summary::{FileSummary, summarize_file};
use crate::edit::{env as envfile, yaml as yamledit};
use crate::model::cycle_id::CycleId;
use crate::model::release::LoadedRelease;
use crate::model::site::{EditSpec, Repository, Site};
use crate::render;

/// Read access to the files of one commit.
pub trait FileTree {
    /// Paths of the tree matching a glob, sorted.
    fn list(&self, glob: &str) -> Result<Vec<String>, String>;
    /// A file's text, `None` when absent.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// The new content of one file, with its unified diff and its summary
/// (computed once, when the change is made: plans are rebuilt every round
/// and show them each time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    path: String,
    #[serde(skip)]
    before: String,
    #[serde(skip)]
    after: String,
    #[serde(skip)]
    diff: String,
    #[serde(skip)]
    summary: FileSummary,
}

impl FileChange {
    /// The change of the file at `path` from `before` to `after`.
    pub fn new(
        path: impl Into<String>,
        before: impl Into<String>,
        after: impl Into<String>,
    ) -> Self {
        let (path, before, after) = (path.into(), before.into(), after.into());
        let lines = similar::TextDiff::from_lines(&before, &after);
        let diff = lines
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{path}"), &format!("b/{path}"))
            .to_string();
        let summary = summarize_file(&path, &lines);
        Self {
            path,
            before,
            after,
            diff,
            summary,
        }
    }

    /// Path in the repository.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Content before.
    pub fn before(&self) -> &str {
        &self.before
    }

    /// Content after.
    pub fn after(&self) -> &str {
        &self.after
    }

    /// A unified diff of the change, with `a/` and `b/` paths like git.
    pub fn unified_diff(&self) -> &str {
        &self.diff
    }

    /// What the change amounts to (tags, revisions reset, other lines).
    pub fn summary(&self) -> &FileSummary {
        &self.summary
    }
}

/// Why the edits of a repository could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{repo}: {file}: {message}")]
pub struct ConfigEditError {
    /// Repository (`owner/name`).
    pub repo: String,
    /// File or glob.
    pub file: String,
    /// The problem, naming the path or key.
    pub message: String,
}

/// What is being built: the cycle and revision and, for a revision, the
/// components it restarts (the release manifest's `restarted_components`,
/// as written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Build<'a> {
    /// Cycle and revision.
    pub id: CycleId,
    /// Components restarted by a revision (empty for a cycle bump).
    pub restarted: &'a [String],
}

impl From<CycleId> for Build<'static> {
    /// A build known by its numbers only: no restarted components.
    fn from(id: CycleId) -> Self {
        Build { id, restarted: &[] }
    }
}

impl<'a> From<&'a LoadedRelease> for Build<'a> {
    fn from(release: &'a LoadedRelease) -> Self {
        Build {
            id: release.id,
            restarted: &release.release.restarted_components,
        }
    }
}

/// The edits of a repository that run for a build (see
/// [`EditSpec::runs_for`]), with their value templates rendered and, for
/// `restart` edits, the restarted components filled in.
///
/// # Errors
/// A value that does not render, or a `restart` edit for a build that
/// names no restarted component (a [`CycleId`] alone does not carry them:
/// pass the release manifest).
pub fn resolve_edits<'a>(
    repo: &Repository,
    build: impl Into<Build<'a>>,
    site: &Site,
) -> Result<Vec<EditSpec>, ConfigEditError> {
    let build = build.into();
    let ctx = crate::model::context::build_context(build.id, build.restarted, site);
    repo.edits
        .iter()
        .filter(|edit| edit.runs_for(build.id.is_revision()))
        .map(|edit| {
            let fail = |message: String| ConfigEditError {
                repo: repo.repo.clone(),
                file: edit.file().to_string(),
                message,
            };
            let value = render::render_value(edit.value(), &ctx)
                .map_err(|message| fail(format!("value of {}: {message}", edit.target())))?;
            let mut edit = edit.clone();
            match &mut edit {
                EditSpec::Set { value: v, .. }
                | EditSpec::Reset { value: v, .. }
                | EditSpec::Env { value: v, .. }
                | EditSpec::Add { value: v, .. }
                | EditSpec::RunArg { value: v, .. } => *v = value,
                EditSpec::Restart {
                    value: v,
                    components,
                    ..
                } => {
                    if build.restarted.is_empty() {
                        return Err(fail(format!(
                            "{} is a revision build without restarted components; list them in the release manifest's `restarted_components`",
                            build.id.label()
                        )));
                    }
                    *v = value;
                    *components = build.restarted.to_vec();
                }
            }
            Ok(edit)
        })
        .collect()
}

/// Whether a site file's `file` is a glob rather than a plain path.
pub(crate) fn is_glob(file: &str) -> bool {
    file.contains(['*', '?', '[', '{'])
}

/// Reads `path` into `files` (content before, content after) unless it is
/// there already.
fn load(
    files: &mut BTreeMap<String, (String, String)>,
    tree: &dyn FileTree,
    path: &str,
) -> Result<(), String> {
    if !files.contains_key(path) {
        let Some(text) = tree.read(path)? else {
            return Err("no such file".into());
        };
        files.insert(path.to_string(), (text.clone(), text));
    }
    Ok(())
}

/// The top-level keys each restarted component names, per file: an entry
/// matches keys case-insensitively, as a glob when it has glob characters
/// (`*-ess*`). An entry that matches nothing is an error, and so is a
/// plain name found in several files.
fn restarted_keys(
    repo: &str,
    tree: &dyn FileTree,
    files: &mut BTreeMap<String, (String, String)>,
    paths: &[String],
    components: &[String],
    glob: &str,
) -> Result<BTreeMap<String, Vec<String>>, ConfigEditError> {
    let mut keys_of = Vec::new();
    for path in paths {
        let fail = |message: String| ConfigEditError {
            repo: repo.to_string(),
            file: path.clone(),
            message,
        };
        load(files, tree, path).map_err(fail)?;
        let keys = yamledit::top_level_keys(&files[path].1).map_err(|e| fail(e.to_string()))?;
        keys_of.push((path, keys));
    }
    let mut chosen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in components {
        let fail = |message: String| ConfigEditError {
            repo: repo.to_string(),
            file: glob.to_string(),
            message,
        };
        let matcher = globset::GlobBuilder::new(entry)
            .case_insensitive(true)
            .literal_separator(false)
            .build()
            .map_err(|e| fail(format!("restarted component `{entry}`: {e}")))?
            .compile_matcher();
        let hits: Vec<(&String, &String)> = keys_of
            .iter()
            .flat_map(|(path, keys)| keys.iter().map(move |k| (*path, k)))
            .filter(|(_, k)| {
                if is_glob(entry) {
                    matcher.is_match(k.as_str())
                } else {
                    k.eq_ignore_ascii_case(entry)
                }
            })
            .collect();
        if hits.is_empty() {
            return Err(fail(format!(
                "restarted component `{entry}` is not a top-level key of any of the {} matching files",
                paths.len()
            )));
        }
        let mut in_files: Vec<&String> = hits.iter().map(|(p, _)| *p).collect();
        in_files.dedup();
        if !is_glob(entry) && in_files.len() > 1 {
            return Err(fail(format!(
                "restarted component `{entry}` is in several applications ({}); write a glob if every one is meant",
                in_files
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for (path, key) in hits {
            let keys = chosen.entry(path.clone()).or_default();
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
    }
    Ok(chosen)
}

/// Applies resolved edits to the files of `tree`; returns the changed files
/// in path order (none when the tree already has every value).
pub fn compute_changes(
    repo: &str,
    tree: &dyn FileTree,
    edits: &[EditSpec],
) -> Result<Vec<FileChange>, ConfigEditError> {
    let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
    for edit in edits {
        let fail = |message: String| ConfigEditError {
            repo: repo.to_string(),
            file: edit.file().to_string(),
            message,
        };
        let glob = is_glob(edit.file());
        let paths = if glob {
            let paths = tree.list(edit.file()).map_err(&fail)?;
            if paths.is_empty() {
                return Err(fail("the glob matches no file".into()));
            }
            paths
        } else {
            vec![edit.file().to_string()]
        };
        let restarted = match edit {
            EditSpec::Restart { components, .. } => {
                restarted_keys(repo, tree, &mut files, &paths, components, edit.file())?
            }
            _ => BTreeMap::new(),
        };
        let mut applied = false;
        for path in &paths {
            load(&mut files, tree, path).map_err(&fail)?;
            let current = &files[path].1;
            let file_fail = |message: String| ConfigEditError {
                repo: repo.to_string(),
                file: path.clone(),
                message,
            };
            let route = |text: &str| {
                text.parse::<yamledit::YamlPath>()
                    .map_err(|e| file_fail(e.to_string()))
            };
            let next = match edit {
                EditSpec::Set {
                    path: key, value, ..
                } => {
                    let route = route(key)?;
                    match yamledit::set_scalar(current, &route, value) {
                        Ok(text) => Some(text),
                        Err(yamledit::EditError::PathNotFound { .. }) if glob => None,
                        Err(e) => return Err(file_fail(e.to_string())),
                    }
                }
                EditSpec::Reset { key, value, .. } => Some(
                    yamledit::reset_keys(current, key, value)
                        .map_err(|e| file_fail(e.to_string()))?
                        .0,
                ),
                EditSpec::Env { key, value, .. } => Some(
                    envfile::set_env(current, key, value).map_err(|e| file_fail(e.to_string()))?,
                ),
                EditSpec::Add {
                    path: at,
                    key,
                    value,
                    ..
                } => {
                    let route = route(at)?;
                    Some(
                        yamledit::add_entry(current, &route, key, value)
                            .map_err(|e| file_fail(e.to_string()))?,
                    )
                }
                EditSpec::RunArg { csc, value, .. } => {
                    let route = route(&format!("{csc}.env.RUN_ARG"))?;
                    Some(
                        yamledit::set_scalar(current, &route, value)
                            .map_err(|e| file_fail(e.to_string()))?,
                    )
                }
                EditSpec::Restart { key, value, .. } => match restarted.get(path) {
                    Some(keys) => Some(
                        yamledit::set_keys_under(current, keys, key, value)
                            .map_err(|e| file_fail(e.to_string()))?
                            .0,
                    ),
                    None => None,
                },
            };
            if let Some(text) = next {
                applied = true;
                if let Some(entry) = files.get_mut(path) {
                    entry.1 = text;
                }
            }
        }
        if !applied {
            return Err(fail(format!(
                "`{}` is in none of the {} matching files",
                edit.target(),
                paths.len()
            )));
        }
    }
    Ok(files
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|(path, (before, after))| FileChange::new(path, before, after))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn shipped(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }

    #[test]
    fn cycle_and_revision_builds_run_different_edits() {
        let site = crate::model::site::load(&shipped("sites/summit.yaml")).unwrap();
        let phalanx = &site.site.repositories[0];
        let kinds = |edits: &[EditSpec]| edits.iter().map(EditSpec::kind).collect::<Vec<_>>();

        let cycle = resolve_edits(phalanx, CycleId::new(44, 0).unwrap(), &site.site).unwrap();
        assert_eq!(kinds(&cycle), ["set", "reset", "set", "set"]);

        let release = crate::model::release::load(&shipped("releases/c0044.003.yaml")).unwrap();
        let revision = resolve_edits(phalanx, &release, &site.site).unwrap();
        assert_eq!(kinds(&revision), ["restart"]);
        assert_eq!(revision[0].value(), "3");
        assert_eq!(
            revision[0].target(),
            "`revision` of MTScheduler, ATScheduler, OCSScheduler"
        );
        // Shipped sites edit phalanx alone (docker-compose-ops is optional);
        // the optional repository's env edits run for cycles only
        // (tests/config_branch.rs enables it).
        assert_eq!(site.site.repositories.len(), 1);

        // The numbers alone do not say which components restart.
        let err = resolve_edits(phalanx, release.id, &site.site).unwrap_err();
        assert!(err.message.contains("restarted_components"), "{err}");
    }

    #[test]
    fn when_says_which_builds_an_edit_runs_for() {
        let edit = |text: &str| yaml_serde::from_str::<EditSpec>(text).unwrap();
        let runs = |e: &EditSpec| (e.runs_for(false), e.runs_for(true));
        let env = "{kind: env, file: summit/setup.env, key: rev, value: x";
        assert_eq!(runs(&edit(&format!("{env}}}"))), (true, false));
        assert_eq!(
            runs(&edit(&format!("{env}, when: revision}}"))),
            (false, true)
        );
        assert_eq!(runs(&edit(&format!("{env}, when: always}}"))), (true, true));
        let restart = "{kind: restart, file: a.yaml, key: revision, value: x}";
        assert_eq!(runs(&edit(restart)), (false, true));
        // A restart edit has no `when`, and its components come from the release.
        for bad in [
            "{kind: restart, file: a.yaml, key: revision, value: x, when: cycle}",
            "{kind: restart, file: a.yaml, key: revision, value: x, components: [a]}",
        ] {
            assert!(yaml_serde::from_str::<EditSpec>(bad).is_err(), "{bad}");
        }
    }
}
