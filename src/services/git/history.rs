//! Finding a cycle in a repository's history: the newest commit, on the
//! first-parent line of a base, at which a YAML key of a file had a given
//! value (the site's cycle tag, `controlSystem.imageTag: "c0044"`), i.e. the
//! tree of the cycle a revert returns to.
//!
//! On a cached clone, walk [`super::CachedRepo::repository`]; the clones
//! are shallow, so a walk may stop at their boundary ([`Found::Truncated`]):
//! then [`super::CachedRepo::deepen`] the base branch
//! ([`super::HISTORY_STEPS`], then all of it) and walk again.

use std::path::Path;

use git2::{ErrorCode, ObjectType, Oid, Repository};

use crate::edit::yaml::{self as yamledit, YamlPath};

/// What a walk of the history found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The newest commit with the value.
    At(Oid),
    /// The walk reached the first commit without finding the value.
    Nowhere {
        /// Commits looked at.
        walked: usize,
    },
    /// The walk reached the boundary of a shallow clone (`at`, whose parents
    /// were not fetched, or the first commit the clone has) without finding
    /// the value: deepen and walk again. Only a complete history answers
    /// [`Found::Nowhere`].
    Truncated {
        /// The last commit the clone has on the line.
        at: Oid,
        /// Commits looked at.
        walked: usize,
    },
}

/// Why the history could not be walked.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {message}")]
pub struct HistoryError {
    /// What was being read (a commit, a file at a commit).
    pub context: String,
    /// What git said.
    pub message: String,
}

fn failed(context: String) -> impl FnOnce(git2::Error) -> HistoryError {
    move |e| HistoryError {
        context,
        message: e.message().to_string(),
    }
}

/// Walks the first-parent line of `base`, newest first, to the newest
/// commit whose `file` has the scalar `value` at `path` (compared as
/// written, quotes removed: `"c0044"` and `c0044` are the same value).
///
/// A commit where the file is absent, is not valid YAML, or has no scalar
/// at `path` is not the one sought and the walk goes on; each distinct
/// version of the file is read once.
///
/// # Errors
/// A commit or tree of the line that cannot be read.
pub fn find_value(
    repo: &Repository,
    base: Oid,
    file: &str,
    path: &YamlPath,
    value: &str,
) -> Result<Found, HistoryError> {
    let mut last_blob: Option<(Oid, bool)> = None;
    let mut walked = 0;
    let mut id = base;
    loop {
        let commit = repo
            .find_commit(id)
            .map_err(failed(format!("reading commit {id}")))?;
        walked += 1;
        let tree = commit
            .tree()
            .map_err(failed(format!("reading the tree of {id}")))?;
        let blob = match tree.get_path(Path::new(file)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Some(entry.id()),
            Ok(_) => None,
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(failed(format!("looking up {file} in {id}"))(e)),
        };
        let matches = match (blob, last_blob) {
            (None, _) => false,
            (Some(blob), Some((last, matched))) if blob == last => matched,
            (Some(blob), _) => {
                let content = repo
                    .find_blob(blob)
                    .map_err(failed(format!("reading {file} in {id}")))?;
                let matched = std::str::from_utf8(content.content())
                    .ok()
                    .and_then(|text| yamledit::get_scalar(text, path).ok().flatten())
                    .is_some_and(|found| found == value);
                last_blob = Some((blob, matched));
                matched
            }
        };
        if matches {
            return Ok(Found::At(id));
        }
        // In a shallow clone, a commit of the boundary names a parent the
        // clone lacks (or none at all): deepen, then walk again.
        let parent = match commit.parent_ids().next() {
            Some(parent) if repo.find_commit(parent).is_ok() => parent,
            _ if repo.is_shallow() => return Ok(Found::Truncated { at: id, walked }),
            None => return Ok(Found::Nowhere { walked }),
            Some(parent) => {
                return Err(HistoryError {
                    context: format!("reading the parent of {id}"),
                    message: format!("commit {parent} is not in the repository"),
                });
            }
        };
        id = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::Signature;

    /// A commit of `files` on top of `parent` (in a new tree), returning its id.
    fn commit(repo: &Repository, parent: Option<Oid>, files: &[(&str, &str)]) -> Oid {
        let mut index = git2::Index::new().unwrap();
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes()).unwrap();
            let entry = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                file_size: 0,
                id: blob,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            index.add(&entry).unwrap();
        }
        let tree = repo.find_tree(index.write_tree_to(repo).unwrap()).unwrap();
        let sig = Signature::new("t", "t@example.org", &git2::Time::new(0, 0)).unwrap();
        let parents: Vec<git2::Commit<'_>> = parent
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(None, &sig, &sig, "c", &tree, &parents).unwrap()
    }

    #[test]
    fn finds_the_newest_commit_with_the_value_on_the_first_parent_line() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let env = "environments/values-base.yaml";
        let tag = |t: &str| format!("controlSystem:\n  imageTag: {t} # cycle\n");
        let c43 = commit(&repo, None, &[(env, &tag("\"c0043\""))]);
        let c44 = commit(&repo, Some(c43), &[(env, &tag("\"c0044\""))]);
        // The same file in a later commit that changed another file.
        let c44b = commit(&repo, Some(c44), &[(env, &tag("\"c0044\"")), ("x", "y")]);
        let broken = commit(&repo, Some(c44b), &[(env, "controlSystem: [")]);
        let c45 = commit(&repo, Some(broken), &[(env, &tag("c0045"))]);
        let path: YamlPath = "controlSystem.imageTag".parse().unwrap();
        let find = |value: &str| find_value(&repo, c45, env, &path, value).unwrap();
        assert_eq!(find("c0044"), Found::At(c44b));
        assert_eq!(find("c0045"), Found::At(c45));
        assert_eq!(find("c0043"), Found::At(c43));
        assert_eq!(find("c0042"), Found::Nowhere { walked: 5 });
        // Another file, or a file absent everywhere: nowhere.
        let other: YamlPath = "a".parse().unwrap();
        assert_eq!(
            find_value(&repo, c45, "nothing.yaml", &other, "1").unwrap(),
            Found::Nowhere { walked: 5 }
        );
        let err = find_value(&repo, Oid::ZERO_SHA1, env, &path, "c0044").unwrap_err();
        assert!(err.context.contains("0000000"), "{err}");

        // A shallow clone of two commits says where its history stops.
        repo.reference("refs/heads/main", c45, true, "test")
            .unwrap();
        let clone = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("git")
            .args([
                "clone", "--quiet", "--bare", "--depth", "2", "--branch", "main",
            ])
            .arg(format!("file://{}", dir.path().display()))
            .arg(clone.path())
            .status()
            .unwrap();
        assert!(status.success());
        let shallow = Repository::open_bare(clone.path()).unwrap();
        assert!(shallow.is_shallow());
        assert_eq!(
            find_value(&shallow, c45, env, &path, "c0045").unwrap(),
            Found::At(c45)
        );
        assert_eq!(
            find_value(&shallow, c45, env, &path, "c0044").unwrap(),
            Found::Truncated {
                at: broken,
                walked: 2
            }
        );
    }
}
