//! The Slack announcements end to end: the real binary (`cycle prepare
//! --only slack`, `cycle cancel`, `cycle announce --print`) against the
//! stateful Slack fake (`tests/support/slack_fake.rs`), with the shipped
//! sites and templates and release manifests written around the real
//! current time (the shipped manifests' dates are in the past).

mod support;

use std::path::PathBuf;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use serde_json::Value;
use support::run::{DirArg, TestDirs, cycle_command, stderr as err, stdout as out};
use support::slack_fake::{Failure, SlackFake, TOKEN};
use support::words;
use support::{read_repo_file, root};

const SUMMIT: &str = "C0SUMMIT01";
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// A summit start `offset` from now, on a whole minute, as the manifest
/// writes it (Santiago local time) and as epoch seconds.
fn start_in(offset: Duration) -> (String, i64) {
    let at = Utc::now() + offset;
    let local = at.with_timezone(&Santiago).naive_local();
    let text = local.format("%Y-%m-%d %H:%M").to_string();
    let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M").unwrap();
    let unix = Santiago
        .from_local_datetime(&naive)
        .single()
        .expect("a start away from clock changes")
        .timestamp();
    (text, unix)
}

/// The shipped Cycle 44 manifest with the summit starting at `start`; a
/// revision `> 0` restarts `restarted`.
fn manifest(start: &str, revision: u32, restarted: &[&str]) -> String {
    let shipped = read_repo_file("releases/c0044.000.yaml");
    let head = shipped.split("# Local times of each site.").next().unwrap();
    let head = head.replace("revision: 0", &format!("revision: {revision}"));
    let mut text = format!("{head}deployments:\n  summit:\n    start: {start}\n");
    if !restarted.is_empty() {
        text.push_str("    testing_queue: \"MTQueue & <!here>\"\n");
        text.push_str("restarted_components:\n");
        for c in restarted {
            text.push_str(&format!("  - {}\n", serde_json::to_string(c).unwrap()));
        }
    }
    text
}

/// A state, cache and releases directory, the shipped sites and templates,
/// and the Slack fake with its clock at the real time.
struct World {
    dirs: TestDirs,
    fake: SlackFake,
}

impl World {
    fn new(start: &str) -> Self {
        let world = Self {
            dirs: TestDirs::new(),
            fake: SlackFake::start(),
        };
        world.fake.set_now(Utc::now().timestamp());
        std::fs::create_dir_all(world.dirs.releases()).unwrap();
        world.write_manifest(start);
        world
    }

    fn write_manifest(&self, start: &str) {
        self.write_release(0, &manifest(start, 0, &[]));
    }

    fn write_release(&self, revision: u32, text: &str) {
        std::fs::write(
            self.dirs
                .releases()
                .join(format!("c0044.{revision:03}.yaml")),
            text,
        )
        .unwrap();
    }

    fn journal_path(&self) -> PathBuf {
        self.dirs.state().join("journal/c0044.000.json")
    }

