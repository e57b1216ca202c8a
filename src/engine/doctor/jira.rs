//! Jira's checks: the credentials (`myself`), then for each ticket step the
//! project, the issue type and every field the create request would carry,
//! against the create screen Jira describes
//! (`createmeta/{project}/issuetypes/{id}`): on the screen, a value of the
//! field's type, an allowed option, priority or component; and every
//! required field without a default sent.
//!
//! [`gather`] reads (each project's issue types and each screen once,
//! concurrently); [`evaluate`] judges ([`Facts`] in, findings out; pure).
//! A check of each request is one function of [`REQUEST_CHECKS`] over a
//! [`Screen`]: a further check (the assignee and participants resolving to
//! users) is one more function there, and the facts it needs one more map
//! of [`Facts`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Credentials, Finding, Service, Status, TicketNeed};
use crate::engine::tickets::Tickets;
use crate::plan::{StepId, VersionRequest};
use crate::services::jira::{
    self, ApiVersion, CurrentUser, FieldMeta, IssueTypeMeta, JiraApi, JiraError,
};

/// Project and issue type fields: set by the request's project and type.
const CONTEXT_FIELDS: [&str; 2] = ["project", "issuetype"];
/// Most allowed values named in a fix.
const MAX_LISTED: usize = 20;
/// What to set when Jira is not configured or refuses the credentials.
const CREDENTIALS_FIX: &str = "set JIRA_URL, and JIRA_USER + JIRA_API_TOKEN (Jira Cloud) or JIRA_PAT (Data Center), to valid credentials";
/// The credentials the checks need first.
const CREDENTIALS: Credentials = Credentials {
    service: Service::Jira,
    fix: CREDENTIALS_FIX,
};

/// An answer that may be "no such thing" (`None`), or an error's text.
pub type Answer<T> = Result<Option<T>, String>;

/// What Jira answered, for [`evaluate`]. Errors are kept as their text.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The REST version spoken (how users and descriptions are sent).
    pub api: ApiVersion,
    /// `myself`.
    pub myself: Result<CurrentUser, String>,
    /// Project key → its issue types (`None`: no such project).
    pub issue_types: BTreeMap<String, Answer<Vec<IssueTypeMeta>>>,
    /// (project, issue type id) → the create screen's fields.
    pub screens: BTreeMap<(String, String), Answer<Vec<FieldMeta>>>,
    /// Each user a site names (assignee, user fields) as written → the
    /// reference a ticket sends (account id or user name), or why not.
    pub users: BTreeMap<String, Result<String, String>>,
}

/// Checks the credentials and every ticket step of `needs`.
pub async fn check(
    tickets: &Tickets,
    needs: &[TicketNeed],
    versions: &[(StepId, VersionRequest)],
    missing: Status,
) -> Vec<Finding> {
    let needed = !needs.is_empty() || !versions.is_empty();
    let (api, config) = match CREDENTIALS.client(needed, || tickets.configured(), missing) {
        Ok(client) => client,
        Err(findings) => return findings,
    };
    let mut facts = gather(api.as_ref(), config.api(), needs).await;
    if facts.myself.is_ok() {
        // Through the run's cache: the apply later asks for the same users.
        let names: BTreeSet<&str> = needs.iter().flat_map(|n| users_of(&n.request)).collect();
        let found = futures::future::join_all(names.into_iter().map(|name| async move {
            let found = tickets.user(name).await.map_err(|e| format!("{e:#}"));
            (name.to_string(), found)
        }))
        .await;
        facts.users = found.into_iter().collect();
    }
    let mut findings = evaluate(&facts, needs);
    if facts.myself.is_ok() {
        findings.extend(version_findings(api.as_ref(), versions).await);
    }
    findings
}

/// The permission creating a version needs.
const VERSION_PERMISSION: &str = "ADMINISTER_PROJECTS";

