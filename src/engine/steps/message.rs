//! Slack announcements of a site (checklist 5), the review notice of a
//! pull request (checklist 6) and the announcement of the cycle's page
//! (checklist 4.1): three kinds, one way of sending.
//!
//! Every message step is found again before it is sent: the journal's
//! reference is tried first, then Slack itself (scheduled messages by
//! their marker line, posted ones by metadata); see
//! [`crate::services::slack`]. A message more than 120 days ahead cannot
//! be scheduled yet: its step ends [`WAITING`] and stays PENDING.

use super::kind::{Cx, Done, Phase, WAITING};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::{Journal, Outcome};
use crate::engine::messages::{hint, message_spec, seen};
use crate::plan::{
    Action, Change, MessageKind, MessageRequest, Observed, Plan, PlanError, Planner, Seen,
    Selector, SiteInput, Step, StepId, StepKind, StepSpec, pending_step,
};
use crate::render::names;
use crate::services::slack::{self, MessageOutcome};

/// The deployment announcements of a site (the day before, an hour
/// before, the start).
pub struct Announcement;

/// The "PR ready for review" notice of one pull request.
pub struct ReviewNotice;

/// The announcement of the cycle's page once the build is done.
pub struct PageNotice;

/// The step that sends `request`, pending unless found done: titled by its
/// message and channel, what it looks for named `what` (`message`,
/// `reminder`, `announcement`). Every Slack kind plans its steps with it.
pub(super) fn message_step(
    id: StepId,
    checklist_item: u8,
    what: &str,
    request: MessageRequest,
    input: &SiteInput<'_>,
) -> Step {
    let (message, channel) = (&request.message, &request.channel);
    pending_step(
        id,
        checklist_item,
        format!("Slack {message} in {channel}"),
        vec![],
        vec![format!(
            "{what} {message} of site {}, {} in {channel}",
            request.site,
            input.release.id.full_tag()
        )],
        vec![Change::PostMessage(request.clone())],
        StepSpec::Message(request),
        input.observed,
    )
}

/// Observes the selected steps of `kind` (see [`observe_messages`]).
pub(super) async fn observe_kind(cx: &Cx<'_>, plan: &Plan, kind: StepKind) -> Observed {
    let journal = cx.journal();
    let mut learnt = Observed::default();
    learnt
        .seen
        .extend(observe_messages(cx, plan, &journal, kind).await);
    learnt
}

/// Executes a message step of any of the three kinds.
pub(super) async fn execute_step(
    cx: &Cx<'_>,
    step: &Step,
    observed: &Observed,
) -> anyhow::Result<Done> {
    let StepSpec::Message(request) = &step.spec else {
        anyhow::bail!("{}: not a message step", step.id);
    };
    execute_message(cx, step, request, observed).await
}

/// A message's outcome as the progress line shows it: its channel by name
/// and its time in the site's zone, like the summary.
pub(super) fn shown_message(cx: &Cx<'_>, step: &Step, outcome: &Outcome) -> String {
    let (
        StepSpec::Message(request),
        Outcome::Message {
            ts,
            scheduled_id,
            post_at,
            ..
        },
    ) = (&step.spec, outcome)
    else {
        return outcome.summary();
    };
    // ` for 2026-02-23 09:00 CLST` (after `word`), or nothing.
    let when = |word: &str| {
        post_at
            .map(|t| format!("{word} {}", cx.services.messages.time(&request.site, t)))
            .unwrap_or_default()
    };
    let channel = &request.channel;
    match (ts, scheduled_id) {
        (Some(ts), _) => format!("posted {ts} in {channel}"),
        (None, Some(id)) => format!("scheduled {id} in {channel}{}", when(" for")),
        (None, None) => format!("nothing in {channel}{}", when(", due")),
    }
}

