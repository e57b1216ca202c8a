//! A stateful fake of Jira's REST API on [`FakeServer`], answering as the
//! public API documentation says, for the adapter's and the engine's tests.
//!
//! Two flavours:
//! - [`JiraFake::start`]: Jira Cloud. `GET /rest/api/3/search/jql`
//!   (`nextPageToken` paging; no `nextPageToken` and `isLast: true` on the
//!   last page; only `id` per issue unless `fields` is given), the removed
//!   `GET /rest/api/2/search` answers 410, issues under `/rest/api/2` and
//!   `/rest/api/3` (v3 descriptions must be Atlassian Document Format,
//!   assignees by `accountId`). Basic auth with [`USER`]:[`TOKEN`].
//! - [`JiraFake::start_data_center`]: Jira Data Center. `GET
//!   /rest/api/2/search` (`startAt`/`maxResults`/`total`), issues under
//!   `/rest/api/2` (text descriptions, assignees by `name`), no v3 (404).
//!   Bearer auth with [`PAT`].
//!
//! Both: `POST issue` → 201 `{id, key, self}`, `PUT issue/{key}` → 204,
//! `GET issue/{key}`, Jira-shaped 400s (`errorMessages`, `errors`), 401
//! for wrong credentials; `GET myself`; the create metadata of each project
//! and issue type, `GET issue/createmeta/{project}/issuetypes` and
//! `.../issuetypes/{id}` (Cloud: `startAt`/`maxResults`/`total` with
//! `issueTypes` or `fields`; Data Center: `values` and `isLast`; pages of
//! [`CREATEMETA_PAGE_SIZE`], 404 for an unknown project or type). Creates
//! and updates are checked against that screen as Jira checks them: a field
//! not on it ("Field 'customfield_10063' cannot be set. It is not on the
//! appropriate screen, or unknown."), a value of the wrong type, an option,
//! priority or component name the field does not allow, and a required
//! field missing are each a 400 naming the field. The default screens are
//! the real ones of OSW/Story and SUMMIT/Task ([`osw_story_screen`],
//! [`summit_task_screen`]); other pairs get [`basic_screen`]; tests set
//! their own with [`JiraFake::set_screen`] and [`JiraFake::add_screen_field`]. Searches understand `project = X`, `issuetype =
//! X`, `summary ~ "..."` (case-insensitive, stemmed, stop words ignored, so
//! near misses match too: a phrase matches any summary containing it) and
//! `ORDER BY created ASC|DESC`, `fixVersion = "..."` (400 for a version no
//! issue has, as Jira answers for an unknown version) and `key in (A, B)`
//! (400 for a key that does not exist). Pages are small ([`DEFAULT_PAGE_SIZE`]) so
//! paging is exercised. Faults are scripted per method and path with
//! [`JiraFake::fail_next`]; [`JiraFake::set_index_lag`] makes new issues
//! reach searches late, as Jira Cloud's eventually consistent search does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::http_fake::{FakeServer, Reply, Request};

/// The Jira Cloud user the Cloud fake accepts.
pub const USER: &str = "deploy-bot@example.org";
/// The Jira Cloud API token the Cloud fake accepts.
pub const TOKEN: &str = "ATATT-cloud-token-4f1d9e";
/// The Data Center personal access token the Data Center fake accepts.
pub const PAT: &str = "dc-pat-7b2c0a";
/// Issues per search page unless [`JiraFake::set_page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 2;
/// Issue types or fields per create-metadata page (small, so that paging is exercised).
pub const CREATEMETA_PAGE_SIZE: usize = 5;
/// The display name of the fake's user.
pub const DISPLAY_NAME: &str = "Deploy Bot";
/// Issue types of every project, with their ids.
pub const ISSUE_TYPES: [(&str, &str); 4] = [
    ("Story", "10001"),
    ("Task", "10002"),
    ("Bug", "10004"),
    ("Epic", "10000"),
];

/// A field of a create screen as `createmeta` describes it.
pub fn screen_field(id: &str, name: &str, schema: Value) -> Value {
    json!({
        "required": false,
        "schema": schema,
        "name": name,
        "fieldId": id,
        "key": id,
        "hasDefaultValue": false,
        "operations": ["set"],
    })
}

/// The same field, required.
pub fn required(mut field: Value) -> Value {
    field["required"] = json!(true);
    field
}

/// The same field with `allowedValues`: `{"value"}` entries for options,
/// `{"name"}` entries otherwise.
pub fn allowing(mut field: Value, values: &[&str]) -> Value {
    let key = if field["schema"]["type"] == "option" || field["schema"]["items"] == "option" {
        "value"
    } else {
        "name"
    };
    let allowed: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| json!({ "self": format!("https://jira.invalid/rest/api/3/x/{}", 10300 + i), "id": (10300 + i).to_string(), key: v }))
        .collect();
    field["allowedValues"] = Value::Array(allowed);
    field
}

fn system(kind: &str, name: &str) -> Value {
    json!({ "type": kind, "system": name })
}

fn custom(kind: &str, items: Option<&str>, custom: &str, id: u64) -> Value {
    let mut schema = json!({ "type": kind, "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{custom}"), "customId": id });
    if let Some(items) = items {
        schema["items"] = json!(items);
    }
    schema
}

fn custom_id(id: &str) -> u64 {
    id.trim_start_matches("customfield_").parse().unwrap_or(0)
}

/// A custom date field (`YYYY-MM-DD`).
pub fn date_field(id: &str, name: &str) -> Value {
    screen_field(id, name, custom("date", None, "datepicker", custom_id(id)))
}

/// A custom date-time field.
pub fn datetime_field(id: &str, name: &str) -> Value {
    screen_field(
        id,
        name,
        custom("datetime", None, "datetime", custom_id(id)),
    )
}

/// A custom single-select field allowing `values`.
pub fn option_field(id: &str, name: &str, values: &[&str]) -> Value {
    allowing(
        screen_field(id, name, custom("option", None, "select", custom_id(id))),
        values,
    )
}

/// A custom multi-select field allowing `values`.
pub fn options_field(id: &str, name: &str, values: &[&str]) -> Value {
    allowing(
        screen_field(
            id,
            name,
            custom("array", Some("option"), "multiselect", custom_id(id)),
        ),
        values,
    )
}

/// A custom multi-user picker.
pub fn users_field(id: &str, name: &str) -> Value {
    screen_field(
        id,
        name,
        custom("array", Some("user"), "multiuserpicker", custom_id(id)),
    )
}

/// A custom number field.
pub fn number_field(id: &str, name: &str) -> Value {
    screen_field(id, name, custom("number", None, "float", custom_id(id)))
}

/// The priority field allowing `names`.
pub fn priority_field(names: &[&str]) -> Value {
    allowing(
        screen_field("priority", "Priority", system("priority", "priority")),
        names,
    )
}

/// The components field allowing `names`.
pub fn components_field(names: &[&str]) -> Value {
    let schema = json!({ "type": "array", "items": "component", "system": "components" });
    allowing(screen_field("components", "Components", schema), names)
}

/// The system field `fixVersions` (any version of the project).
pub fn fix_versions_field() -> Value {
    let schema = json!({ "type": "array", "items": "version", "system": "fixVersions" });
    screen_field("fixVersions", "Fix versions", schema)
}

/// What every screen has: project, issue type, summary (required),
/// description, assignee, reporter (filled by Jira) and labels.
pub fn common_fields() -> Vec<Value> {
    let mut reporter = screen_field("reporter", "Reporter", system("user", "reporter"));
    reporter["hasDefaultValue"] = json!(true);
    vec![
        required(screen_field(
            "project",
            "Project",
            system("project", "project"),
        )),
        required(screen_field(
            "issuetype",
            "Issue Type",
            system("issuetype", "issuetype"),
        )),
        required(screen_field(
            "summary",
            "Summary",
            system("string", "summary"),
        )),
        screen_field(
            "description",
            "Description",
            system("string", "description"),
        ),
        screen_field("assignee", "Assignee", system("user", "assignee")),
        reporter,
        screen_field(
            "labels",
            "Labels",
            json!({ "type": "array", "items": "string", "system": "labels" }),
        ),
    ]
}

