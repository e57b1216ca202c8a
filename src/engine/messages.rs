//! The engine's side of Slack: the adapter when configured, the plan's
//! [`MessageRequest`] turned into the adapter's [`MessageSpec`], what a
//! lookup found of each message step (announcements, review notices), and
//! the step's execution.
//!
//! Every message step is found again before it is sent: the journal's
//! [`MessageRef`] is tried first, then Slack itself (scheduled messages by
//! their marker line, posted ones by metadata); see [`crate::services::slack`].
//!
//! A message more than 120 days ahead cannot be scheduled yet: its step
//! ends [`super::WAITING`] and stays PENDING. `cycle cancel` is
//! [`Engine::cancel_messages`]: it deletes the pending scheduled
//! announcements and marks their steps CANCELLED, posting nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::journal::{Journal, JournalLock, Outcome, Status};
use super::{Done, Engine, Report, RunEnd, SummaryRow};
use crate::model::cycle_id::CycleId;
use crate::model::site::LoadedSite;
use crate::plan::{Action, MessageRequest, Observed, Plan, Seen, Step, StepId, StepKind, StepSpec};
use crate::services::slack::{
    self, MessageKind, MessageOutcome, MessageRef, MessageSpec, SlackApi, SlackClient,
};

/// Slack for one run, or why it is not available, and the sites whose
/// zones show the messages' times.
pub struct Messages {
    api: Result<Arc<dyn SlackApi>, String>,
    sites: BTreeMap<String, LoadedSite>,
}

impl Messages {
    /// Slack from the environment (`SLACK_BOT_TOKEN`, `SLACK_API_URL`). When
    /// `required` (a selected step sends a message) a missing token is an
    /// error before any step runs; otherwise lookups are skipped. `sites`
    /// give the zones times are shown in.
    pub fn from_env(required: bool, sites: &[&LoadedSite]) -> anyhow::Result<Self> {
        match SlackClient::from_env() {
            Ok(client) => Ok(Self {
                api: Ok(Arc::new(client)),
                ..Self::without_slack("", sites)
            }),
            Err(e) if required => Err(e.into()),
            Err(e) => Ok(Self::without_slack(&e.to_string(), sites)),
        }
    }

    /// No Slack (offline), with the sites whose zones show the times the
    /// plan still reads from the clock.
    pub fn without_slack(reason: &str, sites: &[&LoadedSite]) -> Self {
        Self {
            sites: sites
                .iter()
                .map(|s| (s.site.name.clone(), (*s).clone()))
                .collect(),
            ..Self::none(reason)
        }
    }

    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            api: Err(reason.to_string()),
            sites: BTreeMap::new(),
        }
    }

    /// The adapter, or why Slack is not available.
    pub(super) fn api(&self) -> anyhow::Result<&Arc<dyn SlackApi>> {
        self.api.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// An instant as the site reads it (`2026-02-23 09:00 CLST`).
    pub(super) fn time(&self, site: &str, unix: i64) -> String {
        match self.sites.get(site) {
            Some(loaded) => crate::model::context::display_time(loaded, unix),
            None => chrono::DateTime::from_timestamp(unix, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| unix.to_string()),
        }
    }
}

/// The adapter's spec of a planned message of cycle revision `id`.
pub fn message_spec(id: CycleId, request: &MessageRequest) -> anyhow::Result<MessageSpec> {
    let kind = MessageKind::from_name(&request.message)
        .ok_or_else(|| anyhow::anyhow!("unknown Slack message `{}`", request.message))?;
    Ok(MessageSpec {
        site: request.site.clone(),
        cycle: id.cycle,
        revision: id.revision,
        kind,
        subject: request.subject.clone(),
        channel: request.channel.clone(),
        text: request.text.clone(),
        post_at: request.at.as_ref().map(|w| w.unix),
    })
}

/// Where the journal last saw the message of step `id`.
fn hint(journal: &Journal, id: &StepId) -> Option<MessageRef> {
    match journal.entry(id).outcome {
        Some(Outcome::Message {
            channel,
            ts,
            scheduled_id,
            post_at,
            ..
        }) => Some(MessageRef {
            channel_id: channel,
            scheduled_id,
            ts,
            post_at,
        }),
        _ => None,
    }
}

