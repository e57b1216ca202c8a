//! The XML release's catch-all story (vanward's `create_cap_release`,
//! second half): "Catch all ticket for OSW work for XML X.Y.Z" in the CAP
//! project, with the release's version as its fix version and the
//! configured component, assigned to the release manager; found by its
//! exact summary and created once, after the version.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::json;

use super::cap_version::{version_name, xml_version};
use super::kind::{Cx, Done, Kind, Phase};
use super::ticket::{execute_ticket, lookup, resolve_people, ticket_needs};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::Outcome;
use crate::plan::{
    Change, CycleInput, Observed, Plan, PlanError, Planner, Selector, Step, StepId, StepKind,
    StepSpec, TicketRequest, pending_step,
};

/// The catch-all story kind.
pub struct CapStory;

impl Planner for CapStory {
    fn plan_cycle(&self, input: &CycleInput<'_>) -> Result<Vec<Step>, PlanError> {
        let Some(cap) = &input.release.release.cap_release else {
            return Ok(vec![]);
        };
        let xml = xml_version(input.release)?;
        let request = TicketRequest {
            project: cap.project.clone(),
            issue_type: cap.issue_type.clone(),
            summary: format!("Catch all ticket for OSW work for XML {xml}"),
            description: format!(
                "The OSW work for XML {xml} ({}): its tickets link here.",
                input.release.id.label()
            ),
            labels: vec![],
            components: vec![cap.component.clone()],
            fields: BTreeMap::from([(
                "fixVersions".to_string(),
                json!([{ "name": version_name(&xml) }]),
            )]),
            users: BTreeMap::new(),
            assignee: cap.assignee.clone(),
            priority: None,
            kept_in_sync: vec![],
        };
        Ok(vec![pending_step(
            StepId::CapStory,
            1,
            format!("Catch-all story in {}", request.project),
            vec![StepId::CapVersion],
            vec![format!(
                "issue \"{}\" of project {}",
                request.summary, request.project
            )],
            vec![Change::CreateIssue(request.clone())],
            StepSpec::Ticket(request),
            input.observed,
        )])
    }
}

#[async_trait(?Send)]
impl Kind for CapStory {
    fn kind(&self) -> StepKind {
        StepKind::CapStory
    }

    fn name(&self) -> &'static str {
        "CAP catch-all story"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Jira)
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
        for (id, found) in lookup(cx, plan, StepKind::CapStory, |_| true, &mut learnt).await {
            learnt.issues.insert(id.clone(), found.key.clone());
            learnt.done.insert(id, format!("{} exists", found.key));
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

    /// The story's key goes where the link step reads it (as the lookup
    /// records it).
    fn learn(&self, observed: &mut Observed, id: &StepId, outcome: &Outcome) {
        if let Outcome::Ticket { key, .. } = outcome {
            observed.issues.insert(id.clone(), key.clone());
        }
        observed.done.insert(id.clone(), outcome.summary());
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        ticket_needs(step, needs);
    }

    async fn warm(&self, cx: &Cx<'_>, plan: &Plan) {
        resolve_people(cx, plan, StepKind::CapStory).await;
    }
}