/// For each version the plan would create: the project exists and the user
/// may create versions in it (`ADMINISTER_PROJECTS`), each project asked
/// once.
async fn version_findings(
    api: &dyn JiraApi,
    versions: &[(StepId, VersionRequest)],
) -> Vec<Finding> {
    let projects: BTreeSet<&str> = versions.iter().map(|(_, v)| v.project.as_str()).collect();
    let answers: BTreeMap<&str, Result<Option<bool>, String>> =
        futures::future::join_all(projects.into_iter().map(|project| async move {
            let answer = api
                .has_permission(project, VERSION_PERMISSION)
                .await
                .map_err(text);
            (project, answer)
        }))
        .await
        .into_iter()
        .collect();
    versions
        .iter()
        .map(|(step, version)| {
            let check = format!("{step}: {} versions", version.project);
            match &answers[version.project.as_str()] {
                Ok(Some(true)) => Finding::ok(
                    Service::Jira,
                    None,
                    check,
                    format!("may create version \"{}\"", version.name),
                ),
                Ok(Some(false)) => Finding::fail(
                    Service::Jira,
                    None,
                    check,
                    format!(
                        "this user may not create versions in {} (no {VERSION_PERMISSION})",
                        version.project
                    ),
                    format!(
                        "ask a Jira administrator for the Administer Projects permission in {}, \
                         or have someone who holds it create \"{}\"",
                        version.project, version.name
                    ),
                ),
                Ok(None) => Finding::fail(
                    Service::Jira,
                    None,
                    check,
                    format!("Jira knows no project {}", version.project),
                    "check cap_release.project in the release manifest",
                ),
                Err(e) => unreadable(None, check, e),
            }
        })
        .collect()
}

/// Reads what [`evaluate`] needs: `myself`, then the issue types of each
/// project and the screen of each (project, issue type), each once and
/// concurrently. Nothing more is read when the credentials fail.
pub async fn gather(api: &dyn JiraApi, version: ApiVersion, needs: &[TicketNeed]) -> Facts {
    let mut facts = Facts {
        api: version,
        myself: api.myself().await.map_err(|e| e.to_string()),
        issue_types: BTreeMap::new(),
        screens: BTreeMap::new(),
        users: BTreeMap::new(),
    };
    if facts.myself.is_err() {
        return facts;
    }
    let projects: BTreeSet<&str> = needs.iter().map(|n| n.request.project.as_str()).collect();
    let types = futures::future::join_all(projects.into_iter().map(|project| async move {
        let types = api.createmeta_issue_types(project).await.map_err(text);
        (project.to_string(), types)
    }))
    .await;
    facts.issue_types = types.into_iter().collect();
    let screens: BTreeSet<(String, String)> = needs
        .iter()
        .filter_map(|n| {
            let id = issue_type(&facts, &n.request.project, &n.request.issue_type)?
                .id
                .clone();
            Some((n.request.project.clone(), id))
        })
        .collect();
    let read = futures::future::join_all(screens.into_iter().map(|(project, id)| async move {
        let fields = api.createmeta_fields(&project, &id).await.map_err(text);
        ((project, id), fields)
    }))
    .await;
    facts.screens = read.into_iter().collect();
    facts
}

/// The users a request names: its assignee, then each user field's users.
fn users_of(request: &crate::plan::TicketRequest) -> impl Iterator<Item = &str> {
    request
        .assignee
        .iter()
        .chain(request.users.values().flatten())
        .map(String::as_str)
}

/// How a ticket's user field names a resolved user.
fn user_value(reference: &str, api: ApiVersion) -> Value {
    match api {
        ApiVersion::V3 => serde_json::json!({ "accountId": reference }),
        ApiVersion::V2 => serde_json::json!({ "name": reference }),
    }
}

/// Whether each user the request names resolves to one Jira user.
fn user_findings(facts: &Facts, need: &TicketNeed) -> Vec<Finding> {
    let site = Some(need.site.as_str());
    let mut seen = BTreeSet::new();
    users_of(&need.request)
        .filter(|name| seen.insert(*name))
        .filter_map(|name| {
            let check = format!("{}: user {name}", need.step.local());
            Some(match facts.users.get(name)? {
                Ok(reference) => Finding::ok(Service::Jira, site, check, format!("resolves to {reference}")),
                Err(e) => Finding::fail(
                    Service::Jira,
                    site,
                    check,
                    e.clone(),
                    format!(
                        "name the person in sites/{}.yaml by their Jira login, email address or exact display name",
                        need.site
                    ),
                ),
            })
        })
        .collect()
}

fn text(e: JiraError) -> String {
    e.to_string()
}

/// The issue type named `name` (ignoring case) of `project`, when known.
fn issue_type<'a>(facts: &'a Facts, project: &str, name: &str) -> Option<&'a IssueTypeMeta> {
    match facts.issue_types.get(project) {
        Some(Ok(Some(types))) => types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name.trim())),
        _ => None,
    }
}

