//! Versions of the cycle build, read from `cycle/cycle.env` of
//! `lsst-ts/ts_cycle_build`.
//!
//! The build team records each cycle's core package versions there
//! (`CYCLE=c0044`, `rev=.007`, `ts_xml=27.1.1`, …). Reading them is more
//! reliable than typing them into the release manifest, so:
//!
//! - [`observe`] reads the file through the git adapter's clone cache
//!   ([`RepoCache`]) at a configurable branch, tag or commit (default
//!   [`DEFAULT_REF`], the repository's default branch). Online it syncs the
//!   clone first (and fetches the tag when a tag is asked for); offline it
//!   reads the cached clone, and without one reports [`Observed::Offline`].
//!   It is blocking (libgit2): call it from `spawn_blocking` in async code.
//! - [`reconcile`] (pure) compares the file with the cycle being prepared
//!   and with the manifest's versions, returns [`Finding`]s for every
//!   mismatch, and fills the versions the manifest omits.
//!
//! The manifest's version fields and the file's variables share their names
//! for the packages both know: see [`PACKAGES`].

use std::collections::BTreeMap;
use std::fmt;

use git2::Oid;

use crate::model::cycle_id::CycleId;
use crate::services::git::{CachedRepo, Credentials, GitError, RepoCache};

/// The cycle build repository.
pub const REPOSITORY: &str = "https://github.com/lsst-ts/ts_cycle_build.git";
/// The file holding the versions.
pub const ENV_FILE: &str = "cycle/cycle.env";
/// The ref read by default: the repository's default branch.
pub const DEFAULT_REF: &str = "main";
pub use crate::model::cycle_env::{CycleEnv, PACKAGES, ParseError};

/// Where to read the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Repository URL (default [`REPOSITORY`]; tests use a local remote).
    pub url: String,
    /// Branch, tag or commit; `None` for [`DEFAULT_REF`].
    pub reference: Option<String>,
}

impl Default for Source {
    fn default() -> Self {
        Self {
            url: REPOSITORY.to_string(),
            reference: None,
        }
    }
}

impl Source {
    /// The ref to read.
    pub fn reference(&self) -> &str {
        self.reference.as_deref().unwrap_or(DEFAULT_REF)
    }
}

/// The file as read at one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The parsed file.
    pub env: CycleEnv,
    /// The ref asked for.
    pub reference: String,
    /// The commit read.
    pub commit: Oid,
    /// Whether the clone was synced (`false`: offline, read from the cache).
    pub fetched: bool,
}

impl Snapshot {
    /// `cycle/cycle.env at main (3d30cac)`, for messages.
    pub fn describe(&self) -> String {
        let commit = self.commit.to_string();
        format!(
            "ts_cycle_build {ENV_FILE} at {} ({})",
            self.reference,
            &commit[..commit.len().min(7)]
        )
    }
}

/// What [`observe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    /// The file, read.
    Read(Snapshot),
    /// Offline and the repository has never been cloned into the cache.
    Offline,
}

/// Why the file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CycleBuildError {
    /// Cloning, fetching or reading the clone failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// No branch, tag or commit of that name.
    #[error(
        "{url} has no branch, tag or commit named {reference:?} (set the ts_cycle_build ref to \
         an existing branch or tag)"
    )]
    UnknownRef {
        /// Repository URL (without credentials).
        url: String,
        /// The ref asked for.
        reference: String,
    },
    /// The file is missing at that ref.
    #[error("{url} has no {ENV_FILE} at {reference} ({commit})")]
    MissingFile {
        /// Repository URL (without credentials).
        url: String,
        /// The ref asked for.
        reference: String,
        /// The commit read.
        commit: Oid,
    },
    /// The file has a line cycle cannot read.
    #[error("{ENV_FILE} at {reference} of {url}, {source}")]
    Parse {
        /// Repository URL (without credentials).
        url: String,
        /// The ref asked for.
        reference: String,
        /// The offending line.
        source: ParseError,
    },
}

/// Reads the file at `source`'s ref. With `creds` the cached clone is
/// synced first (cloned when missing); without (offline) the cached clone
/// is read as it is, and [`Observed::Offline`] returned when there is none.
pub fn observe(
    cache: &RepoCache,
    source: &Source,
    creds: Option<&Credentials>,
) -> Result<Observed, CycleBuildError> {
    let repo = match creds {
        Some(c) => cache.sync(&source.url, c)?.0,
        None => match cache.open_cached(&source.url)? {
            Some(repo) => repo,
            None => return Ok(Observed::Offline),
        },
    };
    read(&repo, source, creds)
}

