//! The journal: one JSON file per cycle under the state directory, recording
//! each step's status, typed outcome and timestamps, with the history of
//! earlier outcomes when a key field changes (a new ticket, commit or page
//! version).
//!
//! The journal is a record and a hint, never the truth: every step looks at
//! the remote before acting, so a lost or stale journal costs a lookup,
//! never a duplicate. Writes are atomic (temporary file, then rename), and a
//! lock file stops two runs on the same cycle from interleaving. Nothing
//! secret is ever written: outcomes hold keys, ids, shas and public URLs.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::cycle_id::CycleId;
use crate::plan::StepId;

/// Version of the journal file format.
pub const JOURNAL_VERSION: u32 = 1;

/// A step's status (the SKA deployer's vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Never looked at.
    #[default]
    Unset,
    /// Planned, not done.
    Pending,
    /// Being applied (a run that died leaves it so; the next run finishes it).
    Running,
    /// Done.
    Finished,
    /// Stopped by Ctrl-C, or cancelled by hand or by `cycle cancel`.
    Cancelled,
    /// Failed; see the error.
    Failed,
}

impl Status {
    /// The upper-case name, as in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unset => "UNSET",
            Status::Pending => "PENDING",
            Status::Running => "RUNNING",
            Status::Finished => "FINISHED",
            Status::Cancelled => "CANCELLED",
            Status::Failed => "FAILED",
        }
    }
}

/// What a finished step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// A Jira issue.
    Ticket {
        /// Issue key, e.g. `OSW-2010`.
        key: String,
        /// Browse URL.
        url: Option<String>,
    },
    /// A pushed configuration branch.
    Branch {
        /// Repository `owner/name`.
        repo: String,
        /// Branch name.
        branch: String,
        /// Tip commit sha; `None` when the base already had every edit.
        commit: Option<String>,
    },
    /// A pull request.
    PullRequest {
        /// Repository `owner/name`.
        repo: String,
        /// Number.
        number: u64,
        /// Web URL.
        url: String,
        /// Whether it was found merged (no review notice then).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        merged: bool,
    },
    /// A Confluence page.
    Page {
        /// Page id.
        id: String,
        /// Version number.
        version: u64,
        /// Web URL.
        url: Option<String>,
    },
    /// A Slack message, posted or scheduled.
    Message {
        /// Channel id.
        channel: String,
        /// Timestamp of a posted message.
        ts: Option<String>,
        /// Id of a scheduled message.
        scheduled_id: Option<String>,
        /// When it is scheduled (epoch seconds).
        post_at: Option<i64>,
        /// Permalink of a posted message, when Slack gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// A Jira version.
    Version {
        /// Version id.
        id: String,
        /// Its name (`ts_xml 27.0.0`).
        name: String,
    },
    /// A human step recorded with `cycle mark`.
    Manual {
        /// Who or what recorded it.
        note: String,
    },
}

impl Outcome {
    /// The key field whose change is kept in the history.
    fn key_field(&self) -> String {
        match self {
            Outcome::Ticket { key, .. } => key.clone(),
            Outcome::Branch { commit, .. } => commit.clone().unwrap_or_default(),
            Outcome::PullRequest { number, .. } => number.to_string(),
            Outcome::Page { id, version, .. } => format!("{id}@{version}"),
            Outcome::Message {
                ts,
                scheduled_id,
                post_at,
                ..
            } => format!("{ts:?}/{scheduled_id:?}/{post_at:?}"),
            Outcome::Version { id, .. } => id.clone(),
            Outcome::Manual { note } => note.clone(),
        }
    }

    /// A link for people (ticket, PR, page), when there is one.
    pub fn link(&self) -> Option<&str> {
        match self {
            Outcome::Ticket { url, .. } | Outcome::Page { url, .. } => url.as_deref(),
            Outcome::PullRequest { url, .. } => Some(url),
            Outcome::Message { link, .. } => link.as_deref(),
            _ => None,
        }
    }

