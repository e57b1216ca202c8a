//! The Confluence adapter against a stateful fake of Confluence (Cloud v2
//! and Data Center v1), and the cycle build's versions read from a bare
//! remote. Tests assert on what the fake received and on its stored pages.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cycle::edit::storage::{Change, Desired};
use cycle::model::context::{SiteContext, site_rows};
use cycle::model::cycle_id::CycleId;
use cycle::render::{Templates, names};
use cycle::services::confluence::{
    self, Api, Auth, Config, ConfluenceApi, ConfluenceClient, ConfluenceError, PageAction,
    PageRequest, PageState,
};
use cycle::services::cycle_build::{self, Finding, Observed, Source};
use cycle::services::git::{Credentials, RepoCache};
use cycle::services::http::{RetryPolicy, Secret};
use support::confluence_fake::{
    self as fake, API_TOKEN, ConfluenceFake, PARENT_ID, PAT, SPACE, SPACE_ID, USER, after_section,
    outside,
};
use support::http_fake::{Reply, Request};
use support::{create_cycle_build_remote, manifest_with, root};

const TITLE: &str = "Cycle 44 Upgrade";
const V2_PAGES: &str = "/wiki/api/v2/pages";

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_wait: Duration::from_secs(3),
    }
}

fn cloud(fake: &ConfluenceFake) -> ConfluenceClient {
    let auth = Auth::Basic {
        user: USER.into(),
        token: Secret::new(API_TOKEN),
    };
    ConfluenceClient::new(
        Config::new(&fake.url(), auth)
            .unwrap()
            .with_retry_policy(fast()),
    )
}

fn data_center(fake: &ConfluenceFake) -> ConfluenceClient {
    let auth = Auth::Bearer {
        token: Secret::new(PAT),
    };
    ConfluenceClient::new(
        Config::new(&fake.url(), auth)
            .unwrap()
            .with_api(Api::DataCenterV1)
            .with_retry_policy(fast()),
    )
}

/// The page body and title rendered from `manifest` for the summit, as
/// the planner renders them.
fn rendered(manifest: &Path) -> (String, String) {
    let templates = Templates::load(&root().join("templates")).unwrap();
    let sites = cycle::model::site::load_all(&root().join("sites")).unwrap();
    let release = cycle::model::release::load(manifest).unwrap();
    let rows = site_rows(&sites, &release, &BTreeMap::new());
    let summit = sites.iter().find(|s| s.site.name == "summit").unwrap();
    let ctx = SiteContext::new(summit, &release, None, rows).unwrap();
    let title = templates
        .render_line(names::CONFLUENCE_TITLE, &ctx.to_value())
        .unwrap();
    let ctx = ctx.with_page_title(title.clone()).to_value();
    let body = templates.render(names::CONFLUENCE_PAGE, &ctx).unwrap();
    (title, body)
}

fn shipped() -> PathBuf {
    root().join("releases/c0044.000.yaml")
}

fn spec(body: String) -> PageRequest {
    PageRequest {
        space: SPACE.into(),
        parent_id: PARENT_ID.into(),
        title: TITLE.into(),
        body,
        blocked_by: vec![],
    }
}

/// A Confluence Cloud fake holding the page of the shipped c0044.000
/// manifest, created through `ensure`, and a client of it.
async fn with_shipped_page() -> (ConfluenceFake, ConfluenceClient) {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    confluence::ensure(&client, &spec(rendered(&shipped()).1))
        .await
        .unwrap();
    (fake, client)
}

fn stored(fake: &ConfluenceFake) -> fake::FakePage {
    fake.page_titled(TITLE).expect("the cycle page")
}

