//! The announcement step over any [`SlackApi`]: which message of a site it is,
//! what the clock allows, what to schedule, post, update or delete so it exists
//! exactly once, and what the step reports.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::render::escape_mrkdwn;

use super::{
    HistoryRange, Metadata, PAGE_LIMIT, PostedMessage, ScheduledMessage, SlackApi, SlackError,
};

/// `metadata.event_type` of the messages `cycle` posts.
pub const EVENT_TYPE: &str = "cycle_announcement";
/// How far ahead Slack schedules a message (120 days, in seconds).
pub const SCHEDULE_HORIZON: i64 = 120 * 86_400;

/// Most pages of history searched for a message posted "now" (no time to aim at).
const MAX_HISTORY_PAGES: usize = 10;
/// A scheduled message is looked for in the history from this long before its time…
const DELIVERY_EARLY: i64 = 60;
/// … to this long after it.
const DELIVERY_LATE: i64 = 3_600;

// ---------------------------------------------------------------------------
// What the engine hands in and gets back

/// Which message of a site, by the plan's name of it (`day_before`,
/// `pr_ready`, `closure_day_of`): the adapter takes the name as it is and
/// knows no list of messages. The name goes into the metadata and, as
/// words, into the marker line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageKind(String);

impl MessageKind {
    /// The kind named `name`: lower-case ASCII words joined by `_`.
    pub fn named(name: &str) -> Option<Self> {
        let valid = !name.is_empty()
            && name
                .split('_')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()));
        valid.then(|| Self(name.to_string()))
    }

    /// The name used in metadata and plans (`day_before`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The words used in the marker line: the name's words, `pr` written
    /// `PR` (`day before`, `PR ready`, `page ready`).
    pub(super) fn marker_words(&self) -> String {
        self.0
            .split('_')
            .map(|w| if w == "pr" { "PR" } else { w })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One announcement to have in Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSpec {
    /// Site name (`summit`).
    pub site: String,
    /// Cycle number.
    pub cycle: u32,
    /// Revision number (0 for the full cycle).
    pub revision: u32,
    /// Which announcement.
    pub kind: MessageKind,
    /// What it is about when a site has several of the kind, e.g. the
    /// repository of a review notice (`lsst-sqre/phalanx`).
    pub subject: Option<String>,
    /// Channel, `#summit-announce` (or a channel id).
    pub channel: String,
    /// Text, mrkdwn already escaped by the renderer (without the marker).
    pub text: String,
    /// When to post, epoch seconds; `None` posts when the step runs.
    pub post_at: Option<i64>,
}

impl MessageSpec {
    /// The marker line identifying this announcement (see the module doc):
    /// `_cycle · summit · c0044.000 · day before_`.
    pub fn marker(&self) -> String {
        let subject = self
            .subject
            .as_deref()
            .map(|s| format!(" · {}", escape_mrkdwn(s)))
            .unwrap_or_default();
        format!(
            "_cycle · {} · c{:04}.{:03} · {}{subject}_",
            escape_mrkdwn(&self.site),
            self.cycle,
            self.revision,
            self.kind.marker_words()
        )
    }

    /// The text sent to Slack: the rendered text, then the marker line.
    pub fn full_text(&self) -> String {
        format!("{}\n{}", self.text.trim_end(), self.marker())
    }

    /// The message metadata sent with `chat.postMessage` and `chat.update`.
    pub fn metadata(&self) -> Metadata {
        let mut payload = json!({
            "site": self.site,
            "cycle": self.cycle,
            "revision": self.revision,
            "kind": self.kind.as_str(),
        });
        if let Some(subject) = &self.subject {
            payload["subject"] = json!(subject);
        }
        Metadata {
            event_type: EVENT_TYPE.to_string(),
            event_payload: payload,
        }
    }

    /// Whether a scheduled or posted text is this announcement's (its last
    /// non-empty line is the marker).
    pub fn has_marker(&self, text: &str) -> bool {
        text.lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .is_some_and(|last| last == self.marker())
    }

    /// Whether a posted message is this announcement's: by metadata, or by
    /// marker (a scheduled message posted by Slack has no metadata).
    pub fn is_posted_as(&self, message: &PostedMessage) -> bool {
        message
            .metadata
            .as_ref()
            .is_some_and(|m| m.event_type == EVENT_TYPE && self.payload_matches(&m.event_payload))
            || self.has_marker(&message.text)
    }

    fn payload_matches(&self, payload: &Value) -> bool {
        let ours = self.metadata().event_payload;
        ["site", "cycle", "revision", "kind", "subject"]
            .iter()
            .all(|k| payload.get(k) == ours.get(k))
    }
}

/// Where the journal last saw a message (a hint; Slack is the truth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// Channel id.
    pub channel_id: String,
    /// Id of the pending scheduled message, if it was scheduled.
    pub scheduled_id: Option<String>,
    /// `ts` of the posted message, if it was posted.
    pub ts: Option<String>,
    /// When it was (to be) posted, epoch seconds.
    pub post_at: Option<i64>,
}