    /// A short description: `OSW-2010`, `tickets/OSW-2010 @ 1a2b3c4d`, `#123`.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Ticket { key, .. } => key.clone(),
            Outcome::Branch {
                branch,
                commit: Some(c),
                ..
            } => format!("{branch} @ {}", &c[..c.len().min(8)]),
            Outcome::Branch { branch, .. } => format!("{branch} (base already up to date)"),
            Outcome::PullRequest {
                number,
                merged: true,
                ..
            } => format!("#{number} (merged)"),
            Outcome::PullRequest { number, .. } => format!("#{number}"),
            Outcome::Page { id, version, .. } => format!("page {id} v{version}"),
            Outcome::Message {
                ts: Some(ts),
                channel,
                ..
            } => format!("posted {ts} in {channel}"),
            Outcome::Message {
                scheduled_id: Some(id),
                channel,
                post_at,
                ..
            } => format!("scheduled {id} in {channel}{}", due(*post_at, " for")),
            Outcome::Message {
                channel, post_at, ..
            } => format!("nothing in {channel}{}", due(*post_at, ", due")),
            Outcome::Version { id, name } => format!("version {name} ({id})"),
            Outcome::Manual { note } => note.clone(),
        }
    }
}

/// ` for 2026-02-24 12:00 UTC` (with `word`), or nothing without a time.
fn due(post_at: Option<i64>, word: &str) -> String {
    post_at
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|t| format!("{word} {}", t.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default()
}

/// An earlier outcome, replaced at `replaced_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// The earlier outcome.
    pub outcome: Outcome,
    /// When it was replaced.
    pub replaced_at: DateTime<Utc>,
}

/// One step's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Entry {
    /// Status.
    pub status: Status,
    /// What the step produced, when finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// What was done last time: created, found, updated, unchanged, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The last error, when failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the last attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Earlier outcomes whose key field changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryItem>,
}

/// The journal of one cycle revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// File format version.
    pub version: u32,
    /// Cycle number.
    pub cycle: u32,
    /// Revision.
    pub revision: u32,
    /// Step id → record.
    pub steps: BTreeMap<StepId, Entry>,
}

/// Why the journal could not be read, written or locked.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// I/O on the state directory.
    #[error("{context} {}: {source} (set --state-dir or CYCLE_STATE_DIR)", path.display())]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a journal.
    #[error("{}: not a cycle journal ({message}); move it away and rerun: the remote state is the source of truth", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// Another run holds the lock.
    #[error(
        "another `cycle` run is working on {label} (lock {} is held); wait for it to finish, then rerun",
        path.display()
    )]
    Locked {
        /// "Cycle 44".
        label: String,
        /// The lock file.
        path: PathBuf,
    },
}

/// The error of a step a Ctrl-C stopped (CANCELLED, finished by the next
/// run), as opposed to one cancelled on purpose ([`Journal::withdrawn`]).
pub const INTERRUPTED: &str = "interrupted";

/// Where the journal of a cycle revision lives.
pub fn journal_path(state_dir: &Path, id: CycleId) -> PathBuf {
    named_journal_path(state_dir, &id.full_tag())
}

/// Where the journal named `name` lives (a cycle's is its tag, a revert's
/// [`revert_journal_name`]).
pub fn named_journal_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join("journal").join(format!("{name}.json"))
}

/// The journal of the cycle `id` in the directory of the journal `path`
/// (a revert's: the reverted cycle's own).
pub fn cycle_journal_beside(path: &Path, id: CycleId) -> PathBuf {
    path.with_file_name(format!("{}.json", id.full_tag()))
}

/// The name of the journal of `cycle revert --to TO` from the cycle `id`
/// (`c0045.000.revert-to-44`): its steps are not the cycle's.
pub fn revert_journal_name(id: CycleId, to: u32) -> String {
    format!("{}.revert-to-{to}", id.full_tag())
}

/// The reverts of the cycle `id` that have a journal, each with the cycle
/// it went back to, by that cycle.
pub fn revert_journals(state_dir: &Path, id: CycleId) -> Vec<(u32, PathBuf)> {
    let prefix = format!("{}.revert-to-", id.full_tag());
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(state_dir.join("journal"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let to = name
                .strip_prefix(&prefix)?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((to, e.path()))
        })
        .collect();
    found.sort();
    found
}

