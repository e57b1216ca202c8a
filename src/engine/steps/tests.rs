//! Planning through the registry: every kind planned from the shipped
//! site files, release and templates.

use super::registry::build;
use crate::edit::repo::FileChange;
use crate::model::release::LoadedRelease;
use crate::model::site::{FieldSpec, LoadedSite, WindowEdge};
use crate::plan::*;
use crate::render::Templates;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Shipped {
    sites: Vec<LoadedSite>,
    release: LoadedRelease,
    templates: Templates,
}

fn shipped() -> Shipped {
    Shipped {
        sites: crate::model::site::load_all(&root().join("sites")).unwrap(),
        release: crate::model::release::load(&root().join("releases/c0044.000.yaml")).unwrap(),
        templates: Templates::load(&root().join("templates")).unwrap(),
    }
}

fn plan_for(s: &Shipped, site: &str, observed: &Observed) -> Plan {
    let chosen: Vec<&LoadedSite> = s.sites.iter().filter(|l| l.site.name == site).collect();
    build(&s.release, &chosen, &s.sites, &s.templates, observed).unwrap()
}

#[test]
fn the_page_announcement_links_the_page_with_its_url_whole() {
    let s = shipped();
    let url = "https://lsst.example.org/wiki/spaces/LSST_COM/pages/7/Cycle+44+Upgrade";
    let mut observed = Observed::default();
    observed.seen.insert(
        StepId::Page,
        Seen {
            action: Action::None,
            note: String::new(),
            detail: vec![],
            link: Some(url.into()),
            waiting_on: None,
            basis: None,
        },
    );
    let plan = plan_for(&s, "summit", &observed);
    let id: StepId = "summit:slack:page_ready".parse().unwrap();
    match &plan.step(&id).unwrap().spec {
        StepSpec::Message(request) => assert!(
            request.text.contains(&format!("<{url}|Cycle 44 Upgrade>")),
            "{}",
            request.text
        ),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn summit_plan_walks_the_checklist_in_order() {
    let s = shipped();
    let plan = plan_for(&s, "summit", &Observed::default());
    assert_eq!(plan.tag, "c0044.000");
    let steps = &plan.sites[0].steps;
    let items: Vec<u8> = steps.iter().map(|s| s.checklist_item).collect();
    assert_eq!(items, [1, 1, 2, 3, 4, 5, 5, 5, 6, 6, 6]);
    let ids: Vec<String> = steps.iter().map(|s| s.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "summit:jira",
            "summit:calendar",
            "summit:config:lsst-sqre/phalanx",
            "summit:build-team",
            "summit:slack:page_ready",
            "summit:slack:day_before",
            "summit:slack:hour_before",
            "summit:slack:start",
            "summit:pr:lsst-sqre/phalanx",
            "summit:review-notice:lsst-sqre/phalanx",
            "summit:nublado-sync",
        ]
    );
    assert_eq!(steps[3].action, Action::Manual);
    assert!(plan.has_changes());
    match &steps[0].changes[0] {
        Change::CreateIssue(request) => {
            assert_eq!(
                request.summary,
                "Ready summit deployment configuration for Cycle 44"
            );
            assert_eq!(
                request.fields["customfield_10056"],
                serde_json::json!({"value": "Deployment"})
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    // The page is one per cycle, after every site's ticket.
    let page: Vec<&Step> = plan.cycle_steps.iter().collect();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, StepId::Page);
    assert_eq!(
        page[0].depends_on,
        [StepId::Ticket {
            site: "summit".into()
        }]
    );
    // The page is announced after the page step and the build team's mark.
    assert_eq!(
        steps[4].depends_on,
        [
            StepId::Page,
            StepId::Manual {
                site: "summit".into(),
                step: ManualStep::BuildTeam
            }
        ]
    );
    // Dependencies are typed ids: the PR waits for its site's ticket
    // and its own repository's branch.
    assert_eq!(
        steps[8].depends_on,
        [
            StepId::Ticket {
                site: "summit".into()
            },
            StepId::Config {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into()
            }
        ]
    );
}

#[test]
fn the_page_is_planned_once_for_all_sites() {
    let s = shipped();
    let chosen: Vec<&LoadedSite> = s.sites.iter().collect();
    let plan = build(
        &s.release,
        &chosen,
        &s.sites,
        &s.templates,
        &Observed::default(),
    )
    .unwrap();
    assert_eq!(plan.steps().filter(|s| s.kind == StepKind::Page).count(), 1);
    assert_eq!(plan.cycle_steps[0].depends_on.len(), 3);
    // It lists every site's PR, so it goes after them (softly).
    let pulls: Vec<String> = plan.cycle_steps[0]
        .shows
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        pulls,
        [
            "bts:pr:lsst-sqre/phalanx",
            "summit:pr:lsst-sqre/phalanx",
            "tts:pr:lsst-sqre/phalanx"
        ]
    );
    // Only the summit has a calendar ticket.
    assert_eq!(
        plan.steps()
            .filter(|s| s.kind == StepKind::Calendar)
            .count(),
        1
    );
}

#[test]
fn the_calendar_ticket_carries_the_window_and_is_kept_in_sync() {
    let s = shipped();
    let plan = plan_for(&s, "summit", &Observed::default());
    let cal = &plan.sites[0].steps[1];
    let StepSpec::Ticket(request) = &cal.spec else {
        panic!("{:?}", cal.spec)
    };
    assert_eq!(request.project, "SUMMIT");
    assert_eq!(request.summary, "Control System Cycle 44 Upgrade");
    assert_eq!(request.labels, ["SoftwareRelease"]);
    assert_eq!(request.priority.as_deref(), Some("SUMMIT-1"));
    assert_eq!(
        request.components,
        ["AuxTel", "ComCam", "SIT-COM", "Software Updates"]
    );
    assert_eq!(request.assignee.as_deref(), Some("mreuter"));
    assert_eq!(
        request.description,
        "Upgrade of Control Software (Cycle 44) and XML (27.0.0) on the summit.\n\n\
         To occur at 09:00 CLST - all systems will be unusable at this time.\n"
    );
    // Date fields: the deployment's day in the site's zone.
    assert_eq!(request.fields["customfield_10059"], "2026-02-24");
    assert_eq!(request.fields["customfield_10061"], "2026-02-24");
    assert_eq!(
        request.fields["customfield_10141"],
        serde_json::json!([{ "value": "Software" }])
    );
    assert_eq!(
        request.users["customfield_10151"],
        ["mreuter", "rbovill", "aibsen"]
    );
    assert_eq!(
        request.kept_in_sync,
        ["customfield_10059", "customfield_10061"]
    );
    let mut observed = Observed::default();
    observed.calendar.insert("summit".into(), "SUMMIT-7".into());
    let plan = plan_for(&s, "summit", &observed);
    assert_eq!(plan.sites[0].steps[1].action, Action::Update);
}

#[test]
fn date_time_and_plain_fields_are_sent_as_jira_takes_them() {
    let mut s = shipped();
    let summit = s
        .sites
        .iter_mut()
        .find(|l| l.site.name == "summit")
        .unwrap();
    let cal = summit.site.calendar.as_mut().unwrap();
    cal.fields.insert(
        "customfield_10059".into(),
        FieldSpec::DateTime {
            at: WindowEdge::Start,
        },
    );
    cal.fields.insert(
        "customfield_10061".into(),
        FieldSpec::DateTime {
            at: WindowEdge::End,
        },
    );
    cal.fields.insert(
        "customfield_10200".into(),
        FieldSpec::Plain {
            value: serde_json::json!(3),
        },
    );
    let plan = plan_for(&s, "summit", &Observed::default());
    let StepSpec::Ticket(request) = &plan.sites[0].steps[1].spec else {
        panic!()
    };
    // Chile's summer time (-03) on 24 February; the window is 8 hours.
    assert_eq!(
        request.fields["customfield_10059"],
        "2026-02-24T09:00:00.000-0300"
    );
    assert_eq!(
        request.fields["customfield_10061"],
        "2026-02-24T17:00:00.000-0300"
    );
    assert_eq!(request.fields["customfield_10200"], 3);
    assert!(
        !request
            .kept_in_sync
            .contains(&"customfield_10200".to_string())
    );
}

#[test]
fn a_revision_files_the_incremental_calendar_ticket() {
    let mut s = shipped();
    s.release = crate::model::release::load(&root().join("releases/c0044.003.yaml")).unwrap();
    let plan = plan_for(&s, "summit", &Observed::default());
    let StepSpec::Ticket(request) = &plan.sites[0].steps[1].spec else {
        panic!()
    };
    assert_eq!(
        request.summary,
        "Incremental XML Upgrade (Cycle 44 Revision 3)"
    );
    assert_eq!(
        request.description,
        "Upgrade of ScriptQueues, MTScheduler, ATScheduler and OCSScheduler on the summit.\n\n\
         To occur at 09:00 CLT.\n"
    );
}

#[test]
fn a_known_ticket_names_the_branch_and_skips_the_jira_step() {
    let s = shipped();
    let mut observed = Observed::default();
    observed.tickets.insert("summit".into(), "OSW-2010".into());
    let plan = plan_for(&s, "summit", &observed);
    let site = &plan.sites[0];
    assert_eq!(site.branch, "tickets/OSW-2010");
    assert_eq!(site.steps[0].action, Action::None);
    assert!(site.steps[2].title.contains("tickets/OSW-2010"));
    let StepSpec::Config(request) = &site.steps[2].spec else {
        panic!()
    };
    assert_eq!(request.branch.as_deref(), Some("tickets/OSW-2010"));
    let unknown = plan_for(&s, "summit", &Observed::default());
    let StepSpec::Config(request) = &unknown.sites[0].steps[2].spec else {
        panic!()
    };
    assert_eq!(request.branch, None);
}

#[test]
fn slack_times_are_in_the_site_zone_with_its_abbreviation() {
    let s = shipped();
    let plan = plan_for(&s, "summit", &Observed::default());
    let times: Vec<(String, String, String)> = plan.sites[0]
        .steps
        .iter()
        .filter(|s| s.kind == StepKind::Message && s.checklist_item == 5)
        .map(|s| match &s.spec {
            StepSpec::Message(MessageRequest {
                message,
                at: Some(at),
                ..
            }) => (message.clone(), at.time.clone(), at.zone.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // 24 February 2026 is summer time in Chile: UTC-3, read as CLST.
    assert_eq!(
        times,
        [
            ("day_before".into(), "09:00".into(), "CLST".into()),
            ("hour_before".into(), "08:00".into(), "CLST".into()),
            ("start".into(), "09:00".into(), "CLST".into()),
        ]
    );
    let tts = plan_for(&s, "tts", &Observed::default());
    let text = serde_json::to_string(&tts).unwrap();
    assert!(text.contains("\"zone\":\"MST\""));
    assert!(text.contains("integration testing"));
}

fn repo_step(state: RepoState) -> Step {
    let s = shipped();
    let site = s.sites.iter().find(|l| l.site.name == "summit").unwrap();
    let repo = &site.site.repositories[0];
    let edits = crate::edit::repo::resolve_edits(repo, &s.release, &site.site).unwrap();
    config_step(
        "summit",
        repo,
        &edits,
        "Summit: Update to Cycle 44.",
        Some("tickets/OSW-1"),
        "tickets/OSW-1",
        state,
    )
}

#[test]
fn config_step_follows_what_was_observed() {
    let unknown = repo_step(RepoState::Unknown {
        reason: "offline".into(),
    });
    assert_eq!(unknown.action, Action::Create);
    assert!(matches!(unknown.changes[0], Change::CreateBranch { .. }));
    assert_eq!(unknown.notes, ["offline"]);

    let done = repo_step(RepoState::Known {
        branch_exists: false,
        unpushed: false,
        changes: vec![],
        notes: vec![],
    });
    assert_eq!(done.action, Action::None);
    assert!(done.changes.is_empty());
    assert_eq!(
        done.notes,
        ["main already has every edit; no branch needed"]
    );

    let unpushed = repo_step(RepoState::Known {
        branch_exists: true,
        unpushed: true,
        changes: vec![],
        notes: vec![],
    });
    assert_eq!(unpushed.action, Action::Update);
    assert!(matches!(unpushed.changes.as_slice(), [Change::Push { .. }]));

    let change = FileChange::new(
        "environments/values-summit.yaml",
        "a: \"c0043\"\n",
        "a: \"c0044\"\n",
    );
    let edit = repo_step(RepoState::Known {
        branch_exists: false,
        unpushed: false,
        changes: vec![change],
        notes: vec![],
    });
    assert_eq!(edit.action, Action::Create);
    let diff = edit
        .changes
        .iter()
        .find_map(|c| match c {
            Change::FileDiff { diff, .. } => Some(diff.clone()),
            _ => None,
        })
        .unwrap();
    assert!(diff.contains("-a: \"c0043\"\n+a: \"c0044\"\n"), "{diff}");
    assert!(matches!(edit.changes.last(), Some(Change::Push { .. })));
}

#[test]
fn test_stands_need_an_integration_testing_window() {
    let s = shipped();
    let mut release = s.release.clone();
    release
        .release
        .deployments
        .get_mut("tts")
        .unwrap()
        .integration_testing = None;
    let chosen: Vec<&LoadedSite> = s.sites.iter().filter(|l| l.site.name == "tts").collect();
    let err = build(
        &release,
        &chosen,
        &s.sites,
        &s.templates,
        &Observed::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("c0044.000.yaml:"), "{err}");
    assert!(err.contains("deployments.tts"), "{err}");
    assert!(err.contains("integration_testing"), "{err}");
}

#[test]
fn jql_quotes_the_summary_exactly() {
    assert_eq!(
        ticket_jql("OSW", "Ready summit deployment configuration for Cycle 44"),
        r#"project = "OSW" AND summary ~ "\"Ready summit deployment configuration for Cycle 44\"" ORDER BY created ASC"#
    );
    assert!(ticket_jql("OSW", r#"a "b" \c"#).contains(r#"\"a \\\"b\\\" \\\\c\""#));
}

#[test]
fn branch_names_come_from_the_ticket() {
    assert_eq!(branch_name(Some("OSW-2010"), "OSW"), "tickets/OSW-2010");
    assert_eq!(branch_name(None, "OSW"), "tickets/<new OSW ticket>");
}

#[test]
fn a_revert_plans_its_ticket_branch_pr_page_line_cancellation_and_notice() {
    let s = shipped();
    let chosen: Vec<&LoadedSite> = s.sites.iter().filter(|l| l.site.name == "bts").collect();
    let revert = |observed: &Observed| {
        super::registry::build_revert(43, &s.release, &chosen, &s.sites, &s.templates, observed)
            .unwrap()
    };
    let plan = revert(&Observed::default());
    assert_eq!(plan.revert_to, Some(43));
    assert_eq!(plan.label, "the revert to Cycle 43 from Cycle 44");
    let steps = &plan.sites[0].steps;
    let ids: Vec<String> = steps.iter().map(|s| s.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "bts:jira",
            "bts:config:lsst-sqre/phalanx",
            "bts:confluence-line",
            "bts:unschedule",
            "bts:slack:revert_notice",
            "bts:pr:lsst-sqre/phalanx",
        ]
    );
    let step = |id: &str| plan.step(&id.parse().unwrap()).unwrap().clone();
    match &step("bts:jira").spec {
        StepSpec::Ticket(request) => {
            assert_eq!(request.summary, "Revert BTS to Cycle 43");
            assert!(request.kept_in_sync.is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
    // Without history, the edits are unknown: the apply would refuse.
    let config = step("bts:config:lsst-sqre/phalanx");
    assert!(
        config.notes[0].contains("the values of Cycle 43 are unknown"),
        "{:?}",
        config.notes
    );
    match &config.spec {
        StepSpec::Config(request) => {
            assert!(request.edits.is_empty());
            assert_eq!(request.revert.as_ref().unwrap().value, "c0043");
            assert_eq!(request.message, "Revert BTS to cycle 43.");
        }
        other => panic!("unexpected {other:?}"),
    }
    match &step("bts:unschedule").spec {
        StepSpec::Unschedule(requests) => {
            let names: Vec<&str> = requests.iter().map(|r| r.message.as_str()).collect();
            assert_eq!(names, ["day_before", "hour_before", "start"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    let notice = step("bts:slack:revert_notice");
    assert_eq!(
        notice.depends_on,
        [
            "bts:unschedule".parse().unwrap(),
            "bts:pr:lsst-sqre/phalanx".parse().unwrap()
        ]
    );
    assert_eq!(notice.shows, ["bts:pr:lsst-sqre/phalanx".parse().unwrap()]);

    // With the history read and the ticket known: the edits, the branch,
    // and a base on another cycle than the one reverted is named.
    let mut observed = Observed::default();
    observed.tickets.insert("bts".into(), "OSW-9".into());
    let edit = crate::model::site::EditSpec::Set {
        file: "environments/values-base.yaml".into(),
        path: "controlSystem.imageTag".into(),
        value: "c0043".into(),
        when: crate::model::site::When::Always,
    };
    observed.reverts.insert(
        ("bts".into(), "lsst-sqre/phalanx".into()),
        Ok(RevertSource {
            commit: "13e1bdd3".into(),
            edits: vec![edit.clone()],
            base_value: Some("c0046".into()),
        }),
    );
    let plan = revert(&observed);
    let config = plan
        .step(&"bts:config:lsst-sqre/phalanx".parse().unwrap())
        .unwrap();
    match &config.spec {
        StepSpec::Config(request) => {
            assert_eq!(request.edits, [edit]);
            assert_eq!(request.branch.as_deref(), Some("tickets/OSW-9"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        config
            .notes
            .iter()
            .any(|n| n.contains("main is on `c0046`, not on Cycle 44")),
        "{:?}",
        config.notes
    );
    match &plan
        .step(&"bts:pr:lsst-sqre/phalanx".parse().unwrap())
        .unwrap()
        .spec
    {
        StepSpec::PullRequest(request) => {
            assert_eq!(request.title, "OSW-9: Revert BTS to Cycle 43");
            assert!(request.body.contains("commit 13e1bdd3"), "{}", request.body);
        }
        other => panic!("unexpected {other:?}"),
    }
}
