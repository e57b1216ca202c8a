//! A site's pull request in one repository (GitHub, checklist 6): found by
//! its head and base in every state, opened once, its title and body kept
//! to the templates', a merged one finishing the step.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::{Needs, PullNeed};
use crate::engine::journal::Outcome;
use crate::engine::pulls::{action_name, pr_spec, seen};
use crate::plan::{Observed, Plan, Selector, Step, StepKind, StepSpec};
use crate::services::github::{self, PrAction, PrFinding, PullRequestApi};

/// The pull request kind.
pub struct PullRequest;

#[async_trait(?Send)]
impl Kind for PullRequest {
    fn kind(&self) -> StepKind {
        StepKind::PullRequest
    }

    fn name(&self) -> &'static str {
        "pull request"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Pr)
    }

    /// Pull requests first: a found PR's link goes into the review
    /// notice's text and the page's ticket table.
    fn phases(&self) -> &'static [Phase] {
        &[Phase::Links]
    }

    /// Looks for the result of every pull step of `plan` whose ticket (so
    /// branch) is known (read only); a merged PR is also recorded in
    /// `merged`. Skipped when no selected step reads it (pull requests,
    /// Slack notices, the page).
    async fn observe(
        &self,
        _phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        _observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        // What a found pull request feeds: its own steps, the review
        // notice (Slack) and the page's ticket table.
        let wanted = [Selector::Pr, Selector::Slack, Selector::Confluence];
        if cx.offline || !wanted.iter().any(|s| cx.selection.includes(*s)) {
            return learnt;
        }
        let Ok(api) = cx.services.pulls.api() else {
            return learnt;
        };
        let lookups = plan
            .sites
            .iter()
            .filter(|site| site.ticket.is_some())
            .flat_map(|site| &site.steps)
            .filter_map(|step| match &step.spec {
                StepSpec::PullRequest(request) => Some((step.id.clone(), pr_spec(request))),
                _ => None,
            });
        let found = futures::future::join_all(lookups.map(|(id, spec)| async move {
            let finding = github::find(api, &spec).await?;
            let reviewed = match &finding {
                PrFinding::Identical(pr) | PrFinding::Differs { pr, .. }
                    if !github::missing_reviewers(&spec, pr, &[]).is_empty() =>
                {
                    let repo = spec.validate()?;
                    api.reviewed_by(&repo, pr.number).await?
                }
                _ => vec![],
            };
            let merged = matches!(finding, PrFinding::Merged(_));
            let seen = seen(&finding, &spec, &reviewed);
            Ok::<_, github::GithubError>((id.clone(), seen, merged))
        }))
        .await;
        for result in found {
            match result {
                Ok((id, seen, merged)) => {
                    if merged {
                        learnt.merged.insert(id.clone());
                    }
                    learnt.seen.insert(id, seen);
                }
                Err(e) => cx.progress.note(&format!("GitHub: not looked up: {e}")),
            }
        }
        learnt
    }

    /// Finds the step's PR first, then opens one, or updates only what
    /// differs, or reports a merged one.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, observed: &Observed) -> anyhow::Result<Done> {
        let StepSpec::PullRequest(request) = &step.spec else {
            anyhow::bail!("{}: not a pull request step", step.id);
        };
        let api = cx.services.pulls.api()?;
        if step
            .id
            .site()
            .is_some_and(|site| !observed.tickets.contains_key(site))
        {
            anyhow::bail!(
                "{}: the ticket key is not known, so the branch has no name (run the jira step, or pass --ticket)",
                step.id
            );
        }
        let ensured = github::ensure(api, &pr_spec(request)).await?;
        Ok(Done {
            outcome: Outcome::PullRequest {
                repo: request.repo.clone(),
                number: ensured.number,
                url: ensured.url,
                merged: ensured.action == PrAction::Merged,
            },
            action: action_name(ensured.action).to_string(),
        })
    }

    fn learn(&self, observed: &mut Observed, id: &crate::plan::StepId, outcome: &Outcome) {
        if let Outcome::PullRequest { merged: true, .. } = outcome {
            observed.merged.insert(id.clone());
        }
        observed.done.insert(id.clone(), outcome.summary());
        if let Some(link) = outcome.link() {
            observed
                .seen
                .insert(id.clone(), super::kind::linked(outcome.summary(), link));
        }
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::PullRequest(request) = &step.spec {
            needs.pulls.push(PullNeed {
                site: step.id.site().unwrap_or_default().to_string(),
                request: request.clone(),
                fork: None,
            });
        }
    }
}
