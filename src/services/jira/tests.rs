use super::*;
use crate::services::http::Secret;
use serde_json::{Map, Value, json};

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

fn spec() -> TicketRequest {
    TicketRequest {
        project: "OSW".into(),
        issue_type: "Story".into(),
        summary: "Ready summit deployment configuration for Cycle 44".into(),
        ..TicketRequest::default()
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
    let s = TicketRequest {
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
    let empty = TicketRequest {
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
    let s = TicketRequest {
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
    let reason = |s: TicketRequest| match s.validate() {
        Err(JiraError::InvalidSpec { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert!(spec().validate().is_ok());
    assert!(
        reason(TicketRequest {
            summary: " ".into(),
            ..spec()
        })
        .contains("summary is empty")
    );
    assert!(
        reason(TicketRequest {
            summary: "a\nb".into(),
            ..spec()
        })
        .contains("one line")
    );
    let labels = vec!["Software Release".into()];
    assert!(reason(TicketRequest { labels, ..spec() }).contains("spaces"));
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
