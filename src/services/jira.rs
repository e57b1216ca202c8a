//! Jira adapter: finds a cycle's ticket by its exact summary and files it
//! when it is missing, without ever filing it twice.
//!
//! # Layers
//!
//! - [`JiraApi`]: the three calls the steps need (search, create, update
//!   fields), object-safe so the engine can hold an `Arc<dyn JiraApi>`.
//!   [`JiraClient`] is the real implementation.
//! - [`find`] (read only, for dry runs) and [`ensure`] (find, then create
//!   or update only what differs) implement the step over any [`JiraApi`].
//! - Pure pieces, unit-tested: [`select`] (which search hit is the ticket),
//!   [`field_changes`] (which kept-in-sync fields differ), [`create_body`]
//!   and [`adf_document`] (request bodies), [`TicketSpec::validate`].
//!
//! # Finding a ticket
//!
//! The search uses [`crate::model::jql::ticket_jql`], the JQL the plan shows.
//! JQL's `~` is a stemmed "contains", so its hits include near misses
//! ("... Cycle 44 Revision 1"); [`select`] keeps only issues whose summary
//! is exactly the spec's and whose issue type matches, prefers unresolved
//! ones, and refuses to choose between several (the error lists their
//! keys). Tickets made by the old scripts carry the same summary and are
//! adopted as they are.
//!
//! # Retrying a create
//!
//! A create whose answer is lost (or a 5xx) may have filed the issue all the
//! same. [`JiraClient::create`](JiraApi::create) retries only after looking
//! for the ticket again. Jira Cloud's `search/jql` is eventually consistent,
//! so it first waits [`DEFAULT_INDEX_LAG`] for the index to catch up; an
//! index slower than that could still let a second ticket through (the
//! `reconcileIssues` parameter that would make the search consistent needs
//! the id of the lost issue, which is what is missing).
//!
//! # REST versions
//!
//! [`ApiVersion::V3`] (Jira Cloud) searches with `/rest/api/3/search/jql`
//! (`nextPageToken` paging) and sends descriptions as Atlassian Document
//! Format; [`ApiVersion::V2`] (Data Center) searches with `/rest/api/2/search`
//! (`startAt` paging) and sends plain wiki text. The version comes from
//! configuration, never from the host name.
//!
//! # Why requests do not go through gouqi's request methods
//!
//! `gouqi` 0.20 supplies the URL building, the credentials and the response
//! shapes ([`gouqi::core::ClientCore`], [`gouqi::Credentials`],
//! [`gouqi::Errors`], [`gouqi::CreateResponse`], [`gouqi::Issue`]). Its
//! `Jira::get`/`post`/`put` and `search()` are not used because they (1)
//! parse a 5xx answer's body as the success type, so a 500 with a JSON body
//! passes for a success and no retry is possible, (2) drop the response
//! headers, losing `Retry-After`, and (3) pick the search API from the host
//! name (v2 unless `*.atlassian.net`). Requests are therefore sent with
//! [`crate::services::http::client`] and retried with
//! [`crate::services::http::with_retry`].
//!
//! # Credentials
//!
//! `gouqi::Credentials` and `ClientCore` print the token in their `Debug`
//! output, so [`JiraClient`] implements `Debug` itself and keeps the token
//! in a [`Secret`] everywhere else. No error message contains it: errors
//! show [`display_url`] forms and Jira's own text, scrubbed of the token.
//!
//! # Environment
//!
//! `JIRA_URL`; `JIRA_USER` + `JIRA_API_TOKEN` (Jira Cloud, Basic auth) or
//! `JIRA_PAT` (Data Center personal access token, Bearer auth). See
//! [`JiraConfig::from_env`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::services::http::{
    self, Attempt, RetryError, RetryPolicy, Secret, display_url, is_transient, is_transient_error,
    retry_after, with_retry,
};

/// Environment variable with the Jira base URL, e.g. `https://rubinobs.atlassian.net`.
pub const URL_ENV: &str = "JIRA_URL";
/// Environment variable with the Jira Cloud user (e-mail address).
pub const USER_ENV: &str = "JIRA_USER";
/// Environment variable with the Jira Cloud API token of [`USER_ENV`].
pub const TOKEN_ENV: &str = "JIRA_API_TOKEN";
/// Environment variable with a Data Center personal access token.
pub const PAT_ENV: &str = "JIRA_PAT";

/// Issues asked for per search page (Jira may answer with fewer).
const PAGE_SIZE: &str = "100";
/// Items asked for per `createmeta` page (Jira Cloud answers at most 50, its default).
const CREATEMETA_PAGE_SIZE: &str = "50";
/// Most `createmeta` pages read (a guard against an answer that never ends).
const MAX_CREATEMETA_PAGES: usize = 100;
/// Fields every search asks for: what [`Issue`] is made of.
const BASE_FIELDS: [&str; 5] = ["summary", "issuetype", "resolution", "status", "labels"];
/// Fields [`TicketSpec`] sets by name; [`TicketSpec::fields`] must not repeat them.
const NAMED_FIELDS: [&str; 8] = [
    "project",
    "issuetype",
    "summary",
    "description",
    "labels",
    "components",
    "assignee",
    "priority",
];

/// Which Jira REST API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/rest/api/2` (Jira Data Center): `search` with `startAt` paging,
    /// plain-text descriptions, assignees by user name.
    V2,
    /// `/rest/api/3` (Jira Cloud): `search/jql` with `nextPageToken` paging,
    /// Atlassian Document Format descriptions, assignees by account id.
    V3,
}

impl ApiVersion {
    fn number(self) -> &'static str {
        match self {
            ApiVersion::V2 => "2",
            ApiVersion::V3 => "3",
        }
    }
}

/// How `cycle` authenticates to Jira.
#[derive(Debug, Clone)]
pub enum JiraAuth {
    /// Jira Cloud: user e-mail and API token, sent as HTTP Basic auth.
    Basic {
        /// The user (`JIRA_USER`).
        user: String,
        /// The API token (`JIRA_API_TOKEN`).
        token: Secret,
    },
    /// Jira Data Center: a personal access token, sent as a Bearer token.
    Bearer {
        /// The token (`JIRA_PAT`).
        token: Secret,
    },
}

impl JiraAuth {
    /// The variables holding these credentials, for error messages.
    fn variables(&self) -> &'static str {
        match self {
            JiraAuth::Basic { .. } => "JIRA_USER and JIRA_API_TOKEN",
            JiraAuth::Bearer { .. } => "JIRA_PAT",
        }
    }

    fn secret(&self) -> &Secret {
        match self {
            JiraAuth::Basic { token, .. } | JiraAuth::Bearer { token } => token,
        }
    }

    fn credentials(&self) -> gouqi::Credentials {
        match self {
            JiraAuth::Basic { user, token } => {
                gouqi::Credentials::Basic(user.clone(), token.expose().to_string())
            }
            JiraAuth::Bearer { token } => gouqi::Credentials::Bearer(token.expose().to_string()),
        }
    }
}

/// Where Jira is, how to authenticate, which REST version to speak and how
/// to retry.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// Base URL, ending in `/`, without userinfo, query or fragment.
    base: Url,
    auth: JiraAuth,
    api: ApiVersion,
    retry: RetryPolicy,
    index_lag: Duration,
}

/// How long Jira Cloud's search index may lag behind a create: Atlassian
/// documents `search/jql` as eventually consistent ("a few seconds to
/// minutes", most changes within seconds).
pub const DEFAULT_INDEX_LAG: Duration = Duration::from_secs(5);

impl JiraConfig {
    /// A configuration for the Jira at `url` (an `http` or `https` URL,
    /// possibly with a path prefix such as `https://host/jira`).
    pub fn new(url: &str, auth: JiraAuth, api: ApiVersion) -> Result<Self, JiraError> {
        Ok(Self {
            base: base_url(url)?,
            auth,
            api,
            retry: RetryPolicy::default(),
            index_lag: DEFAULT_INDEX_LAG,
        })
    }

    /// Reads `JIRA_URL` and the credentials from the environment. With
    /// [`ApiVersion::V3`] (Cloud) `JIRA_USER` + `JIRA_API_TOKEN` are used
    /// when both are set, else `JIRA_PAT`; with [`ApiVersion::V2`] (Data
    /// Center) `JIRA_PAT` comes first. When something is missing, one error
    /// names every variable to set.
    pub fn from_env(api: ApiVersion) -> Result<Self, JiraError> {
        Self::from_lookup(api, http::env_var)
    }

