//! The CAP release end to end (vanward's `create_cap_release`): the real
//! binary against the Jira fake, with a manifest asking for it. Two runs
//! leave exactly one version `ts_xml 27.0.0` ("for Cycle 44") and one
//! catch-all story with that fix version, component `None` and the release
//! manager as assignee.

mod support;

use cycle::services::http::Secret;
use cycle::services::jira::{ApiVersion, JiraApi, JiraAuth, JiraClient, JiraConfig};
use serde_json::{Value, json};
use support::apply_world::ApplyWorld;
use support::jira_fake;
use support::read_repo_file;

const STORY: &str = "Catch all ticket for OSW work for XML 27.0.0";

/// The shipped Cycle 44 manifest with a `cap_release` section, written in
/// the world's directory; its path.
fn manifest(world: &ApplyWorld) -> String {
    let text = format!(
        "{}\ncap_release:\n  assignee: mreuter\n",
        read_repo_file("releases/c0044.000.yaml")
    );
    let path = world.tmp.path().join("c0044.000.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// CAP's Story screen: the common fields, components (`None` among them)
/// and fix versions.
fn cap_screen(world: &ApplyWorld) {
    let mut fields = jira_fake::common_fields();
    fields.push(jira_fake::components_field(&["None", "Documentation"]));
    fields.push(jira_fake::fix_versions_field());
    world.jira.set_screen("CAP", "Story", fields);
}

fn stories(world: &ApplyWorld) -> Vec<jira_fake::FakeIssue> {
    world
        .jira
        .issues()
        .into_iter()
        .filter(|i| i.project == "CAP" && i.summary == STORY)
        .collect()
}

#[test]
fn two_runs_leave_one_version_and_one_catch_all_story() {
    let world = ApplyWorld::new();
    cap_screen(&world);
    let release = manifest(&world);
    let args = |last: &'static str| {
        vec![
            "prepare",
            "--all",
            "--release",
            &release,
            "--only",
            "jira",
            last,
        ]
    };

    let dry = world.run(&args("--dry-run"));
    let text = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert_eq!(dry.status.code(), Some(2), "{text}");
    assert!(text.contains("cycle:cap-version"), "{text}");
    assert!(
        text.contains("create Jira version \"ts_xml 27.0.0\" in CAP (for Cycle 44)"),
        "{text}"
    );
    assert!(world.jira.versions("CAP").is_empty(), "a dry run wrote");

    for run in 0..2 {
        let out = world.run(&args("--yes"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {run}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let versions = world.jira.versions("CAP");
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0]["name"], "ts_xml 27.0.0");
    assert_eq!(versions[0]["description"], "for Cycle 44");
    let stories = stories(&world);
    assert_eq!(stories.len(), 1, "{stories:?}");
    let story = &stories[0];
    let fix: Vec<&Value> = story.fields["fixVersions"]
        .as_array()
        .map(|a| a.iter().map(|v| &v["name"]).collect())
        .unwrap_or_default();
    assert_eq!(fix, [&json!("ts_xml 27.0.0")]);
    assert_eq!(
        story.assignee,
        json!({ "accountId": world.jira.account_id("mreuter") })
    );
    assert_eq!(story.components, ["None"]);
    // The story comes after its version, and the journal has both.
    let journal = world.journal();
    assert_eq!(journal["steps"]["cycle:cap-version"]["status"], "FINISHED");
    assert_eq!(journal["steps"]["cycle:cap-story"]["status"], "FINISHED");

    // Nothing is left to apply.
    let dry = world.run(&args("--dry-run"));
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
}

/// The links of `key` as (type, other, outward), sorted.
async fn links_of(key: &str, world: &ApplyWorld) -> Vec<(String, String, bool)> {
    let mut links: Vec<(String, String, bool)> = client(world)
        .issue_links(key)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.type_name, l.other, l.outward))
        .collect();
    links.sort();
    links
}

