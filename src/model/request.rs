//! What each side effect sends, as the plan builds it and the adapter
//! takes it: one type per side effect, no copy of it in the adapters (the
//! Jira adapter takes a [`TicketRequest`], GitHub a [`PullRequestRequest`],
//! Confluence a [`PageRequest`]). Pure data.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::context::When;

/// A Jira issue to find by its exact summary, or create. The plan writes
/// the people as the site file does; before a create the engine resolves
/// them, and the adapter receives the request with the assignee as an
/// account id (v3) or user name (v2) and the user fields in
/// [`TicketRequest::fields`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TicketRequest {
    /// Project key.
    pub project: String,
    /// Issue type.
    pub issue_type: String,
    /// Summary (found by exact match).
    pub summary: String,
    /// Description (plain text; the adapter converts it for the API).
    pub description: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Components, by name.
    pub components: Vec<String>,
    /// Further fields, field id → JSON value as Jira takes it.
    pub fields: BTreeMap<String, serde_json::Value>,
    /// User-picker fields, field id → the users as written (a Jira user
    /// search resolves them at apply).
    pub users: BTreeMap<String, Vec<String>>,
    /// Assignee, as written (resolved like [`TicketRequest::users`]).
    pub assignee: Option<String>,
    /// Priority name.
    pub priority: Option<String>,
    /// Fields a rerun keeps equal to the request (the calendar dates).
    pub kept_in_sync: Vec<String>,
}

/// The cycle's page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageRequest {
    /// Space key.
    pub space: String,
    /// Parent page id.
    pub parent_id: String,
    /// Title.
    pub title: String,
    /// Storage-format body.
    pub body: String,
    /// Pre-flight findings that stop the step (not accepted with
    /// `--accept-version-mismatch`); shown in the step's notes.
    #[serde(skip)]
    pub blocked_by: Vec<String>,
}

/// A Slack message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRequest {
    /// Site name.
    pub site: String,
    /// Channel name, e.g. `#summit-announce`.
    pub channel: String,
    /// Which message (`day_before`, `hour_before`, `start`, `pr_ready`, `page_ready`).
    pub message: String,
    /// What it is about when a site sends several of one kind (the
    /// repository of a review notice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When to post; `None` posts when the step runs.
    pub at: Option<When>,
    /// Text (mrkdwn).
    pub text: String,
}

/// A pull request of a ticket branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PullRequestRequest {
    /// Repository `owner/name`.
    pub repo: String,
    /// Owner of the head branch: the repository's owner, or the fork's.
    pub head_owner: String,
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// Reviewers requested.
    pub reviewers: Vec<String>,
    /// Teams whose review is requested.
    pub team_reviewers: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Draft.
    pub draft: bool,
}

impl PullRequestRequest {
    /// The head as GitHub's list filter and messages write it:
    /// `owner:branch`.
    pub fn head_label(&self) -> String {
        format!("{}:{}", self.head_owner, self.head)
    }
}

/// A Jira version (a release of a project) to find by its exact name, or
/// create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRequest {
    /// Project key.
    pub project: String,
    /// Name, unique in the project (`ts_xml 27.0.0`).
    pub name: String,
    /// Description (`for Cycle 44`).
    pub description: String,
}

/// Moving the links of one Jira issue to another, except those of some
/// issues: each link recreated on the target (same type and direction),
/// then deleted from the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkMoveRequest {
    /// The issue the links leave (`CAP-120`).
    pub from: String,
    /// The issue they go to, by its summary (found at apply).
    pub to_summary: String,
    /// The issues whose links stay.
    pub keep: Vec<String>,
}