/// The create screen of OSW/Story, as Rubin's Jira has it: the common
/// fields, Jira's priorities, components, RubinTeam (`customfield_10056`,
/// an option field with "Deployment"), Start date (`customfield_10015`, a
/// date) and the due date.
pub fn osw_story_screen() -> Vec<Value> {
    let mut fields = common_fields();
    fields.extend([
        priority_field(&["Highest", "High", "Medium", "Low", "Lowest"]),
        components_field(&["Deployment", "Release Management", "Documentation"]),
        option_field(
            "customfield_10056",
            "RubinTeam",
            &["Deployment", "Build", "Software", "Operations"],
        ),
        date_field("customfield_10015", "Start date"),
        screen_field("duedate", "Due date", system("date", "duedate")),
    ]);
    fields
}

/// The create screen of SUMMIT/Task (the summit calendar), as Rubin's Jira
/// has it: the common fields, the SUMMIT priorities (`SUMMIT-1` …),
/// components AuxTel, ComCam, SIT-COM and Software Updates, Start date
/// (`customfield_10059`) and End date (`customfield_10061`), both dates,
/// participants (`customfield_10151`, users) and Discipline
/// (`customfield_10141`, a multi-select with "Software").
pub fn summit_task_screen() -> Vec<Value> {
    let mut fields = common_fields();
    fields.extend([
        priority_field(&["SUMMIT-1", "SUMMIT-2", "SUMMIT-3", "SUMMIT-4"]),
        components_field(&["AuxTel", "ComCam", "SIT-COM", "Software Updates"]),
        date_field("customfield_10059", "Start date"),
        date_field("customfield_10061", "End date"),
        users_field("customfield_10151", "Participants"),
        options_field(
            "customfield_10141",
            "Discipline",
            &[
                "Software",
                "Electrical",
                "Mechanical",
                "Optics",
                "Operations",
            ],
        ),
    ]);
    fields
}

/// The screen of every other project and issue type: the common fields,
/// Jira's priorities, components (any name) and the due date.
pub fn basic_screen() -> Vec<Value> {
    let mut fields = common_fields();
    fields.extend([
        priority_field(&["Highest", "High", "Medium", "Low", "Lowest"]),
        screen_field(
            "components",
            "Components",
            json!({ "type": "array", "items": "component", "system": "components" }),
        ),
        screen_field("duedate", "Due date", system("date", "duedate")),
    ]);
    fields
}

/// Which Jira the fake plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Jira Cloud (REST v2 and v3, enhanced search only, Basic auth).
    Cloud,
    /// Jira Data Center (REST v2 only, Bearer personal access token).
    DataCenter,
}

/// A scripted failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 with a Jira error body; nothing is done.
    ServerError,
    /// 429 with `Retry-After: <seconds>`; nothing is done.
    RateLimited {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// The request is carried out (an issue is created, updated...) and
    /// the connection closed without an answer: a lost response.
    DropResponse,
    /// Another run sends the same request just before this one (two
    /// release managers at once): it is carried out twice, the rival's
    /// first (an issue created twice gets two keys).
    Rival,
}

/// An issue held by the fake.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeIssue {
    /// Numeric id.
    pub id: u64,
    /// Key, e.g. `OSW-1`.
    pub key: String,
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Description as sent (ADF object from v3, text from v2), or null.
    pub description: Value,
    /// Labels.
    pub labels: Vec<String>,
    /// Component names.
    pub components: Vec<String>,
    /// Assignee as sent (`{"accountId"}` or `{"name"}`), or null.
    pub assignee: Value,
    /// Priority name.
    pub priority: Option<String>,
    /// Whether it is resolved (status Done, resolution Done).
    pub resolved: bool,
    /// Every other field (custom fields), as Jira would answer them.
    pub fields: Map<String, Value>,
}

struct Rule {
    method: String,
    path: String,
    remaining: usize,
    fault: Fault,
}

/// A Jira user the fake knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeUser {
    /// Cloud account id.
    pub account_id: String,
    /// Data Center user name.
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Email address.
    pub email: String,
}

/// The users every fake starts with: the release manager and the summit
/// deployment's participants named in the shipped sites.
pub fn default_users() -> Vec<FakeUser> {
    [
        (
            "5b10ac8d82e05b22cc7d4ef5",
            "mreuter",
            "Michael Reuter",
            "mreuter@lsst.org",
        ),
        (
            "5c2a1d3e4f5a6b7c8d9e0f11",
            "rbovill",
            "Rob Bovill",
            "rbovill@lsst.org",
        ),
        (
            "6a7b8c9d0e1f2a3b4c5d6e7f",
            "aibsen",
            "Andrés Ibsen",
            "aibsen@lsst.org",
        ),
        // Two accounts a search for "Michael" finds: ambiguity is an error.
        (
            "70121:0f7e6d5c-michael-r",
            "mroberts",
            "Michael Roberts",
            "mroberts@lsst.org",
        ),
    ]
    .map(|(account_id, name, display_name, email)| FakeUser {
        account_id: account_id.into(),
        name: name.into(),
        display_name: display_name.into(),
        email: email.into(),
    })
    .to_vec()
}

struct State {
    flavour: Flavour,
    users: Vec<FakeUser>,
    base: String,
    projects: Vec<String>,
    /// Project → its issue type names.
    project_types: BTreeMap<String, Vec<String>>,
    /// (project, issue type) → the create screen's fields as createmeta answers them.
    screens: BTreeMap<(String, String), Vec<Value>>,
    page_size: usize,
    issues: Vec<FakeIssue>,
    next_id: u64,
    rules: Vec<Rule>,
    index_lag: Duration,
    /// Issue id → when searches start to see it.
    indexed_at: HashMap<u64, Instant>,
    /// Added before every answer (see [`JiraFake::set_latency`]).
    latency: Duration,
    /// Every project's versions, as `GET project/{key}/versions` answers them.
    versions: Vec<Value>,
    /// The id of the next version or issue link.
    next_object_id: u64,
    /// Projects whose versions the user may not administer.
    not_admin: Vec<String>,
}

/// A running fake Jira; stops when dropped.
pub struct JiraFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

super::http_fake::serves_as_fake!(JiraFake);

impl JiraFake {
    /// A fake Jira Cloud with projects `OSW`, `DM` and `SUMMIT`, each with
    /// the issue types of [`ISSUE_TYPES`], and the default screens.
    pub fn start() -> Self {
        Self::with_flavour(Flavour::Cloud)
    }

    /// A fake Jira Data Center with projects `OSW`, `DM` and `SUMMIT`.
    pub fn start_data_center() -> Self {
        Self::with_flavour(Flavour::DataCenter)
    }

    fn with_flavour(flavour: Flavour) -> Self {
        let state = Arc::new(Mutex::new(State {
            flavour,
            users: default_users(),
            base: String::new(),
            projects: ["OSW", "DM", "SUMMIT", "CAP", "TPC"]
                .map(String::from)
                .to_vec(),
            project_types: ["OSW", "DM", "SUMMIT", "CAP", "TPC"]
                .map(|p| {
                    (
                        p.to_string(),
                        ISSUE_TYPES.map(|(t, _)| t.to_string()).to_vec(),
                    )
                })
                .into(),
            screens: [
                (("OSW".to_string(), "Story".to_string()), osw_story_screen()),
                (
                    ("SUMMIT".to_string(), "Task".to_string()),
                    summit_task_screen(),
                ),
            ]
            .into(),
            page_size: DEFAULT_PAGE_SIZE,
            issues: Vec::new(),
            next_id: 10001,
            rules: Vec::new(),
            index_lag: Duration::ZERO,
            indexed_at: HashMap::new(),
            latency: Duration::ZERO,
            versions: Vec::new(),
            next_object_id: 20001,
            not_admin: Vec::new(),
        }));
        let handler_state = state.clone();
        let server = FakeServer::start(move |req| {
            // Waited outside the state's lock, so requests overlap as on a
            // real server.
            let latency = handler_state.lock().unwrap().latency;
            if !latency.is_zero() {
                std::thread::sleep(latency);
            }
            handle(&handler_state, req)
        });
        state.lock().unwrap().base = server.url();
        Self { server, state }
    }

    /// Forgets the recorded requests (the issues stay).
    pub fn clear_requests(&self) {
        self.server.clear();
    }

    /// Every issue, in creation order.
    pub fn issues(&self) -> Vec<FakeIssue> {
        self.state.lock().unwrap().issues.clone()
    }

    /// The issue `key`, if any.
    pub fn issue(&self, key: &str) -> Option<FakeIssue> {
        self.issues().into_iter().find(|i| i.key == key)
    }