/// One ticket step's create screen, for the checks of [`REQUEST_CHECKS`].
pub struct Screen<'a> {
    /// The step.
    pub need: &'a TicketNeed,
    /// The screen's fields.
    pub fields: &'a [FieldMeta],
    /// The create request's fields as they would be sent (field id →
    /// value), project and issue type left out.
    pub sent: serde_json::Map<String, Value>,
    /// The REST version.
    pub api: ApiVersion,
}

impl Screen<'_> {
    /// `PROJECT/Type`.
    fn context(&self) -> String {
        format!(
            "{}/{}",
            self.need.request.project, self.need.request.issue_type
        )
    }

    /// The check's name: the step, the screen and the field.
    fn check(&self, field: &str, meta: Option<&FieldMeta>) -> String {
        let name = meta
            .filter(|m| !m.name.is_empty() && !m.name.eq_ignore_ascii_case(field))
            .map(|m| format!(" ({})", m.name))
            .unwrap_or_default();
        format!(
            "{}: {} field {field}{name}",
            self.need.step.local(),
            self.context()
        )
    }

    fn finding(
        &self,
        status: Status,
        check: String,
        found: String,
        fix: Option<String>,
    ) -> Finding {
        Finding::new(
            Service::Jira,
            Some(&self.need.site),
            check,
            status,
            found,
            fix,
        )
    }
}

/// A check of one ticket step's request against its create screen.
pub type RequestCheck = fn(&Screen<'_>) -> Vec<Finding>;

/// The checks of each ticket step once its screen is known.
pub const REQUEST_CHECKS: [RequestCheck; 2] = [sent_fields, required_fields];

/// Judges the facts: the credentials, then each step's project, issue type
/// and [`REQUEST_CHECKS`]. Pure.
pub fn evaluate(facts: &Facts, needs: &[TicketNeed]) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &facts.myself {
        Ok(user) => {
            let who = match &user.email {
                Some(email) => format!("{} ({email})", user.display_name),
                None => format!("{} ({})", user.display_name, user.account),
            };
            findings.push(if user.active {
                Finding::ok(
                    Service::Jira,
                    None,
                    "credentials",
                    format!("logged in as {who}"),
                )
            } else {
                Finding::fail(
                    Service::Jira,
                    None,
                    "credentials",
                    format!("{who} is deactivated"),
                    "use the credentials of an active Jira account",
                )
            });
        }
        Err(e) => {
            findings.push(Finding::fail(
                Service::Jira,
                None,
                "credentials",
                e.clone(),
                CREDENTIALS_FIX,
            ));
            for need in needs {
                findings.push(Finding::skipped(
                    Service::Jira,
                    Some(&need.site),
                    format!(
                        "{}: {}/{}",
                        need.step.local(),
                        need.request.project,
                        need.request.issue_type
                    ),
                    "not checked: the credentials failed",
                ));
            }
            return findings;
        }
    }
    for need in needs {
        findings.extend(evaluate_need(facts, need));
    }
    findings
}

