//! The pull-request side of planning (pure): the template context of a
//! repository's PR and review notice (the change summary computed from the
//! ticket branch, the PR link once known), the PR's head, and the plan's
//! sentence for a PR that would be opened.

use minijinja::Value;

use super::PullRequestRequest;
use crate::edit::repo::FileChange;
use crate::model::site::Repository;

/// The owner of a repository's PR head: the fork's owner when the site
/// names a fork, else the repository's own owner.
pub fn head_owner(repo: &Repository) -> String {
    let full = repo
        .pull_request
        .as_ref()
        .and_then(|p| p.fork.as_deref())
        .unwrap_or(&repo.repo);
    full.split_once('/')
        .map_or(full, |(owner, _)| owner)
        .to_string()
}

/// The PR head as GitHub writes it: `owner:tickets/OSW-2010`.
pub fn head_label(request: &PullRequestRequest) -> String {
    format!("{}:{}", request.head_owner, request.head)
}

/// The head as the plan shows it: the plain branch within the repository,
/// `owner:branch` from a fork.
fn shown_head(request: &PullRequestRequest) -> String {
    let own = request
        .repo
        .split_once('/')
        .is_some_and(|(owner, _)| owner.eq_ignore_ascii_case(&request.head_owner));
    if own {
        request.head.clone()
    } else {
        head_label(request)
    }
}

