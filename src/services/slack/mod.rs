//! Slack adapter: the deployment announcements of a site, scheduled (or
//! posted) once, found again on every rerun, moved when the manifest's dates
//! move, and cancelled by `cycle cancel`.
//!
//! # Layers
//!
//! * [`SlackApi`]: the few Web API calls the steps need, behind an object-safe
//!   trait (the engine holds an `Arc<dyn SlackApi>`). [`SlackClient`] is the
//!   real implementation; it resolves channel names once per run
//!   (`conversations.list`, paged) and does every retry.
//! * Pure step logic: [`decide`] (post now, schedule, too early, too late),
//!   [`plan`] (what to do given what Slack holds) and [`describe`] (the dry
//!   run's sentence), unit-tested without a network.
//! * [`find`] (read only, for dry runs), [`ensure`] and [`cancel`]: generic
//!   over the trait; they observe first and change only what differs.
//!
//! # Finding a message again without a journal
//!
//! `chat.scheduledMessages.list` returns only `id`, `channel_id`, `post_at`,
//! `date_created` and `text`; metadata is not returned. Worse, Slack's
//! reference for `chat.scheduleMessage` carries a bug alert: *messages
//! scheduled with the `metadata` parameter are never posted*. So scheduled
//! messages are sent **without** metadata and carry their identity in their
//! text, as a last line (the *marker*, [`MessageSpec::marker`]):
//!
//! ```text
//! _cycle · summit · c0044.000 · day before_
//! ```
//!
//! Why this form: the text is the only field Slack keeps and returns for a
//! scheduled message (and, once posted, in `conversations.history`), so the
//! marker has to be text. It is plain ASCII words and `·` separators with no
//! `&`, `<` or `>`, so nothing in Slack's storage or mrkdwn parsing rewrites
//! it, and it is matched exactly, line for line. It names everything that
//! tells two announcements apart (site, cycle and revision as the image tag,
//! kind) and nothing that changes when the manifest is edited (not the time,
//! not the wording), so a message whose date or text moved is still found.
//! Readers see a short italic signature saying which tool sent it for which
//! site, tag and moment; invisible carriers were rejected: zero-width
//! characters are dropped by editors and read aloud by screen readers, and an
//! empty-label link renders as an odd blank link.
//!
//! Messages posted with `chat.postMessage` carry the marker too, and also
//! Slack message metadata: `event_type` [`EVENT_TYPE`] with `event_payload`
//! `{site, cycle, revision, kind}`; `conversations.history` is read with
//! `include_all_metadata=true` and a message is ours when its metadata or its
//! marker says so. A scheduled message that Slack has posted is looked for in
//! the history from a minute before its time to an hour after.
//!
//! A journal hint ([`MessageRef`]) is tried first: its scheduled id is
//! recognised even if someone edited the text, and its `ts` is fetched alone.
//!
//! # Retries
//!
//! Every call goes through [`http::client`](crate::services::http::client)
//! (timeouts) and [`with_retry`](crate::services::http::with_retry): reads are retried on transport errors, 5xx,
//! HTTP 429 (after its `Retry-After`) and Slack's own `ratelimited`,
//! `internal_error`, `fatal_error`, `service_unavailable` and
//! `request_timeout`. A create (`chat.scheduleMessage`, `chat.postMessage`)
//! is retried only after looking again for the message it was creating, so a
//! lost response never schedules or posts twice. Deleting a scheduled
//! message again after a lost response is not an error.
//!
//! # Environment
//!
//! `SLACK_BOT_TOKEN` (required; sent only as `Authorization: Bearer`) and
//! `SLACK_API_URL` (default `https://slack.com/api`). The token never appears
//! in a URL, an error or `Debug` output.

mod client;
mod error;
mod schedule;
#[cfg(test)]
mod tests;
mod types;

pub use self::client::*;
pub use self::error::*;
pub use self::schedule::*;
pub use self::types::*;
