//! Jira's answers and the ticket request: issues, users, create-screen
//! metadata, [`TicketRequest`] and the outcome of a step.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::*;

/// An issue as a search returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Key, e.g. `OSW-2010`.
    pub key: String,
    /// Summary.
    pub summary: String,
    /// Issue type name, e.g. `Story`.
    pub issue_type: String,
    /// Whether it has a resolution or sits in a "done" status.
    pub resolved: bool,
    /// Labels.
    pub labels: Vec<String>,
    /// Every field the search returned, by field id, as Jira shaped it.
    pub fields: Map<String, Value>,
}

impl Issue {
    pub(super) fn from_gouqi(issue: gouqi::Issue) -> Self {
        let fields: Map<String, Value> = issue.fields.into_iter().collect();
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let resolution = fields.get("resolution").is_some_and(|r| !r.is_null());
        let done = fields
            .get("status")
            .and_then(|s| s.pointer("/statusCategory/key"))
            .and_then(Value::as_str)
            == Some("done");
        Issue {
            key: issue.key,
            summary: text(fields.get("summary")),
            issue_type: text(fields.get("issuetype").and_then(|t| t.get("name"))),
            resolved: resolution || done,
            labels: fields
                .get("labels")
                .and_then(Value::as_array)
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(|l| l.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            fields,
        }
    }
}

/// A user as Jira's user search returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraUser {
    /// Account id (Cloud).
    #[serde(default)]
    pub account_id: Option<String>,
    /// User name (Data Center).
    #[serde(default)]
    pub name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Email address, when the user's privacy settings show it.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Whether the account is active.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl JiraUser {
    /// How a ticket names the user: the account id (v3) or user name (v2).
    pub fn reference(&self, api: ApiVersion) -> Option<&str> {
        match api {
            ApiVersion::V3 => self.account_id.as_deref(),
            ApiVersion::V2 => self.name.as_deref(),
        }
    }

    fn shown(&self) -> String {
        match &self.email_address {
            Some(email) => format!("{} <{email}>", self.display_name),
            None => self.display_name.clone(),
        }
    }
}

/// Which of a user search's `users` the site's `query` means: the one
/// active user matching it exactly (id, user name, email address or its
/// local part, display name; ignoring case), else the only active user
/// found. None: [`JiraError::UnknownUser`]; several and none exact:
/// [`JiraError::AmbiguousUser`].
pub fn pick_user(query: &str, users: &[JiraUser], api: ApiVersion) -> Result<String, JiraError> {
    let query = query.trim();
    let same = |s: &str| s.eq_ignore_ascii_case(query);
    let active: Vec<&JiraUser> = users
        .iter()
        .filter(|u| u.active && u.reference(api).is_some())
        .collect();
    let exact: Vec<&JiraUser> = active
        .iter()
        .copied()
        .filter(|u| {
            u.reference(api).is_some_and(same)
                || same(&u.display_name)
                || u.email_address.as_deref().is_some_and(|e| {
                    same(e) || e.split_once('@').is_some_and(|(local, _)| same(local))
                })
        })
        .collect();
    let chosen = match (exact.as_slice(), active.as_slice()) {
        ([one], _) | ([], [one]) => one,
        ([], []) => {
            return Err(JiraError::UnknownUser {
                query: query.to_string(),
            });
        }
        ([], several) | (several, _) => {
            return Err(JiraError::AmbiguousUser {
                query: query.to_string(),
                candidates: several.iter().map(|u| u.shown()).collect(),
            });
        }
    };
    Ok(chosen.reference(api).unwrap_or_default().to_string())
}

/// The user Jira's credentials belong to (`GET /rest/api/{2|3}/myself`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// Display name.
    pub display_name: String,
    /// Account id (Cloud) or user name (Data Center).
    pub account: String,
    /// E-mail address, when Jira shows it.
    pub email: Option<String>,
    /// Whether the account is active.
    pub active: bool,
}

