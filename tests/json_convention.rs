//! Every JSON document `cycle` prints follows one convention
//! (`docs/json.md`): `"schema_version"` then `"kind"` first, the cycle and
//! revision as numbers with the tag and label beside them, and stdout
//! exactly one document. Each command runs at binary level against every
//! service's fake (`tests/support/full_world.rs`).

mod support;

use serde_json::Value;
use support::full_world::FullWorld;
use support::run::texts;

/// `cycle ARGS` in `world`: the exit code and stdout parsed as the one JSON
/// document, after checking its envelope is `schema_version` then `kind`.
fn document(world: &FullWorld, args: &[&str], kind: &str, version: u64) -> (i32, Value) {
    let out = world.run(args);
    let (stdout, stderr) = texts(&out);
    let head = format!("{{\n  \"schema_version\": {version},\n  \"kind\": \"{kind}\",\n");
    assert!(
        stdout.starts_with(&head),
        "{args:?}: the envelope first\n{stdout}\n{stderr}"
    );
    for field in ["schema_version", "kind"] {
        assert_eq!(
            stdout.matches(&format!("\n  \"{field}\":")).count(),
            1,
            "{args:?}: one {field}\n{stdout}"
        );
    }
    let doc: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}\n{stdout}"));
    assert_eq!(doc["schema_version"], version, "{args:?}");
    assert_eq!(doc["kind"], kind, "{args:?}");
    (out.status.code().unwrap_or(-1), doc)
}

/// The cycle as every document names it: numbers, the tag, the label.
fn names_cycle_44(doc: &Value) {
    assert_eq!(doc["cycle"], 44, "{doc:#}");
    assert!(doc["cycle"].is_u64(), "the cycle is a number: {doc:#}");
    assert_eq!(doc["revision"], 0, "{doc:#}");
    assert!(
        doc["revision"].is_u64(),
        "the revision is a number: {doc:#}"
    );
    assert_eq!(doc["tag"], "c0044.000", "{doc:#}");
    assert_eq!(doc["label"], "Cycle 44", "{doc:#}");
}

/// Every finding of `findings` has the one finding shape of `docs/json.md`,
/// from `source`.
fn one_finding_shape(findings: &Value, source: &str) {
    let findings = findings.as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "check", "fix", "found", "service", "site", "source", "status", "subject"
            ],
            "{f:#}"
        );
        assert_eq!(f["source"], source, "{f:#}");
        assert!(
            ["ok", "fail", "warn", "skipped"].contains(&f["status"].as_str().unwrap()),
            "{f:#}"
        );
        if source == "check" {
            assert!(f["service"].is_null() && f["site"].is_null(), "{f:#}");
            assert!(f["subject"].is_string(), "{f:#}");
        } else {
            assert!(f["service"].is_string() && f["subject"].is_null(), "{f:#}");
        }
    }
}

#[test]
fn every_document_has_the_envelope_and_the_cycle_as_numbers() {
    let world = FullWorld::new();
    let plan_file = world.dirs.path().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();

    let (code, doctor) = document(
        &world,
        &["doctor", "--all", "--cycle", "44", "--json"],
        "doctor",
        1,
    );
    assert_eq!(code, 0, "{doctor:#}");
    names_cycle_44(&doctor);
    assert_eq!(doctor["ok"], true);
    assert_eq!(doctor["sites"], serde_json::json!(["bts", "summit", "tts"]));
    assert!(doctor["counts"]["ok"].as_u64().unwrap() > 0, "{doctor:#}");
    one_finding_shape(&doctor["findings"], "doctor");

    let (code, plan) = document(
        &world,
        &[
            "prepare",
            "--all",
            "--cycle",
            "44",
            "--cycle-build-ref={{ full_tag }}",
            "--dry-run",
            "--json",
            "--out",
            plan_file,
        ],
        "plan",
        4,
    );
    assert_eq!(code, 2, "steps to apply: {plan:#}");
    names_cycle_44(&plan);
    assert!(plan["summary"]["to_apply"].as_u64().unwrap() > 0);
    one_finding_shape(&plan["preflight"]["findings"], "doctor");

    let (code, apply) = document(&world, &["apply", plan_file, "--yes", "--json"], "apply", 1);
    assert_eq!(code, 0, "{apply:#}");
    names_cycle_44(&apply);
    assert_eq!(apply["end"], "complete", "{apply:#}");
    let rows = apply["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["id"] == "summit:jira" && r["action"] == "created"),
        "{apply:#}"
    );

    // A second run through `prepare`: the same document, nothing created.
    let (code, again) = document(
        &world,
        &[
            "prepare",
            "--all",
            "--cycle",
            "44",
            "--cycle-build-ref={{ full_tag }}",
            "--yes",
            "--json",
        ],
        "apply",
        1,
    );
    assert_eq!(code, 0, "{again:#}");
    names_cycle_44(&again);
    assert!(
        again["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] != "created"),
        "{again:#}"
    );

    let (code, status) = document(
        &world,
        &["status", "--all", "--cycle", "44", "--json"],
        "status",
        1,
    );
    assert_eq!(code, 0);
    names_cycle_44(&status);
    let summit = &status["groups"][1];
    assert_eq!(summit["site"], "summit", "{status:#}");
    assert_eq!(summit["steps"][0]["id"], "summit:jira");
    assert_eq!(summit["steps"][0]["status"], "FINISHED");

    for args in [
        ["check", "--cycle", "44", "--offline", "--json"],
        ["check", "--cycle", "44", "--offline", "--format=json"],
    ] {
        let (code, check) = document(&world, &args, "check", 2);
        assert_eq!(code, 1, "offline, nothing verified is not ready: {check:#}");
        names_cycle_44(&check);
        assert_eq!(check["ready"], false);
        assert!(
            check["verdict"].as_str().unwrap().starts_with("not "),
            "{check:#}"
        );
        assert!(
            check["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["status"] == "skipped"),
            "{check:#}"
        );
        one_finding_shape(&check["findings"], "check");
    }
}