fn evaluate_need(facts: &Facts, need: &TicketNeed) -> Vec<Finding> {
    let request = &need.request;
    let site = Some(need.site.as_str());
    let step = need.step.local();
    let project = &request.project;
    let mut findings = Vec::new();
    let project_check = format!("{step}: project {project}");
    let types = match facts.issue_types.get(project) {
        Some(Ok(Some(types))) => {
            findings.push(Finding::ok(Service::Jira, site, project_check, "exists"));
            types
        }
        Some(Ok(None)) => {
            findings.push(Finding::fail(
                Service::Jira,
                site,
                project_check,
                format!("Jira knows no project {project}, or the user may not create issues in it"),
                format!(
                    "fix the project of the {} ticket in the site file (a project key, e.g. OSW), or ask a \
                     Jira admin for the Create issues permission in {project}",
                    need.step
                ),
            ));
            return findings;
        }
        Some(Err(e)) => {
            findings.push(unreadable(site, project_check, e));
            return findings;
        }
        None => return findings,
    };
    let type_check = format!("{step}: issue type {project}/{}", request.issue_type);
    let Some(found) = issue_type(facts, project, &request.issue_type) else {
        let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        findings.push(Finding::fail(
            Service::Jira,
            site,
            type_check,
            format!("{project} has no issue type `{}`", request.issue_type),
            format!(
                "set the issue type of the {} ticket in the site file to one of {project}'s: {}",
                need.step,
                names.join(", ")
            ),
        ));
        return findings;
    };
    findings.push(Finding::ok(
        Service::Jira,
        site,
        type_check,
        format!("id {}", found.id),
    ));
    let fields = match facts.screens.get(&(project.clone(), found.id.clone())) {
        Some(Ok(Some(fields))) => fields,
        Some(Ok(None)) => {
            findings.push(Finding::fail(
                Service::Jira,
                site,
                format!("{step}: create screen of {project}/{}", request.issue_type),
                "Jira describes no create screen for it".to_string(),
                format!("ask a Jira admin to check the screen scheme of {project}"),
            ));
            return findings;
        }
        Some(Err(e)) => {
            findings.push(unreadable(
                site,
                format!("{step}: create screen of {project}/{}", request.issue_type),
                e,
            ));
            return findings;
        }
        None => return findings,
    };
    findings.extend(user_findings(facts, need));
    // The users as the apply sends them, once resolved; an unresolved one
    // is its own finding above.
    let mut spec = request.clone();
    spec.users.clear();
    spec.assignee = request
        .assignee
        .as_ref()
        .and_then(|a| facts.users.get(a)?.as_ref().ok().cloned());
    for (id, users) in &request.users {
        let refs: Option<Vec<Value>> = users
            .iter()
            .map(|u| Some(user_value(facts.users.get(u)?.as_ref().ok()?, facts.api)))
            .collect();
        if let Some(refs) = refs {
            spec.fields.insert(id.clone(), Value::Array(refs));
        }
    }
    let body = jira::create_body(&spec, facts.api);
    let mut sent = body["fields"].as_object().cloned().unwrap_or_default();
    sent.retain(|id, _| !CONTEXT_FIELDS.contains(&id.as_str()));
    let screen = Screen {
        need,
        fields,
        sent,
        api: facts.api,
    };
    for check in REQUEST_CHECKS {
        findings.extend(check(&screen));
    }
    findings
}

fn unreadable(site: Option<&str>, check: String, error: &str) -> Finding {
    Finding::fail(
        Service::Jira,
        site,
        check,
        error.to_string(),
        "check JIRA_URL and that Jira answers, then run again",
    )
}

/// Every field the request sends: on the screen, of the field's type, and
/// an allowed value.
fn sent_fields(screen: &Screen<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (id, value) in &screen.sent {
        let Some(meta) = screen.fields.iter().find(|f| f.id == *id) else {
            let listed: Vec<String> = screen
                .fields
                .iter()
                .filter(|f| !CONTEXT_FIELDS.contains(&f.id.as_str()))
                .map(|f| {
                    if f.name.is_empty() || f.name == f.id {
                        f.id.clone()
                    } else {
                        format!("{} ({})", f.id, f.name)
                    }
                })
                .collect();
            findings.push(screen.finding(
                Status::Fail,
                screen.check(id, None),
                format!("not on the create screen of {} (Jira refuses the field)", screen.context()),
                Some(format!(
                    "{id} is not on the create screen of {}: fields there are {}; use one of them in the \
                     site file, or ask a Jira admin to add {id} to the screen",
                    screen.context(),
                    listed.join(", ")
                )),
            ));
            continue;
        };
        let check = screen.check(id, Some(meta));
        findings.push(match judge_value(meta, value, screen.api) {
            Ok(found) => screen.finding(Status::Ok, check, found, None),
            Err(problem) => screen.finding(Status::Fail, check, problem.found, Some(problem.fix)),
        });
    }
    findings
}

/// Every required field without a default is sent.
fn required_fields(screen: &Screen<'_>) -> Vec<Finding> {
    screen
        .fields
        .iter()
        .filter(|f| {
            f.required
                && !f.has_default_value
                && !CONTEXT_FIELDS.contains(&f.id.as_str())
                && !screen.sent.contains_key(&f.id)
        })
        .map(|f| {
            screen.finding(
                Status::Fail,
                screen.check(&f.id, Some(f)),
                format!("required on the create screen of {}, and not sent", screen.context()),
                Some(format!(
                    "set {} in the {} ticket's settings of the site file, or ask a Jira admin to make it optional",
                    f.id, screen.need.step
                )),
            )
        })
        .collect()
}

