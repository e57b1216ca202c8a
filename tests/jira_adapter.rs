//! Integration tests of `cycle::services::jira` against the stateful Jira
//! fake (`tests/support/jira_fake.rs`): what the adapter sends, what the
//! fake ends up holding, and how failures are retried or reported.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cycle::services::http::{RetryPolicy, Secret};
use cycle::services::jira::{
    ApiVersion, JiraApi, JiraAuth, JiraClient, JiraConfig, JiraError, NewVersion, TicketAction,
    TicketOutcome, TicketRequest, adf_document, ensure, find, find_version, lookup,
};
use serde_json::{Value, json};
use support::http_fake::Request;
use support::jira_fake::{self, Fault, JiraFake};

const SUMMIT: &str = "Ready summit deployment configuration for Cycle 44";
const ACCOUNT: &str = "5b10ac8d82e05b22cc7d4ef5";
const START: &str = "customfield_10060";
const END: &str = "customfield_10061";
/// The wait before looking again for an issue whose create failed.
const INDEX_LAG: Duration = Duration::from_millis(300);

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        max_wait: Duration::from_secs(5),
    }
}

fn cloud_with(fake: &JiraFake, token: &str) -> JiraClient {
    let auth = JiraAuth::Basic {
        user: jira_fake::USER.into(),
        token: Secret::new(token),
    };
    let config = JiraConfig::new(&fake.url(), auth, ApiVersion::V3).unwrap();
    JiraClient::new(config.with_retry_policy(policy()).with_index_lag(INDEX_LAG)).unwrap()
}

fn cloud(fake: &JiraFake) -> JiraClient {
    cloud_with(fake, jira_fake::TOKEN)
}

fn data_center_with(fake: &JiraFake, pat: &str) -> JiraClient {
    let auth = JiraAuth::Bearer {
        token: Secret::new(pat),
    };
    let config = JiraConfig::new(&fake.url(), auth, ApiVersion::V2).unwrap();
    JiraClient::new(config.with_retry_policy(policy()).with_index_lag(INDEX_LAG)).unwrap()
}

const DESCRIPTION: &str = "Prepare the summit deployment configuration for Cycle 44 (c0044.000).\n\
\n\
* Update the cycle build tag to c0044 and reset the per-CSC image revisions.\n\
* Add new CSCs and applications.\n\
** MTRotator: the rotator\n\
\n\
Configuration branches are named tickets/<this ticket>.";

/// A per-site configuration ticket as the summit's site file describes it.
fn site_spec() -> TicketRequest {
    TicketRequest {
        project: "OSW".into(),
        issue_type: "Story".into(),
        summary: SUMMIT.into(),
        description: DESCRIPTION.into(),
        assignee: Some(ACCOUNT.into()),
        fields: [(
            "customfield_10056".to_string(),
            json!({ "value": "Deployment" }),
        )]
        .into(),
        ..TicketRequest::default()
    }
}

/// The summit calendar ticket, whose start and end follow the manifest.
fn calendar_spec(start: &str, end: &str) -> TicketRequest {
    TicketRequest {
        project: "SUMMIT".into(),
        issue_type: "Task".into(),
        summary: "Control System Cycle 44 Upgrade".into(),
        description: "Cycle 44 upgrade of the summit control system.".into(),
        labels: vec!["SoftwareRelease".into()],
        components: ["AuxTel", "ComCam", "SIT-COM", "Software Updates"]
            .map(String::from)
            .to_vec(),
        priority: Some("SUMMIT-1".into()),
        fields: [
            (START.to_string(), json!(start)),
            (END.to_string(), json!(end)),
        ]
        .into(),
        kept_in_sync: vec![START.into(), END.into()],
        ..TicketRequest::default()
    }
}

/// The calendar's start and end as date-time fields on the SUMMIT/Task
/// screen (the real screen has dates; these tests are about date-times).
fn calendar_datetimes(fake: &JiraFake) {
    fake.add_screen_field("SUMMIT", "Task", jira_fake::datetime_field(START, "Start"));
    fake.add_screen_field("SUMMIT", "Task", jira_fake::datetime_field(END, "End"));
}

fn searches(fake: &JiraFake) -> Vec<Request> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/search/jql") || r.path.ends_with("/search"))
        .collect()
}

