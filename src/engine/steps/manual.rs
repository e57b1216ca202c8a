//! A human step of the checklist (working with the build team, syncing the
//! nublado images): tracked only, recorded done with `cycle mark`.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use super::ticket::finished;
use crate::plan::{
    ManualStep, Observed, Plan, PlanError, Planner, Selector, SiteInput, Step, StepKind,
    manual_step,
};

/// The human step kind.
pub struct Manual;

impl Planner for Manual {
    /// Working with the build team (checklist 3) and syncing the nublado
    /// images on deployment day (checklist 6).
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let name = &input.site.site.name;
        let id = input.release.id;
        Ok(vec![
            manual_step(
                name,
                ManualStep::BuildTeam,
                3,
                "Work with the build team during the build",
                format!(
                    "Follow the {} build with the build team: keep it on schedule and resolve problems as they come up.",
                    id.label()
                ),
                input.observed,
            ),
            manual_step(
                name,
                ManualStep::NubladoSync,
                6,
                "Sync the nublado images on deployment day",
                format!(
                    "On deployment day, check that nublado offers the recommended_{} image.",
                    id.tag()
                ),
                input.observed,
            ),
        ])
    }
}

#[async_trait(?Send)]
impl Kind for Manual {
    fn kind(&self) -> StepKind {
        StepKind::Manual
    }

    fn name(&self) -> &'static str {
        "manual"
    }

    fn selector(&self) -> Option<Selector> {
        None
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Journal]
    }

    /// A human step recorded done with `cycle mark` no longer holds
    /// anything back: the plan shows what waits for one that is not.
    async fn observe(
        &self,
        _phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        let journal = cx.journal();
        for step in Cx::steps_of(plan, StepKind::Manual) {
            if finished(cx, &step.id) && !observed.done.contains_key(&step.id) {
                let note = journal.entry(&step.id).outcome.map_or_else(
                    || "marked done with `cycle mark`".to_string(),
                    |o| o.summary(),
                );
                learnt.done.insert(step.id.clone(), note);
            }
        }
        learnt
    }

    async fn execute(
        &self,
        _cx: &Cx<'_>,
        _step: &Step,
        _observed: &Observed,
    ) -> anyhow::Result<Done> {
        anyhow::bail!("a manual step: record it with `cycle mark`")
    }
}