    /// [`JiraConfig::from_env`] with the variables read by `lookup` (a
    /// name → non-empty value function) instead of the process environment.
    pub fn from_lookup(
        api: ApiVersion,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, JiraError> {
        let url = lookup(URL_ENV);
        let user = lookup(USER_ENV);
        let basic = match (user.clone(), lookup(TOKEN_ENV)) {
            (Some(user), Some(token)) => Some(JiraAuth::Basic {
                user,
                token: Secret::new(token),
            }),
            _ => None,
        };
        let bearer = lookup(PAT_ENV).map(|token| JiraAuth::Bearer {
            token: Secret::new(token),
        });
        let auth = match api {
            ApiVersion::V3 => basic.or(bearer),
            ApiVersion::V2 => bearer.or(basic),
        };
        let mut missing = Vec::new();
        if url.is_none() {
            missing.push(format!("{URL_ENV} (the Jira address)"));
        }
        if auth.is_none() {
            missing.push(match (user.is_some(), lookup(TOKEN_ENV).is_some()) {
                (true, false) => format!(
                    "{TOKEN_ENV} (the API token of {USER_ENV}), or {PAT_ENV} (a Data Center personal access token)"
                ),
                (false, true) => format!(
                    "{USER_ENV} (the user of {TOKEN_ENV}), or {PAT_ENV} (a Data Center personal access token)"
                ),
                _ => format!(
                    "{USER_ENV} and {TOKEN_ENV} (Jira Cloud user and API token), or {PAT_ENV} (a Data Center personal access token)"
                ),
            });
        }
        match (url, auth) {
            (Some(url), Some(auth)) => Self::new(&url, auth, api),
            _ => Err(JiraError::NotConfigured {
                missing: missing.join("; and "),
            }),
        }
    }

    /// The same configuration retrying by `policy` (tests use short delays).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The same configuration waiting `lag` (default [`DEFAULT_INDEX_LAG`])
    /// before looking for an issue whose create failed, so that the search
    /// index has caught up with a create whose answer was lost.
    pub fn with_index_lag(mut self, lag: Duration) -> Self {
        self.index_lag = lag;
        self
    }

    /// The REST version spoken.
    pub fn api(&self) -> ApiVersion {
        self.api
    }

    /// The page of issue `key`: `$JIRA_URL/browse/KEY`.
    pub fn browse_url(&self, key: &str) -> String {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("browse").push(key);
        }
        url.to_string()
    }
}

/// Parses and normalises `JIRA_URL` (never echoing it: it could carry a
/// credential).
fn base_url(url: &str) -> Result<Url, JiraError> {
    let invalid = |reason: &str| JiraError::InvalidUrl {
        reason: reason.to_string(),
    };
    let mut base = Url::parse(url.trim()).map_err(|e| invalid(&format!("not a URL ({e})")))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if let Some(reason) = http::refuses_credentials(base.as_str()) {
        return Err(invalid(reason));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid(
            "it must not carry credentials; set JIRA_USER and JIRA_API_TOKEN, or JIRA_PAT",
        ));
    }
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

/// Errors of the Jira adapter. Messages name the (sanitised) URL and quote
/// Jira's own error text; they never contain a credential.
#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Variables are missing from the environment.
    #[error("Jira is not configured: set {missing}")]
    NotConfigured {
        /// What to set.
        missing: String,
    },
    /// `JIRA_URL` is not a usable address.
    #[error("JIRA_URL is not a usable Jira address: {reason}")]
    InvalidUrl {
        /// Why.
        reason: String,
    },
    /// Jira answered 401 or 403.
    #[error(
        "Jira at {url} refused the credentials (HTTP {status}){detail}: check that {variables} \
         are valid, not expired, and allowed to use this project"
    )]
    Auth {
        /// Sanitised URL of the request.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The variables the credentials came from.
        variables: &'static str,
        /// Jira's text (with a leading `: `), or empty.
        detail: String,
    },
    /// Jira refused the request (a 4xx other than 401, 403 and 429).
    #[error("{op} failed: Jira answered HTTP {status} at {url}: {message}")]
    Rejected {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// HTTP status.
        status: u16,
        /// Jira's `errorMessages` and `errors`.
        message: String,
    },
    /// Jira kept answering 429 or 5xx until the attempts ran out.
    #[error("{op} failed: Jira at {url} kept answering HTTP {status}: {message}")]
    Unavailable {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// HTTP status of the last answer.
        status: u16,
        /// Jira's text of the last answer.
        message: String,
        /// `Retry-After` of the last answer, if any.
        retry_after: Option<Duration>,
    },
    /// Jira asked to wait longer than the retry policy allows.
    #[error(
        "{op} failed: Jira at {url} asks to wait {}s before the next request; try again later",
        wait.as_secs()
    )]
    WaitTooLong {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// The wait Jira asked for.
        wait: Duration,
    },
    /// Jira could not be reached (after retries, when transient).
    #[error("{op} failed: could not reach Jira at {url}: {message}")]
    Transport {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Jira answered with something this adapter cannot read.
    #[error("{op}: unexpected answer from Jira at {url}: {message}")]
    InvalidResponse {
        /// What was being done.
        op: String,
        /// Sanitised URL of the request.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Several issues carry the ticket's exact summary.
    #[error(
        "several {issue_type} issues in {project} are titled exactly \"{summary}\": {}; \
         close, retitle or move all but one (cycle does not choose between them)",
        keys.join(", ")
    )]
    Ambiguous {
        /// Project key.
        project: String,
        /// Issue type.
        issue_type: String,
        /// The summary.
        summary: String,
        /// Keys of the matching issues.
        keys: Vec<String>,
    },
    /// A duplicate `cycle` filed has no transition into a "done" status.
    #[error(
        "{key} duplicates {winner} (cycle filed both) but no transition closes it; close it \
         as a duplicate by hand"
    )]
    CannotRetire {
        /// The duplicate.
        key: String,
        /// The ticket kept.
        winner: String,
    },
    /// No active Jira user matches a user named in a site file.
    #[error(
        "no active Jira user matches \"{query}\": write their login, email address or \
         display name as Jira's user search finds it"
    )]
    UnknownUser {
        /// The user as written.
        query: String,
    },
    /// Several Jira users match a user named in a site file, none exactly.
    #[error(
        "several Jira users match \"{query}\" ({}): write one's email address instead",
        candidates.join(", ")
    )]
    AmbiguousUser {
        /// The user as written.
        query: String,
        /// The matching users' display names and emails.
        candidates: Vec<String>,
    },
    /// The ticket specification cannot be filed as it is.
    #[error("ticket \"{summary}\": {reason}")]
    InvalidSpec {
        /// The ticket's summary.
        summary: String,
        /// What is wrong.
        reason: String,
    },
}

impl RetryError for JiraError {
    fn wait_too_long(self, wait: Duration) -> Self {
        match self {
            JiraError::Unavailable { op, url, .. } | JiraError::Transport { op, url, .. } => {
                JiraError::WaitTooLong { op, url, wait }
            }
            other => other,
        }
    }
}

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
    fn from_gouqi(issue: gouqi::Issue) -> Self {
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

/// What a ticket must look like.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketSpec {
    /// Project key, e.g. `OSW`.
    pub project: String,
    /// Issue type name, e.g. `Story`.
    pub issue_type: String,
    /// Summary: the ticket is found by it, exactly.
    pub summary: String,
    /// Plain text; lines starting with `* ` (`** ` nested) are bullets.
    pub description: String,
    /// Labels (no spaces).
    pub labels: Vec<String>,
    /// Component names.
    pub components: Vec<String>,
    /// Assignee: account id (v3) or user name (v2).
    pub assignee: Option<String>,
    /// Priority name, e.g. `Highest`.
    pub priority: Option<String>,
    /// Further fields, field id → value as Jira takes it, e.g.
    /// `customfield_10056` → `{"value": "Deployment"}`.
    pub fields: BTreeMap<String, Value>,
    /// Ids of [`TicketSpec::fields`] a rerun writes again when the issue's
    /// value differs (e.g. the calendar ticket's start and end).
    pub kept_in_sync: Vec<String>,
}

impl TicketSpec {
    /// The JQL that finds the ticket ([`crate::model::jql::ticket_jql`]).
    pub fn jql(&self) -> String {
        crate::model::jql::ticket_jql(&self.project, &self.summary)
    }

    /// Checks what Jira would refuse or what this adapter cannot honour:
    /// empty project, type or summary; a multi-line summary; labels with
    /// spaces; [`TicketSpec::fields`] repeating a named field; a kept field
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

/// The Jira calls the ticket steps need.
#[async_trait::async_trait]
pub trait JiraApi: Send + Sync {
    /// Every issue `jql` finds (all pages), with the summary, type,
    /// resolution, status, labels and the `fields` given.
    async fn search(&self, jql: &str, fields: &[String]) -> Result<Vec<Issue>, JiraError>;

    /// Files the ticket and returns its key. Meant for a ticket [`find`]
    /// did not find: before retrying a failed attempt it waits for the
    /// search index to catch up ([`JiraConfig::with_index_lag`]) and looks
    /// for the ticket again, so a lost answer does not file it twice.
    async fn create(&self, spec: &TicketSpec) -> Result<String, JiraError>;

    /// The users Jira's user search finds for `query` (`query=` on v3,
    /// `username=` on v2).
    async fn search_users(&self, query: &str) -> Result<Vec<JiraUser>, JiraError>;

    /// Sets `fields` (field id → value) on issue `key`.
    async fn update_fields(&self, key: &str, fields: &Map<String, Value>) -> Result<(), JiraError>;