    /// Adds an unresolved issue the way the old scripts filed tickets: this
    /// summary, no labels, no components, a text description. Returns its key.
    pub fn add_issue(&self, project: &str, issue_type: &str, summary: &str) -> String {
        let mut state = self.state.lock().unwrap();
        let issue = FakeIssue {
            id: 0,
            key: String::new(),
            project: project.to_string(),
            issue_type: issue_type.to_string(),
            summary: summary.to_string(),
            description: json!("Filed by the old script."),
            labels: vec![],
            components: vec![],
            assignee: Value::Null,
            priority: None,
            resolved: false,
            fields: Map::new(),
        };
        state.insert(issue)
    }

    /// Resolves issue `key` (status Done, resolution Done).
    pub fn resolve(&self, key: &str) {
        self.edit(key, |i| i.resolved = true);
    }

    /// Reopens issue `key` (no resolution, status To Do).
    pub fn reopen(&self, key: &str) {
        self.edit(key, |i| i.resolved = false);
    }

    /// Sets field `id` of issue `key` as Jira would answer it.
    pub fn set_field(&self, key: &str, id: &str, value: Value) {
        self.edit(key, |i| {
            i.fields.insert(id.to_string(), value);
        });
    }

    fn edit(&self, key: &str, change: impl FnOnce(&mut FakeIssue)) {
        let mut state = self.state.lock().unwrap();
        let issue = state.issues.iter_mut().find(|i| i.key == key);
        change(issue.unwrap_or_else(|| panic!("no issue {key} in the fake")));
    }

    /// Issues per search page.
    pub fn set_page_size(&self, size: usize) {
        self.state.lock().unwrap().page_size = size.max(1);
    }

    /// Issues created through the API appear in searches only `lag` after
    /// their creation, as Jira Cloud's eventually consistent `search/jql`
    /// does (`GET issue/{key}` sees them at once).
    pub fn set_index_lag(&self, lag: Duration) {
        self.state.lock().unwrap().index_lag = lag;
    }

    /// Waits `latency` before acting on and answering each request (the
    /// request is recorded on arrival), as a distant server does.
    pub fn set_latency(&self, latency: Duration) {
        self.state.lock().unwrap().latency = latency;
    }

    /// Replaces the create screen of `project`/`issue_type` (fields as
    /// [`screen_field`] and its helpers build them). Values written to
    /// date-time fields are stored and answered in UTC
    /// (`2026-05-04T13:00:00.000+0000`), as Jira answers in the user's time
    /// zone rather than the one sent.
    pub fn set_screen(&self, project: &str, issue_type: &str, fields: Vec<Value>) {
        self.state
            .lock()
            .unwrap()
            .screens
            .insert((project.to_string(), issue_type.to_string()), fields);
    }

    /// Adds `field` to the screen of `project`/`issue_type` (replacing the
    /// field with its id, if any).
    pub fn add_screen_field(&self, project: &str, issue_type: &str, field: Value) {
        let mut state = self.state.lock().unwrap();
        let screen = state.screen_mut(project, issue_type);
        screen.retain(|f| f["fieldId"] != field["fieldId"]);
        screen.push(field);
    }

    /// Removes field `id` from the screen of `project`/`issue_type`.
    pub fn remove_screen_field(&self, project: &str, issue_type: &str, id: &str) {
        let mut state = self.state.lock().unwrap();
        state
            .screen_mut(project, issue_type)
            .retain(|f| f["fieldId"] != id);
    }

    /// The create screen of `project`/`issue_type`.
    pub fn screen(&self, project: &str, issue_type: &str) -> Vec<Value> {
        self.state.lock().unwrap().screen(project, issue_type)
    }

    /// Adds a project with every issue type of [`ISSUE_TYPES`].
    pub fn add_project(&self, key: &str) {
        let mut state = self.state.lock().unwrap();
        state.projects.push(key.to_string());
        state.project_types.insert(
            key.to_string(),
            ISSUE_TYPES.map(|(t, _)| t.to_string()).to_vec(),
        );
    }