/// What the plan shows for what [`slack::find`] saw.
fn seen(finding: &slack::Finding, time: &dyn Fn(i64) -> String) -> Seen {
    let mut waiting_on = None;
    let action = match &finding.plan {
        slack::Plan::Schedule { .. } | slack::Plan::Post => Action::Create,
        slack::Plan::Reschedule { .. } | slack::Plan::Update { .. } => Action::Update,
        slack::Plan::Keep { remove, .. } if remove.is_empty() => Action::None,
        slack::Plan::Missed { remove, .. } if remove.is_empty() => Action::Missed,
        slack::Plan::Keep { .. } | slack::Plan::Missed { .. } => Action::Update,
        slack::Plan::Later {
            remove,
            schedulable_from,
            ..
        } => {
            if remove.is_empty() {
                waiting_on = Some(crate::plan::Wait::Time {
                    from: time(*schedulable_from),
                });
                Action::Waiting
            } else {
                Action::Update
            }
        }
    };
    Seen {
        action,
        note: finding.description.clone(),
        detail: vec![],
        link: None,
        waiting_on,
        basis: Some(message_basis(&finding.observed)),
    }
}

/// What Slack holds of a message, in the saved plan's stable form.
fn message_basis(observed: &slack::Observed) -> String {
    let mut parts: Vec<String> = observed
        .scheduled
        .iter()
        .map(|m| format!("scheduled {} at {}", m.id, m.post_at))
        .collect();
    if let Some(posted) = &observed.posted {
        parts.push(format!("posted {}", posted.ts));
    }
    if parts.is_empty() {
        "nothing in Slack".to_string()
    } else {
        parts.join(", ")
    }
}

/// The journal's outcome and the summary's verb for what [`slack::ensure`] did.
fn done(outcome: MessageOutcome, channel: &str) -> Done {
    let action = match &outcome {
        MessageOutcome::Scheduled { .. } => "scheduled",
        MessageOutcome::Posted { .. } => "posted",
        MessageOutcome::Unchanged { .. } => "unchanged",
        MessageOutcome::Rescheduled { .. } => "rescheduled",
        MessageOutcome::Updated { .. } => "updated",
        MessageOutcome::Missed { .. } => "missed",
        MessageOutcome::Later { .. } => super::WAITING,
    };
    let link = match &outcome {
        MessageOutcome::Posted { permalink, .. } | MessageOutcome::Updated { permalink, .. } => {
            permalink.clone()
        }
        _ => None,
    };
    let reference = outcome.message_ref();
    let (channel_id, post_at) = match &outcome {
        MessageOutcome::Missed {
            channel_id,
            post_at,
            ..
        }
        | MessageOutcome::Later {
            channel_id,
            post_at,
            ..
        } => (channel_id.clone(), Some(*post_at)),
        _ => (String::new(), None),
    };
    let outcome = match reference {
        Some(r) => Outcome::Message {
            channel: r.channel_id,
            ts: r.ts,
            scheduled_id: r.scheduled_id,
            post_at: r.post_at,
            link,
        },
        None => Outcome::Message {
            channel: if channel_id.is_empty() {
                channel.to_string()
            } else {
                channel_id
            },
            ts: None,
            scheduled_id: None,
            post_at,
            link: None,
        },
    };
    Done {
        outcome,
        action: action.to_string(),
    }
}

impl Engine {
    /// Looks for every message step of `plan` whose kind `kinds` takes in
    /// Slack (read only), the journal's reference first.
    pub(crate) async fn observe_messages(
        &self,
        plan: &Plan,
        journal: &Journal,
        kinds: impl Fn(StepKind) -> bool,
    ) -> Vec<(StepId, Seen)> {
        let now = chrono::Utc::now().timestamp();
        let Ok(api) = self.messages.api() else {
            return self.seen_by_the_clock(plan, now);
        };
        let lookups = plan.steps().filter_map(|step| match &step.spec {
            StepSpec::Message(request) if self.selection.selects(step) && kinds(step.kind) => {
                Some((step, request))
            }
            _ => None,
        });
        let found = futures::future::join_all(lookups.map(|(step, request)| async move {
            let spec = message_spec(self.id, request)?;
            let hint = hint(journal, &step.id);
            let time = |unix: i64| self.messages.time(&request.site, unix);
            let finding = slack::find(api.as_ref(), &spec, now, hint.as_ref(), &time).await?;
            anyhow::Ok((step.id.clone(), seen(&finding, &time)))
        }))
        .await;
        found
            .into_iter()
            .filter_map(|result| match result {
                Ok(seen) => Some(seen),
                Err(e) => {
                    self.progress.note(&format!("Slack: not looked up: {e:#}"));
                    None
                }
            })
            .collect()
    }