/// Reads the file at `source`'s ref from a clone already opened (and
/// synced, when `creds` is given: a tag is then fetched on demand).
pub fn read(
    repo: &CachedRepo,
    source: &Source,
    creds: Option<&Credentials>,
) -> Result<Observed, CycleBuildError> {
    let reference = source.reference();
    let commit = resolve(repo, reference, creds)?.ok_or_else(|| CycleBuildError::UnknownRef {
        url: repo.url().to_string(),
        reference: reference.to_string(),
    })?;
    let text = repo
        .read_file(commit, ENV_FILE)?
        .ok_or_else(|| CycleBuildError::MissingFile {
            url: repo.url().to_string(),
            reference: reference.to_string(),
            commit,
        })?;
    let env = CycleEnv::parse(&text).map_err(|source| CycleBuildError::Parse {
        url: repo.url().to_string(),
        reference: reference.to_string(),
        source,
    })?;
    Ok(Observed::Read(Snapshot {
        env,
        reference: reference.to_string(),
        commit,
        fetched: creds.is_some(),
    }))
}

/// A branch (remote-tracking), else a tag (fetched when online), else a
/// commit id.
fn resolve(
    repo: &CachedRepo,
    name: &str,
    creds: Option<&Credentials>,
) -> Result<Option<Oid>, CycleBuildError> {
    match repo.remote_branch(name) {
        Ok(Some(oid)) => return Ok(Some(oid)),
        Ok(None) | Err(GitError::InvalidBranch { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let tag = match creds {
        Some(c) => match repo.fetch_tag(name, c) {
            Ok(tag) => tag,
            Err(GitError::InvalidTag { .. }) => None,
            Err(e) => return Err(e.into()),
        },
        None => repo
            .repository()
            .find_reference(&format!("refs/tags/{name}"))
            .and_then(|r| r.peel_to_commit())
            .ok()
            .map(|c| c.id()),
    };
    if tag.is_some() {
        return Ok(tag);
    }
    let looks_like_commit =
        (7..=40).contains(&name.len()) && name.chars().all(|c| c.is_ascii_hexdigit());
    if !looks_like_commit {
        return Ok(None);
    }
    Ok(repo
        .repository()
        .revparse_single(name)
        .and_then(|o| o.peel_to_commit())
        .ok()
        .map(|c| c.id()))
}

/// A disagreement between the cycle build and the release being prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The file is for another cycle or revision.
    Cycle {
        /// Where the file was read.
        at: String,
        /// Its cycle and revision, e.g. `c0044.007`.
        build: String,
        /// The release being prepared, e.g. `c0044.000`.
        prepared: String,
    },
    /// The file's `CYCLE` or `rev` cannot be read.
    UnreadableCycle {
        /// Where the file was read.
        at: String,
        /// Why.
        reason: String,
    },
    /// A package version differs.
    Version {
        /// Where the file was read.
        at: String,
        /// Package (manifest field and variable name).
        package: String,
        /// The manifest's version.
        manifest: String,
        /// The cycle build's version.
        build: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Cycle {
                at,
                build,
                prepared,
            } => write!(
                f,
                "{at} is for {build}, but the release being prepared is {prepared}"
            ),
            Finding::UnreadableCycle { at, reason } => {
                write!(f, "{at} does not say which cycle it is for: {reason}")
            }
            Finding::Version {
                at,
                package,
                manifest,
                build,
            } => write!(
                f,
                "{package} is {manifest} in the release manifest but {build} in {at}"
            ),
        }
    }
}

/// The versions to publish, and what disagreed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciled {
    /// The manifest's versions, plus the cycle build's for the
    /// [`PACKAGES`] the manifest omits.
    pub versions: BTreeMap<String, String>,
    /// Mismatches, in a stable order (cycle first, then packages).
    pub findings: Vec<Finding>,
    /// How the versions were obtained, when worth saying.
    pub notes: Vec<String>,
}

