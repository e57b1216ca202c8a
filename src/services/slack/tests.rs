use super::*;

use serde_json::{Value, json};

const DAY: i64 = 86_400;
const START: i64 = 1_771_848_000; // 2026-02-23 12:00 UTC

fn spec(kind: MessageKind, post_at: Option<i64>) -> MessageSpec {
    MessageSpec {
        site: "summit".into(),
        cycle: 44,
        revision: 0,
        kind,
        subject: None,
        channel: "#summit-announce".into(),
        text: "Hello &lt;all&gt; *bold*".into(),
        post_at,
    }
}

fn pending(id: &str, s: &MessageSpec, post_at: i64) -> ScheduledMessage {
    ScheduledMessage {
        id: id.into(),
        channel_id: "C1".into(),
        post_at,
        text: s.full_text(),
    }
}

fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[test]
fn decide_follows_the_clock() {
    let s = spec(MessageKind::named("day_before").unwrap(), Some(START));
    assert_eq!(
        decide(START - DAY, &s),
        Decision::Schedule { post_at: START }
    );
    assert_eq!(decide(START, &s), Decision::Missed { post_at: START });
    assert_eq!(decide(START + 1, &s), Decision::Missed { post_at: START });
    assert_eq!(
        decide(START - 120 * DAY, &s),
        Decision::Schedule { post_at: START }
    );
    assert_eq!(
        decide(START - 120 * DAY - 1, &s),
        Decision::Later {
            post_at: START,
            schedulable_from: START - 120 * DAY
        }
    );
    assert_eq!(
        decide(START, &spec(MessageKind::named("pr_ready").unwrap(), None)),
        Decision::PostNow
    );
}

#[test]
fn kinds_are_named_as_in_the_plan() {
    for name in [
        "day_before",
        "hour_before",
        "start",
        "pr_ready",
        "closure_day_of",
    ] {
        assert_eq!(
            MessageKind::named(name).as_ref().map(MessageKind::as_str),
            Some(name)
        );
    }
    for bad in ["", "Later", "day-before", "_start", "a__b"] {
        assert_eq!(MessageKind::named(bad), None, "{bad}");
    }
    // The marker's words are the ones earlier versions wrote: a message
    // scheduled by them is found again.
    for (name, words) in [
        ("day_before", "day before"),
        ("hour_before", "hour before"),
        ("start", "start"),
        ("pr_ready", "PR ready"),
        ("page_ready", "page ready"),
    ] {
        assert_eq!(MessageKind::named(name).unwrap().marker_words(), words);
    }
}

#[test]
fn the_marker_names_site_tag_and_kind_and_ends_the_text() {
    let mut s = spec(MessageKind::named("hour_before").unwrap(), Some(START));
    s.revision = 3;
    assert_eq!(s.marker(), "_cycle · summit · c0044.003 · hour before_");
    assert_eq!(
        s.full_text(),
        "Hello &lt;all&gt; *bold*\n_cycle · summit · c0044.003 · hour before_"
    );
    assert!(s.has_marker(&s.full_text()));
    assert!(s.has_marker(&format!("{}\n\n", s.full_text())));
    let mut other = s.clone();
    other.kind = MessageKind::named("start").unwrap();
    assert!(!other.has_marker(&s.full_text()));
    other = s.clone();
    other.revision = 0;
    assert!(!other.has_marker(&s.full_text()));
    other = s.clone();
    other.site = "bts".into();
    assert!(!other.has_marker(&s.full_text()));
    // The marker in the middle of a text is not a marker.
    assert!(!s.has_marker(&format!("{}\nmore", s.marker())));
}

#[test]
fn posted_messages_are_ours_by_metadata_or_marker() {
    let s = spec(MessageKind::named("pr_ready").unwrap(), None);
    let by_metadata = PostedMessage {
        ts: "1.0".into(),
        text: "edited by hand".into(),
        metadata: Some(s.metadata()),
    };
    assert!(s.is_posted_as(&by_metadata));
    let by_marker = PostedMessage {
        ts: "1.0".into(),
        text: s.full_text(),
        metadata: None,
    };
    assert!(s.is_posted_as(&by_marker));
    let mut other = s.clone();
    other.cycle = 45;
    assert!(!other.is_posted_as(&by_metadata));
    assert!(!other.is_posted_as(&by_marker));
}

#[test]
fn plan_schedules_keeps_or_reschedules() {
    let s = spec(MessageKind::named("day_before").unwrap(), Some(START));
    let d = Decision::Schedule { post_at: START };
    assert_eq!(
        plan(d, &s, &Observed::default()),
        Plan::Schedule { post_at: START }
    );
    let same = Observed {
        scheduled: vec![pending("Q1", &s, START)],
        posted: None,
    };
    assert_eq!(
        plan(d, &s, &same),
        Plan::Keep {
            existing: Existing::Scheduled {
                scheduled_id: "Q1".into(),
                post_at: START
            },
            remove: vec![]
        }
    );
    let moved = Observed {
        scheduled: vec![pending("Q1", &s, START - DAY)],
        posted: None,
    };
    let Plan::Reschedule { remove, change, .. } = plan(d, &s, &moved) else {
        panic!("not rescheduled")
    };
    assert_eq!(remove.len(), 1);
    assert!(change.time_moved() && !change.text_changed);
    let mut reworded = pending("Q1", &s, START);
    reworded.text = format!("Old words\n{}", s.marker());
    let dup = Observed {
        scheduled: vec![reworded.clone(), pending("Q2", &s, START)],
        posted: None,
    };
    assert_eq!(
        plan(d, &s, &dup),
        Plan::Keep {
            existing: Existing::Scheduled {
                scheduled_id: "Q2".into(),
                post_at: START
            },
            remove: vec![reworded]
        }
    );
}