/// An issue type a project creates issues of
/// (`GET /rest/api/{2|3}/issue/createmeta/{project}/issuetypes`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueTypeMeta {
    /// Id, e.g. `10001`.
    pub id: String,
    /// Name, e.g. `Story`.
    pub name: String,
}

/// The `schema` of a field of a create screen: `type` (`string`, `number`,
/// `date`, `datetime`, `option`, `array`, `user`, `priority`, …) and, for
/// arrays, the type of the `items`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FieldSchema {
    /// The value's type.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The items' type, for `array`.
    #[serde(default)]
    pub items: Option<String>,
    /// The system field it is (`priority`, `components`, …), if any.
    #[serde(default)]
    pub system: Option<String>,
    /// The custom field type key, for custom fields.
    #[serde(default)]
    pub custom: Option<String>,
}

/// One field of the create screen of a project and issue type
/// (`GET /rest/api/{2|3}/issue/createmeta/{project}/issuetypes/{id}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawFieldMeta")]
pub struct FieldMeta {
    /// Field id, e.g. `customfield_10056` or `priority`.
    pub id: String,
    /// Name, e.g. `RubinTeam`.
    pub name: String,
    /// Whether an issue cannot be created without it.
    pub required: bool,
    /// Whether Jira fills it when it is not sent.
    pub has_default_value: bool,
    /// Its type.
    pub schema: FieldSchema,
    /// The values it allows (options, priorities, components), when Jira lists them.
    pub allowed_values: Option<Vec<Value>>,
}

/// [`FieldMeta`] as Jira writes it: Cloud sends the id as both `fieldId`
/// and `key`, Data Center as `fieldId`.
#[derive(Deserialize)]
struct RawFieldMeta {
    /// Field id (Cloud and Data Center).
    #[serde(rename = "fieldId", default)]
    field_id: Option<String>,
    /// The same id, as Cloud also writes it.
    #[serde(default)]
    key: Option<String>,
    /// Name, e.g. `RubinTeam`.
    #[serde(default)]
    name: String,
    /// Whether an issue cannot be created without it.
    #[serde(default)]
    required: bool,
    /// Whether Jira fills it when it is not sent.
    #[serde(rename = "hasDefaultValue", default)]
    has_default_value: bool,
    /// Its type.
    #[serde(default)]
    schema: FieldSchema,
    /// The values it allows (options, priorities, components), when Jira lists them.
    #[serde(rename = "allowedValues", default)]
    allowed_values: Option<Vec<Value>>,
}

impl From<RawFieldMeta> for FieldMeta {
    fn from(raw: RawFieldMeta) -> Self {
        Self {
            id: raw.field_id.or(raw.key).unwrap_or_default(),
            name: raw.name,
            required: raw.required,
            has_default_value: raw.has_default_value,
            schema: raw.schema,
            allowed_values: raw.allowed_values,
        }
    }
}

/// What Jira refuses of a ticket to file, or this adapter cannot honour.
impl TicketRequest {
    /// The JQL that finds the ticket ([`crate::model::jql::ticket_jql`]).
    pub fn jql(&self) -> String {
        crate::model::jql::ticket_jql(&self.project, &self.summary)
    }