/// Compares the cycle build with the release `id` and the manifest's
/// `versions` (field name → version, omitted fields absent), and fills the
/// [`PACKAGES`] the manifest omits. Versions are only filled from a file for
/// the same cycle.
pub fn reconcile(
    observed: &Observed,
    id: CycleId,
    versions: &BTreeMap<String, String>,
) -> Reconciled {
    let mut out = Reconciled {
        versions: versions.clone(),
        ..Reconciled::default()
    };
    let snapshot = match observed {
        Observed::Read(s) => s,
        Observed::Offline => {
            out.notes.push(format!(
                "offline and ts_cycle_build has never been cloned into the cache: the versions \
                 are the release manifest's, not checked against {ENV_FILE}"
            ));
            return out;
        }
    };
    let at = snapshot.describe();
    if !snapshot.fetched {
        out.notes.push(format!(
            "offline: {at} was read from the cached clone, which may be out of date"
        ));
    }
    let same_cycle = match snapshot.env.cycle_id() {
        Ok(build) => {
            if build != id {
                out.findings.push(Finding::Cycle {
                    at: at.clone(),
                    build: build.full_tag(),
                    prepared: id.full_tag(),
                });
            }
            build.cycle == id.cycle
        }
        Err(reason) => {
            out.findings.push(Finding::UnreadableCycle {
                at: at.clone(),
                reason,
            });
            false
        }
    };
    for package in PACKAGES {
        let Some(build) = snapshot.env.get(package) else {
            continue;
        };
        match versions.get(package) {
            Some(manifest) if manifest != build => out.findings.push(Finding::Version {
                at: at.clone(),
                package: package.to_string(),
                manifest: manifest.clone(),
                build: build.to_string(),
            }),
            Some(_) => {}
            None if same_cycle => {
                out.versions.insert(package.to_string(), build.to_string());
                out.notes
                    .push(format!("{package} {build} is taken from {at}"));
            }
            None => {}
        }
    }
    if !same_cycle
        && PACKAGES
            .iter()
            .any(|p| !versions.contains_key(*p) && snapshot.env.get(p).is_some())
    {
        out.notes.push(format!(
            "versions missing from the manifest were not filled: {at} is for another cycle"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "#\n# Cycle\n#\nCYCLE=c0044\n#\nrev=.007\nexport ts_xml=27.1.1\nts_sal=\"10.1.1\"\nts_idl='4.7.1' # idl\nts_salobj=8.2.9\nlibrdkafka=2.12.1\npython_confluent_kafka=2.12.2\n";

    fn snapshot(text: &str) -> Observed {
        Observed::Read(Snapshot {
            env: CycleEnv::parse(text).unwrap(),
            reference: "main".into(),
            commit: Oid::from_str("7d2bc7e0eadcfe130734dff57077b48eade241d0").unwrap(),
            fetched: true,
        })
    }

    fn id(cycle: u32, revision: u32) -> CycleId {
        CycleId::new(cycle, revision).unwrap()
    }

    #[test]
    fn parses_assignments_exports_quotes_and_comments() {
        let env = CycleEnv::parse(ENV).unwrap();
        assert_eq!(env.get("ts_xml"), Some("27.1.1"));
        assert_eq!(env.get("ts_sal"), Some("10.1.1"));
        assert_eq!(env.get("ts_idl"), Some("4.7.1"));
        assert_eq!(env.cycle_id(), Ok(id(44, 7)));
        assert_eq!(env.vars().len(), 8);
        let err = CycleEnv::parse("A=1\nif true; then\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(CycleEnv::parse("1A=2").is_err());
        assert!(CycleEnv::parse("A=\"open").is_err());
        assert_eq!(CycleEnv::parse("A=1\nA=2").unwrap().get("A"), Some("2"));
    }

    #[test]
    fn cycle_ids_must_be_readable() {
        let env = CycleEnv::parse("CYCLE=44").unwrap();
        assert!(env.cycle_id().unwrap_err().contains("c0044"));
        let env = CycleEnv::parse("CYCLE=c0044\nrev=7").unwrap();
        assert!(env.cycle_id().unwrap_err().contains(".007"));
        assert_eq!(
            CycleEnv::parse("CYCLE=c0045").unwrap().cycle_id(),
            Ok(id(45, 0))
        );
    }

    #[test]
    fn fills_what_the_manifest_omits_and_reports_mismatches() {
        let manifest: BTreeMap<String, String> = [("ts_xml", "27.0.0"), ("ts_sal", "10.1.1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let r = reconcile(&snapshot(ENV), id(44, 0), &manifest);
        assert_eq!(r.versions["ts_xml"], "27.0.0", "the manifest wins");
        assert_eq!(r.versions["ts_idl"], "4.7.1");
        assert_eq!(r.versions["python_confluent_kafka"], "2.12.2");
        assert_eq!(r.versions.len(), 6);
        let messages: Vec<String> = r.findings.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "ts_cycle_build cycle/cycle.env at main (7d2bc7e) is for c0044.007, but the \
                 release being prepared is c0044.000",
                "ts_xml is 27.0.0 in the release manifest but 27.1.1 in ts_cycle_build \
                 cycle/cycle.env at main (7d2bc7e)"
            ]
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.starts_with("ts_idl 4.7.1 is taken from"))
        );
    }

    #[test]
    fn another_cycle_fills_nothing() {
        let r = reconcile(
            &snapshot("CYCLE=c0045\nrev=.000\nts_xml=28.0.0\n"),
            id(44, 0),
            &BTreeMap::new(),
        );
        assert!(r.versions.is_empty());
        assert!(matches!(r.findings[..], [Finding::Cycle { .. }]));
        assert!(r.notes[0].contains("another cycle"), "{:?}", r.notes);
    }

    #[test]
    fn offline_without_a_clone_keeps_the_manifest() {
        let manifest: BTreeMap<String, String> =
            [("ts_xml".to_string(), "27.0.0".to_string())].into();
        let r = reconcile(&Observed::Offline, id(44, 0), &manifest);
        assert_eq!(r.versions, manifest);
        assert!(r.findings.is_empty());
        assert!(r.notes[0].contains("offline"), "{:?}", r.notes);
    }
}
