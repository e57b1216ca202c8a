//! The planning of Jira tickets: the configuration ticket's request from
//! the site's `jira` settings, and the summit calendar ticket with the
//! deployment window's dates.

use std::collections::BTreeMap;

use super::{
    Action, Change, Observed, PlanError, Step, StepId, StepSpec, TicketRequest, ticket_jql,
};
use crate::model::context::When;
use crate::model::release::LoadedRelease;
use crate::model::site::{CalendarSettings, FieldSpec, LoadedSite, WindowEdge};
use crate::render::{Templates, names};

/// The configuration ticket request of a site.
pub fn ticket_request(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
) -> Result<TicketRequest, PlanError> {
    let jira = &loaded.site.jira;
    let hours = loaded.site.calendar.as_ref().map_or(8, |c| c.hours);
    let fields = TicketFields::new(release, loaded, hours, &jira.fields)?;
    Ok(TicketRequest {
        project: jira.project.clone(),
        issue_type: jira.issue_type.clone(),
        summary: templates.render_line(names::JIRA_SUMMARY, ctx)?,
        description: templates.render(names::JIRA_DESCRIPTION, ctx)?,
        labels: jira.labels.clone(),
        components: jira.components.clone(),
        fields: fields.values,
        users: fields.users,
        assignee: jira.assignee.clone(),
        priority: None,
        kept_in_sync: fields.kept_in_sync,
    })
}

/// A ticket of a site that is not about a deployment window (a revert's):
/// the site's `jira` settings with its summary and description; the date
/// fields, which are the deployment window's, are left out.
pub fn plain_ticket_request(
    loaded: &LoadedSite,
    summary: String,
    description: String,
) -> TicketRequest {
    let jira = &loaded.site.jira;
    let mut fields = BTreeMap::new();
    let mut users = BTreeMap::new();
    for (id, spec) in &jira.fields {
        let value = match spec {
            FieldSpec::Date { .. } | FieldSpec::DateTime { .. } => continue,
            FieldSpec::Option { value } => serde_json::json!({ "value": value }),
            FieldSpec::Options { values } => values
                .iter()
                .map(|v| serde_json::json!({ "value": v }))
                .collect(),
            FieldSpec::Users { users: names } => {
                users.insert(id.clone(), names.clone());
                continue;
            }
            FieldSpec::Plain { value } => value.clone(),
        };
        fields.insert(id.clone(), value);
    }
    TicketRequest {
        project: jira.project.clone(),
        issue_type: jira.issue_type.clone(),
        summary,
        description,
        labels: jira.labels.clone(),
        components: jira.components.clone(),
        fields,
        users,
        assignee: jira.assignee.clone(),
        priority: None,
        kept_in_sync: vec![],
    }
}

/// A ticket's further fields as Jira takes them, split into what is known
/// now and the user fields resolved at apply.
struct TicketFields {
    values: BTreeMap<String, serde_json::Value>,
    users: BTreeMap<String, Vec<String>>,
    kept_in_sync: Vec<String>,
}

impl TicketFields {
    /// The fields of `specs`; dates come from the site's deployment window.
    fn new(
        release: &LoadedRelease,
        loaded: &LoadedSite,
        hours: u32,
        specs: &BTreeMap<String, FieldSpec>,
    ) -> Result<Self, PlanError> {
        let mut window = None;
        let mut at = |edge: WindowEdge| -> Result<When, PlanError> {
            let (start, end) = match &window {
                Some(w) => w,
                None => window.insert(crate::model::context::deployment_window(
                    loaded, release, hours,
                )?),
            };
            Ok(match edge {
                WindowEdge::Start => start.clone(),
                WindowEdge::End => end.clone(),
            })
        };
        let mut fields = Self {
            values: BTreeMap::new(),
            users: BTreeMap::new(),
            kept_in_sync: Vec::new(),
        };
        for (id, spec) in specs {
            let value = match spec {
                FieldSpec::Date { at: edge } => {
                    fields.kept_in_sync.push(id.clone());
                    serde_json::json!(jira_date(&at(*edge)?))
                }
                FieldSpec::DateTime { at: edge } => {
                    fields.kept_in_sync.push(id.clone());
                    serde_json::json!(jira_datetime(&at(*edge)?))
                }
                FieldSpec::Option { value } => serde_json::json!({ "value": value }),
                FieldSpec::Options { values } => values
                    .iter()
                    .map(|v| serde_json::json!({ "value": v }))
                    .collect(),
                FieldSpec::Users { users } => {
                    fields.users.insert(id.clone(), users.clone());
                    continue;
                }
                FieldSpec::Plain { value } => value.clone(),
            };
            fields.values.insert(id.clone(), value);
        }
        Ok(fields)
    }
}

