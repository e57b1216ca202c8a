//! A cycle's ticket over any [`JiraApi`]: which search hit it is, finding it,
//! creating or updating it, retiring duplicates.

use serde_json::{Map, Value, json};

use super::*;

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
pub fn made_by_cycle(spec: &TicketRequest, issue: &Issue) -> bool {
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
fn candidates<'a>(spec: &TicketRequest, issues: &'a [Issue]) -> Vec<&'a Issue> {
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
    spec: &TicketRequest,
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
pub async fn lookup(api: &dyn JiraApi, spec: &TicketRequest) -> Result<Option<Lookup>, JiraError> {
    spec.validate()?;
    let issues = api.search(&spec.jql(), &spec.kept_in_sync).await?;
    if candidates(spec, &issues).len() <= 1 {
        return resolve(spec, &issues, &[]);
    }
    let issues = described(api, spec).await?;
    resolve(spec, &issues, &[])
}

/// The search's issues with their descriptions.
async fn described(api: &dyn JiraApi, spec: &TicketRequest) -> Result<Vec<Issue>, JiraError> {
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
pub async fn find(api: &dyn JiraApi, spec: &TicketRequest) -> Result<Option<Issue>, JiraError> {
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
pub async fn ensure(api: &dyn JiraApi, spec: &TicketRequest) -> Result<TicketOutcome, JiraError> {
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
pub fn select<'a>(
    spec: &TicketRequest,
    issues: &'a [Issue],
) -> Result<Option<&'a Issue>, JiraError> {
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
pub fn field_changes(spec: &TicketRequest, issue: &Issue) -> Map<String, Value> {
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
/// Format (v3) or text (v2), then [`TicketRequest::fields`]. Empty
/// description, labels and components are left out.
pub fn create_body(spec: &TicketRequest, api: ApiVersion) -> Value {
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
