//! Tests of `cycle::services::slack` against the stateful Slack fake
//! (`tests/support/slack_fake.rs`): what the adapter sends, what the fake
//! then holds, and what the steps report.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cycle::model::context::display_time;
use cycle::services::http::{RetryPolicy, Secret};
use cycle::services::slack::{
    self, Change, Config, Existing, MessageKind, MessageOutcome, MessageRef, MessageSpec, Plan,
    SlackApi, SlackClient, SlackError,
};
use serde_json::json;
use support::http_fake::paths;
use support::slack_fake::{Failure, SlackFake, TOKEN};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// 2026-02-24 09:00 CLST (12:00 UTC), three weeks after the fake's clock.
const START: i64 = 1_771_934_400;
const SUMMIT: &str = "C0SUMMIT01";

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_wait: Duration::from_secs(5),
    }
}

fn client_with(url: &str, token: &str) -> SlackClient {
    let config = Config::new(url, Secret::new(token))
        .unwrap()
        .with_retry_policy(policy());
    SlackClient::new(config)
}

fn client(fake: &SlackFake) -> SlackClient {
    client_with(&fake.url(), &fake.token())
}

fn spec(kind: MessageKind, start: i64) -> MessageSpec {
    let (post_at, text) = match kind.as_str() {
        "day_before" => (start - DAY, "Hello everyone! Tomorrow we deploy Cycle 44."),
        "hour_before" => (start - HOUR, "Reminder: Cycle 44 starts in one hour."),
        "start" => (start, "Cycle 44 deployment is starting now."),
        "pr_ready" => (start, "PR ready for review"),
        "page_ready" => (start, "All base artifacts of Cycle 44 are built."),
        other => panic!("no text for {other}"),
    };
    MessageSpec {
        site: "summit".into(),
        cycle: 44,
        revision: 0,
        kind,
        subject: None,
        channel: "#summit-announce".into(),
        text: text.into(),
        post_at: Some(post_at),
    }
}

fn announcements(start: i64) -> Vec<MessageSpec> {
    [
        MessageKind::named("day_before").unwrap(),
        MessageKind::named("hour_before").unwrap(),
        MessageKind::named("start").unwrap(),
    ]
    .into_iter()
    .map(|k| spec(k, start))
    .collect()
}

fn pr_notice(text: &str) -> MessageSpec {
    MessageSpec {
        kind: MessageKind::named("pr_ready").unwrap(),
        subject: Some("lsst-sqre/phalanx".into()),
        channel: "#ts-build".into(),
        text: text.into(),
        post_at: None,
        ..spec(MessageKind::named("pr_ready").unwrap(), START)
    }
}

fn summit_time() -> impl Fn(i64) -> String {
    let site =
        cycle::model::site::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sites/summit.yaml"))
            .unwrap();
    move |t| display_time(&site, t)
}

