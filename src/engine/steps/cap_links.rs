//! For a revision, the current release's bucket ticket hands its links to
//! the new catch-all story (vanward's `move_bucket_ticket_links`): every
//! link of `cap_release.move_links_from`, except those of the tickets kept
//! in the revision (`cap_release.keep`), is made again on the story (same
//! type, same direction) and then deleted from the old ticket. Idempotent:
//! a link already on the story is not made twice, and a rerun finds nothing
//! left to move.

use async_trait::async_trait;

use super::cap_version::xml_version;
use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::journal::Outcome;
use crate::plan::{
    Action, Change, CycleInput, LinkMoveRequest, Observed, Plan, PlanError, Planner, Seen,
    Selector, Step, StepId, StepKind, StepSpec, pending_step,
};
use crate::services::jira::IssueLink;

/// The link-moving kind.
pub struct CapLinks;

impl Planner for CapLinks {
    fn plan_cycle(&self, input: &CycleInput<'_>) -> Result<Vec<Step>, PlanError> {
        let Some(cap) = &input.release.release.cap_release else {
            return Ok(vec![]);
        };
        let Some(from) = &cap.move_links_from else {
            return Ok(vec![]);
        };
        let xml = xml_version(input.release)?;
        let request = LinkMoveRequest {
            from: from.clone(),
            to_summary: format!("Catch all ticket for OSW work for XML {xml}"),
            keep: cap.keep.clone(),
        };
        Ok(vec![pending_step(
            StepId::CapLinks,
            1,
            format!("Links of {from} moved to the catch-all story"),
            vec![StepId::CapStory],
            vec![format!("the links of {from} and of the catch-all story")],
            vec![Change::MoveLinks(request.clone())],
            StepSpec::MoveLinks(request),
            input.observed,
        )])
    }
}

/// The catch-all story's key, once looked up or created.
fn story_key(observed: &Observed) -> Option<String> {
    observed.issues.get(&StepId::CapStory).cloned()
}

/// Whether `a` on one issue and `b` on another are the same link to the
/// same third issue.
fn same(a: &IssueLink, b: &IssueLink) -> bool {
    a.type_name == b.type_name && a.other == b.other && a.outward == b.outward
}

/// The links of `request.from` to move to `to`: not kept, not the story
/// itself; with whether each is already on `to`.
async fn to_move(
    cx: &Cx<'_>,
    request: &LinkMoveRequest,
    to: &str,
) -> anyhow::Result<Vec<(IssueLink, bool)>> {
    let api = cx.services.tickets.api()?;
    let (from_links, to_links) =
        futures::future::try_join(api.issue_links(&request.from), api.issue_links(to)).await?;
    Ok(from_links
        .into_iter()
        .filter(|l| !request.keep.contains(&l.other) && l.other != to)
        .map(|l| {
            let there = to_links.iter().any(|t| same(&l, t));
            (l, there)
        })
        .collect())
}

#[async_trait(?Send)]
impl Kind for CapLinks {
    fn kind(&self) -> StepKind {
        StepKind::CapLinks
    }

    fn name(&self) -> &'static str {
        "CAP bucket links"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Jira)
    }

    /// After the story's lookup.
    fn phases(&self) -> &'static [Phase] {
        &[Phase::Links]
    }

    async fn observe(
        &self,
        _phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        let (Some(step), Some(to)) = (plan.step(&StepId::CapLinks), story_key(observed)) else {
            return learnt;
        };
        let StepSpec::MoveLinks(request) = &step.spec else {
            return learnt;
        };
        if cx.offline || cx.services.tickets.configured().is_err() {
            return learnt;
        }
        match to_move(cx, request, &to).await {
            Ok(links) if links.is_empty() => {
                learnt.done.insert(
                    step.id.clone(),
                    format!("no link of {} left to move to {to}", request.from),
                );
            }
            Ok(links) => {
                let others: Vec<&str> = links.iter().map(|(l, _)| l.other.as_str()).collect();
                learnt.seen.insert(
                    step.id.clone(),
                    Seen {
                        action: Action::Update,
                        note: format!(
                            "would move {} link(s) of {} to {to}: {}",
                            links.len(),
                            request.from,
                            others.join(", ")
                        ),
                        detail: vec![],
                        link: None,
                        waiting_on: None,
                        basis: Some(format!("{} links to move", links.len())),
                    },
                );
            }
            Err(e) => cx
                .progress
                .note(&format!("{}: not looked up: {e:#}", step.id)),
        }
        learnt
    }

    /// Reads both issues' links again, makes each missing one on the story,
    /// then deletes it from the old ticket.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, observed: &Observed) -> anyhow::Result<Done> {
        let StepSpec::MoveLinks(request) = &step.spec else {
            anyhow::bail!("{}: not a link step", step.id);
        };
        let to = match story_key(observed) {
            Some(key) => key,
            None => {
                anyhow::bail!(
                    "{}: the catch-all story is not known yet (run its step first)",
                    step.id
                )
            }
        };
        let api = cx.services.tickets.api()?;
        let links = to_move(cx, request, &to).await?;
        for (link, there) in &links {
            if !there {
                let (outward, inward) = if link.outward {
                    (to.as_str(), link.other.as_str())
                } else {
                    (link.other.as_str(), to.as_str())
                };
                api.create_link(&link.type_name, outward, inward).await?;
            }
            api.delete_link(&link.id).await?;
        }
        Ok(Done {
            outcome: Outcome::Manual {
                note: format!("{} link(s) of {} moved to {to}", links.len(), request.from),
            },
            action: if links.is_empty() {
                "unchanged"
            } else {
                "updated"
            }
            .into(),
        })
    }
}