fn writes_to(fake: &ConfluenceFake, method: &str, path: &str) -> Vec<Request> {
    fake.writes()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

#[tokio::test]
async fn creates_the_page_under_the_parent_full_width() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let (title, body) = rendered(&shipped());
    assert_eq!(title, TITLE);
    let out = confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap();

    assert_eq!(out.action, PageAction::Created);
    assert_eq!(out.version, 1);
    assert!(out.notes.is_empty(), "{:?}", out.notes);
    let page = stored(&fake);
    assert_eq!(out.id, page.id);
    assert_eq!(
        out.url,
        format!(
            "{}/wiki/spaces/LSSTCOM/pages/{}/Cycle+44+Upgrade",
            fake.url(),
            page.id
        )
    );
    assert_eq!(page.parent_id.as_deref(), Some(PARENT_ID));
    assert_eq!(page.body, Desired::parse(&body).unwrap().to_body());

    let posts = writes_to(&fake, "POST", V2_PAGES);
    assert_eq!(posts.len(), 1);
    let sent = posts[0].json();
    assert_eq!(sent["spaceId"], SPACE_ID);
    assert_eq!(sent["status"], "current");
    assert_eq!(sent["title"], TITLE);
    assert_eq!(sent["parentId"], PARENT_ID);
    assert_eq!(sent["body"]["representation"], "storage");
    assert!(
        posts[0]
            .header("authorization")
            .is_some_and(|h| h.starts_with("Basic "))
    );
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
    // The space was looked up by key, the page by space id and title first.
    let reads: Vec<String> = fake
        .requests()
        .iter()
        .take(2)
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert_eq!(reads[0], "GET /wiki/api/v2/spaces?keys=LSSTCOM");
    assert!(
        reads[1].starts_with(&format!(
            "GET /wiki/api/v2/pages?space-id={SPACE_ID}&title=Cycle+44+Upgrade"
        )),
        "{}",
        reads[1]
    );
    for key in ["content-appearance-draft", "content-appearance-published"] {
        assert_eq!(page.properties[key].1, "full-width", "{key}");
    }
    let props = writes_to(&fake, "POST", &format!("{V2_PAGES}/{}/properties", page.id));
    assert_eq!(props.len(), 2);
    assert_eq!(props[1].json()["key"], "content-appearance-published");
}

#[tokio::test]
async fn a_page_another_run_created_meanwhile_is_found_not_duplicated() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let (_, body) = rendered(&shipped());
    // Another run creates the page between this run's look and its create:
    // Confluence refuses the second page of that title.
    fake.rival_next("POST", V2_PAGES);
    let out = confluence::ensure(&client, &spec(body)).await.unwrap();

    assert_eq!(out.action, PageAction::Unchanged);
    let pages: Vec<_> = fake
        .pages()
        .into_iter()
        .filter(|p| p.title == TITLE)
        .collect();
    assert_eq!(pages.len(), 1);
    assert_eq!(out.id, pages[0].id);
    assert_eq!(pages[0].version, 1);
    // This run's create (refused), then the page read again by its title.
    assert_eq!(writes_to(&fake, "POST", V2_PAGES).len(), 1);
    let last = fake.requests().last().cloned().unwrap();
    assert!(
        last.method == "GET" && last.query.contains("title=Cycle+44+Upgrade"),
        "{last:?}"
    );
}

#[tokio::test]
async fn find_reads_absent_identical_and_differs_without_writing() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let (_, body) = rendered(&shipped());
    assert_eq!(
        confluence::find(&client, &spec(body.clone()))
            .await
            .unwrap(),
        PageState::Absent
    );
    confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap();
    let writes = fake.writes().len();

    let page = stored(&fake);
    match confluence::find(&client, &spec(body)).await.unwrap() {
        PageState::Identical(p) => assert_eq!((p.id, p.version), (page.id.clone(), 1)),
        other => panic!("expected identical, got {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("ts_xml: 27.0.0", "ts_xml: 27.0.1")],
    );
    let (_, body) = rendered(&changed);
    match confluence::find(&client, &spec(body)).await.unwrap() {
        PageState::Differs {
            page: p,
            sections,
            diff,
        } => {
            assert_eq!(p.id, page.id);
            assert_eq!(sections, ["versions"]);
            assert!(
                diff.contains("-    <tr><th>ts_xml</th><td>27.0.0</td></tr>"),
                "{diff}"
            );
            assert!(
                diff.contains("+    <tr><th>ts_xml</th><td>27.0.1</td></tr>"),
                "{diff}"
            );
        }
        other => panic!("expected differs, got {other:?}"),
    }
    assert_eq!(fake.writes().len(), writes, "find must not write");
}

