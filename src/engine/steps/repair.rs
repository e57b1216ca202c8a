//! Repairing what two runs at once left behind, before the apply's rounds:
//! the duplicates of a ticket that `cycle` filed (found by the observation,
//! see [`crate::engine::tickets::Found`]) are closed as duplicates of the ticket
//! kept (the lowest key), and the open pull requests of their ticket
//! branches are closed with a comment naming the PR kept. Issues a person
//! filed with the same summary are reported and never touched. The
//! duplicates' scheduled Slack messages carry the announcement's marker, so
//! the message steps keep one copy and delete the others. See
//! `docs/concurrency.md`.

use super::kind::Cx;
use crate::engine::journal::Outcome;
use crate::engine::report::SummaryRow;
use crate::engine::tickets::foreign_note;
use crate::plan::{Plan, PullRequestRequest, StepId, StepSpec};
use crate::services::github::{self, PrState, PullRequestApi, PullUpdate};

/// Retires the duplicates the observation found of every selected ticket
/// step of `plan`; one summary row per ticket with duplicates (closed,
/// or a person's, reported). A failure is a row too (the run goes on:
/// the ticket kept is known).
pub async fn retire_duplicates(cx: &Cx<'_>, plan: &Plan) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for step in plan.steps().filter(|s| cx.selection.selects(s)) {
        let StepSpec::Ticket(request) = &step.spec else {
            continue;
        };
        let Some(found) = cx.services.tickets.found(&request.summary) else {
            continue;
        };
        journal_winner(cx, &step.id, &found.key);
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for duplicate in &found.duplicates {
            match retire_ticket(cx, plan, &step.id, duplicate, &found.key).await {
                Ok(closed) => done.push(closed),
                Err(e) => failed.push(format!("{duplicate}: {e:#}")),
            }
        }
        if !found.foreign.is_empty() {
            // The observation noted it already; the summary says it again.
            rows.push(SummaryRow {
                id: step.id.clone(),
                action: "reported".into(),
                detail: foreign_note(&found.key, &found.foreign),
                link: None,
            });
        }
        if !done.is_empty() {
            let detail = format!("kept {}; {}", found.key, done.join("; "));
            cx.progress.note(&format!("{}: {detail}", step.id));
            rows.push(SummaryRow {
                id: step.id.clone(),
                action: "retired".into(),
                detail,
                link: cx.services.tickets.browse_url(&found.key),
            });
        }
        if !failed.is_empty() {
            rows.push(SummaryRow {
                id: step.id.clone(),
                action: "failed".into(),
                detail: format!("retiring duplicates: {}", failed.join("; ")),
                link: None,
            });
        }
    }
    rows
}

/// Records `winner` as the ticket of step `id` when the journal holds
/// another key (a duplicate this machine's run filed before another
/// run's won), so that an offline run names the right branch.
fn journal_winner(cx: &Cx<'_>, id: &StepId, winner: &str) {
    let StepId::Ticket { site } = id else {
        return;
    };
    let mut journal = cx.journal.lock().unwrap_or_else(|e| e.into_inner());
    if journal.ticket(site).is_some_and(|key| key != winner) {
        let outcome = Outcome::Ticket {
            key: winner.to_string(),
            url: cx.services.tickets.browse_url(winner),
        };
        journal.finish(id, outcome, "found");
        if let Err(e) = journal.save(cx.journal_path) {
            cx.progress
                .note(&format!("{id}: the journal was not saved: {e}"));
        }
    }
}

/// Closes ticket `duplicate` as a duplicate of `winner` and, for a
/// site's configuration ticket, the open pull requests of its ticket
/// branch; says what was done.
async fn retire_ticket(
    cx: &Cx<'_>,
    plan: &Plan,
    id: &StepId,
    duplicate: &str,
    winner: &str,
) -> anyhow::Result<String> {
    cx.services.tickets.retire(duplicate, winner).await?;
    let mut said = format!("{duplicate} closed as a duplicate of {winner}");
    if let StepId::Ticket { site } = id {
        let pulls = plan.steps().filter_map(|s| match (&s.id, &s.spec) {
            (StepId::PullRequest { site: s_site, .. }, StepSpec::PullRequest(request))
                if s_site == site =>
            {
                Some(request)
            }
            _ => None,
        });
        for request in pulls {
            for number in close_pulls(cx, request, duplicate, winner).await? {
                said.push_str(&format!(", PR #{number} in {} closed", request.repo));
            }
        }
    }
    Ok(said)
}

/// Closes the open pull requests from `tickets/<duplicate>` into the
/// request's base, each with a comment naming the PR of `winner`'s
/// branch; returns their numbers. Nothing when GitHub is not configured.
async fn close_pulls(
    cx: &Cx<'_>,
    request: &PullRequestRequest,
    duplicate: &str,
    winner: &str,
) -> anyhow::Result<Vec<u64>> {
    let Ok(api) = cx.services.pulls.api() else {
        return Ok(vec![]);
    };
    let repo = github::RepoName::parse(&request.repo).ok_or_else(|| {
        anyhow::anyhow!("`{}` is not a GitHub repository OWNER/NAME", request.repo)
    })?;
    let head = format!("{}:tickets/{duplicate}", request.head_owner);
    let mut closed = Vec::new();
    for pr in api.list_pulls(&repo, &head, &request.base).await? {
        if pr.state != PrState::Open {
            continue;
        }
        let comment = format!(
            "Closed by cycle: {duplicate} duplicates {winner} (two runs of cycle at once \
             filed both). The changes are on `{}`; its pull request is the one to review.",
            request.head
        );
        api.create_issue_comment(&repo, pr.number, &comment).await?;
        api.update_pull(
            &repo,
            pr.number,
            &PullUpdate {
                state: Some("closed".into()),
                ..PullUpdate::default()
            },
        )
        .await?;
        closed.push(pr.number);
    }
    Ok(closed)
}