    fn journal(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.journal_path()).unwrap()).unwrap()
    }

    fn step(&self, kind: &str) -> Value {
        self.journal()["steps"][format!("summit:slack:{kind}")].clone()
    }

    /// The binary with the fake's URL and `token`.
    fn cycle_with_token(&self, token: Option<&str>, args: &[&str]) -> std::process::Output {
        let mut cmd = cycle_command(
            &self.dirs,
            &[DirArg::State, DirArg::Cache, DirArg::Releases],
        );
        cmd.env("CYCLE_RETRY_BASE_MS", "1")
            // No configuration repository is reachable: --only slack never needs one.
            .env("GITHUB_SERVER_URL", "file:///nonexistent-remotes")
            .args(args);
        if let Some(token) = token {
            cmd.env("SLACK_BOT_TOKEN", token)
                .env("SLACK_API_URL", self.fake.url());
        }
        let output = cmd.output().unwrap();
        for text in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(!text.contains(TOKEN), "the token leaked:\n{text}");
        }
        output
    }

    /// `cycle ARGS` without a token, which must succeed; its output.
    fn offline_text(&self, args: &[&str]) -> String {
        let run = self.cycle_with_token(None, args);
        assert_eq!(run.status.code(), Some(0), "{}", both(&run));
        out(&run)
    }

    fn cycle(&self, args: &[&str]) -> std::process::Output {
        self.cycle_with_token(Some(TOKEN), args)
    }

    fn prepare(&self, extra: &[&str]) -> std::process::Output {
        let mut args =
            words("prepare --site summit --cycle 44 --only slack --ticket summit=OSW-2010");
        args.extend_from_slice(extra);
        self.cycle(&args)
    }

    fn apply(&self) -> std::process::Output {
        self.prepare(&["--yes"])
    }

    fn dry_run(&self) -> std::process::Output {
        self.prepare(&["--dry-run"])
    }

    /// No file under the state or cache directory holds the token.
    fn assert_no_token_on_disk(&self) {
        support::assert_no_secret(&[TOKEN], &[], &[&self.dirs.state(), &self.dirs.cache()]);
    }
}

fn both(o: &std::process::Output) -> String {
    format!("{}\n{}", out(o), err(o))
}

fn shown(unix: i64) -> String {
    let site = cycle::model::site::load(&root().join("sites/summit.yaml")).unwrap();
    cycle::model::context::display_time(&site, unix)
}

/// The summit's calendar day before at the same clock time.
fn day_before(start: i64) -> i64 {
    let local = DateTime::from_timestamp(start, 0)
        .unwrap()
        .with_timezone(&Santiago)
        .naive_local()
        - Duration::days(1);
    Santiago
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .timestamp()
}

fn sorted_post_ats(fake: &SlackFake) -> Vec<i64> {
    let mut times: Vec<i64> = fake.scheduled().iter().map(|m| m.post_at).collect();
    times.sort();
    times
}

#[test]
fn schedules_each_message_once_and_a_rerun_writes_nothing() {
    let (start, at) = start_in(Duration::days(5));
    let w = World::new(&start);

    let dry = w.dry_run();
    assert_eq!(dry.status.code(), Some(2), "{}", both(&dry));
    let plan = out(&dry);
    for want in [
        format!(
            "would schedule day_before in #summit-announce at {}",
            shown(day_before(at))
        ),
        format!(
            "would schedule hour_before in #summit-announce at {}",
            shown(at - HOUR)
        ),
        format!("would schedule start in #summit-announce at {}", shown(at)),
    ] {
        assert!(plan.contains(&want), "missing {want:?} in\n{plan}");
    }
    assert!(w.fake.writes().is_empty(), "a dry run wrote to Slack");

    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    let scheduled = w.fake.scheduled();
    assert_eq!(scheduled.len(), 3, "{scheduled:?}");
    assert!(scheduled.iter().all(|m| m.channel == SUMMIT));
    assert!(scheduled.iter().all(|m| m.metadata.is_none()));
    assert_eq!(sorted_post_ats(&w.fake), [day_before(at), at - HOUR, at]);
    let start_msg = scheduled.iter().find(|m| m.post_at == at).unwrap();
    assert!(
        start_msg
            .text
            .starts_with("The Cycle 44 deployment on the summit is starting now.")
            && start_msg
                .text
                .ends_with("\n_cycle · summit · c0044.000 · start_"),
        "{}",
        start_msg.text
    );
    assert!(w.fake.calls("chat.postMessage").is_empty());
    for kind in ["day_before", "hour_before", "start"] {
        let step = w.step(kind);
        assert_eq!(step["status"], "FINISHED", "{step}");
        assert_eq!(step["action"], "scheduled", "{step}");
        assert_eq!(step["outcome"]["channel"], SUMMIT);
        let id = step["outcome"]["scheduled_id"].as_str().unwrap();
        assert!(scheduled.iter().any(|m| m.id == id));
    }
    assert!(out(&run).contains("3 scheduled."), "{}", out(&run));
    // The summary says the action once, the time in the site's zone and the
    // channel by its name (issue 33, items 9 and 10).
    let row = format!(
        "  {:<44} {:<10} {} in #summit-announce for {}\n",
        "summit:slack:start",
        "scheduled",
        start_msg.id,
        shown(at)
    );
    assert!(out(&run).contains(&row), "{row:?} in\n{}", out(&run));
    assert!(!out(&run).contains("scheduled scheduled"), "{}", out(&run));
    let status = w.cycle(&["status", "--site", "summit", "--cycle", "44"]);
    let line = format!(
        "  {:<36} {:<9} scheduled {} in #summit-announce for {}\n",
        "slack:start",
        "FINISHED",
        start_msg.id,
        shown(at)
    );
    assert!(
        out(&status).contains(&line),
        "{line:?} in\n{}",
        out(&status)
    );

    // A rerun finds all three (journal ids first) and writes nothing.
    w.fake.clear_requests();
    let again = w.apply();
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(w.fake.writes().is_empty(), "{:?}", w.fake.writes());
    assert!(out(&again).contains("3 unchanged."), "{}", out(&again));
    // (The dry run still exits 2: the unselected steps have changes.)
    let dry = w.dry_run();
    assert!(
        out(&dry).contains(&format!(
            "start scheduled (id {}) in #summit-announce at {}, unchanged",
            start_msg.id,
            shown(at)
        )),
        "{}",
        out(&dry)
    );
    assert_eq!(w.fake.scheduled().len(), 3);
    w.assert_no_token_on_disk();
}