#[tokio::test]
async fn update_sends_the_next_version_and_an_unchanged_page_is_not_written() {
    let (fake, client) = with_shipped_page().await;
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("ts_sal: 10.1.1", "ts_sal: 10.1.2")],
    );
    let body = rendered(&changed).1;
    let id = stored(&fake).id;
    fake.human_edit(&id, |b| format!("<p>Notes from the summit.</p>\n{b}"));
    fake.clear();

    let out = confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap();
    assert_eq!(out.action, PageAction::Updated);
    assert_eq!(out.version, 3);
    let changed: Vec<&str> = out
        .sections
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(changed, ["versions"]);
    let puts = writes_to(&fake, "PUT", &format!("{V2_PAGES}/{id}"));
    assert_eq!(puts.len(), 1);
    let sent = puts[0].json();
    assert_eq!(sent["version"]["number"], 3, "current (2) + 1");
    assert_eq!(
        sent["version"]["message"],
        "cycle: updated sections versions"
    );
    assert_eq!(sent["id"], id.as_str());
    assert_eq!(sent["status"], "current");
    assert_eq!(sent["title"], TITLE);
    assert_eq!(sent["body"]["representation"], "storage");
    let page = stored(&fake);
    assert_eq!(page.version, 3);
    assert!(page.body.starts_with("<p>Notes from the summit.</p>\n"));
    assert!(
        page.body
            .contains("<tr><th>ts_sal</th><td>10.1.2</td></tr>")
    );

    fake.clear();
    let again = confluence::ensure(&client, &spec(body)).await.unwrap();
    assert_eq!(again.action, PageAction::Unchanged);
    assert_eq!((again.id, again.version), (id, 3));
    assert!(fake.writes().is_empty(), "{:?}", fake.writes());
}