// ---------------------------------------------------------------------------
// Pure decisions

/// What the clock allows for a message, before looking at Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No time given: post when the step runs.
    PostNow,
    /// In the future and within 120 days: schedule it.
    Schedule {
        /// When.
        post_at: i64,
    },
    /// More than 120 days ahead: Slack refuses it; the step stays pending.
    Later {
        /// When it is to be posted.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
    },
    /// Its time has passed (the deployment has started, or the reminder's
    /// moment is gone): never posted late.
    Missed {
        /// When it was to be posted.
        post_at: i64,
    },
}

/// What the clock allows for `spec` at `now` (epoch seconds).
pub fn decide(now: i64, spec: &MessageSpec) -> Decision {
    match spec.post_at {
        None => Decision::PostNow,
        Some(post_at) if post_at <= now => Decision::Missed { post_at },
        Some(post_at) if post_at - now > SCHEDULE_HORIZON => Decision::Later {
            post_at,
            schedulable_from: post_at - SCHEDULE_HORIZON,
        },
        Some(post_at) => Decision::Schedule { post_at },
    }
}

/// What Slack holds of one announcement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Its pending scheduled messages (normally none or one).
    pub scheduled: Vec<ScheduledMessage>,
    /// Its posted message, when one was looked for and found.
    pub posted: Option<PostedMessage>,
}

/// An announcement already in Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Pending.
    Scheduled {
        /// Scheduled message id.
        scheduled_id: String,
        /// When Slack posts it.
        post_at: i64,
    },
    /// Posted.
    Posted {
        /// Its `ts`.
        ts: String,
    },
}

/// How a scheduled announcement differs from what the manifest now says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The time it was scheduled for.
    pub old_post_at: i64,
    /// The time it is now due.
    pub new_post_at: i64,
    /// Whether the text changed.
    pub text_changed: bool,
}

impl Change {
    /// Whether the time moved.
    pub fn time_moved(&self) -> bool {
        self.old_post_at != self.new_post_at
    }
}

/// What [`ensure`] will do (and [`find`] reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Schedule it.
    Schedule {
        /// When.
        post_at: i64,
    },
    /// Post it now.
    Post,
    /// Nothing to change; `remove` lists duplicate pending copies to delete.
    Keep {
        /// The message kept.
        existing: Existing,
        /// Duplicates to delete.
        remove: Vec<ScheduledMessage>,
    },
    /// Delete the pending message(s), then schedule the new one.
    Reschedule {
        /// The pending messages to delete.
        remove: Vec<ScheduledMessage>,
        /// The new time.
        post_at: i64,
        /// What changed.
        change: Change,
    },
    /// Edit the posted message's text (`chat.update`).
    Update {
        /// Its `ts`.
        ts: String,
    },
    /// Its time has passed and it was not posted: nothing is posted late;
    /// pending copies for another time are deleted.
    Missed {
        /// When it was due.
        post_at: i64,
        /// Pending copies to delete.
        remove: Vec<ScheduledMessage>,
    },
    /// Too far ahead to schedule; pending copies for another time are deleted.
    Later {
        /// When it is due.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
        /// Pending copies to delete.
        remove: Vec<ScheduledMessage>,
    },
}

/// Whether two texts are the same message (Slack may drop trailing
/// whitespace).
pub fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<String> {
        let lines: Vec<String> = s.trim().lines().map(|l| l.trim_end().to_string()).collect();
        lines
    };
    norm(a) == norm(b)
}