    /// Checks what Jira would refuse or what this adapter cannot honour:
    /// empty project, type or summary; a multi-line summary; labels with
    /// spaces; [`TicketRequest::fields`] repeating a named field; a kept field
    /// the spec does not set.
    pub fn validate(&self) -> Result<(), JiraError> {
        let invalid = |reason: String| {
            Err(JiraError::InvalidSpec {
                summary: self.summary.clone(),
                reason,
            })
        };
        for (name, value) in [
            ("project", &self.project),
            ("issue type", &self.issue_type),
            ("summary", &self.summary),
        ] {
            if value.trim().is_empty() {
                return invalid(format!("the {name} is empty"));
            }
        }
        if self.summary.contains(['\n', '\r']) {
            return invalid("the summary must be one line".into());
        }
        if let Some(label) = self.labels.iter().find(|l| l.is_empty() || l.contains(' ')) {
            return invalid(format!("label {label:?} is empty or contains spaces"));
        }
        if let Some(id) = self
            .fields
            .keys()
            .find(|id| NAMED_FIELDS.contains(&id.as_str()))
        {
            return invalid(format!(
                "field {id:?} is set by name; remove it from the extra fields"
            ));
        }
        if let Some(id) = self
            .kept_in_sync
            .iter()
            .find(|id| !self.fields.contains_key(*id))
        {
            return invalid(format!(
                "field {id:?} is to be kept in sync but has no value"
            ));
        }
        Ok(())
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketAction {
    /// The ticket did not exist and was filed.
    Created,
    /// The ticket exists and matches; nothing was written.
    Found,
    /// The ticket exists; these kept-in-sync fields differed and were written.
    Updated {
        /// Ids of the fields written.
        fields: Vec<String>,
    },
}

/// The ticket [`ensure`] settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketOutcome {
    /// Key, e.g. `OSW-2010`.
    pub key: String,
    /// Its page, `$JIRA_URL/browse/KEY`.
    pub url: String,
    /// What was done.
    pub action: TicketAction,
    /// Issues `cycle` filed with the same summary (two runs at once) that
    /// this call closed as duplicates of [`TicketOutcome::key`].
    pub retired: Vec<String>,
    /// Issues of the same summary a person filed: reported, never touched.
    pub foreign: Vec<String>,
}

/// A version of a project, as `GET project/{key}/versions` lists it and
/// `POST version` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JiraVersion {
    /// Its id, e.g. `10042`.
    pub id: String,
    /// Its name, unique in its project, e.g. `ts_xml 24.1.0`.
    pub name: String,
    /// Its description, when it has one.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it is released.
    #[serde(default)]
    pub released: bool,
    /// Whether it is archived.
    #[serde(default)]
    pub archived: bool,
    /// The id of its project.
    #[serde(default)]
    pub project_id: Option<u64>,
}

/// A version to create (`POST version`): unreleased, in the project with
/// id `project_id` (Jira Cloud requires the id, not the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// The id of the project, as [`JiraApi::project_id`] finds it.
    pub project_id: u64,
    /// Its name, e.g. `ts_xml 24.1.0`.
    pub name: String,
    /// Its description, e.g. `for Cycle 45`.
    pub description: String,
}

/// The version of `versions` named exactly `name`, if any.
pub fn find_version<'a>(versions: &'a [JiraVersion], name: &str) -> Option<&'a JiraVersion> {
    versions.iter().find(|v| v.name == name)
}

/// One link of an issue, as `GET issue/{key}?fields=issuelinks` shows it
/// from that issue's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueLink {
    /// The link's id (for `DELETE issueLink/{id}`).
    pub id: String,
    /// The link type's name, e.g. `Relates` or `Blocks`.
    pub type_name: String,
    /// The other issue's key.
    pub other: String,
    /// Whether the other issue is the link's outward issue (this issue
    /// "blocks" it), rather than its inward one (this issue "is blocked by"
    /// it).
    pub outward: bool,
}

impl IssueLink {
    /// Reads one entry of `fields.issuelinks`; `None` when it names no
    /// other issue or has no id.
    pub(super) fn from_json(link: &Value) -> Option<Self> {
        let text = |pointer: &str| link.pointer(pointer).and_then(Value::as_str);
        let id = match link.get("id")? {
            Value::Number(n) => n.to_string(),
            id => id.as_str()?.to_string(),
        };
        let (other, outward) = match (text("/outwardIssue/key"), text("/inwardIssue/key")) {
            (Some(key), _) => (key, true),
            (None, Some(key)) => (key, false),
            (None, None) => return None,
        };
        Some(Self {
            id,
            type_name: text("/type/name").unwrap_or_default().to_string(),
            other: other.to_string(),
            outward,
        })
    }
}