/// Why a value does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub found: String,
    /// What to do.
    pub fix: String,
}

/// Whether `value` fits the field `meta` describes: its type and allowed
/// values. The sentence for the finding either way.
pub fn judge_value(meta: &FieldMeta, value: &Value, api: ApiVersion) -> Result<String, Problem> {
    let kind = meta.schema.kind.as_str();
    let items = meta.schema.items.as_deref().unwrap_or("");
    let wrong = || Problem {
        found: format!(
            "{} takes {}; the site sends {}",
            describe(meta),
            expected(kind, items, api),
            shown(value)
        ),
        fix: format!(
            "send {} for {} in the site file, or point the setting at a field of the right type",
            expected(kind, items, api),
            meta.id
        ),
    };
    match kind {
        "array" => {
            let Some(values) = value.as_array() else {
                return Err(wrong());
            };
            let mut names = Vec::new();
            for item in values {
                names.push(judge_item(meta, items, item, api).ok_or_else(wrong)??);
            }
            Ok(format!("{} of {}", describe(meta), list_or_none(&names)))
        }
        _ => Ok(format!(
            "{}: {}",
            describe(meta),
            judge_item(meta, kind, value, api).ok_or_else(wrong)??
        )),
    }
}

/// One value of type `kind`: `None` when it is not of that type, else its
/// name or the allowed-value problem.
fn judge_item(
    meta: &FieldMeta,
    kind: &str,
    value: &Value,
    api: ApiVersion,
) -> Option<Result<String, Problem>> {
    let text = value.as_str();
    let ok = |shown: String| Some(Ok(shown));
    match kind {
        "string" => match value {
            Value::String(s) => ok(format!("`{}`", short(s))),
            // Jira Cloud takes rich text (the description) as a document.
            Value::Object(o)
                if api == ApiVersion::V3 && o.get("type") == Some(&Value::from("doc")) =>
            {
                ok("a document".to_string())
            }
            _ => None,
        },
        "number" => value.is_number().then(|| Ok(value.to_string())),
        "date" => {
            let s = text?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            ok(format!("`{s}`"))
        }
        "datetime" => {
            let s = text?;
            let parsed = chrono::DateTime::parse_from_rfc3339(s)
                .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"));
            parsed.ok()?;
            ok(format!("`{s}`"))
        }
        "option" => {
            let name = value.get("value").or_else(|| value.get("id"))?.as_str()?;
            Some(allowed(meta, "option", name, &["value", "id"]))
        }
        "priority" | "component" | "version" | "resolution" => {
            let name = value.get("name").or_else(|| value.get("id"))?.as_str()?;
            Some(allowed(meta, kind, name, &["name", "id"]))
        }
        "user" => {
            let keys: &[&str] = match api {
                ApiVersion::V3 => &["accountId", "id"],
                ApiVersion::V2 => &["name", "key", "accountId", "id"],
            };
            let id = keys.iter().find_map(|k| value.get(*k)?.as_str())?;
            ok(format!("user `{id}`"))
        }
        // A type this check does not know: Jira decides.
        _ => ok(format!("{} (type {kind} not checked)", shown(value))),
    }
}

/// Whether `name` is among the field's allowed values (compared with each
/// of `keys` of them); fine when Jira lists none.
fn allowed(meta: &FieldMeta, what: &str, name: &str, keys: &[&str]) -> Result<String, Problem> {
    let Some(values) = &meta.allowed_values else {
        return Ok(format!("`{name}`"));
    };
    let is = |v: &Value| {
        keys.iter()
            .any(|k| v.get(*k).and_then(Value::as_str) == Some(name))
    };
    if values.iter().any(is) {
        return Ok(format!("`{name}`"));
    }
    let names: Vec<&str> = values
        .iter()
        .filter_map(|v| keys.iter().find_map(|k| v.get(*k)?.as_str()))
        .collect();
    let mut listed: Vec<&str> = names.iter().take(MAX_LISTED).copied().collect();
    if names.len() > MAX_LISTED {
        listed.push("…");
    }
    Err(Problem {
        found: format!("{what} `{name}` is not allowed in {}", describe(meta)),
        fix: format!(
            "{what} `{name}` is not allowed; allowed: {}",
            if listed.is_empty() {
                "none".to_string()
            } else {
                listed.join(", ")
            }
        ),
    })
}