/// Decides what to do about `spec` given the clock's `decision` and what
/// Slack holds.
pub fn plan(decision: Decision, spec: &MessageSpec, observed: &Observed) -> Plan {
    let text = spec.full_text();
    let posted = |p: &PostedMessage| {
        if same_text(&p.text, &text) {
            Plan::Keep {
                existing: Existing::Posted { ts: p.ts.clone() },
                remove: observed.scheduled.clone(),
            }
        } else {
            Plan::Update { ts: p.ts.clone() }
        }
    };
    // A pending copy for exactly this time and text is kept; every other
    // pending copy goes.
    let split = |post_at: i64| {
        let keep = observed
            .scheduled
            .iter()
            .find(|m| m.post_at == post_at && same_text(&m.text, &text))
            .cloned();
        let remove: Vec<ScheduledMessage> = observed
            .scheduled
            .iter()
            .filter(|m| keep.as_ref().is_none_or(|k| k.id != m.id))
            .cloned()
            .collect();
        (keep, remove)
    };
    match decision {
        Decision::PostNow => match &observed.posted {
            Some(p) => posted(p),
            None => Plan::Post,
        },
        Decision::Schedule { post_at } => match split(post_at) {
            (Some(keep), remove) => Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: keep.id,
                    post_at,
                },
                remove,
            },
            (None, remove) => match remove.first() {
                Some(old) => Plan::Reschedule {
                    change: Change {
                        old_post_at: old.post_at,
                        new_post_at: post_at,
                        text_changed: !same_text(&old.text, &text),
                    },
                    remove,
                    post_at,
                },
                None => Plan::Schedule { post_at },
            },
        },
        Decision::Missed { post_at } => match (&observed.posted, split(post_at)) {
            (Some(p), _) => posted(p),
            (None, (Some(keep), remove)) => Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: keep.id,
                    post_at,
                },
                remove,
            },
            (None, (None, remove)) => Plan::Missed { post_at, remove },
        },
        Decision::Later {
            post_at,
            schedulable_from,
        } => Plan::Later {
            post_at,
            schedulable_from,
            remove: observed.scheduled.clone(),
        },
    }
}

/// The dry run's sentence for `plan`; `time` shows an epoch time as the
/// site reads it (e.g. [`crate::model::context::display_time`]).
pub fn describe(plan: &Plan, spec: &MessageSpec, time: &dyn Fn(i64) -> String) -> String {
    let kind = &spec.kind;
    let channel = &spec.channel;
    let deleting = |remove: &[ScheduledMessage], what: &str| {
        if remove.is_empty() {
            String::new()
        } else {
            let ids: Vec<&str> = remove.iter().map(|m| m.id.as_str()).collect();
            format!("; would delete {what} (id {})", ids.join(", "))
        }
    };
    match plan {
        Plan::Schedule { post_at } => {
            format!("would schedule {kind} in {channel} at {}", time(*post_at))
        }
        Plan::Post => format!("would post {kind} in {channel} now"),
        Plan::Keep {
            existing:
                Existing::Scheduled {
                    scheduled_id,
                    post_at,
                },
            remove,
        } => format!(
            "{kind} scheduled (id {scheduled_id}) in {channel} at {}, unchanged{}",
            time(*post_at),
            deleting(remove, "a duplicate")
        ),
        Plan::Keep {
            existing: Existing::Posted { ts },
            remove,
        } => format!(
            "{kind} posted (ts {ts}) in {channel}, unchanged{}",
            deleting(remove, "a pending copy")
        ),
        Plan::Reschedule { change, .. } => {
            let why = match (change.time_moved(), change.text_changed) {
                (true, true) => format!(
                    "time moved from {} to {}, and text changed",
                    time(change.old_post_at),
                    time(change.new_post_at)
                ),
                (true, false) => format!(
                    "time moved from {} to {}",
                    time(change.old_post_at),
                    time(change.new_post_at)
                ),
                _ => format!("text changed (still at {})", time(change.new_post_at)),
            };
            format!("would reschedule {kind} in {channel}: {why}")
        }
        Plan::Update { ts } => {
            format!("would update {kind} in {channel} (ts {ts}): text changed")
        }
        Plan::Missed { post_at, remove } => format!(
            "{kind} in {channel} was due at {}: missed, not posted late{}",
            time(*post_at),
            deleting(remove, "the pending copy for another time")
        ),
        Plan::Later {
            post_at,
            schedulable_from,
            remove,
        } => format!(
            "would schedule later (within 120 days of the time): {kind} in {channel} at {} \
             is more than 120 days ahead; it can be scheduled from {}{}",
            time(*post_at),
            time(*schedulable_from),
            deleting(remove, "the pending copy for another time")
        ),
    }
}