#[tokio::test]
async fn schedules_with_the_marker_bearer_token_and_no_metadata() {
    let fake = SlackFake::start();
    let api = client(&fake);
    let s = spec(MessageKind::named("day_before").unwrap(), START);
    let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    let MessageOutcome::Scheduled {
        channel_id,
        scheduled_id,
        post_at,
    } = &out
    else {
        panic!("{out:?}")
    };
    assert_eq!((channel_id.as_str(), *post_at), (SUMMIT, START - DAY));

    let list = fake.calls("conversations.list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].method, "GET");
    assert_eq!(
        list[0].param("types").as_deref(),
        Some("public_channel,private_channel")
    );
    let writes = fake.writes();
    assert_eq!(paths(&writes), ["/api/chat.scheduleMessage"]);
    let w = &writes[0];
    assert_eq!(
        w.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        w.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert!(!w.query.contains(TOKEN) && !w.body.contains(TOKEN));
    let body = w.json();
    assert_eq!(body["channel"], SUMMIT);
    assert_eq!(body["post_at"], START - DAY);
    assert_eq!(
        body["text"],
        "Hello everyone! Tomorrow we deploy Cycle 44.\n_cycle · summit · c0044.000 · day before_"
    );
    // Slack never posts a scheduled message sent with metadata.
    assert!(body.get("metadata").is_none(), "{body}");

    let held = fake.scheduled();
    assert_eq!(held.len(), 1);
    assert_eq!(&held[0].id, scheduled_id);
    assert_eq!(held[0].text, s.full_text());

    // The channel is resolved once per run.
    slack::ensure(
        &api,
        &spec(MessageKind::named("start").unwrap(), START),
        fake.now(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(fake.calls("conversations.list").len(), 1);
}

#[tokio::test]
async fn found_again_without_a_hint_and_a_rerun_sends_no_write() {
    let fake = SlackFake::start();
    fake.set_page_size(2); // lists and history are paged
    let first = client(&fake);
    let mut refs = Vec::new();
    for s in announcements(START) {
        let out = slack::ensure(&first, &s, fake.now(), None).await.unwrap();
        assert!(matches!(out, MessageOutcome::Scheduled { .. }), "{out:?}");
        refs.push(out.message_ref().unwrap());
    }
    fake.clear_requests();

    // Same run, and a new run without any journal: nothing is written.
    for api in [&first, &client(&fake)] {
        for (s, r) in announcements(START).iter().zip(&refs) {
            let out = slack::ensure(api, s, fake.now(), None).await.unwrap();
            assert_eq!(
                out,
                MessageOutcome::Unchanged {
                    channel_id: SUMMIT.into(),
                    existing: Existing::Scheduled {
                        scheduled_id: r.scheduled_id.clone().unwrap(),
                        post_at: s.post_at.unwrap(),
                    },
                    removed: vec![],
                }
            );
        }
    }
    assert!(fake.writes().is_empty(), "{:?}", paths(&fake.writes()));
    assert_eq!(fake.scheduled().len(), 3);
    // conversations.list and chat.scheduledMessages.list were followed page by page.
    let cursors: Vec<Option<String>> = fake
        .calls("conversations.list")
        .iter()
        .map(|r| r.param("cursor"))
        .collect();
    assert_eq!(
        cursors,
        [
            None,
            Some("fake-cursor-2".into()),
            Some("fake-cursor-4".into())
        ]
    );
    assert!(
        fake.calls("chat.scheduledMessages.list")
            .iter()
            .any(|r| r.param("cursor").as_deref() == Some("fake-cursor-2"))
    );
}

#[tokio::test]
async fn dates_moved_leave_exactly_one_scheduled_per_kind() {
    let fake = SlackFake::start();
    let api = client(&fake);
    for s in announcements(START) {
        slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    }
    let old: Vec<String> = fake.scheduled().into_iter().map(|m| m.id).collect();
    fake.clear_requests();

    let moved = START + DAY;
    for s in announcements(moved) {
        let out = slack::ensure(&client(&fake), &s, fake.now(), None)
            .await
            .unwrap();
        let MessageOutcome::Rescheduled {
            removed, change, ..
        } = &out
        else {
            panic!("{out:?}")
        };
        assert_eq!(removed.len(), 1);
        assert!(old.contains(&removed[0]));
        assert_eq!(
            *change,
            Change {
                old_post_at: s.post_at.unwrap() - DAY,
                new_post_at: s.post_at.unwrap(),
                text_changed: false,
            }
        );
    }
    assert_eq!(
        paths(&fake.writes()),
        [
            "/api/chat.deleteScheduledMessage",
            "/api/chat.scheduleMessage",
            "/api/chat.deleteScheduledMessage",
            "/api/chat.scheduleMessage",
            "/api/chat.deleteScheduledMessage",
            "/api/chat.scheduleMessage",
        ]
    );
    let deletes = fake.calls("chat.deleteScheduledMessage");
    assert_eq!(deletes[0].json()["channel"], SUMMIT);
    assert_eq!(deletes[0].json()["scheduled_message_id"], old[0].as_str());
    let held: Vec<i64> = fake.scheduled().iter().map(|m| m.post_at).collect();
    assert_eq!(held, [moved - DAY, moved - HOUR, moved]);

    // Text changed only: rescheduled at the same time.
    let mut reworded = spec(MessageKind::named("start").unwrap(), moved);
    reworded.text = "Cycle 44 starts now; stay off the system.".into();
    let out = slack::ensure(&api, &reworded, fake.now(), None)
        .await
        .unwrap();
    let MessageOutcome::Rescheduled { change, .. } = out else {
        panic!("{out:?}")
    };
    assert!(change.text_changed && !change.time_moved());
    assert_eq!(fake.scheduled().len(), 3);
    assert!(
        fake.scheduled()
            .iter()
            .any(|m| m.text == reworded.full_text())
    );
}

#[tokio::test]
async fn the_journal_hint_is_tried_first() {
    let fake = SlackFake::start();
    let api = client(&fake);
    let s = spec(MessageKind::named("hour_before").unwrap(), START);
    let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    let hint = out.message_ref().unwrap();
    // Someone edited the pending message in Slack and dropped the marker.
    fake.edit_scheduled(hint.scheduled_id.as_deref().unwrap(), "edited by hand");
    let out = slack::ensure(&client(&fake), &s, fake.now(), Some(&hint))
        .await
        .unwrap();
    assert!(matches!(out, MessageOutcome::Rescheduled { .. }), "{out:?}");
    let held = fake.scheduled();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].text, s.full_text());
}

#[tokio::test]
async fn passed_messages_are_missed_never_posted_late() {
    let fake = SlackFake::start();
    let now = START - HOUR / 2; // after the reminder's time, before the start
    fake.set_now(now);
    let api = client(&fake);
    let outs: Vec<MessageOutcome> = {
        let mut v = Vec::new();
        for s in announcements(START) {
            v.push(slack::ensure(&api, &s, now, None).await.unwrap());
        }
        v
    };
    assert_eq!(
        outs[0],
        MessageOutcome::Missed {
            channel_id: SUMMIT.into(),
            post_at: START - DAY,
            removed: vec![]
        }
    );
    assert!(matches!(outs[1], MessageOutcome::Missed { .. }));
    assert!(matches!(outs[2], MessageOutcome::Scheduled { post_at, .. } if post_at == START));
    assert_eq!(paths(&fake.writes()), ["/api/chat.scheduleMessage"]);
    assert!(fake.posted().is_empty());
    // The history is searched around each missed time only.
    let h = fake.calls("conversations.history");
    assert_eq!(h[0].param("include_all_metadata").as_deref(), Some("true"));
    assert_eq!(h[0].param("oldest"), Some((START - DAY - 60).to_string()));

    // Once the deployment has started nothing is scheduled or posted.
    let late = START + 5 * 60;
    let mut started = spec(MessageKind::named("start").unwrap(), START);
    started.text = "changed after the start".into();
    fake.clear_requests();
    let out = slack::ensure(&client(&fake), &started, late, None)
        .await
        .unwrap();
    // The pending start message (still at START) is for a passed time and
    // its text differs: it is deleted, nothing is posted late.
    let MessageOutcome::Missed { removed, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(removed.len(), 1);
    assert_eq!(paths(&fake.writes()), ["/api/chat.deleteScheduledMessage"]);
    assert!(fake.scheduled().is_empty() && fake.posted().is_empty());
}

#[tokio::test]
async fn a_delivered_scheduled_message_is_found_in_the_history() {
    let fake = SlackFake::start();
    fake.post_by_person(SUMMIT, "unrelated chatter");
    for s in announcements(START) {
        slack::ensure(&client(&fake), &s, fake.now(), None)
            .await
            .unwrap();
    }
    // Slack posts them at their time (they carry no metadata, so it does).
    fake.set_now(START + 120);
    assert_eq!(fake.posted().len(), 4);
    assert!(fake.scheduled().is_empty());
    fake.clear_requests();
    let api = client(&fake);
    for s in announcements(START) {
        let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
        assert!(
            matches!(
                &out,
                MessageOutcome::Unchanged {
                    existing: Existing::Posted { .. },
                    ..
                }
            ),
            "{out:?}"
        );
    }
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn more_than_120_days_ahead_is_later_and_stays_pending() {
    let fake = SlackFake::start();
    let far = fake.now() + 200 * DAY;
    let api = client(&fake);
    let s = spec(MessageKind::named("start").unwrap(), far);
    let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    assert_eq!(
        out,
        MessageOutcome::Later {
            channel_id: SUMMIT.into(),
            post_at: far,
            schedulable_from: far - 120 * DAY,
            removed: vec![],
        }
    );
    assert!(out.is_pending() && out.message_ref().is_none());
    assert!(fake.writes().is_empty());
    let found = slack::find(&api, &s, fake.now(), None, &summit_time())
        .await
        .unwrap();
    assert!(
        found
            .description
            .starts_with(
                "would schedule later (within 120 days of the time): start in #summit-announce at 2026-08-20"
            ),
        "{}",
        found.description
    );

    // Exactly 120 days ahead is scheduled.
    let edge = spec(MessageKind::named("start").unwrap(), fake.now() + 120 * DAY);
    let out = slack::ensure(&api, &edge, fake.now(), None).await.unwrap();
    assert!(matches!(out, MessageOutcome::Scheduled { .. }), "{out:?}");
    // Dates moved beyond 120 days: the pending copy goes, the step waits.
    let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    let MessageOutcome::Later { removed, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(removed.len(), 1);
    assert!(fake.scheduled().is_empty());
}

#[tokio::test]
async fn cancel_leaves_nothing_scheduled_and_posts_nothing() {
    let fake = SlackFake::start();
    let api = client(&fake);
    for s in announcements(START) {
        slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    }
    fake.clear_requests();
    for s in announcements(START) {
        let c = slack::cancel(&client(&fake), &s, None).await.unwrap();
        assert_eq!(c.channel_id, SUMMIT);
        assert_eq!(c.removed.len(), 1);
    }
    assert!(fake.scheduled().is_empty());
    assert!(fake.posted().is_empty());
    assert!(
        fake.writes()
            .iter()
            .all(|r| r.path == "/api/chat.deleteScheduledMessage")
    );
    fake.clear_requests();
    let again = slack::cancel(
        &api,
        &spec(MessageKind::named("start").unwrap(), START),
        None,
    )
    .await
    .unwrap();
    assert!(again.removed.is_empty());
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn posted_message_found_via_metadata_and_edited_when_the_text_changed() {
    let fake = SlackFake::start();
    // Held as `Arc<dyn SlackApi>`, as the engine does.
    let api: Arc<dyn SlackApi> = Arc::new(client(&fake));
    let notice = pr_notice("PR ready: <https://github.com/lsst-sqre/phalanx/pull/1|phalanx#1>");
    let out = slack::ensure(&*api, &notice, fake.now(), None)
        .await
        .unwrap();
    let MessageOutcome::Posted { ts, permalink, .. } = &out else {
        panic!("{out:?}")
    };
    assert!(
        permalink
            .as_deref()
            .is_some_and(|p| p.contains("/archives/C0TSBUILD1/p"))
    );
    let post = &fake.calls("chat.postMessage")[0];
    let body = post.json();
    assert_eq!(body["channel"], "C0TSBUILD1");
    assert_eq!(
        body["metadata"],
        json!({
            "event_type": "cycle_announcement",
            "event_payload": {"site": "summit", "cycle": 44, "revision": 0, "kind": "pr_ready", "subject": "lsst-sqre/phalanx"}
        })
    );

    // Rerun, no journal: found, nothing written.
    fake.post_by_person("C0TSBUILD1", "looking");
    fake.clear_requests();
    let out = slack::ensure(&client(&fake), &notice, fake.now(), None)
        .await
        .unwrap();
    assert!(matches!(out, MessageOutcome::Unchanged { .. }), "{out:?}");
    assert!(fake.writes().is_empty());

    // With the journal's hint, that one message is fetched alone.
    let hint = out.message_ref().unwrap();
    fake.clear_requests();
    let again = slack::ensure(&client(&fake), &notice, fake.now(), Some(&hint))
        .await
        .unwrap();
    assert!(
        matches!(again, MessageOutcome::Unchanged { .. }),
        "{again:?}"
    );
    let history = fake.calls("conversations.history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].param("oldest").as_deref(), Some(ts.as_str()));
    assert_eq!(history[0].param("latest").as_deref(), Some(ts.as_str()));
    assert_eq!(history[0].param("inclusive").as_deref(), Some("true"));

    // The text changed: edited in place with chat.update.
    let changed =
        pr_notice("PR ready (rebased): <https://github.com/lsst-sqre/phalanx/pull/1|phalanx#1>");
    let out = slack::ensure(&client(&fake), &changed, fake.now(), None)
        .await
        .unwrap();
    assert!(
        matches!(&out, MessageOutcome::Updated { ts: t, .. } if t == ts),
        "{out:?}"
    );
    let update = &fake.calls("chat.update")[0];
    assert_eq!(update.json()["ts"], ts.as_str());
    assert_eq!(update.json()["text"], changed.full_text());
    let bot: Vec<_> = fake.posted().into_iter().filter(|m| m.by_bot).collect();
    assert_eq!(bot.len(), 1);
    assert_eq!(bot[0].text, changed.full_text());
    assert!(bot[0].edited);
    assert!(
        fake.calls("conversations.history")
            .iter()
            .all(|r| r.param("include_all_metadata").as_deref() == Some("true"))
    );

    // A message an older cycle posted without the marker is found by its
    // metadata alone and brought up to date.
    let old_notice = pr_notice("older words");
    let mut other = old_notice.clone();
    other.cycle = 45;
    let legacy_ts = fake.post_as_bot(
        "C0TSBUILD1",
        "PR ready (posted by an older cycle)",
        Some(json!({"event_type": "cycle_announcement", "event_payload": other.metadata().event_payload})),
    );
    let out = slack::ensure(&client(&fake), &other, fake.now(), None)
        .await
        .unwrap();
    assert!(
        matches!(&out, MessageOutcome::Updated { ts, .. } if *ts == legacy_ts),
        "{out:?}"
    );
}

#[tokio::test]
async fn manifest_text_arrives_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slack_day_before.mrkdwn"),
        "Components restarted: {{ components }}.",
    )
    .unwrap();
    let templates = cycle::render::Templates::load(dir.path()).unwrap();
    let ctx = minijinja::context! { components => "<!channel> & <script>alert(1)</script> *bold*" };
    let text = templates.render("slack_day_before.mrkdwn", &ctx).unwrap();
    let fake = SlackFake::start();
    let mut s = spec(MessageKind::named("day_before").unwrap(), START);
    s.text = text;
    slack::ensure(&client(&fake), &s, fake.now(), None)
        .await
        .unwrap();
    let sent = fake.calls("chat.scheduleMessage")[0].json()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sent.starts_with(
            "Components restarted: &lt;!channel&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; \u{200B}*\u{200B}bold\u{200B}*\u{200B}."
        ),
        "{sent}"
    );
    assert!(!sent.contains("<!channel>") && !sent.contains("<script>"));
    // mrkdwn has no escape for `*`: zero-width spaces keep it from bolding.
    assert!(!sent.contains("*bold*"));
    assert_eq!(fake.scheduled()[0].text, sent);
}

#[tokio::test]
async fn a_lost_response_does_not_schedule_or_post_twice() {
    let fake = SlackFake::start();
    let api = client(&fake);
    fake.fail_next("chat.scheduleMessage", Failure::LoseResponse);
    let out = slack::ensure(
        &api,
        &spec(MessageKind::named("start").unwrap(), START),
        fake.now(),
        None,
    )
    .await
    .unwrap();
    let MessageOutcome::Scheduled { scheduled_id, .. } = out else {
        panic!("{out:?}")
    };
    assert_eq!(fake.scheduled().len(), 1);
    assert_eq!(fake.scheduled()[0].id, scheduled_id);
    assert_eq!(fake.calls("chat.scheduleMessage").len(), 1);

    fake.fail_next("chat.postMessage", Failure::LoseResponse);
    let out = slack::ensure(&api, &pr_notice("PR ready"), fake.now(), None)
        .await
        .unwrap();
    assert!(matches!(out, MessageOutcome::Posted { .. }), "{out:?}");
    assert_eq!(fake.posted().len(), 1);
    assert_eq!(fake.calls("chat.postMessage").len(), 1);

    // A delete whose answer was lost is not an error on the retry.
    fake.fail_next("chat.deleteScheduledMessage", Failure::LoseResponse);
    let c = slack::cancel(
        &api,
        &spec(MessageKind::named("start").unwrap(), START),
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.removed, [scheduled_id]);
    assert_eq!(fake.calls("chat.deleteScheduledMessage").len(), 2);
    assert!(fake.scheduled().is_empty());
}

#[tokio::test]
async fn two_runs_at_once_leave_one_scheduled_and_one_posted_copy() {
    let fake = SlackFake::start();
    let api = client(&fake);
    // Another run schedules the same announcement just before this one.
    fake.fail_next("chat.scheduleMessage", Failure::Rival);
    let out = slack::ensure(
        &api,
        &spec(MessageKind::named("start").unwrap(), START),
        fake.now(),
        None,
    )
    .await
    .unwrap();
    let MessageOutcome::Scheduled { scheduled_id, .. } = out else {
        panic!("{out:?}")
    };
    let held = fake.scheduled();
    assert_eq!(held.len(), 1, "{held:?}");
    // The first copy (the other run's) stays; this run's was deleted.
    assert_eq!(held[0].id, scheduled_id);
    assert_eq!(fake.calls("chat.deleteScheduledMessage").len(), 1);

    // The same for a message posted now.
    fake.fail_next("chat.postMessage", Failure::Rival);
    let out = slack::ensure(&api, &pr_notice("PR ready"), fake.now(), None)
        .await
        .unwrap();
    let MessageOutcome::Posted { ts, .. } = out else {
        panic!("{out:?}")
    };
    let posted = fake.posted();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(posted[0].ts, ts);
    assert_eq!(fake.calls("chat.delete").len(), 1);

    // Alone, a run deletes nothing.
    let out = slack::ensure(
        &api,
        &spec(MessageKind::named("day_before").unwrap(), START),
        fake.now(),
        None,
    )
    .await
    .unwrap();
    assert!(matches!(out, MessageOutcome::Scheduled { .. }), "{out:?}");
    assert_eq!(fake.scheduled().len(), 2);
    assert_eq!(fake.calls("chat.deleteScheduledMessage").len(), 1);
}

#[tokio::test]
async fn http_429_is_retried_after_its_retry_after() {
    let fake = SlackFake::start();
    fake.fail_next("chat.scheduledMessages.list", Failure::RateLimited(1));
    fake.fail_next("chat.scheduleMessage", Failure::Status(503));
    let out = slack::ensure(
        &client(&fake),
        &spec(MessageKind::named("day_before").unwrap(), START),
        fake.now(),
        None,
    )
    .await
    .unwrap();
    assert!(matches!(out, MessageOutcome::Scheduled { .. }), "{out:?}");
    let lists = fake.calls("chat.scheduledMessages.list");
    assert!(lists.len() >= 2);
    let waited = lists[1].at.duration_since(lists[0].at);
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    // The 503 on the create: looked again (list) before scheduling again.
    assert_eq!(fake.calls("chat.scheduleMessage").len(), 2);
    assert_eq!(fake.scheduled().len(), 1);
}

#[tokio::test]
async fn each_slack_error_code_has_a_clear_message() {
    let fake = SlackFake::start();
    let now = fake.now();
    let s = spec(MessageKind::named("day_before").unwrap(), START);
    let message = |r: Result<MessageOutcome, SlackError>| {
        let e = r.unwrap_err().to_string();
        assert!(!e.contains(TOKEN), "{e}");
        e
    };

    fake.add_channel("quiet", false, false);
    let mut quiet = s.clone();
    quiet.channel = "#quiet".into();
    let e = message(slack::ensure(&client(&fake), &quiet, now, None).await);
    assert!(
        e.contains("not_in_channel") && e.contains("invite the bot: /invite @bot in #quiet"),
        "{e}"
    );

    let mut missing = s.clone();
    missing.channel = "#nowhere".into();
    let e = message(slack::ensure(&client(&fake), &missing, now, None).await);
    assert!(
        e.contains("#nowhere not found (channel_not_found)") && e.contains("slack.channel"),
        "{e}"
    );
    fake.fail_next(
        "chat.scheduleMessage",
        Failure::Error("channel_not_found".into()),
    );
    let e = message(slack::ensure(&client(&fake), &s, now, None).await);
    assert!(
        e.contains("Slack channel #summit-announce not found"),
        "{e}"
    );

    let e = message(slack::ensure(&client_with(&fake.url(), "xoxb-wrong"), &s, now, None).await);
    assert!(
        e.contains("invalid_auth") && e.contains("SLACK_BOT_TOKEN") && e.contains("xoxb-"),
        "{e}"
    );
    for code in ["not_authed", "token_revoked"] {
        fake.fail_next("conversations.list", Failure::Error(code.into()));
        let e = message(slack::ensure(&client(&fake), &s, now, None).await);
        assert!(e.contains(code) && e.contains("SLACK_BOT_TOKEN"), "{e}");
    }
    fake.fail_next("conversations.list", Failure::Status(401));
    let e = message(slack::ensure(&client(&fake), &s, now, None).await);
    assert!(
        e.contains("HTTP 401") && e.contains("SLACK_BOT_TOKEN"),
        "{e}"
    );

    // This machine's clock behind Slack's: Slack refuses the time.
    fake.set_now(START - DAY + 60);
    let e = message(slack::ensure(&client(&fake), &s, START - 2 * DAY, None).await);
    assert!(
        e.contains("time_in_past") && e.contains("2026-02-23 12:00 UTC"),
        "{e}"
    );
    // … or ahead of it: more than 120 days from Slack's now.
    let far = spec(MessageKind::named("start").unwrap(), START + 120 * DAY);
    fake.set_now(START - 30 * DAY);
    let e = message(slack::ensure(&client(&fake), &far, START + DAY, None).await);
    assert!(e.contains("time_too_far") && e.contains("120 days"), "{e}");

    for _ in 0..3 {
        fake.fail_next("conversations.list", Failure::Error("ratelimited".into()));
    }
    let e = message(slack::ensure(&client(&fake), &s, fake.now(), None).await);
    assert!(
        e.contains("ratelimited") && e.contains("wait a minute"),
        "{e}"
    );

    fake.fail_next(
        "chat.scheduleMessage",
        Failure::Error("missing_scope".into()),
    );
    let e = message(slack::ensure(&client(&fake), &s, fake.now(), None).await);
    assert!(
        e.contains("lacks a scope chat.scheduleMessage needs"),
        "{e}"
    );
}

#[tokio::test]
async fn the_token_never_appears_in_errors_or_debug_output() {
    let fake = SlackFake::start();
    let s = spec(MessageKind::named("start").unwrap(), START);
    let mut texts = Vec::new();
    for _ in 0..3 {
        fake.fail_next("conversations.list", Failure::Status(500));
    }
    texts.push(
        slack::ensure(&client(&fake), &s, fake.now(), None)
            .await
            .unwrap_err()
            .to_string(),
    );
    // Nothing listens on port 1: a transport error, retried, then reported.
    let nowhere = client_with("http://127.0.0.1:1/api", TOKEN);
    let e = slack::ensure(&nowhere, &s, fake.now(), None)
        .await
        .unwrap_err();
    texts.push(e.to_string());
    texts.push(format!("{e:?}"));
    let wrong = client_with(&fake.url(), TOKEN);
    texts.push(format!("{wrong:?}"));
    let config = Config::new(&fake.url(), Secret::new(TOKEN)).unwrap();
    texts.push(format!("{config:?}"));
    assert!(texts[0].contains("HTTP 500"), "{}", texts[0]);
    assert!(
        texts[1].starts_with("cannot reach Slack at http://127.0.0.1:1/api/conversations.list"),
        "{}",
        texts[1]
    );
    assert!(texts[1].contains("refused"), "{}", texts[1]);
    for t in &texts {
        assert!(!t.contains(TOKEN), "token leaked: {t}");
    }
    assert!(texts[4].contains("<redacted>"));
}

#[tokio::test]
async fn find_describes_what_a_dry_run_would_do_and_writes_nothing() {
    let fake = SlackFake::start();
    let api = client(&fake);
    let time = summit_time();
    let s = spec(MessageKind::named("day_before").unwrap(), START);
    let f = slack::find(&api, &s, fake.now(), None, &time)
        .await
        .unwrap();
    assert_eq!(
        f.description,
        "would schedule day_before in #summit-announce at 2026-02-23 09:00 CLST"
    );
    assert_eq!(
        f.plan,
        Plan::Schedule {
            post_at: START - DAY
        }
    );
    assert!(fake.writes().is_empty());

    let out = slack::ensure(&api, &s, fake.now(), None).await.unwrap();
    let hint: MessageRef = out.message_ref().unwrap();
    let f = slack::find(&api, &s, fake.now(), Some(&hint), &time)
        .await
        .unwrap();
    assert_eq!(
        f.description,
        format!(
            "day_before scheduled (id {}) in #summit-announce at 2026-02-23 09:00 CLST, unchanged",
            hint.scheduled_id.as_deref().unwrap()
        )
    );

    fake.clear_requests();
    let moved = spec(MessageKind::named("day_before").unwrap(), START + DAY);
    let f = slack::find(&api, &moved, fake.now(), None, &time)
        .await
        .unwrap();
    assert_eq!(
        f.description,
        "would reschedule day_before in #summit-announce: time moved from \
         2026-02-23 09:00 CLST to 2026-02-24 09:00 CLST"
    );
    assert!(fake.writes().is_empty());
    assert_eq!(fake.scheduled().len(), 1);
}

#[test]
fn missing_env_names_slack_bot_token() {
    // SAFETY: the only test of this binary that changes the environment;
    // other tests read it only through `std::env`, which serialises with
    // `set_var`/`remove_var`.
    unsafe {
        std::env::remove_var("SLACK_BOT_TOKEN");
        std::env::set_var("SLACK_API_URL", "not a url");
    }
    let e = Config::from_env().unwrap_err().to_string();
    assert!(
        e.starts_with("Slack is not configured: set SLACK_BOT_TOKEN"),
        "{e}"
    );
    assert!(e.contains("SLACK_API_URL is not a URL"), "{e}");
    unsafe {
        std::env::remove_var("SLACK_API_URL");
    }
    let e = Config::from_env().unwrap_err().to_string();
    assert!(
        e.contains("SLACK_BOT_TOKEN") && !e.contains("SLACK_API_URL"),
        "{e}"
    );
    unsafe {
        std::env::set_var("SLACK_BOT_TOKEN", TOKEN);
    }
    let config = Config::from_env().unwrap();
    assert_eq!(config.api_url().as_str(), "https://slack.com/api/");
    assert!(!format!("{config:?}").contains(TOKEN));
    unsafe {
        std::env::remove_var("SLACK_BOT_TOKEN");
    }
}