    /// The user the credentials belong to (`myself`); read only.
    async fn myself(&self) -> Result<CurrentUser, JiraError>;

    /// The issue types `project` creates issues of (every page of
    /// `createmeta/{project}/issuetypes`); `None` when Jira knows no such
    /// project (or the user may not create issues in it). Read only.
    async fn createmeta_issue_types(
        &self,
        project: &str,
    ) -> Result<Option<Vec<IssueTypeMeta>>, JiraError>;

    /// The fields of the create screen of `project` and issue type
    /// `issue_type_id` (every page of `createmeta/{project}/issuetypes/{id}`);
    /// `None` when Jira knows no such pair. Read only.
    async fn createmeta_fields(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Option<Vec<FieldMeta>>, JiraError>;

    /// The workflow transitions issue `key` can take now, with the
    /// resolutions their screens allow (`GET issue/{key}/transitions?
    /// expand=transitions.fields`). Read only.
    async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError>;

    /// Moves issue `key` through transition `id`, setting the resolution
    /// when given and adding `comment` (`POST issue/{key}/transitions`).
    async fn transition(
        &self,
        key: &str,
        id: &str,
        resolution: Option<&str>,
        comment: &str,
    ) -> Result<(), JiraError>;

    /// Links `duplicate` to `original` with the link type
    /// [`DUPLICATE`] ("`duplicate` duplicates `original`"; `POST
    /// issueLink`, which Jira accepts again for an existing link).
    async fn link_duplicate(&self, duplicate: &str, original: &str) -> Result<(), JiraError>;

    /// The page of issue `key`.
    fn browse_url(&self, key: &str) -> String;
}

/// The issue link type, and the resolution, of a retired duplicate.
pub const DUPLICATE: &str = "Duplicate";

/// A workflow transition as `GET issue/{key}/transitions` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Its id.
    pub id: String,
    /// Its name, e.g. `Done`.
    pub name: String,
    /// The status it leads to.
    pub to: String,
    /// Whether that status is in the "done" category.
    pub to_done: bool,
    /// The resolutions its screen allows, when the screen has the field.
    pub resolutions: Option<Vec<String>>,
}

/// What a lookup found of a ticket: the ticket, and the other issues
/// carrying its exact summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The ticket: the only candidate, else the lowest key of those
    /// `cycle` filed.
    pub ticket: Issue,
    /// Other unresolved issues `cycle` filed with the summary (left by two
    /// runs at once): to close as duplicates of the ticket.
    pub duplicates: Vec<String>,
    /// Other issues of the summary that a person filed (no marker):
    /// reported, never touched.
    pub foreign: Vec<String>,
}

/// Whether `cycle` filed `issue` for `spec`: its description says, word for
/// word, what `cycle` writes for the ticket (every version has filed the
/// rendered description, so older versions' tickets carry the marker too; a
/// person filing a ticket by hand does not copy it). Needs the issue's
/// `description` field.
pub fn made_by_cycle(spec: &TicketSpec, issue: &Issue) -> bool {
    let wanted = words(&spec.description);
    if wanted.is_empty() {
        return false;
    }
    let text = match issue.fields.get("description") {
        Some(Value::String(text)) => text.clone(),
        Some(doc @ Value::Object(_)) => {
            let mut out = String::new();
            adf_text(doc, &mut out);
            out
        }
        _ => return false,
    };
    words(&text) == wanted
}

/// The words of a description, bullets' asterisks left out.
fn words(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim_start().trim_start_matches('*'))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect()
}

/// The text of an Atlassian Document Format node: text nodes as they are,
/// each block and hard break on a line of its own.
fn adf_text(node: &Value, out: &mut String) {
    match node.get("type").and_then(Value::as_str) {
        Some("text") => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
        Some("hardBreak") => out.push('\n'),
        _ => {
            for child in node
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                adf_text(child, out);
            }
            out.push('\n');
        }
    }
}

/// A key's project and number, for ordering (`SUMMIT-104` before `SUMMIT-1040`).
fn key_order(key: &str) -> (String, u64, String) {
    match key.rsplit_once('-') {
        Some((project, n)) => (
            project.to_string(),
            n.parse().unwrap_or(u64::MAX),
            key.to_string(),
        ),
        None => (key.to_string(), u64::MAX, key.to_string()),
    }
}

/// Whether `issue` was closed as a duplicate (its resolution is
/// [`DUPLICATE`]).
fn resolved_as_duplicate(issue: &Issue) -> bool {
    issue
        .fields
        .get("resolution")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .is_some_and(|n| n.eq_ignore_ascii_case(DUPLICATE))
}

/// The issues of a search that may be the ticket: exact summary and type,
/// those closed as duplicates left out, the unresolved ones if any.
fn candidates<'a>(spec: &TicketSpec, issues: &'a [Issue]) -> Vec<&'a Issue> {
    let exact: Vec<&Issue> = issues
        .iter()
        .filter(|i| {
            i.summary.trim() == spec.summary.trim()
                && i.issue_type.eq_ignore_ascii_case(spec.issue_type.trim())
        })
        .collect();
    let kept: Vec<&Issue> = exact
        .iter()
        .copied()
        .filter(|i| !resolved_as_duplicate(i))
        .collect();
    let exact = if kept.is_empty() { exact } else { kept };
    let open: Vec<&Issue> = exact.iter().copied().filter(|i| !i.resolved).collect();
    if open.is_empty() { exact } else { open }
}

/// Which of a search's `issues` is the ticket, and which are its duplicates.
/// One candidate (see [`select`]): that one. Several: the lowest key of those
/// [`made_by_cycle`] (or in `ours`, keys this run filed) wins; the others
/// `cycle` filed are duplicates to retire (unresolved ones only), those a
/// person filed are reported. Several and none by `cycle`:
/// [`JiraError::Ambiguous`], as `cycle` does not choose between people's
/// tickets.
pub fn resolve(
    spec: &TicketSpec,
    issues: &[Issue],
    ours: &[String],
) -> Result<Option<Lookup>, JiraError> {
    let candidates = candidates(spec, issues);
    if candidates.len() <= 1 {
        return Ok(candidates.first().map(|i| Lookup {
            ticket: (*i).clone(),
            duplicates: vec![],
            foreign: vec![],
        }));
    }
    let (mut marked, foreign): (Vec<&Issue>, Vec<&Issue>) = candidates
        .into_iter()
        .partition(|i| ours.contains(&i.key) || made_by_cycle(spec, i));
    if marked.is_empty() {
        return Err(JiraError::Ambiguous {
            project: spec.project.clone(),
            issue_type: spec.issue_type.clone(),
            summary: spec.summary.clone(),
            keys: foreign.iter().map(|i| i.key.clone()).collect(),
        });
    }
    marked.sort_by_key(|i| key_order(&i.key));
    Ok(Some(Lookup {
        ticket: marked[0].clone(),
        duplicates: marked[1..]
            .iter()
            .filter(|i| !i.resolved)
            .map(|i| i.key.clone())
            .collect(),
        foreign: foreign.iter().map(|i| i.key.clone()).collect(),
    }))
}

/// Finds the ticket and its duplicates (read only): the search, and when
/// several issues carry the summary, the search again with their
/// descriptions (to tell `cycle`'s from people's).
pub async fn lookup(api: &dyn JiraApi, spec: &TicketSpec) -> Result<Option<Lookup>, JiraError> {
    spec.validate()?;
    let issues = api.search(&spec.jql(), &spec.kept_in_sync).await?;
    if candidates(spec, &issues).len() <= 1 {
        return resolve(spec, &issues, &[]);
    }
    let issues = described(api, spec).await?;
    resolve(spec, &issues, &[])
}

/// The search's issues with their descriptions.
async fn described(api: &dyn JiraApi, spec: &TicketSpec) -> Result<Vec<Issue>, JiraError> {
    let mut fields = spec.kept_in_sync.clone();
    fields.push("description".to_string());
    api.search(&spec.jql(), &fields).await
}

/// The comment a retired duplicate gets.
pub fn retire_comment(duplicate: &str, winner: &str) -> String {
    format!(
        "{duplicate} was filed by cycle at the same time as {winner} (two runs of cycle at          once). cycle keeps {winner} and closed {duplicate} as its duplicate: follow {winner}."
    )
}

/// The transition that closes a duplicate and the resolution to set: one
/// into a "done" status, preferring one named or leading to "Duplicate",
/// then "Won't Do"/"Cancelled", then any; the resolution [`DUPLICATE`] when
/// its screen allows it, else the screen's first.
pub fn closing_transition(transitions: &[Transition]) -> Option<(&Transition, Option<String>)> {
    let named = |t: &Transition, words: &[&str]| {
        let names = format!("{} {}", t.name, t.to).to_ascii_lowercase();
        words.iter().any(|w| names.contains(w))
    };
    let done: Vec<&Transition> = transitions.iter().filter(|t| t.to_done).collect();
    let chosen = done
        .iter()
        .find(|t| named(t, &["duplicate"]))
        .or_else(|| done.iter().find(|t| named(t, &["won't", "wont", "cancel"])))
        .or_else(|| done.first())?;
    let resolution = chosen.resolutions.as_ref().and_then(|allowed| {
        allowed
            .iter()
            .find(|r| r.eq_ignore_ascii_case(DUPLICATE))
            .or_else(|| allowed.first())
            .cloned()
    });
    Some((chosen, resolution))
}

