//! A revert's cancellation of the reverted cycle's pending announcements of
//! a site (Slack): each one found among the channel's scheduled messages by
//! the id the cycle's journal recorded or by its marker, and deleted;
//! nothing posted. The cycle's own journal then records those steps
//! CANCELLED, as `cycle cancel` does for a whole deployment. Planned by
//! [`super::revert`].

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::{Journal, JournalLock, Outcome, Status};
use crate::engine::messages::{hint, message_spec};
use crate::plan::{
    Action, MessageKind, MessageRequest, Observed, Plan, Planner, Seen, Selector, Step, StepId,
    StepKind, StepSpec,
};
use crate::services::slack;

/// The announcement-cancellation kind.
pub struct Unschedule;

/// Planned by the revert ([`super::revert::Revert`]).
impl Planner for Unschedule {}

/// The reverted cycle's own journal, beside the revert's.
fn cycle_journal_path(cx: &Cx<'_>) -> std::path::PathBuf {
    crate::engine::journal::cycle_journal_beside(cx.journal_path, cx.id)
}

/// The cycle's step of an announcement.
fn message_id(request: &MessageRequest) -> Option<StepId> {
    MessageKind::ALL
        .into_iter()
        .find(|k| k.as_str() == request.message)
        .map(|kind| StepId::Message {
            site: request.site.clone(),
            kind,
        })
}

/// What the cycle's journal recorded of an announcement (its scheduled id).
fn cycle_hint(journal: &Journal, request: &MessageRequest) -> Option<slack::MessageRef> {
    message_id(request).and_then(|id| hint(journal, &id))
}

/// What is pending of each of `requests`, as "day_before Q123 at …".
async fn pending(cx: &Cx<'_>, requests: &[MessageRequest]) -> anyhow::Result<Vec<String>> {
    let api = cx.services.messages.api()?;
    let journal = Journal::load(&cycle_journal_path(cx), cx.id)?;
    let mut found = Vec::new();
    for request in requests {
        let spec = message_spec(cx.id, request)?;
        let hint = cycle_hint(&journal, request);
        let (_, messages) = slack::pending(api.as_ref(), &spec, hint.as_ref()).await?;
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

    /// Deletes every pending copy of each announcement (a message already
    /// posted is left as it is) and records it CANCELLED in the cycle's
    /// journal; one the journal still has as scheduled for later, with no
    /// copy left (a run stopped between the two), is recorded too. A
    /// journal that cannot be written fails the step, which the next run
    /// finishes.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, _: &Observed) -> anyhow::Result<Done> {
        let StepSpec::Unschedule(requests) = &step.spec else {
            anyhow::bail!("{}: not a cancellation step", step.id);
        };
        let api = cx.services.messages.api()?;
        let path = cycle_journal_path(cx);
        let journal = Journal::load(&path, cx.id)?;
        let now = chrono::Utc::now().timestamp();
        let mut removed = Vec::new();
        let mut deleted = Vec::new();
        for request in requests {
            let spec = message_spec(cx.id, request)?;
            let hint = cycle_hint(&journal, request);
            let cancelled = slack::cancel(api.as_ref(), &spec, hint.as_ref()).await?;
            if !cancelled.removed.is_empty() {
                deleted.push((
                    request,
                    format!(
                        "deleted scheduled message {} in {}",
                        cancelled.removed.join(", "),
                        request.channel
                    ),
                ));
            } else if still_scheduled(&journal, request, now) {
                deleted.push((
                    request,
                    format!("its scheduled message in {} is gone", request.channel),
                ));
            }
            removed.extend(
                cancelled
                    .removed
                    .into_iter()
                    .map(|id| format!("{} {id}", request.message)),
            );
        }
        if !deleted.is_empty() {
            record_cancelled(cx, &path, &deleted).map_err(|e| {
                anyhow::anyhow!(
                    "{}: the messages are deleted, but {} was not updated (a run of that cycle holds it?); run again: {e:#}",
                    step.id,
                    path.display()
                )
            })?;
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
            for request in requests {
                needs.channel(step.id.site().unwrap_or_default(), &request.channel);
            }
        }
    }
}

/// Whether the cycle's journal has `request` as scheduled for later and
/// not yet cancelled.
fn still_scheduled(journal: &Journal, request: &MessageRequest, now: i64) -> bool {
    message_id(request).is_some_and(|id| {
        let entry = journal.entry(&id);
        entry.status != Status::Cancelled
            && matches!(
                entry.outcome,
                Some(Outcome::Message {
                    ts: None,
                    scheduled_id: Some(_),
                    post_at: Some(at),
                    ..
                }) if at > now
            )
    })
}

/// Records the deleted announcements CANCELLED in the cycle's own journal
/// (under its lock), so that `cycle status` of the cycle says so and its
/// runs do not schedule them again (see `Journal::withdrawn`).
fn record_cancelled(
    cx: &Cx<'_>,
    path: &std::path::Path,
    deleted: &[(&MessageRequest, String)],
) -> anyhow::Result<()> {
    let _lock = JournalLock::acquire(path, cx.id)?;
    let mut journal = Journal::load(path, cx.id)?;
    for (request, what) in deleted {
        if let Some(id) = message_id(request) {
            journal.set_status(
                &id,
                Status::Cancelled,
                Some(format!("{what} (cycle revert)")),
            );
        }
    }
    journal.save(path)?;
    Ok(())
}
