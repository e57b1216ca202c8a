//! The summit's calendar ticket (Jira): found by its exact summary, created
//! once, its dates kept equal to the manifest's.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use super::ticket::{execute_ticket, lookup, ticket_needs};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::Outcome;
use crate::plan::{
    Observed, Plan, PlanError, Planner, Selector, SiteInput, Step, StepId, StepKind,
};

/// The calendar ticket kind.
pub struct Calendar;

impl Planner for Calendar {
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let Some(cal) = &input.site.site.calendar else {
            return Ok(vec![]);
        };
        Ok(vec![crate::plan::calendar_step(
            input.release,
            input.site,
            cal,
            input.templates,
            input.ctx,
            input.observed,
        )?])
    }
}

#[async_trait(?Send)]
impl Kind for Calendar {
    fn kind(&self) -> StepKind {
        StepKind::Calendar
    }

    fn name(&self) -> &'static str {
        "calendar ticket"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Calendar)
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Lookup]
    }

    async fn observe(
        &self,
        _phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        _observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        for (id, found) in lookup(cx, plan, StepKind::Calendar, |_| true, &mut learnt).await {
            if let Some(site) = id.site() {
                learnt.calendar.insert(site.to_string(), found.key.clone());
            }
            if found.in_sync {
                learnt
                    .done
                    .insert(id, "exists with the manifest's dates".to_string());
            }
        }
        learnt
    }

    async fn execute(
        &self,
        cx: &Cx<'_>,
        step: &Step,
        _observed: &Observed,
    ) -> anyhow::Result<Done> {
        execute_ticket(cx, step).await
    }

    fn learn(&self, observed: &mut Observed, id: &StepId, outcome: &Outcome) {
        if let (Some(site), Outcome::Ticket { key, .. }) = (id.site(), outcome) {
            observed.calendar.insert(site.to_string(), key.clone());
            observed.done.insert(id.clone(), outcome.summary());
        }
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        ticket_needs(step, needs);
    }

    async fn warm(&self, cx: &Cx<'_>, plan: &Plan) {
        super::ticket::resolve_people(cx, plan, StepKind::Calendar).await;
    }
}