// ---------------------------------------------------------------------------
// The steps

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Newly scheduled.
    Scheduled {
        /// Channel id.
        channel_id: String,
        /// Scheduled message id.
        scheduled_id: String,
        /// When Slack posts it.
        post_at: i64,
    },
    /// Posted now.
    Posted {
        /// Channel id.
        channel_id: String,
        /// Its `ts`.
        ts: String,
        /// Its link, when Slack gave one.
        permalink: Option<String>,
    },
    /// Already as wanted (duplicate pending copies, if any, were deleted).
    Unchanged {
        /// Channel id.
        channel_id: String,
        /// The message found.
        existing: Existing,
        /// Ids of deleted duplicates.
        removed: Vec<String>,
    },
    /// The old pending message(s) deleted, the new one scheduled.
    Rescheduled {
        /// Channel id.
        channel_id: String,
        /// Ids of the deleted messages.
        removed: Vec<String>,
        /// The new scheduled message id.
        scheduled_id: String,
        /// What changed (old and new time).
        change: Change,
    },
    /// The posted message's text edited.
    Updated {
        /// Channel id.
        channel_id: String,
        /// Its `ts`.
        ts: String,
        /// Its link, when Slack gave one.
        permalink: Option<String>,
    },
    /// Its time passed before it was posted: not posted late.
    Missed {
        /// Channel id.
        channel_id: String,
        /// When it was due.
        post_at: i64,
        /// Ids of deleted pending copies for another time.
        removed: Vec<String>,
    },
    /// More than 120 days ahead: the step stays pending.
    Later {
        /// Channel id.
        channel_id: String,
        /// When it is due.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
        /// Ids of deleted pending copies for another time.
        removed: Vec<String>,
    },
}

impl MessageOutcome {
    /// Where the message now is, for the journal (`None` when nothing is
    /// in Slack: missed or not yet schedulable).
    pub fn message_ref(&self) -> Option<MessageRef> {
        let scheduled = |channel_id: &str, id: &str, post_at: i64| MessageRef {
            channel_id: channel_id.to_string(),
            scheduled_id: Some(id.to_string()),
            ts: None,
            post_at: Some(post_at),
        };
        let posted = |channel_id: &str, ts: &str| MessageRef {
            channel_id: channel_id.to_string(),
            scheduled_id: None,
            ts: Some(ts.to_string()),
            post_at: None,
        };
        match self {
            MessageOutcome::Scheduled {
                channel_id,
                scheduled_id,
                post_at,
            } => Some(scheduled(channel_id, scheduled_id, *post_at)),
            MessageOutcome::Rescheduled {
                channel_id,
                scheduled_id,
                change,
                ..
            } => Some(scheduled(channel_id, scheduled_id, change.new_post_at)),
            MessageOutcome::Unchanged {
                channel_id,
                existing:
                    Existing::Scheduled {
                        scheduled_id,
                        post_at,
                    },
                ..
            } => Some(scheduled(channel_id, scheduled_id, *post_at)),
            MessageOutcome::Unchanged {
                channel_id,
                existing: Existing::Posted { ts },
                ..
            }
            | MessageOutcome::Posted { channel_id, ts, .. }
            | MessageOutcome::Updated { channel_id, ts, .. } => Some(posted(channel_id, ts)),
            MessageOutcome::Missed { .. } | MessageOutcome::Later { .. } => None,
        }
    }

    /// Whether the step must run again later (too far ahead to schedule).
    pub fn is_pending(&self) -> bool {
        matches!(self, MessageOutcome::Later { .. })
    }
}

/// What [`find`] saw and what [`ensure`] would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Channel id.
    pub channel_id: String,
    /// What Slack holds of the message.
    pub observed: Observed,
    /// What [`ensure`] would do.
    pub plan: Plan,
    /// The dry run's sentence, e.g. "would schedule day_before in
    /// #summit-announce at 2026-02-23 09:00 CLST".
    pub description: String,
}

/// What [`cancel`] deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// Channel id.
    pub channel_id: String,
    /// Ids of the deleted scheduled messages (empty: nothing was pending).
    pub removed: Vec<String>,
}

/// Looks at Slack for `spec` (read only): the dry run of [`ensure`].
pub async fn find<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    now: i64,
    hint: Option<&MessageRef>,
    time: &dyn Fn(i64) -> String,
) -> Result<Finding, SlackError> {
    let decision = decide(now, spec);
    let (channel_id, observed) = observe(api, spec, decision, hint).await?;
    let plan = plan(decision, spec, &observed);
    let description = describe(&plan, spec, time);
    Ok(Finding {
        channel_id,
        observed,
        plan,
        description,
    })
}