/// `priority (Priority)`, `customfield_10059 (Start date, a date field)`.
fn describe(meta: &FieldMeta) -> String {
    let kind = match (meta.schema.kind.as_str(), meta.schema.items.as_deref()) {
        ("array", Some(items)) => format!("a list of {items} values"),
        (kind, _) => format!("{} {kind} field", article(kind)),
    };
    if meta.name.is_empty() {
        format!("{} ({kind})", meta.id)
    } else {
        format!("{} ({kind})", meta.name)
    }
}

/// `a` or `an` before `word`, by its sound: `an option`, `a user`, `a
/// unique`, `an hour`... the vowel letters that sound as a consonant
/// (`u` as "you", `eu`, `one`) take `a`.
fn article(word: &str) -> &'static str {
    let w = word.to_ascii_lowercase();
    let you = ["user", "uni", "use", "usu", "uti", "eu", "one", "once"];
    if you.iter().any(|p| w.starts_with(p)) {
        "a"
    } else if w.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// What a field of type `kind` (`items` for arrays) takes.
fn expected(kind: &str, items: &str, api: ApiVersion) -> String {
    let one = |kind: &str| match kind {
        "string" => "a text".to_string(),
        "number" => "a number".to_string(),
        "date" => "a date \"YYYY-MM-DD\"".to_string(),
        "datetime" => "a date-time \"YYYY-MM-DDThh:mm:ss.sss±hhmm\"".to_string(),
        "option" => "{\"value\": …}".to_string(),
        "priority" | "component" | "version" | "resolution" => "{\"name\": …}".to_string(),
        "user" => match api {
            ApiVersion::V3 => "{\"accountId\": …}".to_string(),
            ApiVersion::V2 => "{\"name\": …}".to_string(),
        },
        other => format!("{} {other}", article(other)),
    };
    if kind == "array" {
        format!("a list of {}", one(items))
    } else {
        one(kind)
    }
}

fn shown(value: &Value) -> String {
    short(&value.to_string())
}