    /// Without Slack (offline, or no token for a dry run): what the clock
    /// alone tells of each selected announcement, a time already passed
    /// (missed) or more than 120 days ahead (schedule later).
    fn seen_by_the_clock(&self, plan: &Plan, now: i64) -> Vec<(StepId, Seen)> {
        plan.steps()
            .filter(|step| self.selection.selects(step))
            .filter_map(|step| match &step.spec {
                StepSpec::Message(request) => Some((step, request)),
                _ => None,
            })
            .filter_map(|(step, request)| {
                let spec = message_spec(self.id, request).ok()?;
                let time = |unix: i64| self.messages.time(&request.site, unix);
                let mut waiting_on = None;
                let (action, plan) = match slack::decide(now, &spec) {
                    slack::Decision::Missed { post_at } => (
                        Action::Missed,
                        slack::Plan::Missed {
                            post_at,
                            remove: vec![],
                        },
                    ),
                    slack::Decision::Later {
                        post_at,
                        schedulable_from,
                    } => (
                        {
                            waiting_on = Some(crate::plan::Wait::Time {
                                from: time(schedulable_from),
                            });
                            Action::Waiting
                        },
                        slack::Plan::Later {
                            post_at,
                            schedulable_from,
                            remove: vec![],
                        },
                    ),
                    slack::Decision::PostNow | slack::Decision::Schedule { .. } => return None,
                };
                let note = format!(
                    "{} (by the clock; Slack not looked at)",
                    slack::describe(&plan, &spec, &time)
                );
                Some((
                    step.id.clone(),
                    Seen {
                        action,
                        note,
                        detail: vec![],
                        link: None,
                        waiting_on,
                        basis: None,
                    },
                ))
            })
            .collect()
    }

    /// Executes one message step: finds the message first, then schedules,
    /// posts, reschedules or edits only what differs.
    pub(crate) async fn execute_message(
        &self,
        step: &Step,
        request: &MessageRequest,
        observed: &Observed,
    ) -> anyhow::Result<Done> {
        let blocked = crate::plan::check::blocks_page_ready(&observed.checks);
        if request.message == crate::plan::MessageKind::PageReady.as_str() && !blocked.is_empty() {
            anyhow::bail!(
                "{}: blocked by pre-flight findings: {}. Nothing was posted; `cycle check` \
                 says what to do for each, then run again",
                step.id,
                blocked.join("; ")
            );
        }
        let api = self.messages.api()?;
        let spec = message_spec(self.id, request)?;
        let hint = hint(&self.journal(), &step.id);
        let now = chrono::Utc::now().timestamp();
        let outcome = slack::ensure(api.as_ref(), &spec, now, hint.as_ref()).await?;
        if let Some(note) = self.outcome_note(&request.site, &outcome) {
            self.progress.note(&format!("{}: {note}", step.id));
        }
        Ok(done(outcome, &request.channel))
    }

    /// What the reader must know of a message that was not sent, in the
    /// site's time: missed (never posted late), or to be scheduled later.
    fn outcome_note(&self, site: &str, outcome: &MessageOutcome) -> Option<String> {
        let time = |unix: i64| self.messages.time(site, unix);
        match outcome {
            MessageOutcome::Missed { post_at, .. } => Some(format!(
                "was due at {}: missed, not posted late",
                time(*post_at)
            )),
            MessageOutcome::Later {
                post_at,
                schedulable_from,
                ..
            } => Some(format!(
                "due at {}, more than 120 days ahead: schedule later (within 120 days of \
                 the time): run `cycle prepare` again from {}",
                time(*post_at),
                time(*schedulable_from)
            )),
            _ => None,
        }
    }
}

/// What cancelling one announcement did, for the summary and the journal.
fn cancelled_row(
    id: &StepId,
    cancelled: &slack::Cancelled,
    posted: bool,
    time: &dyn Fn(i64) -> String,
    post_at: Option<i64>,
    now: i64,
) -> (SummaryRow, Option<String>) {
    let row = |action: &str, detail: String| SummaryRow {
        id: id.clone(),
        action: action.to_string(),
        detail,
        link: None,
    };
    if !cancelled.removed.is_empty() {
        let detail = format!(
            "deleted scheduled message {} in {}",
            cancelled.removed.join(", "),
            cancelled.channel_id
        );
        return (row("cancelled", detail.clone()), Some(detail));
    }
    match post_at {
        _ if posted => (row("posted", "already posted; left as is".into()), None),
        Some(t) if t <= now => (
            row(
                "unchanged",
                format!("was due at {}; nothing pending to delete", time(t)),
            ),
            None,
        ),
        _ => {
            let detail = "nothing was scheduled; nothing will be posted".to_string();
            (row("cancelled", detail.clone()), Some(detail))
        }
    }
}