fn client(world: &ApplyWorld) -> JiraClient {
    let auth = JiraAuth::Basic {
        user: jira_fake::USER.into(),
        token: Secret::new(jira_fake::TOKEN),
    };
    JiraClient::new(JiraConfig::new(&world.jira.url(), auth, ApiVersion::V3).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revision_moves_the_bucket_links_except_the_kept_ones_once() {
    let world = ApplyWorld::new();
    cap_screen(&world);
    let api = client(&world);
    let bucket = world.jira.add_issue(
        "CAP",
        "Story",
        "Catch all ticket for OSW work for XML 26.0.0",
    );
    let work = world.jira.add_issue("OSW", "Story", "Fix the rotator");
    let other = world.jira.add_issue("OSW", "Story", "Tune the dome");
    let kept = world.jira.add_issue("OSW", "Story", "Kept in the revision");
    api.create_link("Blocks", &bucket, &work).await.unwrap();
    api.create_link("Relates", &other, &bucket).await.unwrap();
    api.create_link("Relates", &kept, &bucket).await.unwrap();

    let text = format!(
        "{}\ncap_release:\n  assignee: mreuter\n  move_links_from: {bucket}\n  keep: [{kept}]\n",
        read_repo_file("releases/c0044.000.yaml")
    );
    let path = world.tmp.path().join("c0044.000.yaml");
    std::fs::write(&path, text).unwrap();
    let release = path.to_string_lossy().into_owned();
    let world = std::sync::Arc::new(world);
    for run in 0..2 {
        let w = world.clone();
        let release = release.clone();
        let out = tokio::task::spawn_blocking(move || {
            w.run(&[
                "prepare",
                "--all",
                "--release",
                &release,
                "--only",
                "jira",
                "--yes",
            ])
        })
        .await
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "run {run}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let story = stories(&world).pop().expect("the story").key;
    assert_eq!(
        links_of(&story, &world).await,
        [
            ("Blocks".to_string(), work.clone(), true),
            ("Relates".to_string(), other.clone(), false),
        ]
    );
    assert_eq!(
        links_of(&bucket, &world).await,
        [("Relates".to_string(), kept.clone(), false)]
    );
    // Nothing is left to apply.
    let dry = world.run(&[
        "prepare",
        "--all",
        "--release",
        &release,
        "--only",
        "jira",
        "--dry-run",
    ]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stdout)
    );
}

/// `cycle doctor` checks the story against CAP's create screen: a missing
/// component is one failure naming it, before anything is written.
#[test]
fn doctor_checks_the_catch_all_storys_component() {
    let world = ApplyWorld::new();
    let mut fields = jira_fake::common_fields();
    fields.push(jira_fake::components_field(&["Documentation"]));
    fields.push(jira_fake::fix_versions_field());
    world.jira.set_screen("CAP", "Story", fields);
    let release = manifest(&world);
    let out = world.run(&["doctor", "--all", "--release", &release]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_ne!(out.status.code(), Some(0), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("cycle:cap-story") && l.contains("None"))
        .unwrap_or_else(|| panic!("no finding of the component in\n{text}"));
    assert!(line.contains("not allowed"), "{line}");
    assert!(world.jira.versions("CAP").is_empty());
    assert!(stories(&world).is_empty());
}

/// `cycle doctor` proves the user may create the version in CAP (Jira's
/// `ADMINISTER_PROJECTS`), asking `mypermissions` once.
#[test]
fn doctor_checks_the_permission_to_create_the_version() {
    let world = ApplyWorld::new();
    cap_screen(&world);
    let release = manifest(&world);
    let find = |text: &str| {
        text.lines()
            .find(|l| l.contains("cycle:cap-version: CAP versions"))
            .unwrap_or_else(|| panic!("no version finding in\n{text}"))
            .to_string()
    };
    let out = world.run(&["doctor", "--all", "--release", &release]);
    let line = find(&String::from_utf8_lossy(&out.stdout));
    assert!(
        line.contains("may create version \"ts_xml 27.0.0\""),
        "{line}"
    );
    let asked: Vec<_> = world
        .jira
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/mypermissions"))
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].param("projectKey").as_deref(), Some("CAP"));
    assert_eq!(
        asked[0].param("permissions").as_deref(),
        Some("ADMINISTER_PROJECTS")
    );

    world.jira.set_project_admin("CAP", false);
    let out = world.run(&["doctor", "--all", "--release", &release]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = find(&text);
    assert!(line.contains("✗"), "{line}");
    assert!(line.contains("may not create versions in CAP"), "{line}");
    assert!(text.contains("Administer Projects"), "{text}");
    assert!(world.jira.versions("CAP").is_empty());
}