impl Journal {
    /// An empty journal.
    pub fn new(id: CycleId) -> Self {
        Self {
            version: JOURNAL_VERSION,
            cycle: id.cycle,
            revision: id.revision,
            steps: BTreeMap::new(),
        }
    }

    /// Reads the journal at `path`; an absent file is an empty journal.
    pub fn load(path: &Path, id: CycleId) -> Result<Self, JournalError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::new(id)),
            Err(source) => {
                return Err(JournalError::Io {
                    context: "cannot read journal",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| JournalError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Writes the journal atomically (temporary file in the same directory,
    /// then rename).
    pub fn save(&self, path: &Path) -> Result<(), JournalError> {
        let io = |context, source| JournalError::Io {
            context,
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io("cannot create journal directory for", e))?;
        }
        let tmp = path.with_extension(format!("json.tmp-{}", std::process::id()));
        let mut text =
            crate::redact::redact(&serde_json::to_string_pretty(self).unwrap_or_default());
        text.push('\n');
        let mut file = File::create(&tmp).map_err(|e| io("cannot write journal", e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| io("cannot write journal", e))?;
        fs::rename(&tmp, path).map_err(|e| io("cannot replace journal", e))
    }

    /// The record of a step (default: UNSET).
    pub fn entry(&self, id: &StepId) -> Entry {
        self.steps.get(id).cloned().unwrap_or_default()
    }

    /// Sets a step's status (and error), stamping the time.
    pub fn set_status(&mut self, id: &StepId, status: Status, error: Option<String>) {
        let now = Utc::now();
        let entry = self.steps.entry(id.clone()).or_default();
        if status == Status::Running {
            entry.started_at = Some(now);
        }
        entry.status = status;
        entry.error = error;
        entry.updated_at = Some(now);
    }

    /// Records a finished step's outcome; an earlier outcome whose key field
    /// differs goes to the history.
    pub fn finish(&mut self, id: &StepId, outcome: Outcome, action: &str) {
        let now = Utc::now();
        let entry = self.steps.entry(id.clone()).or_default();
        if let Some(old) = entry.outcome.take()
            && old.key_field() != outcome.key_field()
        {
            entry.history.push(HistoryItem {
                outcome: old,
                replaced_at: now,
            });
        }
        entry.outcome = Some(outcome);
        entry.action = Some(action.to_string());
        entry.status = Status::Finished;
        entry.error = None;
        entry.updated_at = Some(now);
    }

    /// Records the outcome of a step that must run again later (see
    /// `engine::WAITING`): kept like a finished one, status PENDING.
    pub fn keep_pending(&mut self, id: &StepId, outcome: Outcome, action: &str) {
        self.finish(id, outcome, action);
        self.set_status(id, Status::Pending, None);
    }

    /// Records a step the plan shows waiting (see `plan::Wait`): PENDING,
    /// action `waiting`, its outcome so far kept.
    pub fn wait(&mut self, id: &StepId) {
        let entry = self.steps.entry(id.clone()).or_default();
        entry.status = Status::Pending;
        entry.action = Some("waiting".to_string());
        entry.error = None;
        entry.updated_at = Some(Utc::now());
    }

    /// Marks every RUNNING step CANCELLED (after Ctrl-C).
    pub fn cancel_running(&mut self) {
        let ids: Vec<StepId> = self
            .steps
            .iter()
            .filter(|(_, e)| e.status == Status::Running)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.set_status(&id, Status::Cancelled, Some(INTERRUPTED.into()));
        }
    }

    /// The steps cancelled on purpose (`cycle cancel`, `cycle revert`,
    /// `cycle mark … cancelled`), each with why: not interrupted ones, which
    /// the next run finishes.
    pub fn withdrawn(&self) -> BTreeMap<StepId, String> {
        self.steps
            .iter()
            .filter(|(_, e)| {
                e.status == Status::Cancelled && e.error.as_deref() != Some(INTERRUPTED)
            })
            .map(|(id, e)| {
                (
                    id.clone(),
                    e.error.clone().unwrap_or_else(|| "cancelled".to_string()),
                )
            })
            .collect()
    }

    /// The ticket key recorded for a site, if any.
    pub fn ticket(&self, site: &str) -> Option<String> {
        match self.steps.get(&StepId::Ticket {
            site: site.to_string(),
        }) {
            Some(Entry {
                outcome: Some(Outcome::Ticket { key, .. }),
                ..
            }) => Some(key.clone()),
            _ => None,
        }
    }
}

/// An exclusive lock on a cycle's journal, released when dropped.
#[derive(Debug)]
pub struct JournalLock {
    file: File,
}

impl JournalLock {
    /// Takes the lock next to `journal`, refusing at once when another run
    /// holds it.
    pub fn acquire(journal: &Path, id: CycleId) -> Result<Self, JournalError> {
        let path = journal.with_extension("lock");
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| JournalError::Io {
                context: "cannot create journal directory for",
                path: path.clone(),
                source,
            })?;
        }
        let file = File::create(&path).map_err(|source| JournalError::Io {
            context: "cannot create lock",
            path: path.clone(),
            source,
        })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { file }),
            Err(fs::TryLockError::WouldBlock) => Err(JournalError::Locked {
                label: id.label(),
                path,
            }),
            Err(fs::TryLockError::Error(source)) => Err(JournalError::Io {
                context: "cannot lock",
                path,
                source,
            }),
        }
    }
}

