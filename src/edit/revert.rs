//! Putting a site back on an earlier cycle, computed without touching git.
//!
//! A revert returns the keys a cycle owns (the keys a site's edits write:
//! the tag, the nublado keys, the revisions, the env lines) to the values
//! they had at the commit of the cycle being returned to, on today's base.
//! Everything else of today's base stays: work done on the site since, by
//! hand or by other teams, is not a cycle's to take back. [`cycle_marker`]
//! says which key and value identify that commit (the git adapter finds it
//! in history, see `services::git::history`), and [`revert_changes`] gives
//! the changed files, edited format-preserving like a bump
//! ([`crate::edit::yaml`], [`crate::edit::env`]).
//!
//! The values come from the old commit, not from the site's templates, so a
//! revision (`revision: 3` of a component restarted during the cycle) comes
//! back as it was. An `add` edit is not reverted: it adds an entry, which
//! is configuration the cycle brought rather than a value it owns, and
//! taking an entry away is a decision for people.

use std::collections::{BTreeMap, BTreeSet};

use crate::edit::repo::{ConfigEditError, FileChange, FileTree, is_glob, resolve_edits};
use crate::edit::{env as envfile, yaml as yamledit};
use crate::model::cycle_id::CycleId;
use crate::model::site::{EditSpec, Repository, Site, When};

/// The key whose value says which cycle a commit is on: the first edit of a
/// repository that sets one scalar of one YAML file for a cycle bump
/// (phalanx: `controlSystem.imageTag` of the site's environment file),
/// with its value rendered for a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleMarker {
    /// The file, relative to the repository root.
    pub file: String,
    /// The dotted YAML path of the key.
    pub path: yamledit::YamlPath,
    /// The value the key has on that cycle, e.g. `c0044`.
    pub value: String,
}

/// Whether an edit writes a key the cycle owns, which a revert puts back:
/// every kind but `add` (see the module documentation).
pub fn is_cycle_owned(edit: &EditSpec) -> bool {
    !matches!(edit, EditSpec::Add { .. })
}

/// The key and value that identify Cycle `cycle` in `repo` (see
/// [`CycleMarker`]); `None` when the repository has no such edit (a
/// repository of env files only).
///
/// # Errors
/// A value that does not render, or a path that is not a valid YAML path.
pub fn cycle_marker(
    repo: &Repository,
    cycle: u32,
    site: &Site,
) -> Result<Option<CycleMarker>, ConfigEditError> {
    let id = CycleId::new(cycle, 0).map_err(|e| ConfigEditError {
        repo: repo.repo.clone(),
        file: String::new(),
        message: e.to_string(),
    })?;
    for edit in resolve_edits(repo, id, site)? {
        if let EditSpec::Set {
            file, path, value, ..
        } = edit
            && !is_glob(&file)
        {
            let path = path
                .parse()
                .map_err(|e: yamledit::EditError| ConfigEditError {
                    repo: repo.repo.clone(),
                    file: file.clone(),
                    message: e.to_string(),
                })?;
            return Ok(Some(CycleMarker { file, path, value }));
        }
    }
    Ok(None)
}

/// The files `today` has at a path or glob (a plain path is listed as it
/// is, whether or not the file exists).
fn paths_of(tree: &dyn FileTree, file: &str) -> Result<Vec<String>, String> {
    if is_glob(file) {
        tree.list(file)
    } else {
        Ok(vec![file.to_string()])
    }
}

/// Where the old values come from, as error messages say it.
const OLD: &str = "at the commit of the cycle returned to";
/// Where they are written, as error messages say it.
const TODAY: &str = "on today's base";

/// One key to put back: where, and how it is read and written.
enum Key {
    /// A scalar at a YAML path.
    Yaml(yamledit::YamlPath),
    /// A shell-style `KEY=value` line.
    Env(String),
}

/// Checks that each sequence item a path runs through is the same item in
/// both trees, by its `name` (phalanx's lists of producers and sidecars):
/// an item added or removed since shifts the indexes, and the old value
/// would land on another item.
fn same_items(old: &str, today: &str, route: &yamledit::YamlPath) -> Result<(), String> {
    let segments = route.segments();
    for (i, segment) in segments.iter().enumerate() {
        if i == 0 || !segment.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let item = segments[..=i].join(".");
        let name: yamledit::YamlPath = format!("{item}.name")
            .parse()
            .map_err(|e: yamledit::EditError| e.to_string())?;
        let read = |doc: &str| yamledit::get_scalar(doc, &name).ok().flatten();
        let (was, is) = (read(old), read(today));
        if was != is {
            let shown =
                |n: Option<String>| n.map_or("an item without `name`".into(), |n| format!("`{n}`"));
            return Err(format!(
                "`{route}`: item {segment} of `{}` was {} and is now {}; put its value back by hand",
                segments[..i].join("."),
                shown(was),
                shown(is)
            ));
        }
    }
    Ok(())
}