/// Closes `duplicate`, a ticket `cycle` filed twice, as a duplicate of
/// `winner`: links it ("duplicates"), then takes a closing transition with
/// the resolution [`DUPLICATE`] and a comment saying why.
pub async fn retire(api: &dyn JiraApi, duplicate: &str, winner: &str) -> Result<(), JiraError> {
    api.link_duplicate(duplicate, winner).await?;
    let transitions = api.transitions(duplicate).await?;
    let Some((transition, resolution)) = closing_transition(&transitions) else {
        return Err(JiraError::CannotRetire {
            key: duplicate.to_string(),
            winner: winner.to_string(),
        });
    };
    api.transition(
        duplicate,
        &transition.id,
        resolution.as_deref(),
        &retire_comment(duplicate, winner),
    )
    .await
}

/// Looks the ticket up without writing anything (dry runs): the issue
/// [`select`] settles on, if any.
pub async fn find(api: &dyn JiraApi, spec: &TicketSpec) -> Result<Option<Issue>, JiraError> {
    Ok(lookup(api, spec).await?.map(|l| l.ticket))
}

/// Makes sure the ticket exists, once: finds it, writes the kept-in-sync
/// fields that differ (nothing when none does), or files it when it is
/// missing.
///
/// Two runs at once may both file it. So after filing, the search is made
/// again: when `cycle` filed several, the lowest key wins ([`resolve`]); a
/// run whose ticket lost closes its own as a duplicate of the winner
/// ([`retire`]) and carries on with the winner, while the winner's run
/// leaves the other run's ticket to that run. Duplicates found before
/// filing (left by an older version, or a run that stopped) are all
/// retired; a person's are reported in [`TicketOutcome::foreign`].
pub async fn ensure(api: &dyn JiraApi, spec: &TicketSpec) -> Result<TicketOutcome, JiraError> {
    let (key, action, retired, foreign) = match lookup(api, spec).await? {
        Some(found) => {
            let issue = found.ticket;
            let changes = field_changes(spec, &issue);
            let action = if changes.is_empty() {
                TicketAction::Found
            } else {
                api.update_fields(&issue.key, &changes).await?;
                let fields = changes.keys().cloned().collect();
                TicketAction::Updated { fields }
            };
            for duplicate in &found.duplicates {
                retire(api, duplicate, &issue.key).await?;
            }
            (issue.key, action, found.duplicates, found.foreign)
        }
        None => {
            let key = api.create(spec).await?;
            let issues = described(api, spec).await?;
            match resolve(spec, &issues, std::slice::from_ref(&key))? {
                // The lower key wins, even when the index does not show
                // this run's ticket yet.
                Some(won) if key_order(&won.ticket.key) < key_order(&key) => {
                    retire(api, &key, &won.ticket.key).await?;
                    (won.ticket.key, TicketAction::Found, vec![key], won.foreign)
                }
                won => (
                    key,
                    TicketAction::Created,
                    vec![],
                    won.map(|w| w.foreign).unwrap_or_default(),
                ),
            }
        }
    };
    Ok(TicketOutcome {
        url: api.browse_url(&key),
        key,
        action,
        retired,
        foreign,
    })
}

/// Which of a search's `issues` is the ticket: those whose summary is
/// exactly the spec's (ignoring surrounding blanks) and whose issue type
/// matches (ignoring case); of those the unresolved ones if any. One left:
/// that one. None: `None`. Several: [`JiraError::Ambiguous`] with their keys.
pub fn select<'a>(spec: &TicketSpec, issues: &'a [Issue]) -> Result<Option<&'a Issue>, JiraError> {
    let exact: Vec<&Issue> = issues
        .iter()
        .filter(|i| {
            i.summary.trim() == spec.summary.trim()
                && i.issue_type.eq_ignore_ascii_case(spec.issue_type.trim())
        })
        .collect();
    let open: Vec<&Issue> = exact.iter().copied().filter(|i| !i.resolved).collect();
    let candidates = if open.is_empty() { exact } else { open };
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        several => Err(JiraError::Ambiguous {
            project: spec.project.clone(),
            issue_type: spec.issue_type.clone(),
            summary: spec.summary.clone(),
            keys: several.iter().map(|i| i.key.clone()).collect(),
        }),
    }
}

/// The kept-in-sync fields whose value on `issue` differs from the spec's,
/// with the spec's values (the body of an update).
pub fn field_changes(spec: &TicketSpec, issue: &Issue) -> Map<String, Value> {
    spec.kept_in_sync
        .iter()
        .filter_map(|id| {
            let wanted = spec.fields.get(id)?;
            let actual = issue.fields.get(id).unwrap_or(&Value::Null);
            (!values_match(wanted, actual)).then(|| (id.clone(), wanted.clone()))
        })
        .collect()
}

/// Whether Jira's `actual` value is what `wanted` set: objects match when
/// every key of `wanted` matches (Jira adds `id` and `self`), date-times
/// when they are the same instant (Jira answers in the user's time zone),
/// numbers by value.
fn values_match(wanted: &Value, actual: &Value) -> bool {
    match (wanted, actual) {
        (Value::Object(w), Value::Object(a)) => w
            .iter()
            .all(|(k, v)| values_match(v, a.get(k).unwrap_or(&Value::Null))),
        (Value::Array(w), Value::Array(a)) => {
            w.len() == a.len() && w.iter().zip(a).all(|(w, a)| values_match(w, a))
        }
        (Value::String(w), Value::String(a)) => {
            w == a || matches!((date_time(w), date_time(a)), (Some(w), Some(a)) if w == a)
        }
        (Value::Number(w), Value::Number(a)) => w.as_f64() == a.as_f64(),
        (w, a) => w == a,
    }
}

/// A date-time as Jira writes it (`2026-05-04T09:00:00.000-0400`) or in RFC 3339.
fn date_time(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}

/// The body of `POST /rest/api/{2|3}/issue` for `spec`: project and issue
/// type by key and name, components and priority by name, the assignee by
/// account id (v3) or user name (v2), the description as Atlassian Document
/// Format (v3) or text (v2), then [`TicketSpec::fields`]. Empty
/// description, labels and components are left out.
pub fn create_body(spec: &TicketSpec, api: ApiVersion) -> Value {
    let mut fields = Map::new();
    fields.insert("project".into(), json!({ "key": spec.project }));
    fields.insert("issuetype".into(), json!({ "name": spec.issue_type }));
    fields.insert("summary".into(), json!(spec.summary));
    if !spec.description.trim().is_empty() {
        let description = match api {
            ApiVersion::V3 => adf_document(&spec.description),
            ApiVersion::V2 => json!(spec.description),
        };
        fields.insert("description".into(), description);
    }
    if !spec.labels.is_empty() {
        fields.insert("labels".into(), json!(spec.labels));
    }
    if !spec.components.is_empty() {
        let components: Vec<Value> = spec
            .components
            .iter()
            .map(|name| json!({ "name": name }))
            .collect();
        fields.insert("components".into(), Value::Array(components));
    }
    if let Some(assignee) = &spec.assignee {
        let assignee = match api {
            ApiVersion::V3 => json!({ "accountId": assignee }),
            ApiVersion::V2 => json!({ "name": assignee }),
        };
        fields.insert("assignee".into(), assignee);
    }
    if let Some(priority) = &spec.priority {
        fields.insert("priority".into(), json!({ "name": priority }));
    }
    for (id, value) in &spec.fields {
        fields.insert(id.clone(), value.clone());
    }
    json!({ "fields": fields })
}

/// A bullet item and its nested items.
#[derive(Default)]
struct Bullet {
    text: String,
    children: Vec<Bullet>,
}

/// Plain text as an Atlassian Document Format document (Jira Cloud's
/// description format): blank lines separate paragraphs, line breaks inside
/// a paragraph are kept, lines starting with `* ` are bullets and `** `,
/// `*** ` ... nested bullets, and `http(s)://` addresses become links.
pub fn adf_document(text: &str) -> Value {
    let mut content = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    let mut bullets: Vec<Bullet> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if let Some((depth, item)) = bullet_line(line) {
            flush_paragraph(&mut lines, &mut content);
            add_bullet(&mut bullets, depth, item);
        } else if line.trim().is_empty() {
            flush_paragraph(&mut lines, &mut content);
            flush_list(&mut bullets, &mut content);
        } else {
            flush_list(&mut bullets, &mut content);
            lines.push(line);
        }
    }
    flush_paragraph(&mut lines, &mut content);
    flush_list(&mut bullets, &mut content);
    json!({ "type": "doc", "version": 1, "content": content })
}