    /// Adds version `name` to `project` (unreleased) and returns its id.
    pub fn add_version(&self, project: &str, name: &str, description: &str) -> String {
        let mut state = self.state.lock().unwrap();
        let project_id = state.project_id(project).expect("a known project");
        state.add_version(project_id, name, description)["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The versions of `project`, as Jira would list them.
    pub fn versions(&self, project: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        let id = state.project_id(project);
        state
            .versions
            .iter()
            .filter(|v| v["projectId"].as_u64() == id)
            .cloned()
            .collect()
    }

    /// Takes away (or gives back) the user's permission to administer
    /// `project`'s versions: `POST version` answers 403 without it.
    pub fn set_project_admin(&self, project: &str, admin: bool) {
        let mut state = self.state.lock().unwrap();
        state.not_admin.retain(|p| p != project);
        if !admin {
            state.not_admin.push(project.to_string());
        }
    }

    /// Leaves `issue_type` out of `project`.
    pub fn remove_issue_type(&self, project: &str, issue_type: &str) {
        let mut state = self.state.lock().unwrap();
        if let Some(types) = state.project_types.get_mut(project) {
            types.retain(|t| t != issue_type);
        }
    }

    /// The Cloud account id of the user named `name` (panics when unknown).
    pub fn account_id(&self, name: &str) -> String {
        let state = self.state.lock().unwrap();
        let user = state.users.iter().find(|u| u.name == name);
        user.expect("a known user").account_id.clone()
    }

    /// The next `times` requests `method path` (path without query, e.g.
    /// `/rest/api/3/issue`) fail with `fault`.
    pub fn fail_next(&self, method: &str, path: &str, times: usize, fault: Fault) {
        self.state.lock().unwrap().rules.push(Rule {
            method: method.to_string(),
            path: path.to_string(),
            remaining: times,
            fault,
        });
    }
}

impl State {
    /// The numeric id of project `key`: 10000 plus its place.
    fn project_id(&self, key: &str) -> Option<u64> {
        self.projects
            .iter()
            .position(|p| p == key)
            .map(|n| 10000 + n as u64)
    }

    fn add_version(&mut self, project_id: u64, name: &str, description: &str) -> Value {
        let id = self.next_object_id;
        self.next_object_id += 1;
        let version = json!({
            "self": format!("{}/rest/api/3/version/{id}", self.base),
            "id": id.to_string(),
            "name": name,
            "description": description,
            "archived": false,
            "released": false,
            "projectId": project_id,
        });
        self.versions.push(version.clone());
        version
    }

    fn insert(&mut self, mut issue: FakeIssue) -> String {
        let number = self
            .issues
            .iter()
            .filter(|i| i.project == issue.project)
            .count()
            + 1;
        issue.id = self.next_id;
        issue.key = format!("{}-{number}", issue.project);
        self.next_id += 1;
        let key = issue.key.clone();
        self.issues.push(issue);
        key
    }

    /// The screen of `project`/`issue_type`: the one set, else [`basic_screen`].
    fn screen(&self, project: &str, issue_type: &str) -> Vec<Value> {
        self.screens
            .iter()
            .find(|((p, t), _)| p == project && t.eq_ignore_ascii_case(issue_type))
            .map(|(_, fields)| fields.clone())
            .unwrap_or_else(basic_screen)
    }

    fn screen_mut(&mut self, project: &str, issue_type: &str) -> &mut Vec<Value> {
        let current = self.screen(project, issue_type);
        self.screens
            .retain(|(p, t), _| !(p == project && t.eq_ignore_ascii_case(issue_type)));
        self.screens
            .entry((project.to_string(), issue_type.to_string()))
            .or_insert(current)
    }

    /// The issue type called `name` (ignoring case) of `project`, with its id.
    fn issue_type(&self, project: &str, name: &str) -> Option<(String, String)> {
        let types = self.project_types.get(project)?;
        let name = types.iter().find(|t| t.eq_ignore_ascii_case(name))?;
        let id = ISSUE_TYPES
            .iter()
            .find(|(t, _)| t == name)
            .map_or("10099", |(_, id)| id);
        Some((name.clone(), id.to_string()))
    }

    /// The fault scripted for this request, if any (used up by one).
    fn fault(&mut self, req: &Request) -> Option<Fault> {
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.method == req.method && r.path == req.path)?;
        rule.remaining -= 1;
        Some(rule.fault.clone())
    }
}

fn jira_error(status: u16, messages: &[&str], errors: Value) -> Reply {
    Reply::json(
        status,
        json!({ "errorMessages": messages, "errors": errors }),
    )
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut state = state.lock().unwrap();
    if !authorised(&state, req) {
        return Reply::Respond {
            status: 401,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: "Client must be authenticated to access this resource.".into(),
        };
    }
    let fault = state.fault(req);
    match fault {
        Some(Fault::ServerError) => {
            return jira_error(500, &["Internal server error"], json!({}));
        }
        Some(Fault::RateLimited { retry_after_secs }) => {
            return jira_error(429, &["Rate limit exceeded."], json!({}))
                .header("retry-after", &retry_after_secs.to_string());
        }
        Some(Fault::Rival) => {
            let _ = route(&mut state, req);
        }
        Some(Fault::DropResponse) | None => {}
    }
    let reply = route(&mut state, req);
    if fault == Some(Fault::DropResponse) {
        Reply::Drop
    } else {
        reply
    }
}

fn authorised(state: &State, req: &Request) -> bool {
    let expected = match state.flavour {
        Flavour::Cloud => format!("Basic {}", base64(&format!("{USER}:{TOKEN}"))),
        Flavour::DataCenter => format!("Bearer {PAT}"),
    };
    req.header("authorization") == Some(expected.as_str())
}

fn route(state: &mut State, req: &Request) -> Reply {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let version = match parts.as_slice() {
        ["rest", "api", v @ ("2" | "3"), ..] => *v,
        _ => return not_found(),
    };
    if version == "3" && state.flavour == Flavour::DataCenter {
        return not_found();
    }
    let v3 = version == "3";
    if req.is_write()
        && req.method != "DELETE"
        && !req
            .header("content-type")
            .is_some_and(|c| c.contains("application/json"))
    {
        return Reply::empty(415);
    }
    match (req.method.as_str(), &parts[3..]) {
        ("GET", ["myself"]) => myself(state, v3),
        ("GET", ["issue", "createmeta", project, "issuetypes"]) => {
            createmeta_types(state, req, project, v3)
        }
        ("GET", ["issue", "createmeta", project, "issuetypes", id]) => {
            createmeta_fields(state, req, project, id, v3)
        }
        ("GET", ["search", "jql"]) if v3 => search(state, req, true),
        ("GET", ["search"]) if !v3 && state.flavour == Flavour::DataCenter => {
            search(state, req, false)
        }
        ("GET", ["search"]) => jira_error(
            410,
            &[
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
               A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
            ],
            json!({}),
        ),
        ("POST", ["issue"]) => create(state, req, v3),
        ("GET", ["issue", key]) => match state.issues.iter().find(|i| i.key == *key) {
            Some(issue) => {
                let wanted: Option<Vec<String>> = req
                    .param("fields")
                    .map(|f| f.split(',').map(|f| f.trim().to_string()).collect());
                Reply::json(200, render(state, issue, v3, wanted.as_deref()))
            }
            None => issue_missing(),
        },
        ("PUT", ["issue", key]) => update(state, req, key, v3),
        ("GET", ["issue", key, "transitions"]) => transitions(state, req, key),
        ("POST", ["issue", key, "transitions"]) => transition(state, req, key, v3),
        ("POST", ["issueLink"]) => link(state, req),
        ("DELETE", ["issueLink", id]) => unlink(state, id),
        ("GET", ["project", key]) => project(state, key),
        ("GET", ["mypermissions"]) => my_permissions(state, req),
        ("GET", ["project", key, "versions"]) => project_versions(state, key),
        ("POST", ["version"]) => create_version(state, req),
        ("GET", ["user", "search"]) => user_search(state, req, v3),
        _ => not_found(),
    }
}

fn not_found() -> Reply {
    Reply::Respond {
        status: 404,
        headers: vec![("content-type".into(), "text/html".into())],
        body: "<html><body>Oops, you've found a dead link.</body></html>".into(),
    }
}

fn issue_missing() -> Reply {
    jira_error(
        404,
        &["Issue does not exist or you do not have permission to see it."],
        json!({}),
    )
}

// ---- users ----

/// `GET user/search`: Cloud takes `query` (a prefix of the display name's
/// words or of the email address), Data Center `username` (a prefix of the
/// user name, display name or email). Neither given is a 400.
fn user_search(state: &State, req: &Request, v3: bool) -> Reply {
    let parameter = if v3 { "query" } else { "username" };
    let Some(query) = req.param(parameter).filter(|q| !q.trim().is_empty()) else {
        return jira_error(
            400,
            &[format!("The '{parameter}' query parameter is required.").as_str()],
            json!({}),
        );
    };
    let query = query.to_lowercase();
    let found: Vec<Value> = state
        .users
        .iter()
        .filter(|u| {
            let words = u.display_name.to_lowercase();
            words.split(' ').any(|w| w.starts_with(&query))
                || u.email.to_lowercase().starts_with(&query)
                || (!v3 && u.name.to_lowercase().starts_with(&query))
        })
        .map(|u| {
            if v3 {
                json!({
                    "self": format!("{}/rest/api/3/user?accountId={}", state.base, u.account_id),
                    "accountId": u.account_id,
                    "accountType": "atlassian",
                    "emailAddress": u.email,
                    "displayName": u.display_name,
                    "active": true,
                })
            } else {
                json!({
                    "self": format!("{}/rest/api/2/user?username={}", state.base, u.name),
                    "key": format!("JIRAUSER{}", u.name.len()),
                    "name": u.name,
                    "emailAddress": u.email,
                    "displayName": u.display_name,
                    "active": true,
                })
            }
        })
        .collect();
    Reply::json(200, Value::Array(found))
}

// ---- myself and create metadata ----

fn myself(state: &State, v3: bool) -> Reply {
    let base = &state.base;
    if state.flavour == Flavour::Cloud {
        let api = if v3 { "3" } else { "2" };
        Reply::json(
            200,
            json!({
                "self": format!("{base}/rest/api/{api}/user?accountId=557058:fake-deploy-bot"),
                "accountId": "557058:fake-deploy-bot",
                "accountType": "atlassian",
                "emailAddress": USER,
                "displayName": DISPLAY_NAME,
                "active": true,
                "timeZone": "America/Santiago",
                "locale": "en_US",
            }),
        )
    } else {
        Reply::json(
            200,
            json!({
                "self": format!("{base}/rest/api/2/user?username=deploy-bot"),
                "key": "JIRAUSER10100",
                "name": "deploy-bot",
                "emailAddress": USER,
                "displayName": DISPLAY_NAME,
                "active": true,
                "timeZone": "America/Phoenix",
            }),
        )
    }
}

/// One page of a create-metadata list, shaped as the flavour answers it.
fn createmeta_page(state: &State, req: &Request, items: Vec<Value>, list: &str) -> Reply {
    let start: usize = req
        .param("startAt")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let max = req
        .param("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, CREATEMETA_PAGE_SIZE);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(max).collect();
    match state.flavour {
        Flavour::Cloud => Reply::json(
            200,
            json!({ "maxResults": max, "startAt": start, "total": total, list: page }),
        ),
        Flavour::DataCenter => Reply::json(
            200,
            json!({
                "maxResults": max, "startAt": start, "total": total,
                "isLast": start + page.len() >= total, "values": page,
            }),
        ),
    }
}

fn no_project(project: &str) -> Reply {
    jira_error(
        404,
        &[format!("No project could be found with key '{project}'.").as_str()],
        json!({}),
    )
}

fn createmeta_types(state: &State, req: &Request, project: &str, v3: bool) -> Reply {
    let Some(types) = state
        .project_types
        .get(project)
        .filter(|_| state.projects.iter().any(|p| p == project))
    else {
        return no_project(project);
    };
    let api = if v3 { "3" } else { "2" };
    let items: Vec<Value> = types
        .iter()
        .filter_map(|t| state.issue_type(project, t))
        .map(|(name, id)| {
            json!({
                "self": format!("{}/rest/api/{api}/issuetype/{id}", state.base),
                "id": id,
                "name": name,
                "description": format!("A {name}."),
                "iconUrl": format!("{}/images/icons/issuetypes/{}.svg", state.base, name.to_lowercase()),
                "subtask": false,
            })
        })
        .collect();
    createmeta_page(state, req, items, "issueTypes")
}

fn createmeta_fields(state: &State, req: &Request, project: &str, id: &str, _v3: bool) -> Reply {
    if !state.projects.iter().any(|p| p == project) {
        return no_project(project);
    }
    let Some(name) = state
        .project_types
        .get(project)
        .into_iter()
        .flatten()
        .filter_map(|t| state.issue_type(project, t))
        .find(|(_, tid)| tid == id)
        .map(|(name, _)| name)
    else {
        return jira_error(
            404,
            &[
                format!("Issue type with id '{id}' does not exist in project '{project}'.")
                    .as_str(),
            ],
            json!({}),
        );
    };
    createmeta_page(state, req, state.screen(project, &name), "fields")
}

// ---- search ----

fn search(state: &State, req: &Request, v3: bool) -> Reply {
    let jql = req.param("jql").unwrap_or_default();
    let query = match parse_jql(&jql) {
        Ok(query) => query,
        Err(message) => return jira_error(400, &[message.as_str()], json!({})),
    };
    if let Some(project) = &query.project
        && !state
            .projects
            .iter()
            .any(|p| p.eq_ignore_ascii_case(project))
    {
        return jira_error(
            400,
            &[format!("The value '{project}' does not exist for the field 'project'.").as_str()],
            json!({}),
        );
    }
    if let Some(version) = &query.fix_version
        && !state
            .issues
            .iter()
            .any(|i| fix_versions(i).contains(version))
    {
        return jira_error(
            400,
            &[
                format!("The value '{version}' does not exist for the field 'fixVersion'.")
                    .as_str(),
            ],
            json!({}),
        );
    }
    if let Some(keys) = &query.keys
        && let Some(unknown) = keys
            .iter()
            .find(|k| !state.issues.iter().any(|i| &i.key == *k))
    {
        return jira_error(
            400,
            &[format!("An issue with key '{unknown}' does not exist for field 'key'.").as_str()],
            json!({}),
        );
    }
    let now = Instant::now();
    let indexed = |i: &FakeIssue| state.indexed_at.get(&i.id).is_none_or(|at| *at <= now);
    let mut hits: Vec<&FakeIssue> = state
        .issues
        .iter()
        .filter(|i| indexed(i) && query.matches(i))
        .collect();
    if query.descending {
        hits.reverse();
    }
    let fields = req.param("fields");
    let wanted: Option<Vec<String>> = match fields.as_deref() {
        None if v3 => Some(vec![]),
        None | Some("*all" | "*navigable") => None,
        Some(list) => Some(list.split(',').map(|f| f.trim().to_string()).collect()),
    };
    let max = req
        .param("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(50)
        .min(state.page_size);
    let start = if v3 {
        match req.param("nextPageToken") {
            None => 0,
            Some(token) => match token.strip_prefix("page-at-").and_then(|n| n.parse().ok()) {
                Some(start) => start,
                None => return jira_error(400, &["Invalid nextPageToken."], json!({})),
            },
        }
    } else {
        req.param("startAt")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let page: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(max)
        .map(|i| render(state, i, v3, wanted.as_deref()))
        .collect();
    if v3 {
        let end = start + page.len();
        let mut body = json!({ "issues": page, "isLast": end >= hits.len() });
        if end < hits.len() {
            body["nextPageToken"] = json!(format!("page-at-{end}"));
        }
        Reply::json(200, body)
    } else {
        Reply::json(
            200,
            json!({
                "expand": "schema,names",
                "startAt": start,
                "maxResults": max,
                "total": hits.len(),
                "issues": page,
            }),
        )
    }
}

/// An issue as Jira answers it, with only `wanted` fields (all when None).
fn render(state: &State, issue: &FakeIssue, v3: bool, wanted: Option<&[String]>) -> Value {
    let base = &state.base;
    let api = if v3 { "3" } else { "2" };
    let self_link = format!("{base}/rest/api/{api}/issue/{}", issue.id);
    if wanted.is_some_and(<[String]>::is_empty) {
        return json!({ "id": issue.id.to_string() });
    }
    let (status, category, resolution) = if issue.resolved {
        ("Done", "done", json!({ "id": "10000", "name": "Done" }))
    } else {
        ("To Do", "new", Value::Null)
    };
    let mut fields = Map::new();
    fields.insert("summary".into(), json!(issue.summary));
    fields.insert(
        "issuetype".into(),
        json!({ "id": "10001", "name": issue.issue_type, "subtask": false }),
    );
    fields.insert("project".into(), json!({ "key": issue.project }));
    fields.insert(
        "status".into(),
        json!({ "name": status, "statusCategory": { "key": category } }),
    );
    fields.insert("resolution".into(), resolution);
    fields.insert("labels".into(), json!(issue.labels));
    let components: Vec<Value> = issue
        .components
        .iter()
        .enumerate()
        .map(|(n, c)| json!({ "id": (10100 + n).to_string(), "name": c }))
        .collect();
    fields.insert("components".into(), Value::Array(components));
    fields.insert("assignee".into(), issue.assignee.clone());
    fields.insert(
        "priority".into(),
        issue
            .priority
            .as_ref()
            .map_or(Value::Null, |p| json!({ "name": p })),
    );
    fields.insert("description".into(), issue.description.clone());
    fields.insert(
        "created".into(),
        json!(format!("2026-01-01T00:00:{:02}.000+0000", issue.id % 60)),
    );
    for (id, value) in &issue.fields {
        fields.insert(id.clone(), value.clone());
    }
    if let Some(wanted) = wanted {
        fields.retain(|id, _| wanted.iter().any(|w| w == id));
    }
    json!({ "id": issue.id.to_string(), "key": issue.key, "self": self_link, "fields": fields })
}

struct Query {
    project: Option<String>,
    issue_type: Option<String>,
    fix_version: Option<String>,
    keys: Option<Vec<String>>,
    text: Option<Text>,
    descending: bool,
}

/// A `summary ~` value: a quoted phrase or loose words.
enum Text {
    Phrase(Vec<String>),
    Words(Vec<String>),
}

impl Query {
    fn matches(&self, issue: &FakeIssue) -> bool {
        let eq = |want: &Option<String>, have: &str| {
            want.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(have))
        };
        if !eq(&self.project, &issue.project) || !eq(&self.issue_type, &issue.issue_type) {
            return false;
        }
        if let Some(keys) = &self.keys
            && !keys.contains(&issue.key)
        {
            return false;
        }
        if let Some(version) = &self.fix_version
            && !fix_versions(issue).contains(version)
        {
            return false;
        }
        let terms = terms(&issue.summary);
        match &self.text {
            None => true,
            Some(Text::Words(words)) => words.iter().all(|w| terms.contains(w)),
            Some(Text::Phrase(phrase)) => {
                phrase.is_empty() || terms.windows(phrase.len()).any(|w| w == phrase.as_slice())
            }
        }
    }
}

/// The names of an issue's `fixVersions` field.
fn fix_versions(issue: &FakeIssue) -> Vec<String> {
    issue
        .fields
        .get("fixVersions")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|f| f["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const STOP_WORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

/// Lower-cased, stemmed words without stop words: what the text index holds.
fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

fn stem(word: &str) -> String {
    for suffix in ["ing", "ed", "s"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.len() >= 3
            && !stem.ends_with('s')
        {
            return stem.to_string();
        }
    }
    word.to_string()
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
}

fn tokens(jql: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = jql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\\') => s.push(
                        chars
                            .next()
                            .ok_or("Error in the JQL Query: unfinished escape")?,
                    ),
                    Some('"') => break,
                    Some(c) => s.push(c),
                    None => return Err("Error in the JQL Query: unterminated string".into()),
                }
            }
            out.push(Token::Str(s));
        } else if matches!(c, '=' | '~' | '(' | ')' | ',') {
            chars.next();
            out.push(Token::Word(c.to_string()));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || matches!(c, '"' | '=' | '~' | '(' | ')' | ',') {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(Token::Word(w));
        }
    }
    Ok(out)
}

fn parse_jql(jql: &str) -> Result<Query, String> {
    let tokens = tokens(jql)?;
    let mut query = Query {
        project: None,
        issue_type: None,
        fix_version: None,
        keys: None,
        text: None,
        descending: false,
    };
    let word = |t: Option<&Token>| match t {
        Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
        _ => None,
    };
    let value = |t: Option<&Token>| match t {
        Some(Token::Word(w) | Token::Str(w)) => Some(w.clone()),
        None => None,
    };
    let mut i = 0;
    loop {
        let field = word(tokens.get(i)).ok_or("Error in the JQL Query: expected a field")?;
        if field == "order" {
            break;
        }
        let op = word(tokens.get(i + 1)).ok_or("Error in the JQL Query: expected an operator")?;
        if field == "key" && op == "in" {
            if word(tokens.get(i + 2)).as_deref() != Some("(") {
                return Err("Error in the JQL Query: expected '(' after IN".into());
            }
            let mut keys = Vec::new();
            i += 3;
            loop {
                match value(tokens.get(i)) {
                    Some(v) if v == ")" => break,
                    Some(v) if v == "," => {}
                    Some(v) => keys.push(v.to_ascii_uppercase()),
                    None => return Err("Error in the JQL Query: unterminated list".into()),
                }
                i += 1;
            }
            query.keys = Some(keys);
            i += 1;
            match word(tokens.get(i)).as_deref() {
                None => return Ok(query),
                Some("and") => {
                    i += 1;
                    continue;
                }
                Some("order") => break,
                Some(other) => {
                    return Err(format!(
                        "Error in the JQL Query: expected AND or ORDER BY, found '{other}'."
                    ));
                }
            }
        }
        let val = value(tokens.get(i + 2)).ok_or("Error in the JQL Query: expected a value")?;
        match (field.as_str(), op.as_str()) {
            ("project", "=") => query.project = Some(val),
            ("issuetype" | "type", "=") => query.issue_type = Some(val),
            ("fixversion", "=") => query.fix_version = Some(val),
            ("summary", "~") => {
                query.text = Some(
                    match val.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                        Some(phrase) => {
                            Text::Phrase(terms(&phrase.replace("\\\"", "\"").replace("\\\\", "\\")))
                        }
                        None => Text::Words(terms(&val)),
                    },
                )
            }
            (f @ ("project" | "issuetype" | "type" | "summary"), op) => {
                return Err(format!(
                    "Error in the JQL Query: the operator '{op}' is not supported by the '{f}' field."
                ));
            }
            (f, _) => {
                return Err(format!(
                    "Field '{f}' does not exist or you do not have permission to view it."
                ));
            }
        }
        i += 3;
        match word(tokens.get(i)).as_deref() {
            None => return Ok(query),
            Some("and") => i += 1,
            Some("order") => break,
            Some(other) => {
                return Err(format!(
                    "Error in the JQL Query: expected AND or ORDER BY, found '{other}'."
                ));
            }
        }
    }
    if word(tokens.get(i + 1)).as_deref() != Some("by")
        || word(tokens.get(i + 2)).as_deref() != Some("created")
    {
        return Err("Error in the JQL Query: the fake orders by created only.".into());
    }
    query.descending = match word(tokens.get(i + 3)).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(format!("Error in the JQL Query: unexpected '{other}'.")),
    };
    Ok(query)
}