impl Engine {
    /// `cycle cancel`: deletes every pending scheduled announcement of the
    /// plan's sites (found by the journal's id, then by marker) and marks
    /// their steps CANCELLED. Posts nothing; a message already posted, or
    /// whose time has passed, keeps its record. Takes the journal's lock.
    pub async fn cancel_messages(&self, plan: &Plan) -> anyhow::Result<Report> {
        let _lock = JournalLock::acquire(&self.journal_path, self.id)?;
        *self.journal() = Journal::load(&self.journal_path, self.id)?;
        let api = self.messages.api()?;
        let journal = self.journal().clone();
        let now = chrono::Utc::now().timestamp();
        let steps = plan
            .steps()
            .filter_map(|step| match (&step.id, &step.spec) {
                // The deployment's announcements; the page's announcement
                // belongs to the cycle build, not to the deployment.
                (StepId::Message { .. }, StepSpec::Message(request))
                    if step.kind == StepKind::Message =>
                {
                    Some((step, request))
                }
                _ => None,
            });
        let results = futures::future::join_all(steps.map(|(step, request)| {
            let hint = hint(&journal, &step.id);
            async move {
                let result = async {
                    let spec = message_spec(self.id, request)?;
                    let cancelled = slack::cancel(api.as_ref(), &spec, hint.as_ref()).await?;
                    let posted = hint.as_ref().is_some_and(|h| h.ts.is_some());
                    let time = |unix: i64| self.messages.time(&request.site, unix);
                    anyhow::Ok(cancelled_row(
                        &step.id,
                        &cancelled,
                        posted,
                        &time,
                        spec.post_at,
                        now,
                    ))
                }
                .await;
                result.map_err(|e| (step.id.clone(), e))
            }
        }))
        .await;
        let mut rows = Vec::new();
        let mut journal = self.journal();
        for result in results {
            match result {
                Ok((row, Some(note))) => {
                    journal.set_status(&row.id, Status::Cancelled, Some(note));
                    rows.push(row);
                }
                Ok((row, None)) => rows.push(row),
                Err((id, e)) => rows.push(SummaryRow {
                    id,
                    action: "failed".into(),
                    detail: format!("{e:#}"),
                    link: None,
                }),
            }
        }
        journal.save(&self.journal_path)?;
        let end = if rows.iter().any(|r| r.action == "failed") {
            RunEnd::Incomplete
        } else {
            RunEnd::Complete
        };
        Ok(Report { end, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(unix: i64) -> String {
        format!("t{unix}")
    }

    #[test]
    fn a_message_too_far_ahead_waits_and_a_missed_one_finishes() {
        let later = done(
            MessageOutcome::Later {
                channel_id: "C1".into(),
                post_at: 500,
                schedulable_from: 100,
                removed: vec![],
            },
            "#summit-announce",
        );
        assert!(later.waits());
        assert_eq!(later.action, super::super::WAITING);
        assert_eq!(
            later.outcome,
            Outcome::Message {
                channel: "C1".into(),
                ts: None,
                scheduled_id: None,
                post_at: Some(500),
                link: None,
            }
        );
        let missed = done(
            MessageOutcome::Missed {
                channel_id: "C1".into(),
                post_at: 500,
                removed: vec![],
            },
            "#summit-announce",
        );
        assert!(!missed.waits());
        assert_eq!(missed.action, "missed");
    }

    #[test]
    fn cancelling_marks_pending_messages_and_keeps_posted_or_past_ones() {
        let id = StepId::Message {
            site: "summit".into(),
            kind: crate::plan::MessageKind::Start,
        };
        let deleted = slack::Cancelled {
            channel_id: "C1".into(),
            removed: vec!["Q1".into()],
        };
        let nothing = slack::Cancelled {
            channel_id: "C1".into(),
            removed: vec![],
        };
        let (row, note) = cancelled_row(&id, &deleted, false, &utc, Some(900), 100);
        assert_eq!(row.action, "cancelled");
        assert_eq!(note.as_deref(), Some("deleted scheduled message Q1 in C1"));
        let (row, note) = cancelled_row(&id, &nothing, false, &utc, Some(900), 100);
        assert_eq!(row.action, "cancelled");
        assert!(note.is_some());
        let (row, note) = cancelled_row(&id, &nothing, true, &utc, Some(50), 100);
        assert_eq!((row.action.as_str(), note), ("posted", None));
        let (row, note) = cancelled_row(&id, &nothing, false, &utc, Some(50), 100);
        assert_eq!(row.action, "unchanged");
        assert_eq!(row.detail, "was due at t50; nothing pending to delete");
        assert!(note.is_none());
    }
}
