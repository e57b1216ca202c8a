//! The pull-request side of planning (pure): the template context of a
//! repository's PR and review notice (the change summary computed from the
//! ticket branch, the PR link once known), the PR's head, and the plan's
//! sentence for a PR that would be opened.

use minijinja::Value;

use super::{
    Action, Change, MessageRequest, Observed, PlanError, PullRequestRequest, RepoState, Step,
    StepId, StepSpec, pending_step,
};
use crate::edit::repo::FileChange;
use crate::model::site::{LoadedSite, Repository};
use crate::render::{Templates, names};

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
    request.head_label()
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

/// The template context of one repository's pull request (see
/// [`context`]), from what is known of its branch and of the PR.
pub fn pr_context(
    loaded: &LoadedSite,
    repo: &Repository,
    ctx: &minijinja::Value,
    observed: &Observed,
) -> Value {
    let site = &loaded.site;
    let pr_id = StepId::PullRequest {
        site: site.name.clone(),
        repo: repo.repo.clone(),
    };
    let changes = observed
        .branch_changes
        .get(&(site.name.clone(), repo.repo.clone()));
    let link = observed.seen.get(&pr_id).and_then(|s| s.link.as_deref());
    context(ctx, &repo.repo, changes.map(Vec::as_slice), link)
}

/// The pull request step of one repository with its title and body, after
/// the site's ticket and the repository's configuration step; `None` when
/// there is nothing to review (the base already has every edit and there
/// is no ticket branch: the configuration step says so).
pub fn pull_request_step(
    loaded: &LoadedSite,
    repo: &Repository,
    title: String,
    body: String,
    branch: &str,
    observed: &Observed,
) -> Option<Step> {
    let site = &loaded.site;
    let pr = repo.pull_request.clone().unwrap_or_default();
    let pr_id = StepId::PullRequest {
        site: site.name.clone(),
        repo: repo.repo.clone(),
    };
    let request = PullRequestRequest {
        repo: repo.repo.clone(),
        head_owner: head_owner(repo),
        head: branch.to_string(),
        base: repo.base.clone(),
        title,
        body,
        reviewers: pr.reviewers,
        team_reviewers: pr.team_reviewers,
        labels: pr.labels,
        draft: pr.draft,
    };
    let head = head_label(&request);
    let mut pr_step = pending_step(
        pr_id,
        6,
        format!("Pull request {branch} → {} in {}", repo.base, repo.repo),
        vec![
            StepId::Ticket {
                site: site.name.clone(),
            },
            StepId::Config {
                site: site.name.clone(),
                repo: repo.repo.clone(),
            },
        ],
        vec![format!(
            "pull request in {} with head {head} and base {}",
            repo.repo, repo.base
        )],
        vec![Change::OpenPullRequest(request.clone())],
        StepSpec::PullRequest(request.clone()),
        observed,
    );
    if pr_step.action == Action::Create {
        pr_step.notes.insert(0, open_note(&request));
    }
    let no_branch = matches!(
        observed.repos.get(&(site.name.clone(), repo.repo.clone())),
        Some(RepoState::Known {
            branch_exists: false,
            unpushed: false,
            changes,
            ..
        }) if changes.is_empty()
    );
    if no_branch && pr_step.action == Action::Create {
        return None;
    }
    Some(pr_step)
}

/// The pull request step of one repository and its review notice.
pub fn pr_steps(
    loaded: &LoadedSite,
    repo: &Repository,
    templates: &Templates,
    ctx: &minijinja::Value,
    branch: &str,
    observed: &Observed,
) -> Result<Vec<Step>, PlanError> {
    let site = &loaded.site;
    let ctx = pr_context(loaded, repo, ctx, observed);
    let notice = MessageRequest {
        site: site.name.clone(),
        channel: site.slack.review_channel.clone(),
        message: "pr_ready".into(),
        subject: Some(repo.repo.clone()),
        at: None,
        text: templates
            .render(names::PR_READY, &ctx)?
            .trim_end()
            .to_string(),
    };
    let Some(mut pr_step) = pull_request_step(
        loaded,
        repo,
        templates.render_line(names::PR_TITLE, &ctx)?,
        templates.render(names::PR_BODY, &ctx)?,
        branch,
        observed,
    ) else {
        return Ok(vec![]);
    };
    let pr_id = pr_step.id.clone();
    if observed.merged.contains(&pr_id) {
        pr_step
            .notes
            .push("merged, so no review notice is sent".to_string());
        return Ok(vec![pr_step]);
    }
    Ok(vec![
        pr_step,
        pending_step(
            StepId::ReviewNotice {
                site: site.name.clone(),
                repo: repo.repo.clone(),
            },
            6,
            format!("Review notice for {} in {}", repo.repo, notice.channel),
            vec![pr_id],
            vec![format!(
                "message pr_ready of site {} for {} in {}",
                site.name, repo.repo, notice.channel
            )],
            vec![Change::PostMessage(notice.clone())],
            StepSpec::Message(notice),
            observed,
        ),
    ])
}