fn shape(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn keys(issues: &[cycle::services::jira::Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.key.as_str()).collect()
}

#[tokio::test]
async fn creates_the_ticket_when_none_exists() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let spec = site_spec();

    let outcome = ensure(&api, &spec).await.unwrap();

    assert_eq!(
        outcome,
        TicketOutcome {
            key: "OSW-1".into(),
            url: format!("{}/browse/OSW-1", fake.url()),
            action: TicketAction::Created,
            retired: vec![],
            foreign: vec![],
        }
    );
    let requests = fake.requests();
    // The search again after filing: another run may have filed it too.
    assert_eq!(
        shape(&requests),
        [
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/search/jql"
        ]
    );
    let search = &requests[0];
    assert_eq!(
        search.param("jql").as_deref(),
        Some(cycle::plan::ticket_jql("OSW", SUMMIT).as_str())
    );
    let fields = search.param("fields").unwrap();
    for field in ["summary", "issuetype", "resolution", "status"] {
        assert!(fields.split(',').any(|f| f == field), "{fields}");
    }
    let create = &requests[1];
    assert!(
        create
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(
        create
            .header("content-type")
            .unwrap()
            .contains("application/json")
    );
    let body = create.json();
    let sent = &body["fields"];
    assert_eq!(sent["project"], json!({ "key": "OSW" }));
    assert_eq!(sent["issuetype"], json!({ "name": "Story" }));
    assert_eq!(sent["summary"], json!(SUMMIT));
    assert_eq!(sent["assignee"], json!({ "accountId": ACCOUNT }));
    assert_eq!(sent["customfield_10056"], json!({ "value": "Deployment" }));

    let issues = fake.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].summary, SUMMIT);
    assert_eq!(issues[0].fields["customfield_10056"]["value"], "Deployment");
}

#[tokio::test]
async fn v3_descriptions_are_atlassian_document_format() {
    let fake = JiraFake::start();
    ensure(&cloud(&fake), &site_spec()).await.unwrap();

    let body = fake.writes()[0].json();
    let description = &body["fields"]["description"];
    assert_eq!(description, &adf_document(DESCRIPTION));
    assert_eq!(description["type"], "doc");
    let content = description["content"].as_array().unwrap();
    let kinds: Vec<&str> = content
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["paragraph", "bulletList", "paragraph"]);
    let second = &content[1]["content"][1];
    assert_eq!(
        second["content"][0]["content"][0]["text"],
        "Add new CSCs and applications."
    );
    assert_eq!(second["content"][1]["type"], "bulletList");
    assert_eq!(
        second["content"][1]["content"][0]["content"][0]["content"][0]["text"],
        "MTRotator: the rotator"
    );
    assert_eq!(fake.issue("OSW-1").unwrap().description, *description);
}

#[tokio::test]
async fn data_center_v2_sends_text_and_pages_with_start_at() {
    let fake = JiraFake::start_data_center();
    for n in 1..=3 {
        fake.add_issue("OSW", "Story", &format!("{SUMMIT} Revision {n}"));
    }
    let api = data_center_with(&fake, jira_fake::PAT);
    let spec = TicketRequest {
        assignee: Some("mreuter".into()),
        ..site_spec()
    };

    let outcome = ensure(&api, &spec).await.unwrap();

    assert_eq!(outcome.key, "OSW-4");
    assert_eq!(outcome.action, TicketAction::Created);
    let requests = fake.requests();
    assert_eq!(
        shape(&requests),
        [
            "GET /rest/api/2/search",
            "GET /rest/api/2/search",
            "POST /rest/api/2/issue",
            "GET /rest/api/2/search",
            "GET /rest/api/2/search"
        ]
    );
    let starts: Vec<Option<String>> = requests[..2].iter().map(|r| r.param("startAt")).collect();
    assert_eq!(starts, [Some("0".into()), Some("2".into())]);
    let expected_auth = format!("Bearer {}", jira_fake::PAT);
    assert!(
        requests
            .iter()
            .all(|r| r.header("authorization") == Some(expected_auth.as_str()))
    );
    let body = requests[2].json();
    assert_eq!(body["fields"]["description"], json!(DESCRIPTION));
    assert_eq!(body["fields"]["assignee"], json!({ "name": "mreuter" }));
    assert_eq!(fake.issue("OSW-4").unwrap().description, json!(DESCRIPTION));
}

#[tokio::test]
async fn finds_the_exact_ticket_and_ignores_near_misses() {
    let fake = JiraFake::start();
    let revision = fake.add_issue("OSW", "Story", &format!("{SUMMIT} Revision 1"));
    let plural = fake.add_issue(
        "OSW",
        "Story",
        "Ready summit deployment configurations for Cycle 44",
    );
    let task = fake.add_issue("OSW", "Task", SUMMIT);
    let exact = fake.add_issue("OSW", "Story", SUMMIT);
    fake.add_issue(
        "OSW",
        "Story",
        "Ready Tucson test stand deployment configuration for Cycle 44",
    );
    let api = cloud(&fake);
    let spec = site_spec();

    // The stemmed search returns the near misses too ...
    let hits = api.search(&spec.jql(), &[]).await.unwrap();
    assert_eq!(keys(&hits), [&revision, &plural, &task, &exact]);
    // ... and only the exact one is the ticket.
    let found = find(&api, &spec).await.unwrap().unwrap();
    assert_eq!(found.key, exact);
    let outcome = ensure(&api, &spec).await.unwrap();
    assert_eq!((outcome.key, outcome.action), (exact, TicketAction::Found));
    assert!(fake.writes().is_empty());
    assert_eq!(fake.issues().len(), 5);
}

