//! A site's configuration branch in one repository (git, checklist 2):
//! the edits committed on `tickets/<KEY>` and pushed, never forced.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::config::{self, GitRun};
use crate::engine::doctor::needs::Needs;
use crate::plan::{
    Observed, Plan, PlanError, Planner, RepoState, Selector, SiteInput, Step, StepId, StepKind,
    StepSpec,
};
use crate::render::names;

/// The configuration branch kind.
pub struct Config;

impl Config {
    /// Whether a selected step reads the branches: the config steps, and
    /// the pull requests' change summaries.
    fn read(cx: &Cx<'_>) -> bool {
        cx.selection.includes(Selector::Config) || cx.selection.includes(Selector::Pr)
    }

    /// Fetches every configuration repository of the plan once, with the
    /// branches its steps read (their bases, and the ticket branches whose
    /// keys are known); a failure is kept and reported when the repository
    /// is observed.
    async fn prefetch(cx: &Cx<'_>, plan: &Plan) {
        let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for step in Cx::steps_of(plan, StepKind::Config) {
            if let StepSpec::Config(req) = &step.spec {
                urls.entry(config::clone_url(&req.repo))
                    .or_default()
                    .extend(GitRun::origin_branches(&req.repo, req.branch.as_deref()));
            }
        }
        futures::future::join_all(urls.into_iter().map(|(url, branches)| {
            let git = cx.git.clone();
            tokio::task::spawn_blocking(move || {
                let branches: Vec<String> = branches.into_iter().collect();
                let _ = git.open_branches(&url, &branches);
            })
        }))
        .await;
    }

    /// For a revert, walks each repository's base history (from the clone
    /// just fetched) to the cycle returned to: the edits that put it back.
    async fn reverts(cx: &Cx<'_>, plan: &Plan) -> Observed {
        let wanted = Cx::steps_of(plan, StepKind::Config).filter_map(|step| {
            match (step.id.site(), &step.spec) {
                (Some(site), StepSpec::Config(req)) => req.revert.clone().map(|marker| {
                    (
                        (site.to_string(), req.repo.repo.clone()),
                        req.repo.clone(),
                        marker,
                    )
                }),
                _ => None,
            }
        });
        let found = futures::future::join_all(wanted.map(|(key, repo, marker)| {
            let git = cx.git.clone();
            async move {
                let source = tokio::task::spawn_blocking(move || git.revert_source(&repo, &marker))
                    .await
                    .unwrap_or_else(|e| Err(format!("reading the history failed: {e}")));
                (key, source)
            }
        }))
        .await;
        Observed {
            reverts: found.into_iter().collect(),
            ..Observed::default()
        }
    }

    /// Reads every configuration step's branch (or base) from the fetched
    /// clones: what would change, and the branch's change summary.
    async fn branches(cx: &Cx<'_>, plan: &Plan) -> Observed {
        let repos = Cx::steps_of(plan, StepKind::Config).filter_map(|step| {
            match (step.id.site(), &step.spec) {
                (Some(site), StepSpec::Config(req)) => {
                    Some(((site.to_string(), req.repo.repo.clone()), req.clone()))
                }
                _ => None,
            }
        });
        let states = futures::future::join_all(repos.map(|(key, req)| {
            let git = cx.git.clone();
            async move {
                let state = tokio::task::spawn_blocking(move || git.observe_branch(&req))
                    .await
                    .unwrap_or_else(|e| {
                        let reason = format!("observing the repository failed: {e}");
                        (RepoState::Unknown { reason }, None)
                    });
                (key, state)
            }
        }))
        .await;
        let mut learnt = Observed::default();
        for (key, (state, changes)) in states {
            if let Some(changes) = changes {
                learnt.branch_changes.insert(key.clone(), changes);
            }
            learnt.repos.insert(key, state);
        }
        learnt
    }
}

impl Planner for Config {
    /// One step per repository of the site, after its ticket (the branch
    /// is named after it).
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let site = &input.site.site;
        let message = input.templates.render(names::COMMIT_MESSAGE, input.ctx)?;
        let mut steps = Vec::new();
        for repo in &site.repositories {
            let edits = crate::edit::repo::resolve_edits(repo, input.release, site)?;
            let state = input
                .observed
                .repos
                .get(&(site.name.clone(), repo.repo.clone()))
                .cloned()
                .unwrap_or(RepoState::Unknown {
                    reason: "current content unknown (no cached clone was read)".into(),
                });
            let mut step = crate::plan::config_step(
                &site.name,
                repo,
                &edits,
                message.trim_end(),
                input.ticket.map(|_| input.branch),
                input.branch,
                state,
            );
            step.depends_on = vec![StepId::Ticket {
                site: site.name.clone(),
            }];
            steps.push(step);
        }
        Ok(steps)
    }
}

#[async_trait(?Send)]
impl Kind for Config {
    fn kind(&self) -> StepKind {
        StepKind::Config
    }

    fn name(&self) -> &'static str {
        "configuration branch"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Config)
    }

    fn phases(&self) -> &'static [Phase] {
        // The fetch needs no ticket key: it runs beside the ticket lookups.
        &[Phase::Lookup, Phase::Branches]
    }

    async fn observe(
        &self,
        phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        _observed: &Observed,
    ) -> Observed {
        if !Self::read(cx) {
            return Observed::default();
        }
        match phase {
            Phase::Lookup => {
                if !cx.offline {
                    Self::prefetch(cx, plan).await;
                }
                Self::reverts(cx, plan).await
            }
            Phase::Branches => Self::branches(cx, plan).await,
            _ => Observed::default(),
        }
    }

    async fn execute(
        &self,
        cx: &Cx<'_>,
        step: &Step,
        _observed: &Observed,
    ) -> anyhow::Result<Done> {
        let StepSpec::Config(request) = &step.spec else {
            anyhow::bail!("{}: not a configuration step", step.id);
        };
        let git = cx.git.clone();
        let identity = cx.identity.clone();
        let request = request.clone();
        let applied = tokio::task::spawn_blocking(move || git.apply(&request, &identity)).await??;
        Ok(Done {
            outcome: applied.outcome,
            action: applied.action.to_string(),
        })
    }

    fn basis(&self, cx: &Cx<'_>, step: &Step, branches: &mut BTreeMap<String, Option<String>>) {
        let StepSpec::Config(request) = &step.spec else {
            return;
        };
        let url = config::clone_url(&request.repo);
        for branch in std::iter::once(&request.repo.base).chain(request.branch.as_ref()) {
            branches.insert(
                format!("{} {branch}", request.repo.repo),
                cx.git.cached_head(&url, branch),
            );
        }
        if let (Some(branch), Some((fork, head))) = (
            request.branch.as_ref(),
            cx.git
                .cached_fork_head(&request.repo, request.branch.as_deref()),
        ) {
            branches.insert(format!("{fork} {branch}"), head);
        }
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::Config(request) = &step.spec {
            let site = step.id.site().unwrap_or_default().to_string();
            needs.repos.push((site, request.clone()));
        }
    }
}