#[tokio::test]
async fn a_conflict_is_reread_merged_and_retried_once() {
    let (fake, client) = with_shipped_page().await;
    let id = stored(&fake).id;
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("kafka: 3.9.0", "kafka: 3.9.1")],
    );
    // Someone saves the page just before cycle's update arrives.
    fake.edit_before_next_update(|b| {
        after_section(b, "schedule", "\n<p>Meanwhile: dome closed.</p>")
    });
    fake.clear();

    let out = confluence::ensure(&client, &spec(rendered(&changed).1))
        .await
        .unwrap();
    assert_eq!(out.action, PageAction::Updated);
    let puts = writes_to(&fake, "PUT", &format!("{V2_PAGES}/{id}"));
    let versions: Vec<u64> = puts
        .iter()
        .map(|r| r.json()["version"]["number"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [2, 3], "stale, then after re-reading version 2");
    let page = stored(&fake);
    assert_eq!(page.version, 3);
    assert!(page.body.contains("\n<p>Meanwhile: dome closed.</p>"));
    assert!(page.body.contains("<tr><th>kafka</th><td>3.9.1</td></tr>"));

    // Two conflicts in a row are reported, quoting Confluence.
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("kafka: 3.9.0", "kafka: 4.0.0")],
    );
    fake.edit_before_next_update(|b| format!("{b}<p>one</p>"));
    fake.edit_before_next_update(|b| format!("{b}<p>two</p>"));
    let err = confluence::ensure(&client, &spec(rendered(&changed).1))
        .await
        .unwrap_err();
    assert!(matches!(err, ConfluenceError::Conflict { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("Version must be incremented on update. Current version is: 5"),
        "{err}"
    );
}

#[tokio::test]
async fn a_human_paragraph_outside_the_sections_survives_two_reruns_byte_for_byte() {
    let (fake, client) = with_shipped_page().await;
    let id = stored(&fake).id;
    fake.insert_after_section(
        &id,
        "versions",
        "\n<p>Ask <em>Tiago</em> before upgrading &amp; restarting.</p>\n<table><tbody><tr><td>x</td></tr></tbody></table>",
    );
    fake.human_edit(&id, |b| {
        format!("<h1>Cycle 44</h1>\n{b}\n<p>Last words.</p>\n")
    });
    let before = outside(&stored(&fake).body);
    assert!(before.contains("Tiago"));

    let dir = tempfile::tempdir().unwrap();
    let runs = [
        manifest_with(
            dir.path(),
            "a.yaml",
            &[("strimzi: 0.47.0", "strimzi: 0.48.0")],
        ),
        manifest_with(
            dir.path(),
            "b.yaml",
            &[("valid_as_of: 2026-02-02", "valid_as_of: 2026-02-09")],
        ),
    ];
    for manifest in &runs {
        let out = confluence::ensure(&client, &spec(rendered(manifest).1))
            .await
            .unwrap();
        assert_eq!(out.action, PageAction::Updated);
        assert_eq!(outside(&stored(&fake).body), before);
    }
    let body = stored(&fake).body;
    assert!(body.contains("<p>Valid as of 2026-02-09.</p>"));
    assert!(
        body.contains("<tr><th>strimzi</th><td>0.47.0</td></tr>"),
        "second run is c0044.000 again but for the date"
    );
    assert_eq!(stored(&fake).version, 5);
}

#[tokio::test]
async fn a_revision_section_is_written_once_in_three_runs_and_the_cycle_sections_stay() {
    let (fake, client) = with_shipped_page().await;
    let cycle_page = stored(&fake).body;
    let dir = tempfile::tempdir().unwrap();
    let revision = manifest_with(
        dir.path(),
        "c0044.001.yaml",
        &[
            (
                "revision: 0",
                "revision: 1\nrestarted_components:\n  - MTPtg\n  - ScriptQueue",
            ),
            ("ts_xml: 27.0.0", "ts_xml: 27.0.1"),
        ],
    );
    let (title, body) = rendered(&revision);
    assert_eq!(title, TITLE, "a revision uses the cycle's page");
    fake.clear();
    for run in 0..3 {
        let out = confluence::ensure(&client, &spec(body.clone()))
            .await
            .unwrap();
        let want = if run == 0 {
            PageAction::Updated
        } else {
            PageAction::Unchanged
        };
        assert_eq!(out.action, want, "run {run}");
    }
    assert_eq!(fake.writes().len(), 1, "one update in three runs");
    let page = stored(&fake).body;
    assert_eq!(page.matches("cycle:revision-1:begin").count(), 1);
    assert_eq!(page.matches("Cycle 44, Revision 1").count(), 1);
    assert!(
        page.starts_with(&cycle_page),
        "the cycle sections stay as they were"
    );
    assert!(page.contains("<tr><th>ts_xml</th><td>27.0.0</td></tr>"));
    assert!(page.contains("<tr><th>ts_xml</th><td>27.0.1</td></tr>"));
    assert!(page.contains("<li>MTPtg</li>"));

    // Revision 2 adds its own section after revision 1's.
    let second = manifest_with(
        dir.path(),
        "c0044.002.yaml",
        &[(
            "revision: 0",
            "revision: 2\nrestarted_components:\n  - ATDome",
        )],
    );
    confluence::ensure(&client, &spec(rendered(&second).1))
        .await
        .unwrap();
    let page = stored(&fake).body;
    let r1 = page.find("cycle:revision-1:begin").unwrap();
    let r2 = page.find("cycle:revision-2:begin").unwrap();
    assert!(r1 < r2);
    assert_eq!(page.matches("cycle:revision-1:begin").count(), 1);
}

/// Fails the test unless `body` (wrapped in a root element) is well-formed XML.
fn assert_well_formed(body: &str) {
    let doc = format!("<root>{body}</root>");
    let mut reader = quick_xml::Reader::from_str(&doc);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at byte {}: {e}\n{doc}",
                reader.buffer_position()
            ),
        }
    }
}