#[tokio::test]
async fn several_exact_matches_are_an_error_listing_their_keys() {
    let fake = JiraFake::start();
    let first = fake.add_issue("OSW", "Story", SUMMIT);
    let second = fake.add_issue("OSW", "Story", SUMMIT);

    let err = ensure(&cloud(&fake), &site_spec()).await.unwrap_err();

    assert!(
        matches!(&err, JiraError::Ambiguous { keys, .. } if keys == &[first.clone(), second.clone()])
    );
    let text = err.to_string();
    assert!(text.contains(&format!("{first}, {second}")), "{text}");
    assert!(text.contains(SUMMIT), "{text}");
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn adopts_a_ticket_made_by_the_old_scripts() {
    let fake = JiraFake::start();
    let old = fake.add_issue("OSW", "Story", SUMMIT);
    let mut spec = site_spec();
    spec.labels = vec!["cycle".into()];

    let outcome = ensure(&cloud(&fake), &spec).await.unwrap();

    assert_eq!(
        (outcome.key.as_str(), outcome.action),
        (old.as_str(), TicketAction::Found)
    );
    assert!(fake.writes().is_empty());
    let issue = fake.issue(&old).unwrap();
    assert!(issue.labels.is_empty());
    assert_eq!(fake.issues().len(), 1);
}

#[tokio::test]
async fn prefers_the_unresolved_ticket_and_adopts_a_lone_resolved_one() {
    let fake = JiraFake::start();
    let done = fake.add_issue("OSW", "Story", SUMMIT);
    fake.resolve(&done);
    let api = cloud(&fake);

    // Only a resolved one: it is the ticket (no second one is filed).
    let outcome = ensure(&api, &site_spec()).await.unwrap();
    assert_eq!(
        (outcome.key.as_str(), outcome.action),
        (done.as_str(), TicketAction::Found)
    );

    let open = fake.add_issue("OSW", "Story", SUMMIT);
    let outcome = ensure(&api, &site_spec()).await.unwrap();
    assert_eq!(
        (outcome.key.as_str(), outcome.action),
        (open.as_str(), TicketAction::Found)
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn pages_through_search_results_with_next_page_tokens() {
    let fake = JiraFake::start();
    for n in 1..=5 {
        fake.add_issue("OSW", "Story", &format!("{SUMMIT} Revision {n}"));
    }
    let exact = fake.add_issue("OSW", "Story", SUMMIT);

    let outcome = ensure(&cloud(&fake), &site_spec()).await.unwrap();

    assert_eq!((outcome.key, outcome.action), (exact, TicketAction::Found));
    let tokens: Vec<Option<String>> = searches(&fake)
        .iter()
        .map(|r| r.param("nextPageToken"))
        .collect();
    assert_eq!(
        tokens,
        [None, Some("page-at-2".into()), Some("page-at-4".into())]
    );
}

#[tokio::test]
async fn retries_a_search_after_a_server_error() {
    let fake = JiraFake::start();
    fake.fail_next("GET", "/rest/api/3/search/jql", 1, Fault::ServerError);

    let outcome = ensure(&cloud(&fake), &site_spec()).await.unwrap();

    assert_eq!(outcome.action, TicketAction::Created);
    assert_eq!(
        shape(&fake.requests()),
        [
            "GET /rest/api/3/search/jql",
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/search/jql"
        ]
    );
}

#[tokio::test]
async fn gives_up_after_the_last_attempt() {
    let fake = JiraFake::start();
    fake.fail_next("GET", "/rest/api/3/search/jql", 10, Fault::ServerError);

    let err = ensure(&cloud(&fake), &site_spec()).await.unwrap_err();

    assert!(
        matches!(err, JiraError::Unavailable { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Internal server error"), "{err}");
    assert_eq!(searches(&fake).len(), policy().attempts as usize);
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let fake = JiraFake::start();
    fake.fail_next(
        "GET",
        "/rest/api/3/search/jql",
        1,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );

    ensure(&cloud(&fake), &site_spec()).await.unwrap();

    let searches = searches(&fake);
    // The failed search, again, and the search after filing.
    assert_eq!(searches.len(), 3);
    let waited = searches[1].at.duration_since(searches[0].at);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_reported() {
    let fake = JiraFake::start();
    fake.fail_next(
        "GET",
        "/rest/api/3/search/jql",
        1,
        Fault::RateLimited {
            retry_after_secs: 3600,
        },
    );

    let err = ensure(&cloud(&fake), &site_spec()).await.unwrap_err();

    assert!(matches!(err, JiraError::WaitTooLong { .. }), "{err:?}");
    assert!(err.to_string().contains("3600s"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_lost_create_response_makes_exactly_one_issue() {
    let fake = JiraFake::start();
    // The new issue reaches the search index after a while, as on Jira Cloud.
    fake.set_index_lag(INDEX_LAG / 2);
    fake.fail_next("POST", "/rest/api/3/issue", 1, Fault::DropResponse);

    let outcome = ensure(&cloud(&fake), &site_spec()).await.unwrap();

    assert_eq!(outcome.key, "OSW-1");
    assert_eq!(outcome.action, TicketAction::Created);
    assert_eq!(fake.issues().len(), 1);
    let requests = fake.requests();
    assert_eq!(
        shape(&requests),
        [
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/search/jql",
            "GET /rest/api/3/search/jql"
        ]
    );
    // The search index was given time to catch up before looking again.
    let waited = requests[2].at.duration_since(requests[1].at);
    assert!(waited >= INDEX_LAG, "looked again after {waited:?}");
}

#[tokio::test]
async fn a_failed_create_is_retried_after_looking_again() {
    let fake = JiraFake::start();
    fake.fail_next("POST", "/rest/api/3/issue", 1, Fault::ServerError);

    let outcome = ensure(&cloud(&fake), &site_spec()).await.unwrap();

    assert_eq!(outcome.action, TicketAction::Created);
    assert_eq!(fake.issues().len(), 1);
    assert_eq!(
        shape(&fake.requests()),
        [
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/issue",
            "GET /rest/api/3/search/jql"
        ]
    );
}

#[tokio::test]
async fn bad_requests_show_jiras_error_messages_and_errors() {
    let fake = JiraFake::start();
    let api = cloud(&fake);

    let mut spec = site_spec();
    spec.fields.insert("teamname".into(), json!("Deployment"));
    let err = ensure(&api, &spec).await.unwrap_err();
    assert!(
        matches!(err, JiraError::Rejected { status: 400, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("teamname: Field 'teamname' cannot be set. It is not on the appropriate screen, or unknown."),
        "{text}"
    );
    assert!(text.contains(SUMMIT), "{text}");
    assert_eq!(fake.writes().len(), 1, "a 400 is not retried");
    assert!(fake.issues().is_empty());

    fake.clear_requests();
    let spec = TicketRequest {
        project: "NOPE".into(),
        ..site_spec()
    };
    let err = find(&api, &spec).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("The value 'NOPE' does not exist for the field 'project'."),
        "{text}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn rejected_credentials_are_one_clear_error() {
    let fake = JiraFake::start();
    let wrong = "ATATT-wrong-token-0000";
    let err = ensure(&cloud_with(&fake, wrong), &site_spec())
        .await
        .unwrap_err();
    assert!(
        matches!(err, JiraError::Auth { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("JIRA_USER and JIRA_API_TOKEN"), "{text}");
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(!format!("{text} {err:?}").contains(wrong));
    assert_eq!(
        fake.requests().len(),
        1,
        "no retry with rejected credentials"
    );

    let fake = JiraFake::start_data_center();
    let err = find(&data_center_with(&fake, "dc-wrong-pat"), &site_spec())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("JIRA_PAT"), "{err}");
    assert!(!format!("{err} {err:?}").contains("dc-wrong-pat"));
}

#[tokio::test]
async fn the_calendar_ticket_is_updated_only_when_a_kept_field_differs() {
    let fake = JiraFake::start();
    // Jira answers date-times in the user's zone (UTC here), not as sent.
    calendar_datetimes(&fake);
    let api = cloud(&fake);
    let first = calendar_spec(
        "2026-05-04T09:00:00.000-0400",
        "2026-05-04T17:00:00.000-0400",
    );

    let created = ensure(&api, &first).await.unwrap();
    assert_eq!(created.key, "SUMMIT-1");
    assert_eq!(created.action, TicketAction::Created);
    let body = fake.writes()[0].json();
    assert_eq!(body["fields"]["priority"], json!({ "name": "SUMMIT-1" }));
    assert_eq!(body["fields"]["labels"], json!(["SoftwareRelease"]));
    assert_eq!(
        body["fields"]["components"][3],
        json!({ "name": "Software Updates" })
    );
    assert_eq!(
        fake.issue("SUMMIT-1").unwrap().fields[START],
        json!("2026-05-04T13:00:00.000+0000")
    );

    // Same dates: nothing is written.
    let again = ensure(&api, &first).await.unwrap();
    assert_eq!(again.action, TicketAction::Found);
    assert_eq!(fake.writes().len(), 1);
    let search = searches(&fake).pop().unwrap();
    let fields = search.param("fields").unwrap();
    assert!(fields.contains(START) && fields.contains(END), "{fields}");

    // The manifest's dates move a week: both fields are written, nothing else.
    let moved = calendar_spec(
        "2026-05-11T09:00:00.000-0400",
        "2026-05-11T17:00:00.000-0400",
    );
    let updated = ensure(&api, &moved).await.unwrap();
    assert_eq!(
        updated.action,
        TicketAction::Updated {
            fields: vec![START.into(), END.into()]
        }
    );
    let writes = fake.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(
        (writes[1].method.as_str(), writes[1].path.as_str()),
        ("PUT", "/rest/api/3/issue/SUMMIT-1")
    );
    assert_eq!(
        writes[1].json(),
        json!({ "fields": {
            START: "2026-05-11T09:00:00.000-0400",
            END: "2026-05-11T17:00:00.000-0400",
        }})
    );
    let stored = fake.issue("SUMMIT-1").unwrap();
    assert_eq!(stored.fields[START], json!("2026-05-11T13:00:00.000+0000"));
    assert_eq!(stored.fields[END], json!("2026-05-11T21:00:00.000+0000"));

    // Only the end moves: only the end is written. Then nothing.
    let longer = calendar_spec(
        "2026-05-11T09:00:00.000-0400",
        "2026-05-11T19:00:00.000-0400",
    );
    let updated = ensure(&api, &longer).await.unwrap();
    assert_eq!(
        updated.action,
        TicketAction::Updated {
            fields: vec![END.into()]
        }
    );
    assert_eq!(
        fake.writes()[2].json(),
        json!({ "fields": { END: "2026-05-11T19:00:00.000-0400" } })
    );
    assert_eq!(
        ensure(&api, &longer).await.unwrap().action,
        TicketAction::Found
    );
    assert_eq!(fake.writes().len(), 3);
    assert_eq!(fake.issues().len(), 1);
}

#[tokio::test]
async fn find_never_writes() {
    let fake = JiraFake::start();
    calendar_datetimes(&fake);
    let api = cloud(&fake);
    let spec = calendar_spec(
        "2026-05-04T09:00:00.000-0400",
        "2026-05-04T17:00:00.000-0400",
    );
    assert_eq!(find(&api, &spec).await.unwrap(), None);

    let key = fake.add_issue("SUMMIT", "Task", &spec.summary);
    fake.set_field(&key, START, json!("2020-01-01T00:00:00.000+0000"));
    let found = find(&api, &spec).await.unwrap().unwrap();
    assert_eq!(found.key, key);
    assert_eq!(
        cycle::services::jira::field_changes(&spec, &found)
            .keys()
            .collect::<Vec<_>>(),
        [START, END]
    );
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn the_token_never_appears_in_errors() {
    let mut texts = Vec::new();
    let shown = |err: JiraError| format!("{err} {err:?}");

    // Server errors until the attempts run out.
    let fake = JiraFake::start();
    fake.fail_next("GET", "/rest/api/3/search/jql", 10, Fault::ServerError);
    texts.push(shown(find(&cloud(&fake), &site_spec()).await.unwrap_err()));
    // A 400 from the create.
    let mut spec = site_spec();
    spec.fields.insert("unknown".into(), json!(1));
    texts.push(shown(ensure(&cloud(&fake), &spec).await.unwrap_err()));
    // A wait longer than the policy.
    fake.fail_next(
        "GET",
        "/rest/api/3/search/jql",
        1,
        Fault::RateLimited {
            retry_after_secs: 999,
        },
    );
    texts.push(shown(find(&cloud(&fake), &site_spec()).await.unwrap_err()));
    // Nobody listening.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let auth = JiraAuth::Basic {
        user: jira_fake::USER.into(),
        token: Secret::new(jira_fake::TOKEN),
    };
    let config = JiraConfig::new(&closed, auth, ApiVersion::V3)
        .unwrap()
        .with_retry_policy(policy());
    texts.push(format!("{config:?}"));
    let client = JiraClient::new(config).unwrap();
    texts.push(format!("{client:?}"));
    let err = find(&client, &site_spec()).await.unwrap_err();
    assert!(matches!(err, JiraError::Transport { .. }), "{err:?}");
    texts.push(shown(err));

    assert_eq!(texts.len(), 6);
    for text in &texts {
        assert!(!text.contains(jira_fake::TOKEN), "token leaked: {text}");
    }
}

#[test]
fn missing_environment_variables_are_named_in_one_error() {
    let err = JiraConfig::from_lookup(ApiVersion::V3, |_| None).unwrap_err();
    assert!(matches!(err, JiraError::NotConfigured { .. }), "{err:?}");
    let text = err.to_string();
    for name in ["JIRA_URL", "JIRA_USER", "JIRA_API_TOKEN", "JIRA_PAT"] {
        assert!(text.contains(name), "{name} not named: {text}");
    }

    let only_user = |name: &str| match name {
        "JIRA_URL" => Some("https://rubinobs.atlassian.net".to_string()),
        "JIRA_USER" => Some("someone@example.org".to_string()),
        _ => None,
    };
    let text = JiraConfig::from_lookup(ApiVersion::V3, only_user)
        .unwrap_err()
        .to_string();
    assert!(text.contains("JIRA_API_TOKEN"), "{text}");
    assert!(!text.contains("set JIRA_URL"), "{text}");
}

#[tokio::test]
async fn the_engine_can_share_the_client_across_tasks() {
    let fake = JiraFake::start();
    let api: Arc<dyn JiraApi> = Arc::new(cloud(&fake));
    let spec = site_spec();
    let task = {
        let api = api.clone();
        let spec = spec.clone();
        tokio::spawn(async move { ensure(api.as_ref(), &spec).await })
    };
    let created = task.await.unwrap().unwrap();
    let again = ensure(api.as_ref(), &spec).await.unwrap();
    assert_eq!(created.key, again.key);
    assert_eq!(again.action, TicketAction::Found);
    assert_eq!(
        api.browse_url("OSW-1"),
        format!("{}/browse/OSW-1", fake.url())
    );
}

#[tokio::test]
async fn a_ticket_another_run_filed_at_the_same_moment_wins_and_ours_is_retired() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    // Another run files the same ticket between this run's search and its
    // create: it gets the lower key.
    fake.fail_next("POST", "/rest/api/3/issue", 1, Fault::Rival);

    let outcome = ensure(&api, &site_spec()).await.unwrap();

    assert_eq!(outcome.key, "OSW-1");
    assert_eq!(outcome.action, TicketAction::Found);
    assert_eq!(outcome.retired, ["OSW-2"]);
    assert!(outcome.foreign.is_empty());
    // This run's ticket is closed as a duplicate, linked, with a comment.
    let ours = fake.issue("OSW-2").unwrap();
    assert!(ours.resolved);
    assert_eq!(ours.fields["resolution"]["name"], "Duplicate");
    assert_eq!(
        ours.fields["issuelinks"][0]["outwardIssue"]["key"],
        json!("OSW-1")
    );
    assert_eq!(
        ours.fields["issuelinks"][0]["type"]["outward"],
        json!("duplicates")
    );
    let comment = &ours.fields["comment"]["comments"][0]["body"];
    assert_eq!(comment["type"], "doc", "v3 comments are ADF: {comment}");
    assert!(comment.to_string().contains("OSW-1"), "{comment}");
    assert!(!fake.issue("OSW-1").unwrap().resolved);
    let writes = shape(&fake.writes());
    assert_eq!(
        writes,
        [
            "POST /rest/api/3/issue",
            "POST /rest/api/3/issueLink",
            "POST /rest/api/3/issue/OSW-2/transitions"
        ]
    );

    // A rerun finds the winner, the duplicate resolved, and writes nothing.
    fake.clear_requests();
    let again = ensure(&api, &site_spec()).await.unwrap();
    assert_eq!(
        (again.key.as_str(), again.action),
        ("OSW-1", TicketAction::Found)
    );
    assert!(again.retired.is_empty());
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn duplicates_cycle_filed_earlier_are_retired_and_a_persons_are_reported() {
    let fake = JiraFake::start_data_center();
    let api = data_center_with(&fake, jira_fake::PAT);
    let spec = site_spec();
    // Two tickets cycle filed (its description), a person's, all open.
    let filed: Vec<String> = (0..2)
        .map(|_| {
            let key = fake.add_issue("OSW", "Story", SUMMIT);
            fake.set_field(&key, "description", json!(DESCRIPTION));
            key
        })
        .collect();
    let person = fake.add_issue("OSW", "Story", SUMMIT);

    let found = lookup(&api, &spec).await.unwrap().unwrap();
    assert_eq!(found.ticket.key, filed[0]);
    assert_eq!(found.duplicates, [filed[1].clone()]);
    assert_eq!(found.foreign, std::slice::from_ref(&person));
    assert!(fake.writes().is_empty(), "a lookup writes nothing");

    let outcome = ensure(&api, &spec).await.unwrap();
    assert_eq!(outcome.key, filed[0]);
    assert_eq!(outcome.retired, [filed[1].clone()]);
    assert_eq!(outcome.foreign, std::slice::from_ref(&person));
    let retired = fake.issue(&filed[1]).unwrap();
    assert!(retired.resolved);
    // v2 comments are text.
    assert!(retired.fields["comment"]["comments"][0]["body"].is_string());
    assert!(!fake.issue(&person).unwrap().resolved);
    assert!(
        fake.issue(&person)
            .unwrap()
            .fields
            .get("issuelinks")
            .is_none()
    );
}

#[tokio::test]
async fn several_tickets_people_filed_are_still_refused() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let a = fake.add_issue("OSW", "Story", SUMMIT);
    let b = fake.add_issue("OSW", "Story", SUMMIT);
    let err = ensure(&api, &site_spec()).await.unwrap_err();
    assert!(matches!(err, JiraError::Ambiguous { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("{a}, {b}")), "{err}");
    assert!(fake.writes().is_empty());
}

// ---------------------------------------------------------------------------
// Versions and issue links (the CAP release and the bucket-link move)

fn cap_version(project_id: u64, name: &str) -> NewVersion {
    NewVersion {
        project_id,
        name: name.into(),
        description: "for Cycle 45".into(),
    }
}

#[tokio::test]
async fn finds_a_project_and_creates_a_version_once() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    fake.add_version("CAP", "ts_xml 24.0.0", "for Cycle 44");

    let project_id = api.project_id("CAP").await.unwrap().unwrap();
    let versions = api.project_versions("CAP").await.unwrap().unwrap();
    assert_eq!(versions.len(), 1);
    assert!(find_version(&versions, "ts_xml 24.1.0").is_none());
    let old = find_version(&versions, "ts_xml 24.0.0").unwrap();
    assert_eq!(old.description.as_deref(), Some("for Cycle 44"));
    assert_eq!(old.project_id, Some(project_id));
    assert!(!old.released && !old.archived);

    fake.clear_requests();
    let created = api
        .create_version("CAP", &cap_version(project_id, "ts_xml 24.1.0"))
        .await
        .unwrap();
    assert_eq!(created.name, "ts_xml 24.1.0");
    assert_eq!(created.project_id, Some(project_id));
    let writes = fake.writes();
    assert_eq!(shape(&writes), ["POST /rest/api/3/version"]);
    assert_eq!(
        writes[0].json(),
        json!({
            "name": "ts_xml 24.1.0",
            "description": "for Cycle 45",
            "projectId": project_id,
            "released": false,
        })
    );
    let names: Vec<Value> = fake
        .versions("CAP")
        .iter()
        .map(|v| v["name"].clone())
        .collect();
    assert_eq!(names, [json!("ts_xml 24.0.0"), json!("ts_xml 24.1.0")]);

    // Jira refuses a second version of the same name: 400 with errors.name.
    let again = api
        .create_version("CAP", &cap_version(project_id, "ts_xml 24.1.0"))
        .await
        .unwrap_err();
    match &again {
        JiraError::Rejected {
            status: 400,
            message,
            ..
        } => assert!(message.contains("name: A version with this name already exists")),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.versions("CAP").len(), 2);
}

#[tokio::test]
async fn a_lost_version_answer_does_not_create_it_twice() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let project_id = api.project_id("CAP").await.unwrap().unwrap();
    fake.fail_next("POST", "/rest/api/3/version", 1, Fault::DropResponse);
    fake.clear_requests();

    let created = api
        .create_version("CAP", &cap_version(project_id, "ts_xml 24.1.0"))
        .await
        .unwrap();

    assert_eq!(created.name, "ts_xml 24.1.0");
    assert_eq!(fake.versions("CAP").len(), 1);
    assert_eq!(
        shape(&fake.requests()),
        [
            "POST /rest/api/3/version",
            "GET /rest/api/3/project/CAP/versions",
        ]
    );
}

#[tokio::test]
async fn an_unknown_project_has_no_id_and_no_versions() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    assert_eq!(api.project_id("NOPE").await.unwrap(), None);
    assert_eq!(api.project_versions("NOPE").await.unwrap(), None);
    let err = api
        .create_version("NOPE", &cap_version(99_999, "ts_xml 24.1.0"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, JiraError::Rejected { status: 404, .. }),
        "{err:?}"
    );
    assert!(fake.versions("CAP").is_empty());
}

#[tokio::test]
async fn creating_a_version_needs_the_project_permission() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let project_id = api.project_id("CAP").await.unwrap().unwrap();
    fake.set_project_admin("CAP", false);

    let err = api
        .create_version("CAP", &cap_version(project_id, "ts_xml 24.1.0"))
        .await
        .unwrap_err();

    assert!(
        matches!(err, JiraError::Auth { status: 403, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains(jira_fake::TOKEN));
    assert!(fake.versions("CAP").is_empty());
}

#[tokio::test]
async fn data_center_speaks_v2_for_versions_and_links() {
    let fake = JiraFake::start_data_center();
    let api = data_center_with(&fake, jira_fake::PAT);
    let project_id = api.project_id("CAP").await.unwrap().unwrap();
    api.create_version("CAP", &cap_version(project_id, "ts_xml 24.1.0"))
        .await
        .unwrap();
    let a = fake.add_issue(
        "CAP",
        "Story",
        "Catch all ticket for OSW work for XML 24.1.0",
    );
    let b = fake.add_issue("OSW", "Story", "A change");
    api.create_link("Relates", &a, &b).await.unwrap();
    let links = api.issue_links(&a).await.unwrap();
    api.delete_link(&links[0].id).await.unwrap();

    let paths: Vec<String> = shape(&fake.requests());
    assert!(
        paths.iter().all(|p| p.contains("/rest/api/2/")),
        "{paths:?}"
    );
    assert_eq!(fake.versions("CAP").len(), 1);
    assert!(api.issue_links(&a).await.unwrap().is_empty());
}

#[tokio::test]
async fn reads_creates_and_deletes_issue_links() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let bucket = fake.add_issue(
        "CAP",
        "Story",
        "Catch all ticket for OSW work for XML 24.0.0",
    );
    let work = fake.add_issue("OSW", "Story", "Fix the rotator");
    let kept = fake.add_issue("OSW", "Story", "Kept in the revision");
    assert!(api.issue_links(&bucket).await.unwrap().is_empty());

    fake.clear_requests();
    api.create_link("Blocks", &bucket, &work).await.unwrap();
    api.create_link("Relates", &kept, &bucket).await.unwrap();
    let writes = fake.writes();
    assert_eq!(
        writes[0].json(),
        json!({
            "type": { "name": "Blocks" },
            "outwardIssue": { "key": bucket },
            "inwardIssue": { "key": work },
        })
    );

    fake.clear_requests();
    let links = api.issue_links(&bucket).await.unwrap();
    assert_eq!(
        shape(&fake.requests()),
        [format!("GET /rest/api/3/issue/{bucket}")]
    );
    assert_eq!(
        fake.requests()[0].param("fields").as_deref(),
        Some("issuelinks")
    );
    let seen: Vec<(&str, &str, bool)> = links
        .iter()
        .map(|l| (l.type_name.as_str(), l.other.as_str(), l.outward))
        .collect();
    assert_eq!(
        seen,
        [
            ("Blocks", work.as_str(), true),
            ("Relates", kept.as_str(), false)
        ]
    );
    // The same link seen from the other issue has the same id.
    let from_work = api.issue_links(&work).await.unwrap();
    assert_eq!(from_work.len(), 1);
    assert_eq!(from_work[0].id, links[0].id);
    assert_eq!(
        (from_work[0].other.as_str(), from_work[0].outward),
        (bucket.as_str(), false)
    );

    // Linking again is accepted and adds nothing.
    api.create_link("Blocks", &bucket, &work).await.unwrap();
    assert_eq!(api.issue_links(&bucket).await.unwrap().len(), 2);

    fake.clear_requests();
    api.delete_link(&links[0].id).await.unwrap();
    assert_eq!(
        shape(&fake.writes()),
        [format!("DELETE /rest/api/3/issueLink/{}", links[0].id)]
    );
    assert!(api.issue_links(&work).await.unwrap().is_empty());
    assert_eq!(api.issue_links(&bucket).await.unwrap().len(), 1);

    // An unknown link is Jira's 404 (not retried into a success).
    let err = api.delete_link(&links[0].id).await.unwrap_err();
    assert!(
        matches!(err, JiraError::Rejected { status: 404, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_lost_delete_answer_is_not_an_error() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let a = fake.add_issue("CAP", "Story", "Bucket");
    let b = fake.add_issue("OSW", "Story", "Work");
    api.create_link("Relates", &a, &b).await.unwrap();
    let id = api.issue_links(&a).await.unwrap()[0].id.clone();
    fake.fail_next(
        "DELETE",
        &format!("/rest/api/3/issueLink/{id}"),
        1,
        Fault::DropResponse,
    );

    api.delete_link(&id).await.unwrap();

    assert!(api.issue_links(&a).await.unwrap().is_empty());
    let deletes = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 2);
}

#[tokio::test]
async fn a_ticket_can_carry_a_fix_version() {
    let fake = JiraFake::start();
    let api = cloud(&fake);
    let version = fake.add_version("CAP", "ts_xml 24.1.0", "for Cycle 45");
    fake.add_screen_field("CAP", "Story", jira_fake::fix_versions_field());
    let spec = TicketRequest {
        project: "CAP".into(),
        issue_type: "Story".into(),
        summary: "Catch all ticket for OSW work for XML 24.1.0".into(),
        description: "Catch all ticket.".into(),
        fields: [("fixVersions".to_string(), json!([{ "id": version }]))].into(),
        ..TicketRequest::default()
    };

    let outcome = ensure(&api, &spec).await.unwrap();

    let create = fake
        .writes()
        .into_iter()
        .find(|r| r.path == "/rest/api/3/issue")
        .unwrap();
    assert_eq!(
        create.json()["fields"]["fixVersions"],
        json!([{ "id": version }])
    );
    let issue = fake.issue(&outcome.key).unwrap();
    assert_eq!(issue.fields["fixVersions"][0]["id"], json!(version));
    assert_eq!(
        issue.fields["fixVersions"][0]["name"],
        json!("ts_xml 24.1.0")
    );

    // A version of another project (or none) is refused.
    let other = fake.add_version("OSW", "ts_xml 24.2.0", "");
    let wrong = TicketRequest {
        summary: "Catch all ticket for OSW work for XML 24.2.0".into(),
        fields: [("fixVersions".to_string(), json!([{ "id": other }]))].into(),
        ..spec
    };
    let err = ensure(&api, &wrong).await.unwrap_err();
    assert!(
        matches!(err, JiraError::Rejected { status: 400, .. }),
        "{err:?}"
    );
}
