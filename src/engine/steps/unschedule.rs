//! A revert's cancellation of the reverted cycle's pending announcements of
//! a site (Slack): each one found by its marker among the channel's
//! scheduled messages and deleted; nothing posted. Planned by
//! [`super::revert`]; `cycle cancel` does the same for a whole deployment.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::Outcome;
use crate::engine::messages::message_spec;
use crate::plan::{
    Action, MessageRequest, Observed, Plan, Planner, Seen, Selector, Step, StepKind, StepSpec,
};
use crate::services::slack;

/// The announcement-cancellation kind.
pub struct Unschedule;

/// Planned by the revert ([`super::revert::Revert`]).
impl Planner for Unschedule {}

/// What is pending of each of `requests`, as "day_before Q123 at …".
async fn pending(cx: &Cx<'_>, requests: &[MessageRequest]) -> anyhow::Result<Vec<String>> {
    let api = cx.services.messages.api()?;
    let mut found = Vec::new();
    for request in requests {
        let spec = message_spec(cx.id, request)?;
        let (_, messages) = slack::pending(api.as_ref(), &spec).await?;
        found.extend(messages.iter().map(|m| {
            format!(
                "{} {} for {}",
                request.message,
                m.id,
                cx.services.messages.time(&request.site, m.post_at)
            )
        }));
    }
    Ok(found)
}

#[async_trait(?Send)]
impl Kind for Unschedule {
    fn kind(&self) -> StepKind {
        StepKind::Unschedule
    }

    fn name(&self) -> &'static str {
        "announcement cancellation"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Slack)
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Results]
    }

    async fn observe(&self, _phase: Phase, cx: &Cx<'_>, plan: &Plan, _: &Observed) -> Observed {
        let mut learnt = Observed::default();
        if cx.offline || cx.services.messages.api().is_err() {
            return learnt;
        }
        for step in Cx::steps_of(plan, StepKind::Unschedule).filter(|s| cx.selection.selects(s)) {
            let StepSpec::Unschedule(requests) = &step.spec else {
                continue;
            };
            match pending(cx, requests).await {
                Ok(found) if found.is_empty() => {
                    learnt.seen.insert(
                        step.id.clone(),
                        Seen {
                            action: Action::None,
                            note: "nothing of them is pending".into(),
                            detail: vec![],
                            link: None,
                            waiting_on: None,
                            basis: Some("none pending".into()),
                        },
                    );
                }
                Ok(found) => {
                    learnt.seen.insert(
                        step.id.clone(),
                        Seen {
                            action: Action::Update,
                            note: format!("would delete {} pending message(s)", found.len()),
                            basis: Some(format!("pending {}", found.join(", "))),
                            detail: found,
                            link: None,
                            waiting_on: None,
                        },
                    );
                }
                Err(e) => cx
                    .progress
                    .note(&format!("{}: not looked up: {e:#}", step.id)),
            }
        }
        learnt
    }

    /// Deletes every pending copy of each announcement; a message already
    /// posted is left as it is.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, _: &Observed) -> anyhow::Result<Done> {
        let StepSpec::Unschedule(requests) = &step.spec else {
            anyhow::bail!("{}: not a cancellation step", step.id);
        };
        let api = cx.services.messages.api()?;
        let mut removed = Vec::new();
        for request in requests {
            let spec = message_spec(cx.id, request)?;
            let cancelled = slack::cancel(api.as_ref(), &spec, None).await?;
            removed.extend(
                cancelled
                    .removed
                    .into_iter()
                    .map(|id| format!("{} {id}", request.message)),
            );
        }
        let note = if removed.is_empty() {
            "nothing was pending".to_string()
        } else {
            format!("deleted {}", removed.join(", "))
        };
        Ok(Done {
            // Not `cancelled`, which says a step was interrupted.
            action: if removed.is_empty() {
                "unchanged"
            } else {
                "deleted"
            }
            .into(),
            outcome: Outcome::Manual { note },
        })
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::Unschedule(requests) = &step.spec {
            let site = step.id.site().unwrap_or_default().to_string();
            for request in requests {
                let pair = (site.clone(), request.channel.clone());
                if !needs.channels.contains(&pair) {
                    needs.channels.push(pair);
                }
            }
        }
    }
}