/// Makes Slack hold `spec` as the clock allows at `now`: schedules, posts,
/// reschedules (delete, then schedule: exactly one stays) or edits what
/// differs, and does nothing when all is as wanted.
pub async fn ensure<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    now: i64,
    hint: Option<&MessageRef>,
) -> Result<MessageOutcome, SlackError> {
    let decision = decide(now, spec);
    let (channel_id, observed) = observe(api, spec, decision, hint).await?;
    let text = spec.full_text();
    Ok(match plan(decision, spec, &observed) {
        Plan::Schedule { post_at } => {
            let m = api.schedule_message(&channel_id, &text, post_at).await?;
            let m = settle_scheduled(api, &channel_id, spec, m).await?;
            MessageOutcome::Scheduled {
                channel_id,
                scheduled_id: m.id,
                post_at: m.post_at,
            }
        }
        Plan::Post => {
            let m = api
                .post_message(&channel_id, &text, &spec.metadata())
                .await?;
            let m = settle_posted(api, &channel_id, spec, m).await?;
            let permalink = api.permalink(&channel_id, &m.ts).await.ok();
            MessageOutcome::Posted {
                channel_id,
                ts: m.ts,
                permalink,
            }
        }
        Plan::Keep { existing, remove } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Unchanged {
                channel_id,
                existing,
                removed,
            }
        }
        Plan::Reschedule {
            remove,
            post_at,
            change,
        } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            let m = api.schedule_message(&channel_id, &text, post_at).await?;
            let m = settle_scheduled(api, &channel_id, spec, m).await?;
            MessageOutcome::Rescheduled {
                channel_id,
                removed,
                scheduled_id: m.id,
                change,
            }
        }
        Plan::Update { ts } => {
            api.update_message(&channel_id, &ts, &text, &spec.metadata())
                .await?;
            let permalink = api.permalink(&channel_id, &ts).await.ok();
            MessageOutcome::Updated {
                channel_id,
                ts,
                permalink,
            }
        }
        Plan::Missed { post_at, remove } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Missed {
                channel_id,
                post_at,
                removed,
            }
        }
        Plan::Later {
            post_at,
            schedulable_from,
            remove,
        } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Later {
                channel_id,
                post_at,
                schedulable_from,
                removed,
            }
        }
    })
}

/// After scheduling `ours`: another run may have scheduled the same
/// announcement (same marker, text and time) at the same moment, and
/// `chat.scheduledMessages.list` carries no metadata to tell copies apart.
/// So the list is read again and the copy with the lowest id stays: when
/// it is another run's, `ours` is deleted. Returns the copy kept. The later
/// of two runs always sees the earlier one's copy, so exactly one stays
/// when ids grow with time (see `docs/concurrency.md`).
async fn settle_scheduled<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    ours: ScheduledMessage,
) -> Result<ScheduledMessage, SlackError> {
    let first = api
        .scheduled_messages(channel_id)
        .await?
        .into_iter()
        .filter(|m| {
            m.id != ours.id
                && m.post_at == ours.post_at
                && spec.has_marker(&m.text)
                && same_text(&m.text, &ours.text)
        })
        .min_by(|a, b| a.id.cmp(&b.id));
    match first {
        Some(theirs) if theirs.id < ours.id => {
            api.delete_scheduled_message(channel_id, &ours.id).await?;
            Ok(theirs)
        }
        _ => Ok(ours),
    }
}

/// After posting `ours`: another run may have posted the same announcement
/// at the same moment. The history is read again and the earliest post of
/// it stays (`ts` orders a channel's messages): when it is another run's,
/// `ours` is deleted. Returns the message kept.
async fn settle_posted<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    ours: PostedMessage,
) -> Result<PostedMessage, SlackError> {
    let key = |ts: &str| {
        let (s, f) = ts.split_once('.').unwrap_or((ts, "0"));
        (
            s.parse::<i64>().unwrap_or(i64::MAX),
            f.parse::<i64>().unwrap_or(0),
        )
    };
    let first = api
        .history(channel_id, &HistoryRange::newest(PAGE_LIMIT))
        .await?
        .into_iter()
        .filter(|m| m.ts != ours.ts && spec.is_posted_as(m))
        .min_by_key(|m| key(&m.ts));
    match first {
        Some(theirs) if key(&theirs.ts) < key(&ours.ts) => {
            api.delete_message(channel_id, &ours.ts).await?;
            Ok(theirs)
        }
        _ => Ok(ours),
    }
}