#[tokio::test]
async fn hostile_manifest_text_is_escaped_and_the_body_is_well_formed() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let dir = tempfile::tempdir().unwrap();
    let hostile = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[
            (
                "operational_changes:\n  - ",
                "operational_changes:\n  - \"<script>alert('x')</script> R&D ]]> <![CDATA[ <ac:structured-macro ac:name=\\\"anchor\\\">\"\n  - ",
            ),
            (
                "new_cscs: []",
                "new_cscs:\n  - name: \"Laser & <b>friends</b>\"\n    description: \"]]><p>\"",
            ),
        ],
    );
    let (_, body) = rendered(&hostile);
    confluence::ensure(&client, &spec(body)).await.unwrap();
    let page = stored(&fake).body;
    assert!(!page.contains("<script>"), "{page}");
    assert!(!page.contains("]]>"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
    assert!(page.contains("R&amp;D ]]&gt; &lt;![CDATA["), "{page}");
    assert_eq!(
        page.matches("ac:name=\"anchor\"").count(),
        10,
        "5 sections, 2 anchors each"
    );
    assert_well_formed(&page);
    // And a rerun still finds exactly its own sections.
    let (_, body) = rendered(&hostile);
    let out = confluence::ensure(&client, &spec(body)).await.unwrap();
    assert_eq!(out.action, PageAction::Unchanged);
}

#[test]
fn page_body_for_the_shipped_c0044_manifest() {
    let (title, body) = rendered(&shipped());
    assert_eq!(title, TITLE);
    let page = Desired::parse(&body).unwrap().to_body();
    assert_well_formed(&page);
    insta::assert_snapshot!(page);
}

fn manifest_versions() -> BTreeMap<String, String> {
    // c0044.000.yaml's versions with ts_idl and python_confluent_kafka left out.
    [
        ("librdkafka", "2.8.0"),
        ("ts_xml", "27.0.0"),
        ("ts_sal", "10.0.0"),
        ("ts_salobj", "8.2.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn cycle_env_versions_fill_the_manifest_and_mismatches_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = create_cycle_build_remote(tmp.path());
    let cache = RepoCache::new(tmp.path().join("cache"));
    let c44 = CycleId::new(44, 0).unwrap();
    let source = Source {
        url: support::file_url(&bare),
        reference: None,
    };

    // Offline before any clone: the manifest's versions, said so.
    let offline = cycle_build::observe(&cache, &source, None).unwrap();
    assert_eq!(offline, Observed::Offline);
    let r = cycle_build::reconcile(&offline, c44, &manifest_versions());
    assert_eq!(r.versions, manifest_versions());
    assert!(r.notes[0].contains("offline"), "{:?}", r.notes);

    // Online, default branch: main is at revision 7.
    let at_main = cycle_build::observe(&cache, &source, Some(&Credentials::none())).unwrap();
    let r = cycle_build::reconcile(&at_main, c44, &manifest_versions());
    assert_eq!(r.versions["ts_idl"], "4.7.1", "filled from cycle.env");
    assert_eq!(r.versions["python_confluent_kafka"], "2.12.2");
    assert_eq!(
        r.versions["ts_xml"], "27.0.0",
        "the manifest's own value stays"
    );
    let messages: Vec<String> = r.findings.iter().map(ToString::to_string).collect();
    assert!(
        messages[0].starts_with("ts_cycle_build cycle/cycle.env at main (")
            && messages[0]
                .ends_with(") is for c0044.007, but the release being prepared is c0044.000"),
        "{messages:?}"
    );
    let packages: Vec<&str> = r
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Version { package, .. } => Some(package.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(packages, ["ts_xml", "ts_sal", "ts_salobj", "librdkafka"]);
    assert!(
        messages.contains(&format!(
            "ts_xml is 27.0.0 in the release manifest but 27.1.1 in {}",
            match &at_main {
                Observed::Read(s) => s.describe(),
                Observed::Offline => unreachable!(),
            }
        )),
        "{messages:?}"
    );

    // At the cycle's tag (fetched on demand), the cycle matches and ts_xml agrees.
    let tag = Source {
        reference: Some("c0044.000".into()),
        ..source.clone()
    };
    let at_tag = cycle_build::observe(&cache, &tag, Some(&Credentials::none())).unwrap();
    let r = cycle_build::reconcile(&at_tag, c44, &manifest_versions());
    let packages: Vec<&str> = r
        .findings
        .iter()
        .map(|f| match f {
            Finding::Version { package, .. } => package.as_str(),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(packages, ["ts_sal", "ts_salobj", "librdkafka"]);

    // Offline with the clone cached: read, with a note; unknown refs are errors.
    let cached = cycle_build::observe(&cache, &tag, None).unwrap();
    let r = cycle_build::reconcile(&cached, c44, &manifest_versions());
    assert!(
        r.notes.iter().any(|n| n.contains("cached clone")),
        "{:?}",
        r.notes
    );
    let nope = Source {
        reference: Some("c0099.000".into()),
        ..source
    };
    let err = cycle_build::observe(&cache, &nope, Some(&Credentials::none())).unwrap_err();
    assert!(
        err.to_string()
            .contains("no branch, tag or commit named \"c0099.000\""),
        "{err}"
    );
}

#[tokio::test]
async fn credentials_never_appear_in_errors() {
    let fake = ConfluenceFake::start();
    let (_, body) = rendered(&shipped());
    let wrong = Config::new(
        &fake.url(),
        Auth::Basic {
            user: USER.into(),
            token: Secret::new("not-the-token-42"),
        },
    )
    .unwrap()
    .with_retry_policy(fast());
    let client = ConfluenceClient::new(wrong);
    let err = confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ConfluenceError::Auth { status: 401, .. }),
        "{msg}"
    );
    assert!(
        msg.contains("CONFLUENCE_USER and CONFLUENCE_API_TOKEN"),
        "{msg}"
    );
    assert!(msg.contains("Client must be authenticated"), "{msg}");
    assert!(!msg.contains("not-the-token-42"), "{msg}");
    assert!(!format!("{client:?}").contains("not-the-token-42"));

    // A server that echoes the token: scrubbed, after the retries.
    let client = cloud(&fake);
    for _ in 0..4 {
        fake.fail_next(
            "GET",
            "/wiki/api/v2/spaces",
            Reply::json(
                500,
                serde_json::json!({"message": format!("bad header Basic {API_TOKEN}")}),
            ),
        );
    }
    let err = confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfluenceError::Unavailable { .. }), "{msg}");
    assert!(
        msg.contains("HTTP 500: bad header Basic <redacted>"),
        "{msg}"
    );
    assert!(!msg.contains(API_TOKEN), "{msg}");
    assert!(!format!("{err:?}").contains(API_TOKEN));

    // Data Center bearer token refused with 403.
    fake.fail_next(
        "GET",
        "/rest/api/content",
        Reply::json(
            403,
            serde_json::json!({"statusCode": 403, "message": "Forbidden"}),
        ),
    );
    let err = confluence::find(&data_center(&fake), &spec(body))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 403: Forbidden") && msg.contains("CONFLUENCE_PAT"),
        "{msg}"
    );
    assert!(!msg.contains(PAT), "{msg}");
}

#[test]
fn missing_environment_names_the_variables() {
    let err = Config::from_lookup(|_| None).unwrap_err().to_string();
    for var in [
        "CONFLUENCE_URL",
        "CONFLUENCE_USER",
        "CONFLUENCE_API_TOKEN",
        "CONFLUENCE_PAT",
    ] {
        assert!(err.contains(var), "{var}: {err}");
    }
    let partial = Config::from_lookup(|name| {
        (name == "CONFLUENCE_URL").then(|| "https://rubinobs.atlassian.net".to_string())
    })
    .unwrap_err()
    .to_string();
    assert!(!partial.contains("set CONFLUENCE_URL"), "{partial}");
    assert!(
        partial.contains("set CONFLUENCE_USER and CONFLUENCE_API_TOKEN"),
        "{partial}"
    );
    let dc = Config::from_lookup(|name| match name {
        "CONFLUENCE_URL" => Some("https://confluence.example.org".into()),
        "CONFLUENCE_PAT" => Some("p".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(
        dc.api(),
        Api::CloudV2,
        "the API is configuration, not guessed"
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let (_, body) = rendered(&shipped());
    fake.fail_next(
        "GET",
        "/wiki/api/v2/spaces",
        Reply::json(503, serde_json::json!({})),
    );
    fake.fail_next(
        "GET",
        V2_PAGES,
        Reply::json(429, serde_json::json!({"message": "Rate limited"})).header("Retry-After", "1"),
    );
    let out = confluence::ensure(&client, &spec(body)).await.unwrap();
    assert_eq!(out.action, PageAction::Created);
    let finds: Vec<Request> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == V2_PAGES)
        .collect();
    assert!(finds.len() >= 2);
    let waited = finds[1].at - finds[0].at;
    assert!(
        waited >= Duration::from_millis(950),
        "Retry-After honoured: {waited:?}"
    );
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.path == "/wiki/api/v2/spaces")
            .count(),
        2
    );

    // A wait longer than the policy allows is reported, not waited out.
    fake.fail_next(
        "GET",
        V2_PAGES,
        Reply::json(429, serde_json::json!({})).header("Retry-After", "3600"),
    );
    let err = confluence::find(&client, &spec(rendered(&shipped()).1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConfluenceError::RateLimited { seconds: 3600, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_lost_create_response_does_not_create_twice() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    fake.lose_next_response("POST", V2_PAGES);
    let out = confluence::ensure(&client, &spec(rendered(&shipped()).1))
        .await
        .unwrap();
    assert_eq!(out.action, PageAction::Created);
    assert_eq!(writes_to(&fake, "POST", V2_PAGES).len(), 1);
    assert_eq!(fake.pages().iter().filter(|p| p.title == TITLE).count(), 1);
    assert_eq!(out.id, stored(&fake).id);

    // A lost update response: the page is re-read, not updated twice.
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("kafka: 3.9.0", "kafka: 3.9.2")],
    );
    fake.lose_next_response("PUT", V2_PAGES);
    let out = confluence::ensure(&client, &spec(rendered(&changed).1))
        .await
        .unwrap();
    assert_eq!((out.action, out.version), (PageAction::Updated, 2));
    assert_eq!(
        writes_to(&fake, "PUT", &format!("{V2_PAGES}/{}", out.id)).len(),
        1
    );
}

#[tokio::test]
async fn data_center_creates_updates_and_keeps_human_text() {
    let fake = ConfluenceFake::start();
    let client = data_center(&fake);
    let api: Arc<dyn ConfluenceApi> = Arc::new(client);
    let (_, body) = rendered(&shipped());
    let out = confluence::ensure(api.as_ref(), &spec(body)).await.unwrap();
    assert_eq!(out.action, PageAction::Created);
    assert_eq!(
        out.url,
        format!("{}/pages/viewpage.action?pageId={}", fake.url(), out.id)
    );
    assert_eq!(
        out.notes.len(),
        1,
        "no appearance on Data Center: {:?}",
        out.notes
    );
    let posts = writes_to(&fake, "POST", "/rest/api/content");
    assert_eq!(posts.len(), 1);
    let sent = posts[0].json();
    assert_eq!(sent["type"], "page");
    assert_eq!(sent["space"]["key"], SPACE);
    assert_eq!(sent["ancestors"][0]["id"], PARENT_ID);
    assert_eq!(sent["body"]["storage"]["representation"], "storage");
    assert_eq!(
        posts[0].header("authorization"),
        Some(format!("Bearer {PAT}").as_str())
    );
    let find = &fake.requests()[0];
    assert_eq!(find.param("spaceKey").as_deref(), Some(SPACE));
    assert_eq!(
        find.param("expand").as_deref(),
        Some("body.storage,version")
    );

    fake.human_edit(&out.id, |b| format!("{b}\n<p>Human.</p>"));
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("ts_idl: 4.7.1", "ts_idl: 4.7.2")],
    );
    fake.edit_before_next_update(|b| format!("<p>Concurrent.</p>{b}"));
    let out = confluence::ensure(api.as_ref(), &spec(rendered(&changed).1))
        .await
        .unwrap();
    assert_eq!((out.action, out.version), (PageAction::Updated, 4));
    let puts = writes_to(&fake, "PUT", &format!("/rest/api/content/{}", out.id));
    let versions: Vec<u64> = puts
        .iter()
        .map(|r| r.json()["version"]["number"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 4]);
    let page = stored(&fake).body;
    assert!(page.starts_with("<p>Concurrent.</p>") && page.ends_with("\n<p>Human.</p>"));
    let again = confluence::ensure(api.as_ref(), &spec(rendered(&changed).1))
        .await
        .unwrap();
    assert_eq!(again.action, PageAction::Unchanged);
}

#[tokio::test]
async fn unknown_spaces_and_broken_anchors_are_clear_errors() {
    let fake = ConfluenceFake::start();
    let client = cloud(&fake);
    let (_, body) = rendered(&shipped());
    let mut other = spec(body.clone());
    other.space = "NOPE".into();
    let err = confluence::ensure(&client, &other).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Confluence space NOPE does not exist at {}/, or the account cannot see it",
            fake.url()
        )
    );

    confluence::ensure(&client, &spec(body.clone()))
        .await
        .unwrap();
    let id = stored(&fake).id;
    // Someone deleted the end anchor of the versions section.
    fake.human_edit(&id, |b| {
        b.replace(
            "<p><ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">cycle:versions:end</ac:parameter></ac:structured-macro></p>",
            "",
        )
    });
    fake.clear();
    let err = confluence::ensure(&client, &spec(body)).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "cannot update page \"Cycle 44 Upgrade\": section `versions` has a begin marker"
        ),
        "{msg}"
    );
    assert!(fake.writes().is_empty());

    // A parent that does not exist: Confluence's own words.
    let mut orphan = spec(rendered(&shipped()).1);
    orphan.title = "Cycle 45 Upgrade".into();
    orphan.parent_id = "1".into();
    let err = confluence::ensure(&client, &orphan).await.unwrap_err();
    assert!(
        matches!(err, ConfluenceError::Rejected { status: 404, .. })
            && err
                .to_string()
                .contains("The parent page could not be found"),
        "{err}"
    );
}

#[test]
fn fake_pages_start_with_the_parent() {
    let fake = ConfluenceFake::start();
    assert_eq!(fake.pages().len(), 1);
    assert_eq!(fake.pages()[0].id, PARENT_ID);
    let id = fake.add_page(SPACE, PARENT_ID, "Other", "<p>x</p>");
    assert_eq!(fake.page_titled("Other").unwrap().id, id);
    assert_ne!(fake.add_space("TST"), SPACE_ID);
}