#[test]
fn plan_never_posts_late_and_keeps_what_was_delivered() {
    let s = spec(MessageKind::named("hour_before").unwrap(), Some(START));
    let d = Decision::Missed { post_at: START };
    let stale = pending("Q9", &s, START + DAY);
    assert_eq!(
        plan(
            d,
            &s,
            &Observed {
                scheduled: vec![stale.clone()],
                posted: None
            }
        ),
        Plan::Missed {
            post_at: START,
            remove: vec![stale]
        }
    );
    let delivered = PostedMessage {
        ts: format!("{START}.000100"),
        text: s.full_text(),
        metadata: None,
    };
    assert_eq!(
        plan(
            d,
            &s,
            &Observed {
                scheduled: vec![],
                posted: Some(delivered.clone())
            }
        ),
        Plan::Keep {
            existing: Existing::Posted {
                ts: delivered.ts.clone()
            },
            remove: vec![]
        }
    );
    let mut reworded = s.clone();
    reworded.text = "New words".into();
    assert_eq!(
        plan(
            d,
            &reworded,
            &Observed {
                scheduled: vec![],
                posted: Some(delivered.clone())
            }
        ),
        Plan::Update { ts: delivered.ts }
    );
}

#[test]
fn describe_says_what_a_dry_run_would_do() {
    let s = spec(MessageKind::named("day_before").unwrap(), Some(START));
    let fmt = |t: i64| utc(t);
    assert_eq!(
        describe(&Plan::Schedule { post_at: START }, &s, &fmt),
        "would schedule day_before in #summit-announce at 2026-02-23 12:00"
    );
    let change = Change {
        old_post_at: START - DAY,
        new_post_at: START,
        text_changed: false,
    };
    assert_eq!(
        describe(
            &Plan::Reschedule {
                remove: vec![],
                post_at: START,
                change
            },
            &s,
            &fmt
        ),
        "would reschedule day_before in #summit-announce: time moved from 2026-02-22 12:00 to 2026-02-23 12:00"
    );
    assert_eq!(
        describe(
            &Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: "Q1".into(),
                    post_at: START
                },
                remove: vec![]
            },
            &s,
            &fmt
        ),
        "day_before scheduled (id Q1) in #summit-announce at 2026-02-23 12:00, unchanged"
    );
    let later = describe(
        &Plan::Later {
            post_at: START,
            schedulable_from: START - 120 * DAY,
            remove: vec![],
        },
        &s,
        &fmt,
    );
    assert!(
        later.starts_with("would schedule later (within 120 days of the time):"),
        "{later}"
    );
}

#[test]
fn error_codes_say_what_to_do() {
    let ch = || Some("#summit-announce".to_string());
    let msg = |code: &str, body: Value| {
        api_error("chat.scheduleMessage", code, &body, ch(), Some(START)).to_string()
    };
    assert!(msg("not_in_channel", json!({})).contains("/invite @bot in #summit-announce"));
    assert!(msg("channel_not_found", json!({})).contains("slack.channel"));
    for code in ["invalid_auth", "not_authed", "token_revoked"] {
        let m = msg(code, json!({}));
        assert!(m.contains("SLACK_BOT_TOKEN") && m.contains(code), "{m}");
    }
    assert!(msg("time_in_past", json!({})).contains("2026-02-23 12:00 UTC"));
    assert!(msg("time_too_far", json!({})).contains("120 days"));
    assert!(msg("ratelimited", json!({})).contains("wait a minute"));
    assert!(
        msg("missing_scope", json!({"needed": "chat:write"}))
            .contains("lacks a scope chat.scheduleMessage needs (chat:write)")
    );
    assert_eq!(
        msg(
            "invalid_arguments",
            json!({"response_metadata": {"messages": ["[ERROR] missing required field: channel"]}})
        ),
        "Slack chat.scheduleMessage failed: invalid_arguments: [ERROR] missing required field: channel"
    );
}

#[test]
fn channel_references_and_api_urls() {
    assert_eq!(
        channel_ref("#summit-announce"),
        ChannelRef::Name("summit-announce".into())
    );
    assert_eq!(channel_ref("ts-build"), ChannelRef::Name("ts-build".into()));
    assert_eq!(channel_ref("C0123ABCD"), ChannelRef::Id("C0123ABCD".into()));
    assert_eq!(
        parse_api_url("https://slack.com/api").unwrap().as_str(),
        "https://slack.com/api/"
    );
    assert!(parse_api_url("https://u:p@slack.com/api").is_err());
    assert!(parse_api_url("ftp://slack.com/api").is_err());
    assert!(same_text("a  \nb\n", "a\nb"));
    assert!(!same_text("a\nb", "a\nc"));
    assert_eq!(ts_seconds("1503435956.000247"), Some(1_503_435_956));
}

#[test]
fn outcomes_give_the_journal_a_reference() {
    let o = MessageOutcome::Rescheduled {
        channel_id: "C1".into(),
        removed: vec!["Q1".into()],
        scheduled_id: "Q2".into(),
        change: Change {
            old_post_at: 1,
            new_post_at: 2,
            text_changed: false,
        },
    };
    assert_eq!(
        o.message_ref(),
        Some(MessageRef {
            channel_id: "C1".into(),
            scheduled_id: Some("Q2".into()),
            ts: None,
            post_at: Some(2)
        })
    );
    let later = MessageOutcome::Later {
        channel_id: "C1".into(),
        post_at: 2,
        schedulable_from: 1,
        removed: vec![],
    };
    assert!(later.is_pending() && later.message_ref().is_none());
}