// ---- create and update ----

fn create(state: &mut State, req: &Request, v3: bool) -> Reply {
    let body = req.json();
    let Some(fields) = body.get("fields").and_then(Value::as_object) else {
        return jira_error(400, &["No fields were given for the issue."], json!({}));
    };
    let mut errors = Map::new();
    let project = fields
        .get("project")
        .and_then(|p| p.get("key"))
        .and_then(Value::as_str)
        .filter(|p| state.projects.iter().any(|k| k == p));
    if project.is_none() {
        errors.insert("project".into(), json!("Specify a valid project ID or key"));
    }
    let issue_type = fields
        .get("issuetype")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .and_then(|t| state.issue_type(project.unwrap_or_default(), t))
        .map(|(name, _)| name);
    if issue_type.is_none() {
        errors.insert("issuetype".into(), json!("Specify an issue type"));
    }
    let summary = fields
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if summary.trim().is_empty() {
        errors.insert(
            "summary".into(),
            json!("You must specify a summary of the issue."),
        );
    }
    let mut issue = FakeIssue {
        id: 0,
        key: String::new(),
        project: project.unwrap_or_default().to_string(),
        issue_type: issue_type.clone().unwrap_or_default(),
        summary: summary.to_string(),
        description: Value::Null,
        labels: vec![],
        components: vec![],
        assignee: Value::Null,
        priority: None,
        resolved: false,
        fields: Map::new(),
    };
    let screen = issue_type.as_ref().map(|t| state.screen(&issue.project, t));
    for (id, value) in fields {
        let result = match &screen {
            Some(screen) => on_screen(screen, id, value, v3),
            None => Ok(None),
        }
        .and_then(|meta| apply(state, &mut issue, id, value, v3, meta));
        if let Err(message) = result {
            errors.insert(id.clone(), json!(message));
        }
    }
    for field in screen.iter().flatten() {
        let id = field["fieldId"].as_str().unwrap_or_default();
        if field["required"] == true
            && field["hasDefaultValue"] != true
            && !fields.contains_key(id)
            && !errors.contains_key(id)
        {
            let name = field["name"].as_str().unwrap_or(id);
            errors.insert(id.to_string(), json!(format!("{name} is required.")));
        }
    }
    if !errors.is_empty() {
        return jira_error(400, &[], Value::Object(errors));
    }
    let key = state.insert(issue);
    let lag = state.index_lag;
    state
        .indexed_at
        .insert(state.next_id - 1, Instant::now() + lag);
    let id = state.next_id - 1;
    let api = if v3 { "3" } else { "2" };
    Reply::json(
        201,
        json!({ "id": id.to_string(), "key": key, "self": format!("{}/rest/api/{api}/issue/{id}", state.base) }),
    )
}

