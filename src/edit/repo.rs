//! The configuration edits of one repository, computed without touching git.
//!
//! Given the files of a commit (through [`FileTree`]) and a site's edits with
//! their values rendered for the cycle, [`compute_changes`] returns the new
//! content of every file that changes. The git adapter supplies the tree and
//! commits the result; the planner shows the same result as a diff. Files
//! are edited format-preserving (see [`crate::edit::yaml`], [`crate::edit::env`]).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::edit::{env as envfile, yaml as yamledit};
use crate::model::cycle_id::CycleId;
use crate::model::site::{EditSpec, Repository, Site};
use crate::render;

/// Read access to the files of one commit.
pub trait FileTree {
    /// Paths of the tree matching a glob, sorted.
    fn list(&self, glob: &str) -> Result<Vec<String>, String>;
    /// A file's text, `None` when absent.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// The new content of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Path in the repository.
    pub path: String,
    /// Content before.
    #[serde(skip)]
    pub before: String,
    /// Content after.
    #[serde(skip)]
    pub after: String,
}

impl FileChange {
    /// A unified diff of the change, with `a/` and `b/` paths like git.
    pub fn unified_diff(&self) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(2)
            .header(&format!("a/{}", self.path), &format!("b/{}", self.path))
            .to_string()
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

/// Renders the value templates of a repository's edits for a cycle.
pub fn resolve_edits(
    repo: &Repository,
    id: CycleId,
    site: &Site,
) -> Result<Vec<EditSpec>, ConfigEditError> {
    let ctx = crate::model::context::value_context(id, site);
    repo.edits
        .iter()
        .map(|edit| {
            let value =
                render::render_value(edit.value(), &ctx).map_err(|message| ConfigEditError {
                    repo: repo.repo.clone(),
                    file: edit.file().to_string(),
                    message: format!("value of {}: {message}", edit.target()),
                })?;
            Ok(with_value(edit, value))
        })
        .collect()
}

fn with_value(edit: &EditSpec, value: String) -> EditSpec {
    let mut edit = edit.clone();
    match &mut edit {
        EditSpec::Set { value: v, .. }
        | EditSpec::Reset { value: v, .. }
        | EditSpec::Env { value: v, .. }
        | EditSpec::Add { value: v, .. }
        | EditSpec::RunArg { value: v, .. } => *v = value,
    }
    edit
}

fn is_glob(file: &str) -> bool {
    file.contains(['*', '?', '[', '{'])
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
        let mut applied = false;
        for path in &paths {
            if !files.contains_key(path) {
                let Some(text) = tree.read(path).map_err(&fail)? else {
                    return Err(fail("no such file".into()));
                };
                files.insert(path.clone(), (text.clone(), text));
            }
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
        .map(|(path, (before, after))| FileChange {
            path,
            before,
            after,
        })
        .collect())
}
