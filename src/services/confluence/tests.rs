use super::*;
use std::collections::HashMap;

use serde_json::json;

use crate::edit::storage::{Change, Desired};
use crate::edit::storage::{begin_marker, end_marker};
use crate::services::http::Secret;

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn missing_configuration_names_every_variable() {
    let err = Config::from_lookup(lookup(&[])).unwrap_err().to_string();
    for var in [URL_ENV, USER_ENV, API_TOKEN_ENV, PAT_ENV] {
        assert!(err.contains(var), "{var} not named: {err}");
    }
    let err = Config::from_lookup(lookup(&[(URL_ENV, "https://x"), (USER_ENV, "me")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("set CONFLUENCE_API_TOKEN ("), "{err}");
    let err = Config::from_lookup(lookup(&[(API_TOKEN_ENV, "t")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("set CONFLUENCE_URL, CONFLUENCE_USER ("),
        "{err}"
    );
}

#[test]
fn credentials_follow_the_api() {
    let both = Config::from_lookup(lookup(&[
        (URL_ENV, "https://x.example/wiki/"),
        (USER_ENV, "me@example.org"),
        (API_TOKEN_ENV, "tok"),
        (PAT_ENV, "pat"),
    ]))
    .unwrap();
    assert!(matches!(both.auth(), Auth::Basic { .. }));
    let dc = both.clone().with_api(Api::DataCenterV1);
    assert!(matches!(dc.auth(), Auth::Bearer { .. }));
    assert_eq!(both.site_url().as_str(), "https://x.example/");
    assert_eq!(both.wiki_base(), "https://x.example/wiki");
    let shown = format!("{both:?}");
    assert!(
        !shown.contains("tok\"") && !shown.contains("pat\""),
        "{shown}"
    );
}

#[test]
fn site_urls_are_checked_and_endpoints_escaped() {
    assert!(parse_site("https://u:p@x.example").is_err());
    assert!(parse_site("ftp://x.example").is_err());
    assert!(parse_site("https://x.example/?a=b").is_err());
    let c = Config::new(
        "https://dc.example/confluence/",
        Auth::Bearer {
            token: Secret::new("p"),
        },
    )
    .unwrap()
    .with_api(Api::DataCenterV1);
    let url = c.endpoint(&["content", "1/2"], &[("title", "Cycle 44 & co")]);
    assert_eq!(
        url.as_str(),
        "https://dc.example/confluence/rest/api/content/1%2F2?title=Cycle+44+%26+co"
    );
    let cloud = Config::new(
        "https://x.atlassian.net",
        Auth::Bearer {
            token: Secret::new("p"),
        },
    )
    .unwrap();
    assert_eq!(
        cloud.endpoint(&["pages"], &[]).as_str(),
        "https://x.atlassian.net/wiki/api/v2/pages"
    );
    assert_eq!("dc".parse::<Api>(), Ok(Api::DataCenterV1));
    assert!("v3".parse::<Api>().is_err());
}

#[test]
fn request_bodies_follow_the_docs() {
    let page = Page {
        id: "7".into(),
        title: "T".into(),
        version: 4,
        body: String::new(),
        url: String::new(),
    };
    let v2 = update_request_v2(&page, "<p/>", "m");
    assert_eq!(v2["version"]["number"], 5);
    assert_eq!(v2["body"]["representation"], "storage");
    assert_eq!(v2["status"], "current");
    let v1 = update_request_v1(&page, "<p/>", "m");
    assert_eq!(v1["version"]["number"], 5);
    assert_eq!(v1["body"]["storage"]["value"], "<p/>");
    let c2 = create_request_v2("98", "5", "T", "<p/>");
    assert_eq!(c2["spaceId"], "98");
    assert_eq!(c2["parentId"], "5");
    let c1 = create_request_v1("K", "5", "T", "<p/>");
    assert_eq!(c1["ancestors"][0]["id"], "5");
    assert_eq!(c1["space"]["key"], "K");
    assert_eq!(c1["type"], "page");
}

#[test]
fn pages_are_read_with_their_links() {
    let v = json!({"id": "42", "title": "T", "version": {"number": 3},
            "body": {"storage": {"value": "<p>x</p>", "representation": "storage"}},
            "_links": {"webui": "/spaces/K/pages/42/T"}});
    let p = parse_page(&v, Some("https://s/wiki"), "https://f/wiki", "u").unwrap();
    assert_eq!(
        (p.id.as_str(), p.version, p.url.as_str()),
        ("42", 3, "https://s/wiki/spaces/K/pages/42/T")
    );
    let v = json!({"id": 42, "version": {"number": 1}});
    let p = parse_page(&v, None, "https://dc", "u").unwrap();
    assert_eq!(p.url, "https://dc/pages/viewpage.action?pageId=42");
    assert!(parse_page(&json!({"id": "1"}), None, "b", "u").is_err());
}

#[test]
fn a_taken_title_is_told_from_other_refusals() {
    let refused = |status: u16, message: &str| ConfluenceError::Rejected {
        method: "POST".into(),
        url: "u".into(),
        status,
        message: message.into(),
    };
    assert!(title_taken(&refused(
        400,
        "A page with this title already exists: A page already exists with the same TITLE in this space"
    )));
    assert!(title_taken(&refused(
        400,
        "A page with this title already exists"
    )));
    assert!(!title_taken(&refused(
        400,
        "The parent page could not be found"
    )));
    assert!(!title_taken(&refused(
        403,
        "A page with this title already exists"
    )));
}

#[test]
fn service_messages_are_quoted() {
    let v2 = r#"{"errors":[{"status":409,"code":"CONFLICT","title":"Version must be incremented on update. Current version is: 3","detail":null}]}"#;
    assert_eq!(
        service_message(v2),
        "Version must be incremented on update. Current version is: 3"
    );
    let v1 = r#"{"statusCode":400,"data":{},"message":"A page with this title already exists"}"#;
    assert_eq!(service_message(v1), "A page with this title already exists");
    assert_eq!(service_message(""), "no error text");
    assert!(service_message(&"x".repeat(1000)).ends_with('…'));
}

#[test]
fn decisions() {
    let section = |c: &str| format!("{}{c}{}", begin_marker("a", None), end_marker("a"));
    let desired = Desired::parse(&section("<p>new</p>")).unwrap();
    let mut page = Page {
        id: "1".into(),
        title: "T".into(),
        version: 2,
        body: format!("<p>mine</p>{}", section("<p>old</p>")),
        url: String::new(),
    };
    let Ok(Decision::Update { body, sections, .. }) = decide(&page, &desired) else {
        panic!("expected an update");
    };
    assert!(body.starts_with("<p>mine</p>"));
    assert_eq!(update_message(&sections), "cycle: updated sections a");
    page.body = body;
    assert!(matches!(
        decide(&page, &desired),
        Ok(Decision::Unchanged { sections }) if sections[0].change == Change::Unchanged
    ));
}
