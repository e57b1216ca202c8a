//! Everything `cycle` prints about a plan, a run or its findings, one file
//! per format: [`text`] for a terminal, [`json`] for scripts (every JSON
//! document in one envelope, `docs/json.md`), [`markdown`] for a CI job
//! summary or a pull-request comment (one escaping, [`markdown::escape`]).
//! Commands pick the [`Format`] and call these; the plan stays pure data.

use serde::Serialize;

use crate::engine::journal::Entry;
use crate::plan::finding::Status;

pub mod json;
pub mod markdown;
pub mod shown;
pub mod text;

pub use text::Detail;

/// How a command prints what it found: the one `--format` of every command
/// (`--json` is short for `--format json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Readable text (the default).
    #[default]
    Text,
    /// A JSON document (`docs/json.md`).
    Json,
    /// GitHub-flavoured Markdown, for a CI job summary or a PR comment.
    Markdown,
}

impl Format {
    /// The format asked for: `--json` is short for `--format json`.
    pub fn pick(json: bool, format: Format) -> Format {
        if json { Format::Json } else { format }
    }
}

/// A `cycle check` finding's status in the words of its text and Markdown
/// tables (`error`, `warning`, `skipped`, `ok`); JSON has the status itself.
fn severity(status: Status) -> &'static str {
    match status {
        Status::Fail => "error",
        Status::Warn => "warning",
        Status::Skipped => "skipped",
        Status::Ok => "ok",
    }
}

/// One step in `cycle status`.
#[derive(Debug, Serialize)]
pub struct StatusRow {
    /// The step's typed id, e.g. `summit:jira`.
    pub id: String,
    /// What the step does.
    pub title: String,
    /// A person's step (recorded with `cycle mark`).
    pub manual: bool,
    #[serde(flatten)]
    /// Its journal entry (status, outcome, error, times).
    pub entry: Entry,
    /// A link for people, when there is one.
    pub link: Option<String>,
}

/// One site (or the cycle's shared steps) in `cycle status`.
#[derive(Debug, Serialize)]
pub struct StatusGroup {
    /// The site, or `cycle` for the steps all sites share.
    pub site: String,
    /// The name shown.
    pub display_name: String,
    /// Its steps, in checklist order.
    pub steps: Vec<StatusRow>,
}

/// `cycle status`: the checklist of a cycle per site, from the journal.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    /// The cycle.
    pub cycle: u32,
    /// The revision (0: the full cycle upgrade).
    pub revision: u32,
    /// The full image tag.
    pub tag: String,
    /// `Cycle 44`, `Cycle 44, Revision 3`.
    pub label: String,
    /// One per site, then the steps all sites share.
    pub groups: Vec<StatusGroup>,
}