fn update(state: &mut State, req: &Request, key: &str, v3: bool) -> Reply {
    let body = req.json();
    let Some(fields) = body.get("fields").and_then(Value::as_object) else {
        return jira_error(400, &["No fields were given for the update."], json!({}));
    };
    let Some(index) = state.issues.iter().position(|i| i.key == key) else {
        return issue_missing();
    };
    let mut issue = state.issues[index].clone();
    let screen = state.screen(&issue.project, &issue.issue_type);
    let mut errors = Map::new();
    for (id, value) in fields {
        let result = match id.as_str() {
            "project" | "issuetype" => Err(format!("Field '{id}' cannot be set in an edit.")),
            "summary" => match value.as_str() {
                Some(s) if !s.trim().is_empty() => {
                    issue.summary = s.to_string();
                    Ok(())
                }
                _ => Err("You must specify a summary of the issue.".to_string()),
            },
            // Jira checks an edit against the edit screen; the fake's is the create screen.
            _ => on_screen(&screen, id, value, v3)
                .and_then(|meta| apply(state, &mut issue, id, value, v3, meta)),
        };
        if let Err(message) = result {
            errors.insert(id.clone(), json!(message));
        }
    }
    if !errors.is_empty() {
        return jira_error(400, &[], Value::Object(errors));
    }
    state.issues[index] = issue;
    Reply::empty(204)
}

