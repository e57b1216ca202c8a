//! A site's pull request in one repository (GitHub, checklist 6): found by
//! its head and base in every state, opened once, its title and body kept
//! to the templates', a merged one finishing the step.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::{Needs, PullNeed};
use crate::engine::journal::Outcome;
use crate::engine::pulls::{action_name, seen};
use crate::plan::{
    Observed, Plan, PlanError, Planner, Selector, SiteInput, Step, StepKind, StepSpec,
};
use crate::services::github::{self, PrAction, PrFinding, PullRequestApi};

/// The pull request kind.
pub struct PullRequest;

impl Planner for PullRequest {
    /// The PR of each repository that opens one, each followed by its
    /// review notice.
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let mut steps = Vec::new();
        for repo in input
            .site
            .site
            .repositories
            .iter()
            .filter(|r| r.pull_request.is_some())
        {
            steps.extend(crate::plan::pr_steps(
                input.site,
                repo,
                input.templates,
                input.ctx,
                input.branch,
                input.observed,
            )?);
        }
        Ok(steps)
    }
}

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
                StepSpec::PullRequest(request) => Some((step.id.clone(), request.clone())),
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
        let ensured = github::ensure(api, request).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::repo::FileChange;
    use crate::plan::pr::*;
    use crate::plan::{Action, PullRequestRequest, Seen, StepId};
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
        super::super::registry::build(&release, &chosen, &sites, &templates, &observed).unwrap()
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