impl Drop for JournalLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CycleId {
        CycleId::new(44, 0).unwrap()
    }

    #[test]
    fn round_trips_atomically_and_keeps_history_of_key_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(dir.path(), id());
        let mut j = Journal::load(&path, id()).unwrap();
        let step = StepId::Ticket {
            site: "summit".into(),
        };
        j.set_status(&step, Status::Running, None);
        let ticket = |key: &str| Outcome::Ticket {
            key: key.into(),
            url: None,
        };
        j.finish(&step, ticket("OSW-1"), "created");
        j.finish(&step, ticket("OSW-1"), "found");
        assert!(j.entry(&step).history.is_empty());
        j.finish(&step, ticket("OSW-2"), "created");
        assert_eq!(j.entry(&step).history.len(), 1);
        assert_eq!(j.ticket("summit").as_deref(), Some("OSW-2"));
        j.save(&path).unwrap();
        let back = Journal::load(&path, id()).unwrap();
        assert_eq!(back, j);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"summit:jira\""), "{text}");
        assert!(text.contains("\"FINISHED\""), "{text}");
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_waiting_step_keeps_its_outcome_and_stays_pending() {
        let mut j = Journal::new(id());
        let step: StepId = "summit:slack:start".parse().unwrap();
        let outcome = Outcome::Message {
            channel: "C0SUMMIT01".into(),
            ts: None,
            scheduled_id: None,
            post_at: Some(1_771_934_400),
            link: None,
        };
        j.keep_pending(&step, outcome.clone(), "waiting");
        let entry = j.entry(&step);
        assert_eq!(entry.status, Status::Pending);
        assert_eq!(entry.outcome, Some(outcome.clone()));
        assert_eq!(entry.action.as_deref(), Some("waiting"));
        assert_eq!(
            outcome.summary(),
            "nothing in C0SUMMIT01, due 2026-02-24 12:00 UTC"
        );
    }

    #[test]
    fn running_steps_become_cancelled() {
        let mut j = Journal::new(id());
        let step = StepId::Page;
        j.set_status(&step, Status::Running, None);
        j.cancel_running();
        assert_eq!(j.entry(&step).status, Status::Cancelled);
    }

    #[test]
    fn a_second_lock_is_refused_and_a_corrupt_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(dir.path(), id());
        let first = JournalLock::acquire(&path, id()).unwrap();
        let err = JournalLock::acquire(&path, id()).unwrap_err().to_string();
        assert!(err.contains("another `cycle` run"), "{err}");
        drop(first);
        JournalLock::acquire(&path, id()).unwrap();
        fs::write(&path, "{not json").unwrap();
        let err = Journal::load(&path, id()).unwrap_err().to_string();
        assert!(err.contains("not a cycle journal"), "{err}");
    }
}