/// Deletes the pending scheduled message(s) of `spec` (`cycle cancel`);
/// posts nothing and leaves posted messages alone.
pub async fn cancel<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
) -> Result<Cancelled, SlackError> {
    let channel_id = api.channel_id(&spec.channel).await?;
    let scheduled = pending_of(api, &channel_id, spec, hint).await?;
    let removed = delete_all(api, &channel_id, scheduled).await?;
    Ok(Cancelled {
        channel_id,
        removed,
    })
}

/// The pending scheduled copies of `spec` that [`cancel`] would delete
/// (read only), with the channel's id.
pub async fn pending<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
) -> Result<(String, Vec<ScheduledMessage>), SlackError> {
    let channel_id = api.channel_id(&spec.channel).await?;
    let scheduled = pending_of(api, &channel_id, spec, hint).await?;
    Ok((channel_id, scheduled))
}

/// Deletes pending messages one by one; returns their ids.
async fn delete_all<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    messages: Vec<ScheduledMessage>,
) -> Result<Vec<String>, SlackError> {
    let mut removed = Vec::with_capacity(messages.len());
    for m in messages {
        api.delete_scheduled_message(channel_id, &m.id).await?;
        removed.push(m.id);
    }
    Ok(removed)
}

/// Resolves the channel and reads what the decision needs: pending messages
/// unless posting now, the posted message when posting now or when its time
/// has passed.
async fn observe<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    decision: Decision,
    hint: Option<&MessageRef>,
) -> Result<(String, Observed), SlackError> {
    let channel_id = api.channel_id(&spec.channel).await?;
    let hint = hint.filter(|h| h.channel_id == channel_id);
    let scheduled = match decision {
        Decision::PostNow => Vec::new(),
        _ => pending_of(api, &channel_id, spec, hint).await?,
    };
    let posted = match decision {
        Decision::PostNow => posted_of(api, &channel_id, spec, hint, None).await?,
        Decision::Missed { post_at } => {
            posted_of(api, &channel_id, spec, hint, Some(post_at)).await?
        }
        Decision::Schedule { .. } | Decision::Later { .. } => None,
    };
    Ok((channel_id, Observed { scheduled, posted }))
}

/// The pending messages of `spec` in the channel: by marker, or by the
/// journal's id.
async fn pending_of<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
) -> Result<Vec<ScheduledMessage>, SlackError> {
    let hinted = hint
        .filter(|h| h.channel_id == channel_id)
        .and_then(|h| h.scheduled_id.as_deref());
    Ok(api
        .scheduled_messages(channel_id)
        .await?
        .into_iter()
        .filter(|m| Some(m.id.as_str()) == hinted || spec.has_marker(&m.text))
        .collect())
}

/// The posted message of `spec`: the journal's `ts` first, then the history
/// (around `due` when the message had a time, else the newest pages).
async fn posted_of<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
    due: Option<i64>,
) -> Result<Option<PostedMessage>, SlackError> {
    let ours = |m: &PostedMessage| {
        spec.is_posted_as(m)
            && due.is_none_or(|t| {
                ts_seconds(&m.ts)
                    .is_some_and(|s| (t - DELIVERY_EARLY..=t + DELIVERY_LATE).contains(&s))
            })
    };
    if let Some(ts) = hint.and_then(|h| h.ts.as_deref()) {
        let found = api.history(channel_id, &HistoryRange::exactly(ts)).await?;
        if let Some(m) = found.into_iter().find(|m| m.ts == ts && ours(m)) {
            return Ok(Some(m));
        }
    }
    let range = match due {
        Some(t) => HistoryRange {
            oldest: Some((t - DELIVERY_EARLY).to_string()),
            latest: Some((t + DELIVERY_LATE).to_string()),
            limit: PAGE_LIMIT,
            max_pages: MAX_HISTORY_PAGES,
        },
        None => HistoryRange {
            oldest: None,
            latest: None,
            limit: PAGE_LIMIT,
            max_pages: MAX_HISTORY_PAGES,
        },
    };
    Ok(api
        .history(channel_id, &range)
        .await?
        .into_iter()
        .find(|m| ours(m)))
}

/// The whole seconds of a message `ts` (`1503435956.000247` → 1503435956).
pub fn ts_seconds(ts: &str) -> Option<i64> {
    ts.split('.').next()?.parse().ok()
}