/// The field `id` of `screen`, when `value` fits it as Jira checks it: on
/// the screen, of the field's type, an allowed option, priority or
/// component. Jira's message otherwise.
fn on_screen<'a>(
    screen: &'a [Value],
    id: &str,
    value: &Value,
    v3: bool,
) -> Result<Option<&'a Value>, String> {
    let Some(meta) = screen.iter().find(|f| f["fieldId"] == id) else {
        return Err(format!(
            "Field '{id}' cannot be set. It is not on the appropriate screen, or unknown."
        ));
    };
    let name = meta["name"].as_str().unwrap_or(id);
    let kind = meta["schema"]["type"].as_str().unwrap_or_default();
    let items = meta["schema"]["items"].as_str().unwrap_or_default();
    let allowed = |key: &str, wanted: &Value| match meta["allowedValues"].as_array() {
        None => true,
        Some(values) => values.iter().any(|v| {
            (v.get(key).is_some() && v.get(key) == wanted.get(key))
                || (v.get("id").is_some() && v.get("id") == wanted.get("id"))
        }),
    };
    let one = |kind: &str, v: &Value| -> Result<(), String> {
        match kind {
            "string" => {
                let is_doc = v3 && v.get("type") == Some(&json!("doc"));
                if v.is_string() || is_doc {
                    Ok(())
                } else {
                    Err("Operation value must be a string".into())
                }
            }
            "number" => v
                .is_number()
                .then_some(())
                .ok_or_else(|| "Operation value must be a number".into()),
            "date" => {
                let text = v.as_str().unwrap_or_default();
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(drop)
                    .map_err(|_| {
                        format!(
                            "Error parsing date string: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_string)
                        )
                    })
            }
            "datetime" => {
                let text = v.as_str().unwrap_or_default();
                chrono::DateTime::parse_from_rfc3339(text)
                    .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
                    .map(drop)
                    .map_err(|_| {
                        format!("Invalid date format: {text}. Use yyyy-MM-dd'T'HH:mm:ss.SSSZ.")
                    })
            }
            "option" => {
                let value = v
                    .get("value")
                    .or_else(|| v.get("id"))
                    .and_then(Value::as_str);
                match value {
                    None => Err(format!("Specify a valid 'id' or 'value' for {name}")),
                    Some(value) if !allowed("value", v) => {
                        Err(format!("Option value '{value}' is not valid"))
                    }
                    Some(_) => Ok(()),
                }
            }
            "priority" => {
                let known = v
                    .get("name")
                    .or_else(|| v.get("id"))
                    .and_then(Value::as_str)
                    .is_some();
                if known && allowed("name", v) {
                    Ok(())
                } else {
                    Err(format!("Specify a valid 'id' or 'name' for {name}"))
                }
            }
            "component" => match v
                .get("name")
                .or_else(|| v.get("id"))
                .and_then(Value::as_str)
            {
                None => Err("Component name is required.".into()),
                Some(c) if !allowed("name", v) => Err(format!("Component name '{c}' is not valid")),
                Some(_) => Ok(()),
            },
            "version" => match v
                .get("id")
                .or_else(|| v.get("name"))
                .and_then(Value::as_str)
            {
                None => Err(format!("Specify a valid 'id' or 'name' for {name}")),
                Some(version) if !allowed("name", v) => {
                    Err(format!("Version id '{version}' is not valid"))
                }
                Some(_) => Ok(()),
            },
            "user" => {
                let key = if v3 { "accountId" } else { "name" };
                let by_id = v3 && v.get("id").and_then(Value::as_str).is_some();
                if v.get(key).and_then(Value::as_str).is_some() || by_id {
                    Ok(())
                } else {
                    Err(format!(
                        "Specify a valid value for {name}: a user by '{key}'."
                    ))
                }
            }
            _ => Ok(()),
        }
    };
    if kind == "array" {
        let Some(values) = value.as_array() else {
            return Err(format!("Field '{id}' must be a list ({name})."));
        };
        for v in values {
            one(items, v)?;
        }
    } else {
        one(kind, value)?;
    }
    Ok(Some(meta))
}

/// Sets one field as Jira stores it (`meta`: its screen's description,
/// when known); project, type and summary are handled by the callers.
fn apply(
    state: &State,
    issue: &mut FakeIssue,
    id: &str,
    value: &Value,
    v3: bool,
    meta: Option<&Value>,
) -> Result<(), String> {
    match id {
        "project" | "issuetype" | "summary" => Ok(()),
        "description" => {
            let ok = if v3 {
                value.get("type") == Some(&json!("doc")) && value.get("version") == Some(&json!(1))
            } else {
                value.is_string()
            };
            if !ok {
                return Err(if v3 {
                    "Operation value must be an Atlassian Document (see the Atlassian Document Format)".into()
                } else {
                    "Operation value must be a string".into()
                });
            }
            issue.description = value.clone();
            Ok(())
        }
        "labels" => {
            let labels: Option<Vec<String>> = value
                .as_array()
                .and_then(|a| a.iter().map(|l| l.as_str().map(str::to_string)).collect());
            match labels {
                Some(labels) if labels.iter().all(|l| !l.contains(' ')) => {
                    issue.labels = labels;
                    Ok(())
                }
                _ => Err("The label must be a string without spaces.".into()),
            }
        }
        "components" => {
            let names: Option<Vec<String>> = value.as_array().and_then(|a| {
                a.iter()
                    .map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            });
            issue.components = names.ok_or("Component name is required.")?;
            Ok(())
        }
        "assignee" => {
            let key = if v3 { "accountId" } else { "name" };
            let Some(who) = value.get(key).and_then(Value::as_str) else {
                return Err(format!("Specify the assignee by '{key}'."));
            };
            if !state
                .users
                .iter()
                .any(|u| (if v3 { &u.account_id } else { &u.name }) == who)
            {
                return Err(format!("User '{who}' does not exist."));
            }
            issue.assignee = value.clone();
            Ok(())
        }
        "fixVersions" => {
            // Each item names a version of the issue's project, by id or
            // name; Jira answers with the whole version.
            let project_id = state.project_id(&issue.project);
            let mut stored = Vec::new();
            for wanted in value.as_array().into_iter().flatten() {
                let found = state.versions.iter().find(|v| {
                    v["projectId"].as_u64() == project_id
                        && ((wanted.get("id").is_some() && v["id"] == wanted["id"])
                            || (wanted.get("name").is_some() && v["name"] == wanted["name"]))
                });
                match found {
                    Some(version) => stored.push(version.clone()),
                    None => return Err(format!("Version {wanted} is not valid")),
                }
            }
            issue
                .fields
                .insert("fixVersions".into(), Value::Array(stored));
            Ok(())
        }
        "priority" => {
            issue.priority = Some(
                value
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("Specify the priority by name.")?
                    .to_string(),
            );
            Ok(())
        }
        "duedate" => {
            issue.fields.insert(id.to_string(), value.clone());
            Ok(())
        }
        custom if custom.starts_with("customfield_") => {
            let is_datetime = meta.is_some_and(|m| m["schema"]["type"] == "datetime");
            let stored = if is_datetime {
                let text = value.as_str().unwrap_or_default();
                let at = chrono::DateTime::parse_from_rfc3339(text)
                    .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
                    .map_err(|_| {
                        format!("Invalid date format: {text}. Use yyyy-MM-dd'T'HH:mm:ss.SSSZ.")
                    })?;
                json!(
                    at.with_timezone(&chrono::Utc)
                        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
                        .to_string()
                )
            } else if let Some(option) = value.as_object().filter(|o| o.contains_key("value")) {
                // Option fields answer with their id and URL besides the value.
                let mut option = option.clone();
                option.insert("id".into(), json!("10300"));
                option.insert(
                    "self".into(),
                    json!(format!("{}/rest/api/2/customFieldOption/10300", state.base)),
                );
                Value::Object(option)
            } else {
                value.clone()
            };
            issue.fields.insert(custom.to_string(), stored);
            Ok(())
        }
        other => Err(format!(
            "Field '{other}' cannot be set. It is not on the appropriate screen, or unknown."
        )),
    }
}

/// Standard base64 (for the expected Basic credentials).
fn base64(text: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The resolutions the fake's "Done" transition screen allows.
const RESOLUTIONS: [&str; 3] = ["Done", "Duplicate", "Won't Do"];

/// The workflow's transitions from an issue's status: To Do, In Progress
/// and Done (whose screen asks for the resolution) from an open issue,
/// Reopen from a resolved one.
fn workflow(issue: &FakeIssue, fields: bool) -> Vec<Value> {
    let step = |id: &str, name: &str, to: &str, category: &str| {
        json!({
            "id": id, "name": name, "hasScreen": false,
            "to": { "name": to, "statusCategory": { "key": category } },
        })
    };
    if issue.resolved {
        return vec![step("41", "Reopen", "To Do", "new")];
    }
    let mut done = step("31", "Done", "Done", "done");
    if fields {
        let allowed: Vec<Value> = RESOLUTIONS.iter().map(|r| json!({ "name": r })).collect();
        done["fields"] = json!({
            "resolution": { "required": true, "name": "Resolution", "allowedValues": allowed }
        });
    }
    vec![
        step("11", "To Do", "To Do", "new"),
        step("21", "In Progress", "In Progress", "indeterminate"),
        done,
    ]
}

/// `GET issue/{key}/transitions` (`expand=transitions.fields` adds the screens' fields).
fn transitions(state: &State, req: &Request, key: &str) -> Reply {
    let Some(issue) = state.issues.iter().find(|i| i.key == key) else {
        return issue_missing();
    };
    let fields = req
        .param("expand")
        .is_some_and(|e| e.contains("transitions.fields"));
    Reply::json(200, json!({ "transitions": workflow(issue, fields) }))
}

/// `POST issue/{key}/transitions`: refuses a transition the issue's status
/// does not offer, and Done without an allowed resolution; a comment in
/// `update.comment[].add.body` is added.
fn transition(state: &mut State, req: &Request, key: &str, v3: bool) -> Reply {
    let body = req.json();
    let Some(issue) = state.issues.iter_mut().find(|i| i.key == key) else {
        return issue_missing();
    };
    let id = match &body["transition"]["id"] {
        Value::String(id) => id.clone(),
        Value::Number(n) => n.to_string(),
        _ => return jira_error(400, &["Missing 'transition' identifier"], json!({})),
    };
    if !workflow(issue, false).iter().any(|t| t["id"] == json!(id)) {
        return jira_error(
            400,
            &[&format!(
                "Transition id '{id}' is not valid for this issue."
            )],
            json!({}),
        );
    }
    let comments: Vec<Value> = body["update"]["comment"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.pointer("/add/body").cloned())
        .collect();
    if comments.iter().any(|c| c.is_string() == v3) {
        return jira_error(
            400,
            &[],
            json!({ "comment": "Comment body is not valid for this API version." }),
        );
    }
    match id.as_str() {
        "31" => {
            let Some(resolution) = body["fields"]["resolution"]["name"].as_str() else {
                return jira_error(400, &[], json!({ "resolution": "Resolution is required." }));
            };
            if !RESOLUTIONS.contains(&resolution) {
                return jira_error(
                    400,
                    &[],
                    json!({ "resolution": format!("Resolution '{resolution}' is not valid.") }),
                );
            }
            issue.resolved = true;
            issue.fields.insert(
                "resolution".into(),
                json!({ "id": "10001", "name": resolution }),
            );
        }
        "41" => {
            issue.resolved = false;
            issue.fields.remove("resolution");
        }
        _ => {}
    }
    let list = issue
        .fields
        .entry("comment".to_string())
        .or_insert_with(|| json!({ "comments": [] }));
    for comment in comments {
        list["comments"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "body": comment }));
    }
    Reply::empty(204)
}