/// The changes that put every cycle-owned key of `edits` (a repository's
/// edits as the site file declares them; their values are not used) back
/// to its value in `old` (the tree of the cycle being returned to), on the
/// files of `today`; in path order, none when `today` already has every
/// old value. Only those keys' values change, each keeping its quoting,
/// comment and anchor.
///
/// What is in one tree and not the other is left alone where the site's
/// edits allow for it: a file of a glob that `old` does not have (an
/// application added since), a `revision` that is not in both trees (a
/// component added or removed since), a glob's file without the `set`
/// path. A plain file or key that one tree lacks is an error, naming the
/// file and key.
///
/// # Errors
/// A file or key missing as above, a file that does not parse, a value
/// that cannot be written back (an alias or a block scalar).
pub fn revert_changes(
    repo: &str,
    edits: &[EditSpec],
    old: &dyn FileTree,
    today: &dyn FileTree,
) -> Result<Vec<FileChange>, ConfigEditError> {
    revert(repo, edits, old, today).map(|(_, changes)| changes)
}

/// The same revert as [`revert_changes`], as the edits a configuration
/// branch applies: one `set` of a plain file and YAML path, or one `env`
/// line, for each key whose value today differs from the old one, with
/// that old value. Applied to today's base they give exactly
/// [`revert_changes`]; applied to a branch that already has them, nothing.
///
/// # Errors
/// As [`revert_changes`]; and a key whose name holds a `.`, which a dotted
/// path cannot name.
pub fn revert_edits(
    repo: &str,
    edits: &[EditSpec],
    old: &dyn FileTree,
    today: &dyn FileTree,
) -> Result<Vec<EditSpec>, ConfigEditError> {
    revert(repo, edits, old, today).map(|(edits, _)| edits)
}