/// What `cycle doctor` must prove for a message step: its channel.
pub(super) fn channel_needs(step: &Step, needs: &mut Needs) {
    if let StepSpec::Message(request) = &step.spec {
        needs.channel(step.id.site().unwrap_or_default(), &request.channel);
    }
}

impl Planner for Announcement {
    /// The day before, an hour before and at the start, in the site's
    /// channel, at the deployment's times.
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let site = &input.site.site;
        let name = &site.name;
        let times = crate::model::context::deployment_times(input.site, input.release)?;
        let mut steps = Vec::new();
        for (kind, template, at) in [
            (
                MessageKind::DayBefore,
                names::SLACK_DAY_BEFORE,
                times.day_before,
            ),
            (
                MessageKind::HourBefore,
                names::SLACK_HOUR_BEFORE,
                times.hour_before,
            ),
            (MessageKind::Start, names::SLACK_START, times.start),
        ] {
            let request = MessageRequest {
                site: name.clone(),
                channel: site.slack.channel.clone(),
                message: kind.as_str().to_string(),
                subject: None,
                at: Some(at),
                text: input
                    .templates
                    .render(template, input.ctx)?
                    .trim_end()
                    .to_string(),
            };
            let id = StepId::Message {
                site: name.clone(),
                kind,
            };
            steps.push(message_step(id, 5, "message", request, input));
        }
        Ok(steps)
    }
}

/// The review notices are planned with their pull requests (see
/// [`super::pull_request`]).
impl Planner for ReviewNotice {}

impl Planner for PageNotice {
    /// The announcement of the page, once the build is done.
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        Ok(vec![crate::plan::page::page_ready_step(
            input.release,
            input.site,
            input.templates,
            input.ctx,
            input.observed,
        )?])
    }
}

/// Implements [`Kind`] for a kind of Slack message: observed and sent
/// like every announcement (see this module), differing only in its kind,
/// name, group and phase. Used by the reminders and the scheduled
/// announcements too.
macro_rules! message_kind {
    ($ty:ty, $kind:expr, $name:expr, $selector:expr, $phase:expr) => {
        #[async_trait::async_trait(?Send)]
        impl $crate::engine::steps::kind::Kind for $ty {
            fn kind(&self) -> $crate::plan::StepKind {
                $kind
            }

            fn name(&self) -> &'static str {
                $name
            }

            fn selector(&self) -> Option<$crate::plan::Selector> {
                Some($selector)
            }

            fn phases(&self) -> &'static [$crate::engine::steps::kind::Phase] {
                &[$phase]
            }

            async fn observe(
                &self,
                _phase: $crate::engine::steps::kind::Phase,
                cx: &$crate::engine::steps::kind::Cx<'_>,
                plan: &$crate::plan::Plan,
                _observed: &$crate::plan::Observed,
            ) -> $crate::plan::Observed {
                $crate::engine::steps::message::observe_kind(cx, plan, $kind).await
            }

            async fn execute(
                &self,
                cx: &$crate::engine::steps::kind::Cx<'_>,
                step: &$crate::plan::Step,
                observed: &$crate::plan::Observed,
            ) -> anyhow::Result<$crate::engine::steps::kind::Done> {
                $crate::engine::steps::message::execute_step(cx, step, observed).await
            }

            fn shown(
                &self,
                cx: &$crate::engine::steps::kind::Cx<'_>,
                step: &$crate::plan::Step,
                outcome: &$crate::engine::journal::Outcome,
            ) -> String {
                $crate::engine::steps::message::shown_message(cx, step, outcome)
            }

            fn needs(
                &self,
                step: &$crate::plan::Step,
                needs: &mut $crate::engine::doctor::needs::Needs,
            ) {
                $crate::engine::steps::message::channel_needs(step, needs);
            }
        }
    };
}
pub(crate) use message_kind;