fn short(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_follow_the_sound() {
        assert_eq!(article("user"), "a");
        assert_eq!(article("option"), "an");
        assert_eq!(article("array"), "an");
        assert_eq!(article("string"), "a");
    }
    use serde_json::json;

    fn field(id: &str, name: &str, schema: Value, allowed: Option<Value>) -> FieldMeta {
        serde_json::from_value(json!({
            "fieldId": id, "name": name, "required": false, "schema": schema,
            "allowedValues": allowed,
        }))
        .unwrap()
    }

    fn need(project: &str, issue_type: &str) -> TicketNeed {
        TicketNeed {
            site: "summit".into(),
            step: StepId::Calendar {
                site: "summit".into(),
            },
            request: crate::plan::TicketRequest {
                project: project.into(),
                issue_type: issue_type.into(),
                summary: "Control System Cycle 44 Upgrade".into(),
                description: String::new(),
                labels: vec!["SoftwareRelease".into()],
                components: vec![],
                fields: BTreeMap::new(),
                users: BTreeMap::new(),
                assignee: None,
                priority: Some("SUMMIT-1".into()),
                kept_in_sync: vec![],
            },
        }
    }

    use crate::plan::StepId;

    fn screen() -> Vec<FieldMeta> {
        vec![
            field(
                "summary",
                "Summary",
                json!({"type": "string", "system": "summary"}),
                None,
            ),
            field(
                "issuetype",
                "Issue Type",
                json!({"type": "issuetype"}),
                None,
            ),
            field(
                "labels",
                "Labels",
                json!({"type": "array", "items": "string"}),
                None,
            ),
            field(
                "priority",
                "Priority",
                json!({"type": "priority", "system": "priority"}),
                Some(json!([{"name": "SUMMIT-1", "id": "1"}, {"name": "SUMMIT-2", "id": "2"}])),
            ),
            field(
                "customfield_10059",
                "Start date",
                json!({"type": "date", "custom": "datepicker"}),
                None,
            ),
            field(
                "customfield_10141",
                "Discipline",
                json!({"type": "array", "items": "option"}),
                Some(json!([{"value": "Software", "id": "1"}, {"value": "Optics", "id": "2"}])),
            ),
            field(
                "customfield_10151",
                "Participants",
                json!({"type": "array", "items": "user"}),
                None,
            ),
        ]
    }

    fn facts(fields: Vec<FieldMeta>) -> Facts {
        Facts {
            api: ApiVersion::V3,
            myself: Ok(CurrentUser {
                display_name: "Deploy Bot".into(),
                account: "557058:1".into(),
                email: Some("bot@example.org".into()),
                active: true,
            }),
            issue_types: [(
                "SUMMIT".to_string(),
                Ok(Some(vec![IssueTypeMeta {
                    id: "10002".into(),
                    name: "Task".into(),
                }])),
            )]
            .into(),
            screens: [(
                ("SUMMIT".to_string(), "10002".to_string()),
                Ok(Some(fields)),
            )]
            .into(),
            users: [
                ("mreuter".to_string(), Ok("5b10".to_string())),
                (
                    "nobody".to_string(),
                    Err("no Jira user matches \"nobody\"".to_string()),
                ),
            ]
            .into(),
        }
    }

    #[test]
    fn the_assignee_and_participants_resolve_or_fail_with_the_fix() {
        let mut need = need("SUMMIT", "Task");
        need.request.assignee = Some("mreuter".into());
        need.request.users.insert(
            "customfield_10151".into(),
            vec!["mreuter".into(), "nobody".into()],
        );
        let findings = evaluate(&facts(screen()), &[need]);
        let user = |name: &str| {
            findings
                .iter()
                .find(|f| f.check == format!("calendar: user {name}"))
                .unwrap_or_else(|| panic!("no finding for {name}: {findings:#?}"))
        };
        assert_eq!(user("mreuter").status, Status::Ok);
        assert_eq!(user("nobody").status, Status::Fail);
        assert!(
            user("nobody")
                .fix
                .as_deref()
                .unwrap()
                .contains("sites/summit.yaml")
        );
        // Each user is one finding, however often it is named.
        assert_eq!(
            findings
                .iter()
                .filter(|f| f.check.ends_with("user mreuter"))
                .count(),
            1
        );
    }

    fn failures(findings: &[Finding]) -> Vec<(String, String)> {
        findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| (f.check.clone(), f.fix.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_request_that_fits_its_screen_passes_every_check() {
        let mut need = need("SUMMIT", "task");
        need.request
            .fields
            .insert("customfield_10059".into(), json!("2026-02-24"));
        need.request
            .fields
            .insert("customfield_10141".into(), json!([{"value": "Software"}]));
        need.request.fields.insert(
            "customfield_10151".into(),
            json!([{"accountId": "557058:2"}]),
        );
        let findings = evaluate(&facts(screen()), &[need]);
        assert!(failures(&findings).is_empty(), "{findings:#?}");
        let checks: Vec<&str> = findings.iter().map(|f| f.check.as_str()).collect();
        assert!(
            checks.contains(&"calendar: SUMMIT/task field priority"),
            "{checks:?}"
        );
        assert!(
            checks.contains(&"calendar: SUMMIT/task field customfield_10059 (Start date)"),
            "{checks:?}"
        );
        assert_eq!(
            findings[0].found,
            "logged in as Deploy Bot (bot@example.org)"
        );
    }

    #[test]
    fn each_misfit_fails_with_its_fix() {
        let mut need = need("SUMMIT", "Task");
        need.request.priority = Some("Highest".into());
        need.request.fields.insert(
            "customfield_10059".into(),
            json!("2026-02-24T09:00:00.000-0300"),
        );
        need.request
            .fields
            .insert("customfield_10141".into(), json!([{"value": "Sofware"}]));
        need.request
            .fields
            .insert("customfield_10063".into(), json!("x"));
        let findings = evaluate(&facts(screen()), &[need]);
        let failed = failures(&findings);
        assert_eq!(failed.len(), 4, "{failed:#?}");
        let fix = |field: &str| {
            failed
                .iter()
                .find(|(check, _)| check.contains(field))
                .map(|(_, fix)| fix.clone())
                .unwrap_or_else(|| panic!("no failure for {field}: {failed:#?}"))
        };
        assert_eq!(
            fix("priority"),
            "priority `Highest` is not allowed; allowed: SUMMIT-1, SUMMIT-2"
        );
        assert!(fix("customfield_10059").contains("a date \"YYYY-MM-DD\""));
        assert_eq!(
            fix("customfield_10141"),
            "option `Sofware` is not allowed; allowed: Software, Optics"
        );
        assert!(
            fix("customfield_10063").starts_with(
                "customfield_10063 is not on the create screen of SUMMIT/Task: fields there are \
                 summary (Summary), labels (Labels), priority (Priority), customfield_10059 (Start date)"
            ),
            "{}",
            fix("customfield_10063")
        );
    }

    #[test]
    fn required_fields_unknown_projects_and_types_and_bad_credentials() {
        let mut fields = screen();
        fields[6].required = true;
        let findings = evaluate(&facts(fields), &[need("SUMMIT", "Task")]);
        let failed = failures(&findings);
        assert_eq!(failed.len(), 1, "{failed:#?}");
        assert_eq!(
            failed[0].0,
            "calendar: SUMMIT/Task field customfield_10151 (Participants)"
        );

        let findings = evaluate(&facts(screen()), &[need("SUMMIT", "Story")]);
        let failed = failures(&findings);
        assert_eq!(
            failed,
            [(
                "calendar: issue type SUMMIT/Story".to_string(),
                "set the issue type of the summit:calendar ticket in the site file to one of SUMMIT's: Task"
                    .to_string()
            )]
        );

        let mut unknown = facts(screen());
        unknown.issue_types.insert("SUMIT".into(), Ok(None));
        let failed = failures(&evaluate(&unknown, &[need("SUMIT", "Task")]));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, "calendar: project SUMIT");

        let mut refused = facts(screen());
        refused.myself = Err("Jira refused the credentials (HTTP 401)".into());
        let findings = evaluate(&refused, &[need("SUMMIT", "Task")]);
        assert_eq!(findings[0].status, Status::Fail);
        assert_eq!(findings[0].fix.as_deref(), Some(CREDENTIALS_FIX));
        assert_eq!(findings[1].status, Status::Skipped);
    }

    #[test]
    fn values_are_judged_by_the_fields_schema() {
        let meta = |kind: &str, items: Option<&str>| FieldMeta {
            id: "f".into(),
            name: "F".into(),
            required: false,
            has_default_value: false,
            schema: jira::FieldSchema {
                kind: kind.into(),
                items: items.map(str::to_string),
                system: None,
                custom: None,
            },
            allowed_values: None,
        };
        let fits = |kind: &str, items: Option<&str>, value: Value, api| {
            judge_value(&meta(kind, items), &value, api).is_ok()
        };
        let v3 = ApiVersion::V3;
        assert!(fits("string", None, json!("x"), v3));
        assert!(fits(
            "string",
            None,
            json!({"type": "doc", "version": 1}),
            v3
        ));
        assert!(!fits(
            "string",
            None,
            json!({"type": "doc"}),
            ApiVersion::V2
        ));
        assert!(fits("number", None, json!(2.5), v3));
        assert!(!fits("number", None, json!("2"), v3));
        assert!(fits("date", None, json!("2026-02-24"), v3));
        assert!(!fits("date", None, json!("24/02/2026"), v3));
        assert!(fits(
            "datetime",
            None,
            json!("2026-02-24T09:00:00.000-0300"),
            v3
        ));
        assert!(fits(
            "datetime",
            None,
            json!("2026-02-24T09:00:00-03:00"),
            v3
        ));
        assert!(!fits("datetime", None, json!("2026-02-24"), v3));
        assert!(fits("option", None, json!({"value": "A"}), v3));
        assert!(!fits("option", None, json!("A"), v3));
        assert!(fits("user", None, json!({"accountId": "1"}), v3));
        assert!(!fits("user", None, json!({"name": "bob"}), v3));
        assert!(fits("user", None, json!({"name": "bob"}), ApiVersion::V2));
        assert!(fits("array", Some("user"), json!([{"id": "1"}]), v3));
        assert!(!fits("array", Some("user"), json!({"id": "1"}), v3));
        assert!(fits(
            "array",
            Some("component"),
            json!([{"name": "AuxTel"}]),
            v3
        ));
        assert!(!fits("array", Some("string"), json!([1]), v3));
        assert!(fits("priority", None, json!({"name": "SUMMIT-1"}), v3));
        assert!(fits("sd-approvals", None, json!([1]), v3));
    }
}