/// [`revert_edits`] and [`revert_changes`] at once.
fn revert(
    repo: &str,
    edits: &[EditSpec],
    old: &dyn FileTree,
    today: &dyn FileTree,
) -> Result<(Vec<EditSpec>, Vec<FileChange>), ConfigEditError> {
    let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut reverts: Vec<EditSpec> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for edit in edits.iter().filter(|e| is_cycle_owned(e)) {
        let fail = |file: &str, message: String| ConfigEditError {
            repo: repo.to_string(),
            file: file.to_string(),
            message,
        };
        let glob = is_glob(edit.file());
        let paths = paths_of(today, edit.file()).map_err(|e| fail(edit.file(), e))?;
        for path in &paths {
            let missing = |at: &str| fail(path, format!("no such file {at}"));
            let before = match old.read(path).map_err(|e| fail(path, e))? {
                Some(text) => text,
                None if glob => continue,
                None => return Err(missing(OLD)),
            };
            if !files.contains_key(path) {
                let text = today
                    .read(path)
                    .map_err(|e| fail(path, e))?
                    .ok_or_else(|| missing(TODAY))?;
                files.insert(path.clone(), (text.clone(), text));
            }
            let Some(entry) = files.get_mut(path) else {
                continue;
            };
            let yaml_fail = |e: yamledit::EditError| fail(path, e.to_string());
            // Today's values of a reset's key, read in one parse (the
            // file's other keys do not move as one is put back).
            let mut today_values: Option<BTreeMap<String, String>> = None;
            let keys: Vec<(Key, Option<String>)> = match edit {
                EditSpec::Set { path: key, .. } | EditSpec::RunArg { csc: key, .. } => {
                    let key = match edit {
                        EditSpec::RunArg { .. } => format!("{key}.env.RUN_ARG"),
                        _ => key.clone(),
                    };
                    let route: yamledit::YamlPath = key.parse().map_err(yaml_fail)?;
                    let value = yamledit::get_scalar(&before, &route).map_err(yaml_fail)?;
                    if value.is_none() && !glob {
                        return Err(fail(path, format!("`{key}` is not {OLD}")));
                    }
                    vec![(Key::Yaml(route), value)]
                }
                EditSpec::Env { key, .. } => {
                    let Some(value) = envfile::get_env(&before, key) else {
                        return Err(fail(path, format!("`{key}` is not set {OLD}")));
                    };
                    vec![(Key::Env(key.clone()), Some(value))]
                }
                EditSpec::Reset { key, .. } | EditSpec::Restart { key, .. } => {
                    // A reset and a restart of the same key are one set of values.
                    if !seen.insert((path.clone(), key.clone())) {
                        continue;
                    }
                    today_values = Some(
                        yamledit::scalars_of_key(&entry.1, key)
                            .map_err(yaml_fail)?
                            .into_iter()
                            .map(|(route, value)| (route.to_string(), value))
                            .collect(),
                    );
                    yamledit::scalars_of_key(&before, key)
                        .map_err(yaml_fail)?
                        .into_iter()
                        .map(|(route, value)| (Key::Yaml(route), Some(value)))
                        .collect()
                }
                EditSpec::Add { .. } => Vec::new(),
            };
            for (key, value) in keys {
                let Some(value) = value else { continue };
                let current = &entry.1;
                let next = match key {
                    Key::Env(name) => {
                        if envfile::get_env(current, &name).as_deref() == Some(value.as_str()) {
                            continue;
                        }
                        let next = envfile::set_env(current, &name, &value)
                            .map_err(|e| fail(path, e.to_string()))?;
                        reverts.push(EditSpec::Env {
                            file: path.clone(),
                            key: name,
                            value,
                            when: When::Always,
                        });
                        next
                    }
                    Key::Yaml(route) => {
                        let now = match &today_values {
                            Some(values) => values.get(&route.to_string()).cloned(),
                            None => yamledit::get_scalar(current, &route).map_err(yaml_fail)?,
                        };
                        match now {
                            Some(now) if now == value => continue,
                            Some(_) => {
                                same_items(&before, current, &route).map_err(|m| fail(path, m))?;
                                if route.segments().iter().any(|s| s.contains('.')) {
                                    return Err(fail(
                                        path,
                                        format!(
                                            "`{route}`: a key with a `.` in its name cannot be put back; do it by hand"
                                        ),
                                    ));
                                }
                                let next = yamledit::set_scalar(current, &route, &value)
                                    .map_err(yaml_fail)?;
                                reverts.push(EditSpec::Set {
                                    file: path.clone(),
                                    path: route.to_string(),
                                    value,
                                    when: When::Always,
                                });
                                next
                            }
                            // Not in today's file: a component gone, or a
                            // glob's file without the key.
                            None if glob
                                || matches!(
                                    edit,
                                    EditSpec::Reset { .. } | EditSpec::Restart { .. }
                                ) =>
                            {
                                continue;
                            }
                            None => {
                                return Err(fail(path, format!("`{route}` is not {TODAY}")));
                            }
                        }
                    }
                };
                entry.1 = next;
            }
        }
    }
    let changes = files
        .into_iter()
        .filter(|(_, (before, after))| before != after)
        .map(|(path, (before, after))| FileChange::new(path, before, after))
        .collect();
    Ok((reverts, changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Files in memory; a glob is matched with globset as the git adapter does.
    struct Files(BTreeMap<String, String>);

    impl FileTree for Files {
        fn list(&self, glob: &str) -> Result<Vec<String>, String> {
            let matcher = globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|e| e.to_string())?
                .compile_matcher();
            Ok(self
                .0
                .keys()
                .filter(|p| matcher.is_match(p.as_str()))
                .cloned()
                .collect())
        }

        fn read(&self, path: &str) -> Result<Option<String>, String> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn files(entries: &[(&str, &str)]) -> Files {
        Files(
            entries
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        )
    }

    fn edits(text: &str) -> Vec<EditSpec> {
        yaml_serde::from_str(text).unwrap()
    }

    const EDITS: &str = "
- {kind: set, file: env.yaml, path: controlSystem.imageTag, value: '{{ tag }}'}
- {kind: reset, file: 'apps/*.yaml', key: revision, value: '0'}
- {kind: restart, file: 'apps/*.yaml', key: revision, value: '{{ revision }}'}
- {kind: env, file: setup.env, key: CYCLE, value: '{{ tag }}'}
- {kind: add, file: env.yaml, key: extra, value: '1'}
";

    #[test]
    fn puts_back_the_old_values_and_nothing_else() {
        let old = files(&[
            (
                "env.yaml",
                "controlSystem:\n  imageTag: \"c0044\" # tag\n  site: base\n",
            ),
            (
                "apps/a.yaml",
                "x: &r\n  revision: 3\none:\n  image:\n    revision: 2\n  enabled: true\ngone:\n  revision: 5\n",
            ),
            ("setup.env", "export CYCLE=c0044\nexport rev=.000\n"),
        ]);
        let today = files(&[
            (
                "env.yaml",
                "controlSystem:\n  imageTag: \"c0045\" # tag\n  site: base2\n",
            ),
            (
                "apps/a.yaml",
                "x: &r\n  revision: 0\none:\n  image:\n    revision: 0\n  enabled: false\nnew:\n  revision: 1\n",
            ),
            ("apps/b.yaml", "b:\n  revision: 4\n"),
            ("setup.env", "export CYCLE=c0045\nexport rev=.002\n"),
        ]);
        let changes = revert_changes("o/r", &edits(EDITS), &old, &today).unwrap();
        let after: Vec<(&str, &str)> = changes.iter().map(|c| (c.path(), c.after())).collect();
        assert_eq!(
            after,
            [
                (
                    "apps/a.yaml",
                    "x: &r\n  revision: 3\none:\n  image:\n    revision: 2\n  enabled: false\nnew:\n  revision: 1\n"
                ),
                (
                    "env.yaml",
                    "controlSystem:\n  imageTag: \"c0044\" # tag\n  site: base2\n"
                ),
                ("setup.env", "export CYCLE=c0044\nexport rev=.002\n"),
            ]
        );
        // As edits, applied to today's files: the same changes.
        let back = revert_edits("o/r", &edits(EDITS), &old, &today).unwrap();
        assert!(back.iter().all(|e| !is_glob(e.file())), "{back:?}");
        let again = crate::edit::repo::compute_changes("o/r", &today, &back).unwrap();
        assert_eq!(again, changes);
        // On the reverted tree, nothing changes.
        let reverted = Files(
            today
                .0
                .iter()
                .map(|(p, t)| {
                    let t = changes
                        .iter()
                        .find(|c| c.path() == p)
                        .map_or(t.clone(), |c| c.after().to_string());
                    (p.clone(), t)
                })
                .collect(),
        );
        assert!(
            revert_changes("o/r", &edits(EDITS), &old, &reverted)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_plain_file_or_key_missing_is_an_error_naming_it() {
        let today = files(&[("env.yaml", "controlSystem:\n  imageTag: c0045\n")]);
        let set = edits("[{kind: set, file: env.yaml, path: controlSystem.imageTag, value: x}]");
        let err = revert_changes("o/r", &set, &files(&[]), &today).unwrap_err();
        assert_eq!(err.file, "env.yaml");
        assert!(err.message.contains("no such file at the commit"), "{err}");
        let old = files(&[("env.yaml", "controlSystem: {}\n")]);
        let err = revert_changes("o/r", &set, &old, &today).unwrap_err();
        assert!(err.to_string().contains("controlSystem.imageTag"), "{err}");
        let old = files(&[("env.yaml", "controlSystem:\n  imageTag: c0044\n")]);
        let err = revert_changes("o/r", &set, &old, &files(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "o/r: env.yaml: no such file on today's base"
        );
        let bare = files(&[("env.yaml", "controlSystem: {}\n")]);
        let err = revert_changes("o/r", &set, &old, &bare).unwrap_err();
        assert_eq!(
            err.to_string(),
            "o/r: env.yaml: `controlSystem.imageTag` is not on today's base"
        );
        // A file that does not parse is named with its line.
        let broken = files(&[("env.yaml", "controlSystem: [\n")]);
        let err = revert_changes("o/r", &set, &broken, &today).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("o/r: env.yaml: invalid YAML at line"),
            "{err}"
        );
    }

    #[test]
    fn a_sequence_item_that_moved_is_refused_not_given_another_value() {
        let reset = edits("[{kind: reset, file: 'apps/*.yaml', key: revision, value: '0'}]");
        let list = |items: &[(&str, u32)]| -> String {
            let mut text = "p:\n  producers:\n".to_string();
            for (name, revision) in items {
                text.push_str(&format!("  - name: {name}\n    revision: {revision}\n"));
            }
            text
        };
        let old = files(&[("apps/l.yaml", &list(&[("a", 1), ("b", 2)]))]);
        // The same items: each gets its own value back.
        let today = files(&[("apps/l.yaml", &list(&[("a", 0), ("b", 0), ("c", 0)]))]);
        let changes = revert_changes("o/r", &reset, &old, &today).unwrap();
        assert_eq!(changes[0].after(), list(&[("a", 1), ("b", 2), ("c", 0)]));
        // `a` removed since: `b` would get `a`'s revision.
        let today = files(&[("apps/l.yaml", &list(&[("b", 0)]))]);
        let err = revert_changes("o/r", &reset, &old, &today).unwrap_err();
        assert_eq!(err.file, "apps/l.yaml");
        assert!(
            err.message.contains(
                "`p.producers.0.revision`: item 0 of `p.producers` was `a` and is now `b`"
            ),
            "{err}"
        );
    }

    #[test]
    fn the_marker_is_the_first_plain_set_edit_rendered_for_the_cycle() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sites");
        let site = crate::model::site::load(&dir.join("bts.yaml")).unwrap();
        let marker = cycle_marker(&site.site.repositories[0], 44, &site.site)
            .unwrap()
            .unwrap();
        assert_eq!(marker.file, "environments/values-base.yaml");
        assert_eq!(marker.path.to_string(), "controlSystem.imageTag");
        assert_eq!(marker.value, "c0044");
    }
}