/// `* item` → (1, "item"), `** item` → (2, "item"); anything else → None.
fn bullet_line(line: &str) -> Option<(usize, &str)> {
    let line = line.trim_start();
    let stars = line.bytes().take_while(|&b| b == b'*').count();
    let rest = &line[stars..];
    (stars > 0 && (rest.starts_with(' ') || rest.is_empty())).then(|| (stars, rest.trim()))
}

/// Adds an item at `depth` (1 = top level) under the last item of each
/// level; a level with no item yet takes it directly.
fn add_bullet(items: &mut Vec<Bullet>, depth: usize, text: &str) {
    match items.last_mut() {
        Some(last) if depth > 1 => add_bullet(&mut last.children, depth - 1, text),
        _ => items.push(Bullet {
            text: text.to_string(),
            children: Vec::new(),
        }),
    }
}

fn flush_paragraph(lines: &mut Vec<&str>, content: &mut Vec<Value>) {
    if lines.is_empty() {
        return;
    }
    let mut inline = Vec::new();
    for (i, line) in lines.drain(..).enumerate() {
        if i > 0 {
            inline.push(json!({ "type": "hardBreak" }));
        }
        inline.extend(inline_nodes(line));
    }
    content.push(json!({ "type": "paragraph", "content": inline }));
}

fn flush_list(items: &mut Vec<Bullet>, content: &mut Vec<Value>) {
    if !items.is_empty() {
        content.push(bullet_list(&std::mem::take(items)));
    }
}

fn bullet_list(items: &[Bullet]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut parts =
                vec![json!({ "type": "paragraph", "content": inline_nodes(&item.text) })];
            if !item.children.is_empty() {
                parts.push(bullet_list(&item.children));
            }
            json!({ "type": "listItem", "content": parts })
        })
        .collect();
    json!({ "type": "bulletList", "content": items })
}

