//! Reading and writing a cached clone's objects without a working tree: files
//! of a commit, commits of edited files, branches, and the signatures of
//! commits.

use std::path::{Component, Path};

use git2::build::TreeUpdateBuilder;
use git2::{
    ErrorCode, FileMode, ObjectType, Oid, Repository, Signature, TreeWalkMode, TreeWalkResult,
};

use super::*;

impl CachedRepo {
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
        let repo = open_shallow_aware(self.repo.path())
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

    /// Whether `ancestor` is `descendant` or one of its ancestors, as far
    /// as the cached history shows: in a shallow cache a commit not fetched
    /// is not an ancestor ([`Self::history_complete`] says whether the
    /// answer is certain).
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, GitError> {
        if ancestor == descendant {
            return Ok(true);
        }
        match self.repo.graph_descendant_of(descendant, ancestor) {
            Ok(found) => Ok(found),
            Err(e)
                if self.is_shallow()
                    && (e.code() == ErrorCode::NotFound || e.class() == git2::ErrorClass::Odb) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err(format!("comparing {ancestor} and {descendant}"), e)),
        }
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
pub(super) fn signatures_from(
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

fn is_regular_mode(mode: i32) -> bool {
    mode == i32::from(FileMode::Blob)
        || mode == i32::from(FileMode::BlobExecutable)
        || mode == i32::from(FileMode::BlobGroupWritable)
}

pub(super) fn check_branch(name: &str) -> Result<(), GitError> {
    if name.is_empty() || !git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        return Err(GitError::InvalidBranch {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Validates a repository-relative path and returns it in canonical form.
pub(super) fn check_path(path: &str) -> Result<String, GitError> {
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
