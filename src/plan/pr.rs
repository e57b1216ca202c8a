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