#[test]
fn found_again_by_marker_when_the_journal_is_lost() {
    let (start, _) = start_in(Duration::days(4));
    let w = World::new(&start);
    assert_eq!(w.apply().status.code(), Some(0));
    let ids: Vec<String> = w.fake.scheduled().iter().map(|m| m.id.clone()).collect();
    std::fs::remove_file(w.journal_path()).unwrap();
    w.fake.clear_requests();

    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert!(w.fake.writes().is_empty(), "{:?}", w.fake.writes());
    let again: Vec<String> = w.fake.scheduled().iter().map(|m| m.id.clone()).collect();
    assert_eq!(again, ids);
    for kind in ["day_before", "hour_before", "start"] {
        let step = w.step(kind);
        assert_eq!(step["status"], "FINISHED");
        assert_eq!(step["action"], "unchanged");
        let id = step["outcome"]["scheduled_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ids.contains(&id));
    }
}

#[test]
fn a_moved_date_deletes_the_old_message_and_leaves_exactly_one_per_kind() {
    let (start, at) = start_in(Duration::days(5));
    let w = World::new(&start);
    assert_eq!(w.apply().status.code(), Some(0));
    let old: Vec<String> = w.fake.scheduled().iter().map(|m| m.id.clone()).collect();

    let (moved, new_at) = start_in(Duration::days(7));
    w.write_manifest(&moved);
    let dry = w.dry_run();
    assert_eq!(dry.status.code(), Some(2), "{}", both(&dry));
    let want = format!(
        "would reschedule start in #summit-announce: time moved from {} to {}",
        shown(at),
        shown(new_at)
    );
    assert!(
        out(&dry).contains(&want),
        "missing {want:?} in\n{}",
        out(&dry)
    );
    assert_eq!(w.fake.scheduled().len(), 3);

    w.fake.clear_requests();
    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert_eq!(w.fake.calls("chat.deleteScheduledMessage").len(), 3);
    assert_eq!(w.fake.calls("chat.scheduleMessage").len(), 3);
    let now = w.fake.scheduled();
    assert_eq!(now.len(), 3, "{now:?}");
    assert!(now.iter().all(|m| !old.contains(&m.id)));
    assert_eq!(
        sorted_post_ats(&w.fake),
        [day_before(new_at), new_at - HOUR, new_at]
    );
    let step = w.step("start");
    assert_eq!(step["action"], "rescheduled");
    assert_eq!(step["outcome"]["post_at"], new_at);
    assert_eq!(step["history"][0]["outcome"]["post_at"], at);
    assert!(out(&run).contains("3 rescheduled."), "{}", out(&run));
}

#[test]
fn reminders_whose_time_passed_are_missed_never_posted_late() {
    // Starts in 30 minutes: the day-before and hour-before times are gone.
    let (start, at) = start_in(Duration::minutes(30));
    let w = World::new(&start);
    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    let scheduled = w.fake.scheduled();
    assert_eq!(scheduled.len(), 1, "{scheduled:?}");
    assert_eq!(scheduled[0].post_at, at);
    assert!(w.fake.calls("chat.postMessage").is_empty());
    for kind in ["day_before", "hour_before"] {
        let step = w.step(kind);
        assert_eq!(step["status"], "FINISHED", "{step}");
        assert_eq!(step["action"], "missed", "{step}");
    }
    assert!(
        err(&run).contains(&format!(
            "summit:slack:hour_before: was due at {}: missed, not posted late",
            shown(at - HOUR)
        )),
        "{}",
        err(&run)
    );
    assert!(
        out(&run).contains("2 missed, 1 scheduled."),
        "{}",
        out(&run)
    );
}

#[test]
fn once_the_deployment_has_started_nothing_is_scheduled_or_posted() {
    let (start, _) = start_in(-Duration::hours(3));
    let w = World::new(&start);
    let dry = w.dry_run();
    assert!(
        out(&dry).contains("start in #summit-announce was due at"),
        "{}",
        out(&dry)
    );
    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert!(w.fake.writes().is_empty(), "{:?}", w.fake.writes());
    assert!(w.fake.scheduled().is_empty());
    assert!(out(&run).contains("3 missed."), "{}", out(&run));
}

#[test]
fn a_message_beyond_120_days_waits_pending_and_exits_zero() {
    let (start, at) = start_in(Duration::days(200));
    let w = World::new(&start);
    let dry = w.dry_run();
    // Waiting on a time writes nothing now: exit 0, counted on its own.
    assert_eq!(dry.status.code(), Some(0), "{}", out(&dry));
    assert!(
        out(&dry).contains(&format!(
            "would schedule later (within 120 days of the time): start in #summit-announce at {}",
            shown(at)
        )),
        "{}",
        out(&dry)
    );
    let until = format!(
        "waiting until {}: Slack schedules at most 120 days ahead; run `cycle prepare` again from then",
        shown(at - 120 * DAY)
    );
    assert!(out(&dry).contains(&until), "{}", out(&dry));
    assert!(out(&dry).contains("3 waiting"), "{}", out(&dry));

    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert!(w.fake.writes().is_empty(), "{:?}", w.fake.writes());
    for kind in ["day_before", "hour_before", "start"] {
        let step = w.step(kind);
        assert_eq!(step["status"], "PENDING", "{step}");
        assert_eq!(step["action"], "waiting", "{step}");
    }
    assert!(out(&run).contains("3 waiting."), "{}", out(&run));
    assert!(out(&run).contains(&until), "{}", out(&run));
    let status = w.cycle(&["status", "--site", "summit", "--cycle", "44"]);
    assert!(
        out(&status).contains("slack:start") && out(&status).contains("PENDING"),
        "{}",
        out(&status)
    );
}

/// Starts in 30 minutes so exactly one message (the start) is scheduled.
fn one_schedule_fails_with(failures: &[Failure]) -> (World, std::process::Output) {
    let (start, _) = start_in(Duration::minutes(30));
    let w = World::new(&start);
    for f in failures {
        w.fake.fail_next("chat.scheduleMessage", f.clone());
    }
    let run = w.apply();
    (w, run)
}

#[test]
fn each_slack_error_code_gives_its_clear_message() {
    let cases: [(&str, usize, &str); 5] = [
        (
            "channel_not_found",
            1,
            "Slack channel #summit-announce not found (channel_not_found): check the site's slack.channel",
        ),
        (
            "not_in_channel",
            1,
            "the bot is not in #summit-announce (not_in_channel): invite the bot: /invite @bot in #summit-announce",
        ),
        (
            "time_in_past",
            1,
            "(time_in_past): the time has passed or this machine's clock is wrong",
        ),
        (
            "time_too_far",
            1,
            "(time_too_far): Slack schedules at most 120 days ahead",
        ),
        (
            "ratelimited",
            4,
            "Slack kept rate-limiting chat.scheduleMessage (ratelimited): wait a minute and run again",
        ),
    ];
    for (code, times, want) in cases {
        let failures = vec![Failure::Error(code.into()); times];
        let (w, run) = one_schedule_fails_with(&failures);
        assert_eq!(run.status.code(), Some(1), "{code}: {}", both(&run));
        assert!(
            both(&run).contains(want),
            "{code}: missing {want:?} in\n{}",
            both(&run)
        );
        let step = w.step("start");
        assert_eq!(step["status"], "FAILED", "{code}: {step}");
        assert!(step["error"].as_str().unwrap().contains(code), "{step}");
        assert!(w.fake.scheduled().is_empty(), "{code}");
        w.assert_no_token_on_disk();
    }
}

#[test]
fn a_refused_token_fails_every_message_without_showing_it() {
    let (start, _) = start_in(Duration::days(3));
    let w = World::new(&start);
    let wrong = "xoxb-wrong-0000000000-NOTTHETOKEN";
    let run = w.cycle_with_token(
        Some(wrong),
        &words("prepare --site summit --cycle 44 --only slack --ticket summit=OSW-2010 --yes"),
    );
    assert_eq!(run.status.code(), Some(1), "{}", both(&run));
    let text = both(&run);
    assert!(
        text.contains("Slack refused the token in SLACK_BOT_TOKEN (invalid_auth"),
        "{text}"
    );
    assert!(!text.contains(wrong), "{text}");
    assert!(
        !std::fs::read_to_string(w.journal_path())
            .unwrap()
            .contains(wrong)
    );
    assert!(w.fake.scheduled().is_empty());
}

#[test]
fn a_429_is_waited_out_then_the_message_is_scheduled() {
    let (w, run) = one_schedule_fails_with(&[Failure::RateLimited(1)]);
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert_eq!(w.fake.scheduled().len(), 1);
    assert_eq!(w.step("start")["status"], "FINISHED");
}

#[test]
fn a_missing_token_is_one_error_before_anything_runs() {
    let (start, _) = start_in(Duration::days(3));
    let w = World::new(&start);
    let run = w.cycle_with_token(
        None,
        &words("prepare --site summit --cycle 44 --only slack --ticket summit=OSW-2010 --yes"),
    );
    assert_eq!(run.status.code(), Some(1), "{}", both(&run));
    assert!(err(&run).contains("set SLACK_BOT_TOKEN"), "{}", err(&run));
    assert!(w.fake.requests().is_empty());
    assert!(!w.journal_path().exists());
}

#[test]
fn cancel_deletes_every_pending_message_posts_nothing_and_marks_cancelled() {
    let (start, _) = start_in(Duration::days(5));
    let w = World::new(&start);
    assert_eq!(w.apply().status.code(), Some(0));
    assert_eq!(w.fake.scheduled().len(), 3);
    // Without --yes and without a terminal: refused, nothing deleted.
    let refused = w.cycle(&["cancel", "--site", "summit", "--cycle", "44"]);
    assert_eq!(refused.status.code(), Some(1), "{}", both(&refused));
    assert!(err(&refused).contains("refusing to apply without confirmation"));
    assert_eq!(w.fake.scheduled().len(), 3);

    w.fake.clear_requests();
    let run = w.cycle(&["cancel", "--site", "summit", "--cycle", "44", "--yes"]);
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert!(w.fake.scheduled().is_empty(), "{:?}", w.fake.scheduled());
    assert!(w.fake.posted().is_empty());
    assert!(w.fake.calls("chat.postMessage").is_empty());
    assert!(w.fake.calls("chat.scheduleMessage").is_empty());
    assert_eq!(w.fake.calls("chat.deleteScheduledMessage").len(), 3);
    for kind in ["day_before", "hour_before", "start"] {
        assert_eq!(w.step(kind)["status"], "CANCELLED", "{kind}");
    }
    assert!(out(&run).contains("3 cancelled."), "{}", out(&run));

    // Cancelling again finds nothing to delete and writes nothing.
    w.fake.clear_requests();
    let again = w.cycle(&["cancel", "--site", "summit", "--cycle", "44", "--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(w.fake.writes().is_empty());

    // A later prepare leaves them cancelled and says how to undo it.
    let dry = w.dry_run();
    assert!(
        out(&dry)
            .contains("to apply it again: cycle mark --site summit --cycle 44 slack:start pending"),
        "{}",
        out(&dry)
    );
    assert_eq!(w.apply().status.code(), Some(0));
    assert!(w.fake.writes().is_empty(), "{:?}", w.fake.writes());
    assert_eq!(w.step("start")["status"], "CANCELLED");
    // `cycle mark … pending` brings one back.
    w.fake.clear_requests();
    let mark = w.cycle(&words("mark --site summit --cycle 44 slack:start pending"));
    assert_eq!(mark.status.code(), Some(0), "{}", both(&mark));
    assert_eq!(w.apply().status.code(), Some(0));
    assert_eq!(w.fake.calls("chat.scheduleMessage").len(), 1);
    assert_eq!(w.fake.scheduled().len(), 1);
    assert_eq!(w.step("start")["status"], "FINISHED");
    w.assert_no_token_on_disk();
}

#[test]
fn cancel_finds_the_messages_without_the_journal() {
    let (start, _) = start_in(Duration::days(2));
    let w = World::new(&start);
    assert_eq!(w.apply().status.code(), Some(0));
    std::fs::remove_file(w.journal_path()).unwrap();
    let run = w.cycle(&["cancel", "--site", "summit", "--cycle", "44", "--yes"]);
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert!(w.fake.scheduled().is_empty());
    assert_eq!(w.step("start")["status"], "CANCELLED");
}

#[test]
fn manifest_text_is_escaped_for_mrkdwn_in_what_slack_receives() {
    let (start, _) = start_in(Duration::days(3));
    let w = World::new(&start);
    w.write_release(
        3,
        &manifest(
            &start,
            3,
            &[
                "MTScheduler <!channel>",
                "a & b",
                "<script>alert(1)</script>",
                "*bold*",
            ],
        ),
    );
    let run = w.cycle(&words(
        "prepare --site summit --cycle 44 --revision 3 --only slack --ticket summit=OSW-2010 --yes",
    ));
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    let day = w
        .fake
        .scheduled()
        .into_iter()
        .find(|m| m.text.starts_with("Hello everyone!"))
        .unwrap();
    assert!(
        day.text.contains(
            "Components restarted: MTScheduler &lt;!channel&gt;, a &amp; b, \
             &lt;script&gt;alert(1)&lt;/script&gt;, \u{200B}*\u{200B}bold\u{200B}*\u{200B}, and the ScriptQueues."
        ),
        "{}",
        day.text
    );
    assert!(
        day.text
            .contains("Testing will use the MTQueue &amp; &lt;!here&gt; queue."),
        "{}",
        day.text
    );
    assert!(!day.text.contains("<!channel>") && !day.text.contains("<!here>"));
    assert!(
        day.text
            .ends_with("_cycle · summit · c0044.003 · day before_")
    );
}

#[test]
fn announce_print_renders_every_message_offline_without_a_token() {
    let (start, at) = start_in(Duration::days(3));
    let w = World::new(&start);
    w.write_release(
        3,
        &manifest(&start, 3, &["MTScheduler <!channel>", "a & b", "*bold*"]),
    );
    let text = w.offline_text(&words(
        "announce --site summit --cycle 44 --revision 3 --print",
    ));
    assert!(
        text.starts_with("# Summit: Cycle 44, Revision 3 (c0044.003)\n"),
        "{text}"
    );
    for kind in ["day_before", "hour_before", "start"] {
        assert!(text.contains(&format!("## {kind}: post ")), "{text}");
    }
    let local = DateTime::from_timestamp(at - HOUR, 0)
        .unwrap()
        .with_timezone(&Santiago)
        .format("%H:%M")
        .to_string();
    assert!(
        text.lines()
            .any(|l| l.starts_with("## hour_before: post ") && l.contains(&format!("at {local} C"))),
        "{text}"
    );
    // Pasted text: a person's `<`, `&` are typed as is (the client escapes).
    assert!(
        text.contains(
            "Components restarted: MTScheduler <!channel>, a & b, *bold*, and the ScriptQueues."
        ),
        "{text}"
    );
    assert!(
        !text.contains("_cycle · summit"),
        "no marker in pasted text"
    );
    assert!(w.fake.requests().is_empty());
    assert!(!w.dirs.state().exists(), "announce must not write state");
}

#[test]
fn announce_print_accepts_starts_just_after_chilean_clock_changes() {
    let w = World::new("2026-09-06 01:30");
    let text = w.offline_text(&["announce", "--site", "summit", "--cycle", "44", "--print"]);
    // Spring forward 2026-09-06 00:00 -04 → 01:00 -03: one absolute hour
    // before 01:30 CLST is 23:30 CLT the day before.
    assert!(
        text.contains(
            "## hour_before: post Saturday 5 September 2026 at 23:30 CLT in #summit-announce"
        ),
        "{text}"
    );
    assert!(
        text.contains("## start: post Sunday 6 September 2026 at 01:30 CLST in #summit-announce"),
        "{text}"
    );
    // Fall back 2026-04-05 00:00 -03 → 2026-04-04 23:00 -04: an hour before
    // 00:30 CLT is the second 23:30, in CLT.
    w.write_manifest("2026-04-05 00:30");
    let text = w.offline_text(&["announce", "--site", "summit", "--cycle", "44", "--print"]);
    assert!(
        text.contains(
            "## hour_before: post Saturday 4 April 2026 at 23:30 CLT in #summit-announce"
        ),
        "{text}"
    );
    assert!(
        text.contains("## start: post Sunday 5 April 2026 at 00:30 CLT in #summit-announce"),
        "{text}"
    );
}

#[test]
fn announce_without_print_says_what_to_use() {
    let (start, _) = start_in(Duration::days(3));
    let w = World::new(&start);
    let run = w.cycle_with_token(None, &["announce", "--site", "summit", "--cycle", "44"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        err(&run).contains("cycle prepare --only slack"),
        "{}",
        err(&run)
    );
}

/// The progress lines (what a CI log keeps) name the channel and give the
/// time in the site's zone, like the summary: never a channel id or UTC.
#[test]
fn progress_lines_name_the_channel_and_use_the_sites_zone() {
    let (start, at) = start_in(Duration::days(4));
    let w = World::new(&start);
    let run = w.apply();
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    let stderr = err(&run);
    let line = stderr
        .lines()
        .find(|l| l.contains("summit:slack:start") && !l.contains("started:"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        line.contains("in #summit-announce for ") && line.contains(&shown(at)),
        "{line}"
    );
    assert!(!stderr.contains(" UTC"), "{stderr}");
    assert!(!stderr.contains("C0SUMMIT01"), "{stderr}");
}