pub fn jira_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
    ticket: Option<&str>,
) -> Result<Step, PlanError> {
    let request = ticket_request(release, loaded, templates, ctx)?;
    Ok(site_ticket_step(loaded, request, ticket))
}

/// The site's ticket step for `request`: known (`ticket`) or to be found
/// by its exact summary, else created. A revert's ticket is one too.
pub fn site_ticket_step(loaded: &LoadedSite, request: TicketRequest, ticket: Option<&str>) -> Step {
    let (action, changes, notes) = match ticket {
        Some(key) => (Action::None, vec![], vec![format!("ticket {key} is known")]),
        None => (
            Action::Create,
            vec![Change::CreateIssue(request.clone())],
            vec![],
        ),
    };
    let id = StepId::Ticket {
        site: loaded.site.name.clone(),
    };
    ticket_step(id, "Jira ticket", request, action, changes, notes)
}

/// A Jira step (configuration or calendar ticket): found by the JQL of its
/// exact summary, executed from its request.
fn ticket_step(
    id: StepId,
    what: &str,
    request: TicketRequest,
    action: Action,
    changes: Vec<Change>,
    notes: Vec<String>,
) -> Step {
    Step {
        kind: id.kind(),
        id,
        checklist_item: 1,
        title: format!("{what} \"{}\"", request.summary),
        action,
        selected: true,
        waiting_on: None,
        digest: String::new(),
        depends_on: vec![],
        shows: vec![],
        observe: vec![format!(
            "JQL: {}",
            ticket_jql(&request.project, &request.summary)
        )],
        changes,
        notes,
        spec: StepSpec::Ticket(request),
    }
}

/// Jira's date form in the site's zone, e.g. `2026-02-24`.
fn jira_date(when: &When) -> String {
    when.iso.chars().take(10).collect()
}

/// Jira's date-time form, e.g. `2026-02-24T09:00:00.000-0300`.
fn jira_datetime(when: &When) -> String {
    chrono::DateTime::parse_from_rfc3339(&when.iso)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string())
        .unwrap_or_else(|_| when.iso.clone())
}

pub fn calendar_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    cal: &CalendarSettings,
    templates: &Templates,
    ctx: &minijinja::Value,
    observed: &Observed,
) -> Result<Step, PlanError> {
    let site = &loaded.site;
    let fields = TicketFields::new(release, loaded, cal.hours, &cal.fields)?;
    let request = TicketRequest {
        project: cal.project.clone(),
        issue_type: cal.issue_type.clone(),
        summary: templates.render_line(names::CALENDAR_SUMMARY, ctx)?,
        description: templates.render(names::CALENDAR_DESCRIPTION, ctx)?,
        labels: cal.labels.clone(),
        components: cal.components.clone(),
        fields: fields.values,
        users: fields.users,
        kept_in_sync: fields.kept_in_sync,
        assignee: cal.assignee.clone(),
        priority: cal.priority.clone(),
    };
    let id = StepId::Calendar {
        site: site.name.clone(),
    };
    let key = observed.calendar.get(&site.name);
    let (action, changes, notes) = match (key, observed.done.get(&id)) {
        (Some(key), Some(note)) => (Action::None, vec![], vec![format!("{key}: {note}")]),
        (Some(key), None) => (
            Action::Update,
            vec![Change::UpdateIssue {
                key: key.clone(),
                fields: request.fields.clone(),
            }],
            vec![format!("{key} exists; its dates are kept in sync")],
        ),
        (None, _) => (
            Action::Create,
            vec![Change::CreateIssue(request.clone())],
            vec![],
        ),
    };
    Ok(ticket_step(
        id,
        "Calendar ticket",
        request,
        action,
        changes,
        notes,
    ))
}