message_kind!(
    Announcement,
    StepKind::Message,
    "Slack message",
    Selector::Slack,
    Phase::Results
);
message_kind!(
    ReviewNotice,
    StepKind::ReviewNotice,
    "review notice",
    Selector::Pr,
    Phase::Results
);
// The page's announcement links the page: compared with what Slack holds
// once the page's link is known.
message_kind!(
    PageNotice,
    StepKind::PageNotice,
    "page announcement",
    Selector::Confluence,
    Phase::Notices
);

/// Looks for every message step of `plan` whose kind `kinds` takes in
/// Slack (read only), the journal's reference first.
async fn observe_messages(
    cx: &Cx<'_>,
    plan: &Plan,
    journal: &Journal,
    kind: StepKind,
) -> Vec<(StepId, Seen)> {
    let now = chrono::Utc::now().timestamp();
    let Ok(api) = cx.services.messages.api() else {
        return seen_by_the_clock(cx, plan, kind, now);
    };
    let lookups = plan.steps().filter_map(|step| match &step.spec {
        StepSpec::Message(request) if cx.selection.selects(step) && step.kind == kind => {
            Some((step, request))
        }
        _ => None,
    });
    let found = futures::future::join_all(lookups.map(|(step, request)| async move {
        let spec = message_spec(cx.id, request)?;
        let hint = hint(journal, &step.id);
        let time = |unix: i64| cx.services.messages.time(&request.site, unix);
        let finding = slack::find(api.as_ref(), &spec, now, hint.as_ref(), &time).await?;
        anyhow::Ok((step.id.clone(), seen(&finding, &time)))
    }))
    .await;
    found
        .into_iter()
        .filter_map(|result| match result {
            Ok(seen) => Some(seen),
            Err(e) => {
                cx.progress.note(&format!("Slack: not looked up: {e:#}"));
                None
            }
        })
        .collect()
}

/// Without Slack (offline, or no token for a dry run): what the clock
/// alone tells of each selected announcement, a time already passed
/// (missed) or more than 120 days ahead (schedule later).
fn seen_by_the_clock(cx: &Cx<'_>, plan: &Plan, kind: StepKind, now: i64) -> Vec<(StepId, Seen)> {
    plan.steps()
        .filter(|step| cx.selection.selects(step) && step.kind == kind)
        .filter_map(|step| match &step.spec {
            StepSpec::Message(request) => Some((step, request)),
            _ => None,
        })
        .filter_map(|(step, request)| {
            let spec = message_spec(cx.id, request).ok()?;
            let time = |unix: i64| cx.services.messages.time(&request.site, unix);
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
async fn execute_message(
    cx: &Cx<'_>,
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
    let api = cx.services.messages.api()?;
    let spec = message_spec(cx.id, request)?;
    let hint = hint(&cx.journal(), &step.id);
    let now = chrono::Utc::now().timestamp();
    let outcome = slack::ensure(api.as_ref(), &spec, now, hint.as_ref()).await?;
    if let Some(note) = outcome_note(cx, &request.site, &outcome) {
        cx.progress.note(&format!("{}: {note}", step.id));
    }
    Ok(done(outcome, &request.channel))
}

/// What the reader must know of a message that was not sent, in the
/// site's time: missed (never posted late), or to be scheduled later.
fn outcome_note(cx: &Cx<'_>, site: &str, outcome: &MessageOutcome) -> Option<String> {
    let time = |unix: i64| cx.services.messages.time(site, unix);
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

/// The journal's outcome and the summary's verb for what [`slack::ensure`] did.
fn done(outcome: MessageOutcome, channel: &str) -> Done {
    let action = match &outcome {
        MessageOutcome::Scheduled { .. } => "scheduled",
        MessageOutcome::Posted { .. } => "posted",
        MessageOutcome::Unchanged { .. } => "unchanged",
        MessageOutcome::Rescheduled { .. } => "rescheduled",
        MessageOutcome::Updated { .. } => "updated",
        MessageOutcome::Missed { .. } => "missed",
        MessageOutcome::Later { .. } => WAITING,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(later.action, WAITING);
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
}