/// `POST issueLink`: the type by name (Duplicate, Blocks, Relates), both
/// issues must exist; the same link again is accepted and not repeated.
fn link(state: &mut State, req: &Request) -> Reply {
    let body = req.json();
    let kind = body["type"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (outward_word, inward_word) = match kind.as_str() {
        "Duplicate" => ("duplicates", "is duplicated by"),
        "Blocks" => ("blocks", "is blocked by"),
        "Relates" => ("relates to", "relates to"),
        _ => {
            return jira_error(
                404,
                &[&format!("No issue link type with name '{kind}' found.")],
                json!({}),
            );
        }
    };
    let key = |side: &str| body[side]["key"].as_str().unwrap_or_default().to_string();
    let (from, to) = (key("outwardIssue"), key("inwardIssue"));
    for k in [&from, &to] {
        if !state.issues.iter().any(|i| i.key == *k) {
            return jira_error(404, &[&format!("Issue Does Not Exist: {k}")], json!({}));
        }
    }
    // Jira accepts a link again: an existing one keeps its id.
    let existing = state
        .issues
        .iter()
        .find(|i| i.key == from)
        .and_then(|i| i.fields.get("issuelinks"))
        .and_then(Value::as_array)
        .and_then(|links| {
            links
                .iter()
                .find(|l| l["type"]["name"] == json!(kind) && l["outwardIssue"]["key"] == json!(to))
        })
        .map(|l| l["id"].clone());
    if existing.is_some() {
        return Reply::empty(201);
    }
    let id = state.next_object_id.to_string();
    state.next_object_id += 1;
    let mut add = |on: &str, mut entry: Value| {
        entry["id"] = json!(id);
        let issue = state.issues.iter_mut().find(|i| i.key == on).unwrap();
        let links = issue
            .fields
            .entry("issuelinks".to_string())
            .or_insert_with(|| json!([]));
        links.as_array_mut().unwrap().push(entry);
    };
    let kind_json = json!({ "name": kind, "outward": outward_word, "inward": inward_word });
    // As `GET issue` shows links: on the "from" issue the other one is the
    // outward issue ("from duplicates to"), and the reverse on the other.
    add(
        &from,
        json!({ "type": kind_json, "outwardIssue": { "key": to } }),
    );
    add(
        &to,
        json!({ "type": kind_json, "inwardIssue": { "key": from } }),
    );
    Reply::empty(201)
}

/// `DELETE issueLink/{id}`: removes the link from both issues (204), or
/// 404 when no issue has it.
fn unlink(state: &mut State, id: &str) -> Reply {
    let mut found = false;
    for issue in &mut state.issues {
        if let Some(Value::Array(links)) = issue.fields.get_mut("issuelinks") {
            let before = links.len();
            links.retain(|l| l["id"] != json!(id));
            found |= links.len() != before;
        }
    }
    if found {
        Reply::empty(204)
    } else {
        jira_error(
            404,
            &[&format!("No issue link with id '{id}' exists.")],
            json!({}),
        )
    }
}

/// `GET mypermissions?projectKey=&permissions=`: whether the user holds
/// each permission named (Cloud requires `permissions`: 400 without it); a
/// project it does not know is 404. The fake's user holds every permission
/// except `ADMINISTER_PROJECTS` in the projects [`JiraFake::set_project_admin`]
/// took it away from.
fn my_permissions(state: &State, req: &Request) -> Reply {
    let Some(permissions) = req.param("permissions").filter(|p| !p.trim().is_empty()) else {
        return jira_error(
            400,
            &["The 'permissions' query parameter is required."],
            json!({}),
        );
    };
    let project = req.param("projectKey").unwrap_or_default();
    if !project.is_empty() && !state.projects.contains(&project) {
        return no_such_project(&project);
    }
    let mut answer = serde_json::Map::new();
    for permission in permissions.split(',').map(str::trim) {
        let have = !(permission == "ADMINISTER_PROJECTS" && state.not_admin.contains(&project));
        answer.insert(
            permission.to_string(),
            json!({ "key": permission, "havePermission": have }),
        );
    }
    Reply::json(200, json!({ "permissions": answer }))
}

fn no_such_project(key: &str) -> Reply {
    jira_error(
        404,
        &[&format!("No project could be found with key '{key}'.")],
        json!({}),
    )
}

/// `GET project/{key}`: the project's id, key and name.
fn project(state: &State, key: &str) -> Reply {
    match state.project_id(key) {
        Some(id) => Reply::json(
            200,
            json!({ "id": id.to_string(), "key": key, "name": format!("Project {key}") }),
        ),
        None => no_such_project(key),
    }
}

/// `GET project/{key}/versions`: a plain JSON array (not paged).
fn project_versions(state: &State, key: &str) -> Reply {
    match state.project_id(key) {
        Some(id) => Reply::json(
            200,
            Value::Array(
                state
                    .versions
                    .iter()
                    .filter(|v| v["projectId"].as_u64() == Some(id))
                    .cloned()
                    .collect(),
            ),
        ),
        None => no_such_project(key),
    }
}

/// `POST version`: 201 with the version; 400 for a missing or taken name
/// (`errors.name`) or no project; 404 for an unknown project id; 403
/// without the permission to administer the project.
fn create_version(state: &mut State, req: &Request) -> Reply {
    let body = req.json();
    let name = body["name"].as_str().unwrap_or_default().trim().to_string();
    let project_id = match (&body["projectId"], body["project"].as_str()) {
        (Value::Number(n), _) => n.as_u64(),
        (Value::String(n), _) => n.parse().ok(),
        (_, Some(key)) => state.project_id(key),
        _ => {
            return jira_error(
                400,
                &[],
                json!({ "project": "Project must be specified to create a version." }),
            );
        }
    };
    let Some(key) = project_id
        .and_then(|id| id.checked_sub(10000))
        .and_then(|n| state.projects.get(n as usize))
        .cloned()
    else {
        return jira_error(404, &["Project not found."], json!({}));
    };
    if state.not_admin.contains(&key) {
        return jira_error(
            403,
            &["You do not have permission to edit the versions of this project."],
            json!({}),
        );
    }
    if name.is_empty() {
        return jira_error(
            400,
            &[],
            json!({ "name": "You must specify a valid version name" }),
        );
    }
    let project_id = project_id.unwrap_or_default();
    let taken = state
        .versions
        .iter()
        .any(|v| v["projectId"].as_u64() == Some(project_id) && v["name"] == json!(name));
    if taken {
        return jira_error(
            400,
            &[],
            json!({ "name": "A version with this name already exists in this project." }),
        );
    }
    let description = body["description"].as_str().unwrap_or_default().to_string();
    let version = state.add_version(project_id, &name, &description);
    Reply::json(201, version)
}