/// Text nodes of one line, `http(s)://` addresses (without trailing
/// punctuation) marked as links. ADF forbids empty text nodes.
fn inline_nodes(line: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut plain = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            plain.push(' ');
        }
        let is_link = word.starts_with("https://") || word.starts_with("http://");
        let href = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if is_link && !href.ends_with("://") {
            if !plain.is_empty() {
                nodes.push(json!({ "type": "text", "text": std::mem::take(&mut plain) }));
            }
            nodes.push(json!({
                "type": "text",
                "text": href,
                "marks": [{ "type": "link", "attrs": { "href": href } }],
            }));
            plain.push_str(&word[href.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    if !plain.is_empty() {
        nodes.push(json!({ "type": "text", "text": plain }));
    }
    nodes
}

/// Jira's error text from an error body: `errorMessages`, then each
/// `errors` entry as `field: message` (and v3's `error`), joined with `; `.
/// A body that is not Jira's error JSON is quoted, shortened, instead.
fn error_text(body: &str) -> String {
    if let Ok(errors) = serde_json::from_str::<gouqi::Errors>(body) {
        let mut parts = errors.error_messages;
        parts.extend(
            errors
                .errors
                .iter()
                .map(|(field, m)| format!("{field}: {m}")),
        );
        parts.extend(errors.error);
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(300) {
        _ if text.is_empty() => "(no error text)".to_string(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// One page of `GET /rest/api/3/search/jql`. `nextPageToken` is absent on
/// the last page and `isLast` is not always sent, so both are optional
/// (gouqi's `V3SearchResults` requires `isLast`).
#[derive(Deserialize)]
struct V3Page {
    #[serde(default)]
    issues: Vec<gouqi::Issue>,
    #[serde(rename = "nextPageToken", default)]
    next_page_token: Option<String>,
    #[serde(rename = "isLast", default)]
    is_last: Option<bool>,
}

/// The real [`JiraApi`]: Jira's REST API over [`http::client`], with the
/// retries of [`with_retry`].
pub struct JiraClient {
    /// gouqi's URL building and credentials.
    core: gouqi::core::ClientCore,
    http: reqwest::Client,
    config: JiraConfig,
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not derived: gouqi's ClientCore prints the token.
        f.debug_struct("JiraClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JiraClient {
    /// A client for `config`.
    pub fn new(config: JiraConfig) -> Result<Self, JiraError> {
        let core = gouqi::core::ClientCore::new(config.base.as_str(), config.auth.credentials())
            .map_err(|e| JiraError::InvalidUrl {
                reason: config.auth.secret().scrub(&e.to_string()),
            })?;
        Ok(Self {
            core,
            http: http::client(),
            config,
        })
    }

    /// `{base}rest/api/{version}{endpoint}` with `segments` appended
    /// (percent-encoded) and `query`.
    fn url(&self, endpoint: &str, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self
            .core
            .build_versioned_url("api", Some(self.config.api.number()), endpoint)
            // The base is a valid http(s) URL ending in `/` and the
            // endpoints are fixed paths, so joining cannot fail.
            .unwrap_or_else(|_| self.config.base.clone());
        if !segments.is_empty()
            && let Ok(mut path) = url.path_segments_mut()
        {
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One request: its body on success; otherwise the error, marked for a
    /// retry when transient (transport failures, 429, 5xx).
    async fn send(
        &self,
        op: &str,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Attempt<String, JiraError> {
        let mut request = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = self.core.apply_credentials_async(request);
        let shown = display_url(url);
        let secret = self.config.auth.secret();
        let transport = |e: &reqwest::Error| JiraError::Transport {
            op: op.to_string(),
            url: shown.clone(),
            message: secret.scrub(&http::error_chain(e)),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if is_transient_error(&e) => {
                return Attempt::Retry {
                    error: transport(&e),
                    after: None,
                };
            }
            Err(e) => return Attempt::Done(Err(transport(&e))),
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let text = match response.text().await {
            Ok(text) => text,
            // The answer was cut off: a connection problem, worth a retry.
            Err(e) => {
                return Attempt::Retry {
                    error: transport(&e),
                    after: None,
                };
            }
        };
        if status.is_success() {
            return Attempt::Done(Ok(text));
        }
        let message = secret.scrub(&error_text(&text));
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            let detail = if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {message}")
            };
            return Attempt::Done(Err(JiraError::Auth {
                url: shown,
                status: status.as_u16(),
                variables: self.config.auth.variables(),
                detail,
            }));
        }
        if is_transient(status) {
            return Attempt::Retry {
                error: JiraError::Unavailable {
                    op: op.to_string(),
                    url: shown,
                    status: status.as_u16(),
                    message,
                    retry_after: after,
                },
                after,
            };
        }
        Attempt::Done(Err(JiraError::Rejected {
            op: op.to_string(),
            url: shown,
            status: status.as_u16(),
            message,
        }))
    }

    /// A read: `GET url`, retried, parsed as `T`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        url: &Url,
    ) -> Result<T, JiraError> {
        let text = with_retry(&self.config.retry, |_| {
            self.send(op, Method::GET, url, None)
        })
        .await?;
        serde_json::from_str(&text).map_err(|e| self.invalid(op, url, e))
    }

    fn invalid(&self, op: &str, url: &Url, error: impl fmt::Display) -> JiraError {
        JiraError::InvalidResponse {
            op: op.to_string(),
            url: display_url(url),
            message: error.to_string(),
        }
    }

    async fn search_v3(&self, op: &str, jql: &str, fields: &str) -> Result<Vec<Issue>, JiraError> {
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("jql", jql), ("fields", fields), ("maxResults", PAGE_SIZE)];
            if let Some(token) = &token {
                query.push(("nextPageToken", token));
            }
            let url = self.url("/search/jql", &[], &query);
            let page: V3Page = self.get(op, &url).await?;
            issues.extend(page.issues.into_iter().map(Issue::from_gouqi));
            match page.next_page_token {
                Some(next) if page.is_last != Some(true) => {
                    if token.as_deref() == Some(next.as_str()) {
                        return Err(self.invalid(op, &url, "the same nextPageToken came twice"));
                    }
                    token = Some(next);
                }
                _ => return Ok(issues),
            }
        }
    }

    async fn search_v2(&self, op: &str, jql: &str, fields: &str) -> Result<Vec<Issue>, JiraError> {
        let mut issues = Vec::new();
        loop {
            let start = issues.len().to_string();
            let query = [
                ("jql", jql),
                ("fields", fields),
                ("startAt", start.as_str()),
                ("maxResults", PAGE_SIZE),
            ];
            let url = self.url("/search", &[], &query);
            let page: gouqi::SearchResults = self.get(op, &url).await?;
            let empty = page.issues.is_empty();
            issues.extend(page.issues.into_iter().map(Issue::from_gouqi));
            if empty || issues.len() as u64 >= page.total {
                return Ok(issues);
            }
        }
    }

    /// Every item of a paged `createmeta` answer: Cloud lists them under
    /// `issueTypes` or `fields` with `startAt`/`maxResults`/`total`, Data
    /// Center under `values` with `isLast`. `None` on a 404 (no such
    /// project or issue type).
    async fn createmeta_pages<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        segments: &[&str],
        list: &str,
    ) -> Result<Option<Vec<T>>, JiraError> {
        let mut items: Vec<T> = Vec::new();
        for _ in 0..MAX_CREATEMETA_PAGES {
            let start = items.len().to_string();
            let query = [
                ("startAt", start.as_str()),
                ("maxResults", CREATEMETA_PAGE_SIZE),
            ];
            let url = self.url("/issue/createmeta", segments, &query);
            let page: Value = match self.get(op, &url).await {
                Ok(page) => page,
                Err(JiraError::Rejected { status: 404, .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let values = page
                .get(list)
                .or_else(|| page.get("values"))
                .and_then(Value::as_array)
                .ok_or_else(|| self.invalid(op, &url, format!("no `{list}` list")))?;
            let count = values.len();
            for value in values {
                items.push(
                    serde_json::from_value(value.clone()).map_err(|e| self.invalid(op, &url, e))?,
                );
            }
            let total = page.get("total").and_then(Value::as_u64);
            let last = page.get("isLast").and_then(Value::as_bool);
            let done = count == 0
                || last == Some(true)
                || total.is_some_and(|t| items.len() as u64 >= t)
                || (total.is_none() && last.is_none());
            if done {
                return Ok(Some(items));
            }
        }
        Err(JiraError::InvalidResponse {
            op: op.to_string(),
            url: display_url(&self.url("/issue/createmeta", segments, &[])),
            message: format!("more than {MAX_CREATEMETA_PAGES} pages"),
        })
    }
}

#[async_trait::async_trait]
impl JiraApi for JiraClient {
    async fn search(&self, jql: &str, fields: &[String]) -> Result<Vec<Issue>, JiraError> {
        let mut wanted: Vec<&str> = BASE_FIELDS.to_vec();
        for field in fields {
            if !wanted.contains(&field.as_str()) {
                wanted.push(field);
            }
        }
        let fields = wanted.join(",");
        let op = "searching Jira issues";
        match self.config.api {
            ApiVersion::V3 => self.search_v3(op, jql, &fields).await,
            ApiVersion::V2 => self.search_v2(op, jql, &fields).await,
        }
    }

    async fn create(&self, spec: &TicketSpec) -> Result<String, JiraError> {
        spec.validate()?;
        let body = create_body(spec, self.config.api);
        let url = self.url("/issue", &[], &[]);
        let op = format!("creating Jira issue \"{}\"", spec.summary);
        let (body, url, op) = (&body, &url, op.as_str());
        with_retry(&self.config.retry, move |attempt| async move {
            if attempt > 1 {
                // The failed attempt may have filed the issue all the same
                // (a lost answer, a 5xx after the write): look before
                // filing again, once the search index has caught up.
                tokio::time::sleep(self.config.index_lag).await;
                match find(self, spec).await {
                    Ok(Some(issue)) => return Attempt::Done(Ok(issue.key)),
                    Ok(None) => {}
                    Err(e) => return Attempt::Done(Err(e)),
                }
            }
            match self.send(op, Method::POST, url, Some(body)).await {
                Attempt::Done(Ok(text)) => Attempt::Done(
                    serde_json::from_str::<gouqi::CreateResponse>(&text)
                        .map(|created| created.key)
                        .map_err(|e| self.invalid(op, url, e)),
                ),
                Attempt::Done(Err(e)) => Attempt::Done(Err(e)),
                Attempt::Retry { error, after } => Attempt::Retry { error, after },
            }
        })
        .await
    }

    async fn update_fields(&self, key: &str, fields: &Map<String, Value>) -> Result<(), JiraError> {
        let url = self.url("/issue", &[key], &[]);
        let op = format!("updating Jira issue {key}");
        let body = json!({ "fields": fields });
        with_retry(&self.config.retry, |_| {
            self.send(&op, Method::PUT, &url, Some(&body))
        })
        .await
        .map(drop)
    }

    async fn search_users(&self, query: &str) -> Result<Vec<JiraUser>, JiraError> {
        let parameter = match self.config.api {
            ApiVersion::V3 => "query",
            ApiVersion::V2 => "username",
        };
        let url = self.url(
            "/user/search",
            &[],
            &[(parameter, query), ("maxResults", "50")],
        );
        self.get(&format!("looking up Jira user \"{query}\""), &url)
            .await
    }

    async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        let url = self.url(
            "/issue",
            &[key, "transitions"],
            &[("expand", "transitions.fields")],
        );
        let op = format!("reading the transitions of Jira issue {key}");
        let answer: Value = self.get(&op, &url).await?;
        let list = answer
            .get("transitions")
            .and_then(Value::as_array)
            .ok_or_else(|| self.invalid(&op, &url, "no `transitions` list"))?;
        Ok(list
            .iter()
            .map(|t| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
                Transition {
                    id: match t.get("id") {
                        Some(Value::Number(n)) => n.to_string(),
                        id => text(id),
                    },
                    name: text(t.get("name")),
                    to: text(t.pointer("/to/name")),
                    to_done: t.pointer("/to/statusCategory/key").and_then(Value::as_str)
                        == Some("done"),
                    resolutions: t.pointer("/fields/resolution").map(|r| {
                        r.get("allowedValues")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|v| v.get("name").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    }),
                }
            })
            .collect())
    }

    async fn transition(
        &self,
        key: &str,
        id: &str,
        resolution: Option<&str>,
        comment: &str,
    ) -> Result<(), JiraError> {
        let url = self.url("/issue", &[key, "transitions"], &[]);
        let op = format!("closing Jira issue {key}");
        let comment = match self.config.api {
            ApiVersion::V3 => adf_document(comment),
            ApiVersion::V2 => json!(comment),
        };
        let mut body = json!({
            "transition": { "id": id },
            "update": { "comment": [{ "add": { "body": comment } }] },
        });
        if let Some(resolution) = resolution {
            body["fields"] = json!({ "resolution": { "name": resolution } });
        }
        // Not retried: a lost answer may have moved the issue already, and
        // the same transition from the new status would be refused.
        match self.send(&op, Method::POST, &url, Some(&body)).await {
            Attempt::Done(result) => result.map(drop),
            Attempt::Retry { error, .. } => Err(error),
        }
    }

    async fn link_duplicate(&self, duplicate: &str, original: &str) -> Result<(), JiraError> {
        let url = self.url("/issueLink", &[], &[]);
        let op = format!("linking Jira issue {duplicate} to {original}");
        // The outward issue is the link's "from" side: it "duplicates" the
        // inward one.
        let body = json!({
            "type": { "name": DUPLICATE },
            "outwardIssue": { "key": duplicate },
            "inwardIssue": { "key": original },
        });
        with_retry(&self.config.retry, |_| {
            self.send(&op, Method::POST, &url, Some(&body))
        })
        .await
        .map(drop)
    }

    fn browse_url(&self, key: &str) -> String {
        self.config.browse_url(key)
    }

    async fn myself(&self) -> Result<CurrentUser, JiraError> {
        let url = self.url("/myself", &[], &[]);
        let me: Value = self.get("reading the Jira user (myself)", &url).await?;
        let text = |name: &str| me.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(CurrentUser {
            display_name: text("displayName").unwrap_or_default(),
            account: text("accountId")
                .or_else(|| text("name"))
                .unwrap_or_default(),
            email: text("emailAddress").filter(|e| !e.is_empty()),
            active: me.get("active").and_then(Value::as_bool).unwrap_or(true),
        })
    }

    async fn createmeta_issue_types(
        &self,
        project: &str,
    ) -> Result<Option<Vec<IssueTypeMeta>>, JiraError> {
        let op = format!("reading the issue types of Jira project {project}");
        self.createmeta_pages(&op, &[project, "issuetypes"], "issueTypes")
            .await
    }

    async fn createmeta_fields(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Option<Vec<FieldMeta>>, JiraError> {
        let op = format!(
            "reading the create screen of Jira project {project}, issue type {issue_type_id}"
        );
        self.createmeta_pages(&op, &[project, "issuetypes", issue_type_id], "fields")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, name: &str, display: &str, email: Option<&str>, active: bool) -> JiraUser {
        JiraUser {
            account_id: Some(id.into()),
            name: Some(name.into()),
            display_name: display.into(),
            email_address: email.map(String::from),
            active,
        }
    }

    fn people() -> Vec<JiraUser> {
        vec![
            user(
                "5b10",
                "mreuter",
                "Michael Reuter",
                Some("mreuter@lsst.org"),
                true,
            ),
            user("6c21", "mreuter2", "Michaela Reuters", None, true),
            user("7d32", "mreuter-old", "Michael Reuter (old)", None, false),
        ]
    }

    #[test]
    fn a_user_is_picked_by_exact_name_email_or_local_part() {
        let users = people();
        for query in [
            "mreuter",
            "MREUTER",
            "mreuter@lsst.org",
            "Michael Reuter",
            "5b10",
        ] {
            assert_eq!(
                pick_user(query, &users, ApiVersion::V3).unwrap(),
                "5b10",
                "{query}"
            );
        }
        assert_eq!(
            pick_user("mreuter", &users, ApiVersion::V2).unwrap(),
            "mreuter"
        );
        assert_eq!(
            pick_user("Michaela Reuters", &users, ApiVersion::V3).unwrap(),
            "6c21"
        );
    }

    #[test]
    fn a_sole_active_match_is_taken_and_inactive_users_never_are() {
        let users = people();
        let found = [users[1].clone(), users[2].clone()];
        assert_eq!(pick_user("Reut", &found, ApiVersion::V3).unwrap(), "6c21");
        let gone = [users[2].clone()];
        assert!(matches!(
            pick_user("mreuter-old", &gone, ApiVersion::V3),
            Err(JiraError::UnknownUser { .. })
        ));
        match pick_user("Reut", &users, ApiVersion::V3) {
            Err(JiraError::AmbiguousUser { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    fn spec() -> TicketSpec {
        TicketSpec {
            project: "OSW".into(),
            issue_type: "Story".into(),
            summary: "Ready summit deployment configuration for Cycle 44".into(),
            ..TicketSpec::default()
        }
    }

    fn issue(key: &str, summary: &str, issue_type: &str, resolved: bool) -> Issue {
        Issue {
            key: key.into(),
            summary: summary.into(),
            issue_type: issue_type.into(),
            resolved,
            labels: vec![],
            fields: Map::new(),
        }
    }

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn select_keeps_exact_summaries_of_the_right_type() {
        let s = spec();
        let hits = [
            issue(
                "OSW-1",
                &format!("{} Revision 1", s.summary),
                "Story",
                false,
            ),
            issue("OSW-2", &s.summary, "Task", false),
            issue("OSW-3", &format!(" {} ", s.summary), "story", false),
        ];
        assert_eq!(
            select(&s, &hits).unwrap().map(|i| i.key.as_str()),
            Some("OSW-3")
        );
        assert_eq!(select(&s, &hits[..2]).unwrap(), None);
    }

    /// An issue of `spec()`'s summary with `description` (`None`: none).
    fn described(key: &str, description: Option<Value>, resolution: Option<&str>) -> Issue {
        let s = spec();
        let mut i = issue(key, &s.summary, "Story", resolution.is_some());
        if let Some(d) = description {
            i.fields.insert("description".into(), d);
        }
        if let Some(r) = resolution {
            i.fields.insert("resolution".into(), json!({ "name": r }));
        }
        i
    }

    #[test]
    fn cycle_tells_its_tickets_by_the_description_it_writes() {
        let s = TicketSpec {
            description: "Prepare the summit.\n\n* Jira: OSW\n** nested https://x.org/a".into(),
            ..spec()
        };
        let adf = adf_document(&s.description);
        assert!(made_by_cycle(&s, &described("OSW-1", Some(adf), None)));
        let text = json!("Prepare the summit.\n* Jira: OSW\n** nested https://x.org/a\n");
        assert!(made_by_cycle(&s, &described("OSW-1", Some(text), None)));
        let other = json!("Filed by hand.");
        assert!(!made_by_cycle(&s, &described("OSW-1", Some(other), None)));
        assert!(!made_by_cycle(&s, &described("OSW-1", None, None)));
        // An empty description marks nothing.
        let empty = TicketSpec {
            description: String::new(),
            ..spec()
        };
        assert!(!made_by_cycle(
            &empty,
            &described("OSW-1", Some(json!("")), None)
        ));
    }

    #[test]
    fn resolve_keeps_the_lowest_key_cycle_filed() {
        let s = TicketSpec {
            description: "Prepare the summit.".into(),
            ..spec()
        };
        let ours = || Some(json!("Prepare the summit."));
        let hits = [
            described("OSW-10", ours(), None),
            described("OSW-9", ours(), None),
            described("OSW-8", Some(json!("by hand")), None),
            described("OSW-2", ours(), Some("Duplicate")),
        ];
        let found = resolve(&s, &hits, &[]).unwrap().unwrap();
        assert_eq!(found.ticket.key, "OSW-9", "numbers, not text, order keys");
        assert_eq!(found.duplicates, ["OSW-10"]);
        assert_eq!(found.foreign, ["OSW-8"]);
        // A ticket this run filed counts as cycle's even without the text.
        let hits = [
            described("OSW-5", None, None),
            described("OSW-6", Some(json!("by hand")), None),
        ];
        let found = resolve(&s, &hits, &["OSW-5".into()]).unwrap().unwrap();
        assert_eq!(found.ticket.key, "OSW-5");
        assert_eq!(found.foreign, ["OSW-6"]);
        // People's tickets only: cycle does not choose.
        let err = resolve(&s, &hits, &[]).unwrap_err();
        assert!(matches!(err, JiraError::Ambiguous { .. }), "{err:?}");
        // A duplicate closed earlier is no candidate, even once the kept
        // ticket is done too.
        let hits = [
            described("OSW-1", ours(), Some("Done")),
            described("OSW-2", ours(), Some("Duplicate")),
        ];
        let found = resolve(&s, &hits, &[]).unwrap().unwrap();
        assert_eq!(found.ticket.key, "OSW-1");
        assert!(found.duplicates.is_empty());
    }

    #[test]
    fn the_closing_transition_prefers_duplicate_then_wont_do() {
        let t = |id: &str, name: &str, done: bool, resolutions: Option<&[&str]>| Transition {
            id: id.into(),
            name: name.into(),
            to: name.into(),
            to_done: done,
            resolutions: resolutions.map(|r| r.iter().map(|s| s.to_string()).collect()),
        };
        let list = [
            t("11", "To Do", false, None),
            t("31", "Done", true, Some(&["Done", "Duplicate"])),
            t("41", "Won't Do", true, None),
        ];
        let (chosen, resolution) = closing_transition(&list).unwrap();
        assert_eq!((chosen.id.as_str(), resolution.as_deref()), ("41", None));
        let list = [
            t("31", "Done", true, Some(&["Done", "Duplicate"])),
            t("51", "Duplicate", true, Some(&["Fixed"])),
        ];
        let (chosen, resolution) = closing_transition(&list).unwrap();
        assert_eq!(
            (chosen.id.as_str(), resolution.as_deref()),
            ("51", Some("Fixed"))
        );
        let list = [t("31", "Done", true, Some(&["Done", "Duplicate"]))];
        let (chosen, resolution) = closing_transition(&list).unwrap();
        assert_eq!(
            (chosen.id.as_str(), resolution.as_deref()),
            ("31", Some("Duplicate"))
        );
        assert!(closing_transition(&[t("11", "To Do", false, None)]).is_none());
    }

    #[test]
    fn select_prefers_unresolved_and_refuses_to_choose() {
        let s = spec();
        let resolved = issue("OSW-1", &s.summary, "Story", true);
        let open = issue("OSW-2", &s.summary, "Story", false);
        let other_open = issue("OSW-3", &s.summary, "Story", false);
        let pick = |hits: &[Issue]| select(&s, hits).map(|i| i.map(|i| i.key.clone()));
        assert_eq!(
            pick(&[resolved.clone(), open.clone()]).unwrap().as_deref(),
            Some("OSW-2")
        );
        assert_eq!(
            pick(std::slice::from_ref(&resolved)).unwrap().as_deref(),
            Some("OSW-1")
        );
        let err = pick(&[resolved.clone(), open, other_open]).unwrap_err();
        assert!(matches!(&err, JiraError::Ambiguous { keys, .. } if keys == &["OSW-2", "OSW-3"]));
        assert!(err.to_string().contains("OSW-2, OSW-3"), "{err}");
        let err = pick(&[resolved.clone(), resolved]).unwrap_err();
        assert!(matches!(err, JiraError::Ambiguous { .. }));
    }

    #[test]
    fn field_changes_compare_as_jira_answers() {
        let mut s = spec();
        s.fields.insert(
            "customfield_1".into(),
            json!("2026-05-04T09:00:00.000-0400"),
        );
        s.fields
            .insert("customfield_2".into(), json!({ "value": "Deployment" }));
        s.fields
            .insert("customfield_3".into(), json!([{ "name": "AuxTel" }]));
        s.fields.insert("customfield_4".into(), json!(2));
        s.fields.insert("customfield_5".into(), json!("not kept"));
        s.kept_in_sync = [
            "customfield_1",
            "customfield_2",
            "customfield_3",
            "customfield_4",
        ]
        .map(String::from)
        .to_vec();
        let mut i = issue("OSW-1", &s.summary, "Story", false);
        i.fields.insert(
            "customfield_1".into(),
            json!("2026-05-04T13:00:00.000+0000"),
        );
        i.fields.insert(
            "customfield_2".into(),
            json!({ "self": "x", "id": "10", "value": "Deployment" }),
        );
        i.fields.insert(
            "customfield_3".into(),
            json!([{ "id": "1", "name": "AuxTel" }]),
        );
        i.fields.insert("customfield_4".into(), json!(2.0));
        assert!(field_changes(&s, &i).is_empty());

        i.fields.insert(
            "customfield_1".into(),
            json!("2026-05-04T09:00:00.000+0000"),
        );
        i.fields
            .insert("customfield_2".into(), json!({ "value": "Other" }));
        i.fields.remove("customfield_4");
        let changes = field_changes(&s, &i);
        let ids: Vec<&str> = changes.keys().map(String::as_str).collect();
        assert_eq!(ids, ["customfield_1", "customfield_2", "customfield_4"]);
        assert_eq!(
            changes["customfield_1"],
            json!("2026-05-04T09:00:00.000-0400")
        );
    }

    #[test]
    fn adf_has_paragraphs_breaks_nested_bullets_and_links() {
        let doc = adf_document(
            "Prepare the summit.\nSecond line, see https://example.org/x.\n\n\
             * one\n* two\n** two.a\n** two.b\n* three\nAfter the list.",
        );
        let text = |t: &str| json!({ "type": "text", "text": t });
        let para = |c: Vec<Value>| json!({ "type": "paragraph", "content": c });
        let item = |t: &str| json!({ "type": "listItem", "content": [para(vec![text(t)])] });
        assert_eq!(
            doc,
            json!({
                "type": "doc",
                "version": 1,
                "content": [
                    para(vec![
                        text("Prepare the summit."),
                        json!({ "type": "hardBreak" }),
                        text("Second line, see "),
                        json!({
                            "type": "text",
                            "text": "https://example.org/x",
                            "marks": [{ "type": "link", "attrs": { "href": "https://example.org/x" } }],
                        }),
                        text("."),
                    ]),
                    {
                        "type": "bulletList",
                        "content": [
                            item("one"),
                            {
                                "type": "listItem",
                                "content": [
                                    para(vec![text("two")]),
                                    { "type": "bulletList", "content": [item("two.a"), item("two.b")] },
                                ],
                            },
                            item("three"),
                        ],
                    },
                    para(vec![text("After the list.")]),
                ],
            })
        );
    }

    #[test]
    fn adf_copes_with_odd_input() {
        // A nested bullet with no parent becomes a top-level item; `*bold*`
        // is not a bullet; an empty bullet has an empty paragraph.
        let doc = adf_document("** orphan\n*bold* text\n*\n\n\n");
        let content = doc["content"].as_array().unwrap();
        assert_eq!(content[0]["type"], "bulletList");
        assert_eq!(
            content[0]["content"][0]["content"][0]["content"][0]["text"],
            "orphan"
        );
        assert_eq!(content[1]["content"][0]["text"], "*bold* text");
        assert_eq!(content[2]["content"][0]["content"][0]["content"], json!([]));
        assert_eq!(adf_document("")["content"], json!([]));
    }

    #[test]
    fn create_bodies_differ_by_version() {
        let mut s = spec();
        s.description = "Text.\n* item".into();
        s.labels = vec!["SoftwareRelease".into()];
        s.components = vec!["AuxTel".into(), "Software Updates".into()];
        s.assignee = Some("abc123".into());
        s.priority = Some("Highest".into());
        s.fields
            .insert("customfield_10056".into(), json!({ "value": "Deployment" }));
        let v3 = create_body(&s, ApiVersion::V3);
        let f = &v3["fields"];
        assert_eq!(f["project"], json!({ "key": "OSW" }));
        assert_eq!(f["issuetype"], json!({ "name": "Story" }));
        assert_eq!(f["summary"], json!(s.summary));
        assert_eq!(f["description"]["type"], "doc");
        assert_eq!(f["labels"], json!(["SoftwareRelease"]));
        assert_eq!(
            f["components"],
            json!([{ "name": "AuxTel" }, { "name": "Software Updates" }])
        );
        assert_eq!(f["assignee"], json!({ "accountId": "abc123" }));
        assert_eq!(f["priority"], json!({ "name": "Highest" }));
        assert_eq!(f["customfield_10056"], json!({ "value": "Deployment" }));
        let v2 = create_body(&s, ApiVersion::V2);
        assert_eq!(v2["fields"]["description"], json!("Text.\n* item"));
        assert_eq!(v2["fields"]["assignee"], json!({ "name": "abc123" }));
        let bare = create_body(&spec(), ApiVersion::V3);
        let keys: Vec<&String> = bare["fields"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["issuetype", "project", "summary"]);
    }

    #[test]
    fn specs_are_validated() {
        let reason = |s: TicketSpec| match s.validate() {
            Err(JiraError::InvalidSpec { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(spec().validate().is_ok());
        assert!(
            reason(TicketSpec {
                summary: " ".into(),
                ..spec()
            })
            .contains("summary is empty")
        );
        assert!(
            reason(TicketSpec {
                summary: "a\nb".into(),
                ..spec()
            })
            .contains("one line")
        );
        let labels = vec!["Software Release".into()];
        assert!(reason(TicketSpec { labels, ..spec() }).contains("spaces"));
        let mut s = spec();
        s.fields.insert("labels".into(), json!(["x"]));
        assert!(reason(s).contains("set by name"));
        let mut s = spec();
        s.kept_in_sync = vec!["customfield_1".into()];
        assert!(reason(s).contains("no value"));
    }

    #[test]
    fn error_text_quotes_jira() {
        assert_eq!(
            error_text(
                r#"{"errorMessages":["Bad JQL"],"errors":{"summary":"Required","foo":"Unknown"}}"#
            ),
            "Bad JQL; foo: Unknown; summary: Required"
        );
        assert_eq!(error_text(r#"{"error":"Gone"}"#), "Gone");
        assert_eq!(error_text("<html>\n  Oops  </html>"), "<html> Oops </html>");
        assert_eq!(error_text(""), "(no error text)");
        assert!(error_text(&"x".repeat(500)).ends_with("..."));
    }

    #[test]
    fn config_from_lookup_names_what_is_missing() {
        let err = |vars: &[(&str, &str)], api| {
            JiraConfig::from_lookup(api, lookup(vars))
                .unwrap_err()
                .to_string()
        };
        let none = err(&[], ApiVersion::V3);
        for name in ["JIRA_URL", "JIRA_USER", "JIRA_API_TOKEN", "JIRA_PAT"] {
            assert!(none.contains(name), "{none}");
        }
        let token_missing = err(
            &[("JIRA_URL", "https://x"), ("JIRA_USER", "u")],
            ApiVersion::V3,
        );
        assert!(
            token_missing.contains("set JIRA_API_TOKEN"),
            "{token_missing}"
        );
        assert!(!token_missing.contains("JIRA_URL"), "{token_missing}");
        let url_missing = err(&[("JIRA_PAT", "p")], ApiVersion::V2);
        assert!(url_missing.contains("set JIRA_URL") && !url_missing.contains("JIRA_PAT"));
    }

    #[test]
    fn config_picks_credentials_by_version() {
        let all = [
            ("JIRA_URL", "https://jira.example.org/jira"),
            ("JIRA_USER", "u@example.org"),
            ("JIRA_API_TOKEN", "tok-cloud"),
            ("JIRA_PAT", "tok-pat"),
        ];
        let v3 = JiraConfig::from_lookup(ApiVersion::V3, lookup(&all)).unwrap();
        assert!(matches!(v3.auth, JiraAuth::Basic { .. }));
        let v2 = JiraConfig::from_lookup(ApiVersion::V2, lookup(&all)).unwrap();
        assert!(matches!(v2.auth, JiraAuth::Bearer { .. }));
        let shown = format!("{v3:?} {v2:?}");
        assert!(!shown.contains("tok-"), "{shown}");
        assert_eq!(
            v3.browse_url("OSW-7"),
            "https://jira.example.org/jira/browse/OSW-7"
        );
    }

    #[test]
    fn urls_are_checked_and_never_echoed() {
        let auth = JiraAuth::Bearer {
            token: Secret::new("t"),
        };
        let err = |url: &str| {
            JiraConfig::new(url, auth.clone(), ApiVersion::V2)
                .unwrap_err()
                .to_string()
        };
        assert!(err("ftp://host").contains("http or https"));
        let with_user = err("https://me:hunter2@host");
        assert!(with_user.contains("credentials") && !with_user.contains("hunter2"));
        assert!(!err("not a url hunter2").contains("hunter2"));
        let ok = JiraConfig::new("https://host/?x=1", auth, ApiVersion::V2).unwrap();
        assert_eq!(ok.browse_url("A-1"), "https://host/browse/A-1");
    }

    #[test]
    fn client_urls_and_debug() {
        let config = JiraConfig::new(
            "https://host/jira",
            JiraAuth::Basic {
                user: "u".into(),
                token: Secret::new("sekrit"),
            },
            ApiVersion::V3,
        )
        .unwrap();
        let client = JiraClient::new(config).unwrap();
        assert_eq!(
            client
                .url("/search/jql", &[], &[("jql", "a = \"b\"")])
                .as_str(),
            "https://host/jira/rest/api/3/search/jql?jql=a+%3D+%22b%22"
        );
        assert_eq!(
            client.url("/issue", &["OSW-1/x"], &[]).as_str(),
            "https://host/jira/rest/api/3/issue/OSW-1%2Fx"
        );
        assert!(!format!("{client:?}").contains("sekrit"));
    }
}