/// The number of a PR from its web URL (`…/pull/6384`).
pub fn number_from_url(url: &str) -> Option<u64> {
    url.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

/// `ctx` with what the PR templates add: `change_summary` (Markdown
/// bullets computed from the branch, `none` when the branch's content is
/// unknown), `pr_repo`, and once the PR is known `pr_url`, `pr_number`,
/// `pr_label` (`lsst-sqre/phalanx#6384`) and `pr_link` (the mrkdwn link
/// to it, inserted as is), else `none`.
pub fn context(
    ctx: &Value,
    repo: &str,
    changes: Option<&[FileChange]>,
    link: Option<&str>,
) -> Value {
    let summary = changes.map(|files| {
        let summaries: Vec<_> = files.iter().map(|f| f.summary().clone()).collect();
        crate::edit::summary::change_summary(&summaries)
    });
    let number = link.and_then(number_from_url);
    let label = link.map(|_| match number {
        Some(n) => format!("{repo}#{n}"),
        None => repo.to_string(),
    });
    let mrkdwn = link
        .zip(label.as_deref())
        .map(|(url, text)| Value::from_safe_string(crate::render::mrkdwn_link(url, text)));
    minijinja::context! {
        change_summary => summary,
        pr_repo => repo,
        pr_url => link,
        pr_number => number,
        pr_label => label,
        pr_link => mrkdwn,
        ..ctx.clone()
    }
}

/// The plan's sentence for a PR that would be opened: "would open PR
/// lsst-sqre/phalanx: tickets/OSW-2010 → main, reviewers alice, team
/// ops", with labels and the draft flag when set.
pub fn open_note(request: &PullRequestRequest) -> String {
    let mut reviewers: Vec<String> = request.reviewers.clone();
    reviewers.extend(request.team_reviewers.iter().map(|t| format!("team {t}")));
    let mut note = format!(
        "would open PR {}: {} → {}, {}",
        request.repo,
        shown_head(request),
        request.base,
        if reviewers.is_empty() {
            "no reviewers".to_string()
        } else {
            format!("reviewers {}", reviewers.join(", "))
        }
    );
    if !request.labels.is_empty() {
        note.push_str(&format!(", labels {}", request.labels.join(", ")));
    }
    if request.draft {
        note.push_str(", as a draft");
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Observed, Seen, StepId, StepKind, StepSpec};
    use std::path::Path;

    /// The summit's plan (ticket OSW-2010) with `observed` added to.
    fn summit_plan(add: impl FnOnce(&mut Observed)) -> crate::plan::Plan {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sites = crate::model::site::load_all(&root.join("sites")).unwrap();
        let release = crate::model::release::load(&root.join("releases/c0044.000.yaml")).unwrap();
        let templates = crate::render::Templates::load(&root.join("templates")).unwrap();
        let mut observed = Observed::default();
        observed.tickets.insert("summit".into(), "OSW-2010".into());
        add(&mut observed);
        let chosen: Vec<_> = sites.iter().filter(|s| s.site.name == "summit").collect();
        crate::plan::build(&release, &chosen, &sites, &templates, &observed).unwrap()
    }

    fn pr_id() -> StepId {
        StepId::PullRequest {
            site: "summit".into(),
            repo: "lsst-sqre/phalanx".into(),
        }
    }

    #[test]
    fn the_body_carries_the_branch_summary_and_the_notice_the_pr_link() {
        let url = "https://github.com/lsst-sqre/phalanx/pull/6384";
        let plan = summit_plan(|o| {
            o.branch_changes.insert(
                ("summit".into(), "lsst-sqre/phalanx".into()),
                vec![FileChange::new(
                    "applications/love/values-summit.yaml",
                    "a:\n  revision: 3\nb:\n  revision: 2\n",
                    "a:\n  revision: 0\nb:\n  revision: 0\n",
                )],
            );
            o.seen.insert(
                pr_id(),
                Seen {
                    action: Action::None,
                    note: "PR #6384 exists and is up to date".into(),
                    detail: vec![],
                    link: Some(url.into()),
                    waiting_on: None,
                    basis: None,
                },
            );
        });
        let pr = plan.step(&pr_id()).unwrap();
        let StepSpec::PullRequest(request) = &pr.spec else {
            panic!("{:?}", pr.spec)
        };
        assert!(
            request.body.contains("- 2 revisions reset to 0"),
            "{}",
            request.body
        );
        assert!(request.body.contains("ticket OSW-2010"), "{}", request.body);
        assert_eq!(request.head_owner, "lsst-sqre");
        assert_eq!(pr.action, Action::None);
        let notice = plan
            .steps()
            .find(|s| s.kind == StepKind::ReviewNotice)
            .unwrap();
        let StepSpec::Message(message) = &notice.spec else {
            panic!("{:?}", notice.spec)
        };
        assert_eq!(
            message.text,
            format!(
                "Summit configuration for Cycle 44 is ready for review (OSW-2010): <{url}|lsst-sqre/phalanx#6384>."
            )
        );
        assert_eq!(message.subject.as_deref(), Some("lsst-sqre/phalanx"));
    }

    #[test]
    fn a_merged_pr_plans_no_review_notice() {
        let plan = summit_plan(|o| {
            o.merged.insert(pr_id());
        });
        assert!(plan.steps().all(|s| s.kind != StepKind::ReviewNotice));
        let pr = plan.step(&pr_id()).unwrap();
        assert!(pr.notes.iter().any(|n| n.contains("no review notice")));
    }

    fn request() -> PullRequestRequest {
        PullRequestRequest {
            repo: "lsst-sqre/phalanx".into(),
            head_owner: "lsst-sqre".into(),
            head: "tickets/OSW-2010".into(),
            base: "main".into(),
            title: "t".into(),
            body: "b".into(),
            reviewers: vec!["alice".into(), "bob".into()],
            team_reviewers: vec!["lsst-sqre/square".into()],
            labels: vec![],
            draft: false,
        }
    }

    #[test]
    fn the_open_note_names_repo_head_base_and_reviewers() {
        assert_eq!(
            open_note(&request()),
            "would open PR lsst-sqre/phalanx: tickets/OSW-2010 → main, reviewers alice, bob, team lsst-sqre/square"
        );
        let mut fork = request();
        fork.head_owner = "rm-bot".into();
        fork.reviewers.clear();
        fork.team_reviewers.clear();
        fork.labels = vec!["cycle".into()];
        fork.draft = true;
        assert_eq!(
            open_note(&fork),
            "would open PR lsst-sqre/phalanx: rm-bot:tickets/OSW-2010 → main, no reviewers, labels cycle, as a draft"
        );
        assert_eq!(head_label(&fork), "rm-bot:tickets/OSW-2010");
    }

    #[test]
    fn numbers_come_from_the_web_url() {
        assert_eq!(
            number_from_url("https://github.com/lsst-sqre/phalanx/pull/6384"),
            Some(6384)
        );
        assert_eq!(number_from_url("https://example.org/x"), None);
    }

    #[test]
    fn the_context_adds_the_summary_and_link_and_keeps_the_rest() {
        let base = minijinja::context! { label => "Cycle 44" };
        let change = FileChange::new(
            "environments/values-summit.yaml",
            "  imageTag: c0043\n",
            "  imageTag: c0044\n",
        );
        let ctx = context(
            &base,
            "lsst-sqre/phalanx",
            Some(&[change]),
            Some("https://github.com/lsst-sqre/phalanx/pull/7"),
        );
        assert_eq!(ctx.get_attr("label").unwrap().to_string(), "Cycle 44");
        assert!(
            ctx.get_attr("change_summary")
                .unwrap()
                .to_string()
                .contains("`c0044`")
        );
        assert_eq!(
            ctx.get_attr("pr_label").unwrap().to_string(),
            "lsst-sqre/phalanx#7"
        );
        let unknown = context(&base, "lsst-sqre/phalanx", None, None);
        assert!(unknown.get_attr("pr_url").unwrap().is_none());
        assert!(unknown.get_attr("change_summary").unwrap().is_none());
    }
}
