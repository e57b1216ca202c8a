//! The work-closure reminders end to end: the real binary against the
//! stateful Slack fake, with the summit's site file asking for them
//! (`slack.closure_reminders`) and a manifest whose XML work closes a few
//! days from now. Two runs leave exactly two reminders per closure; a moved
//! closure moves them. And any template on the schedule (the manifest's
//! `announcements`, the shipped broker rollout): sent once, moved with its
//! time.

mod support;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Santiago;
use support::read_repo_file;
use support::run::{DirArg, TestDirs, cycle_command, stderr as err, stdout as out};
use support::slack_fake::{SlackFake, TOKEN};

/// The summit's site file, asking for reminders in `#ts-dev` at 10:30.
const REMINDERS: &str = "  closure_reminders:\n    channel: \"#ts-dev\"\n    at: \"10:30\"\n";

struct World {
    dirs: TestDirs,
    fake: SlackFake,
    /// The id of `#ts-dev`.
    dev: String,
}

/// A Santiago date `days` from today.
fn day_in(days: i64) -> NaiveDate {
    (Utc::now() + Duration::days(days))
        .with_timezone(&Santiago)
        .date_naive()
}

/// 10:30 in Santiago on `day`, as epoch seconds.
fn at_1030(day: NaiveDate) -> i64 {
    Santiago
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(10, 30, 0).unwrap()))
        .earliest()
        .unwrap()
        .timestamp()
}

impl World {
    fn new(closure: NaiveDate) -> Self {
        let fake = SlackFake::start();
        let dev = fake.add_channel("ts-dev", false, true);
        let w = Self {
            dirs: TestDirs::new(),
            fake,
            dev,
        };
        w.fake.set_now(Utc::now().timestamp());
        w.dirs.copy_shipped_sites(&["summit.yaml"]);
        let path = w.dirs.sites().join("summit.yaml");
        let site = std::fs::read_to_string(&path).unwrap();
        let site = site.replace(
            "  review_channel: \"#ts-build\"\n",
            &format!("  review_channel: \"#ts-build\"\n{REMINDERS}"),
        );
        assert!(
            site.contains("closure_reminders"),
            "the summit file changed"
        );
        std::fs::write(&path, site).unwrap();
        std::fs::create_dir_all(w.dirs.releases()).unwrap();
        w.write_manifest(closure);
        w
    }

    /// The shipped Cycle 44 manifest, its XML work closing on `closure`
    /// and the summit deploying 30 days from now.
    fn write_manifest(&self, closure: NaiveDate) {
        let shipped = read_repo_file("releases/c0044.000.yaml");
        let head = shipped.split("# Local times of each site.").next().unwrap();
        let head = head.replace(
            "xml_work_closes: 2026-01-26",
            &format!("xml_work_closes: {closure}"),
        );
        assert!(
            head.contains(&closure.to_string()),
            "the shipped manifest changed"
        );
        let start = day_in(30).format("%Y-%m-%d 09:00");
        let text = format!("{head}deployments:\n  summit:\n    start: {start}\n");
        std::fs::write(self.dirs.releases().join("c0044.000.yaml"), text).unwrap();
    }

    fn prepare(&self, extra: &str) -> std::process::Output {
        let mut cmd = cycle_command(
            &self.dirs,
            &[
                DirArg::State,
                DirArg::Cache,
                DirArg::Releases,
                DirArg::Sites,
            ],
        );
        let line = format!(
            "prepare --site summit --cycle 44 --only slack --ticket summit=OSW-2010 {extra}"
        );
        cmd.env("CYCLE_RETRY_BASE_MS", "1")
            .env("GITHUB_SERVER_URL", "file:///nonexistent-remotes")
            .env("SLACK_BOT_TOKEN", TOKEN)
            .env("SLACK_API_URL", self.fake.url())
            .args(line.split_whitespace());
        let output = cmd.output().unwrap();
        for text in [&output.stdout, &output.stderr] {
            assert!(
                !String::from_utf8_lossy(text).contains(TOKEN),
                "the token leaked"
            );
        }
        output
    }

    /// The reminders scheduled in `#ts-dev`: (post_at, text), by time.
    fn reminders(&self) -> Vec<(i64, String)> {
        let mut found: Vec<(i64, String)> = self
            .fake
            .scheduled()
            .into_iter()
            .filter(|m| m.channel == self.dev)
            .map(|m| (m.post_at, m.text))
            .collect();
        found.sort();
        found
    }
}

fn both(o: &std::process::Output) -> String {
    format!("{}\n{}", out(o), err(o))
}

#[test]
fn two_runs_leave_two_reminders_and_a_moved_closure_moves_them() {
    let closure = day_in(5);
    let w = World::new(closure);

    let dry = w.prepare("--dry-run");
    assert_eq!(dry.status.code(), Some(2), "{}", both(&dry));
    assert!(out(&dry).contains("closure_day_before"), "{}", out(&dry));
    assert!(w.fake.scheduled().is_empty(), "a dry run wrote");

    let first = w.prepare("--yes");
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    let reminders = w.reminders();
    assert_eq!(
        reminders.iter().map(|r| r.0).collect::<Vec<_>>(),
        [at_1030(closure - Duration::days(1)), at_1030(closure)],
        "{reminders:?}"
    );
    assert!(
        reminders[0].1.contains("closes tomorrow"),
        "{}",
        reminders[0].1
    );
    assert!(
        reminders[1].1.contains("closes today"),
        "{}",
        reminders[1].1
    );
    // The deployment's three announcements are there too, once each.
    assert_eq!(w.fake.scheduled().len(), 5);

    w.fake.clear_requests();
    let again = w.prepare("--yes");
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(
        w.fake.calls("chat.scheduleMessage").is_empty(),
        "a rerun scheduled again"
    );
    assert_eq!(w.fake.scheduled().len(), 5);

    // The closure moves a day later: both reminders move, nothing else.
    let moved = closure + Duration::days(1);
    w.write_manifest(moved);
    let dry = w.prepare("--dry-run");
    assert_eq!(dry.status.code(), Some(2), "{}", both(&dry));
    assert!(
        out(&dry).contains("would reschedule closure_day_of in #ts-dev"),
        "{}",
        out(&dry)
    );
    w.fake.clear_requests();
    let run = w.prepare("--yes");
    assert_eq!(run.status.code(), Some(0), "{}", both(&run));
    assert_eq!(w.fake.calls("chat.scheduleMessage").len(), 2);
    assert_eq!(w.fake.calls("chat.deleteScheduledMessage").len(), 2);
    assert_eq!(
        w.reminders().iter().map(|r| r.0).collect::<Vec<_>>(),
        [at_1030(moved - Duration::days(1)), at_1030(moved)]
    );
    assert_eq!(w.fake.scheduled().len(), 5);
}

#[test]
fn a_closure_time_that_is_not_a_clock_time_is_one_located_error() {
    let w = World::new(day_in(5));
    let path = w.dirs.sites().join("summit.yaml");
    let site = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"10:30\"", "\"half past ten\"");
    std::fs::write(&path, site).unwrap();
    let run = w.prepare("--dry-run");
    assert_eq!(run.status.code(), Some(1), "{}", both(&run));
    let text = err(&run);
    assert!(text.contains("summit.yaml"), "{text}");
    assert!(text.contains("slack.closure_reminders.at"), "{text}");
    assert!(text.contains("half past ten"), "{text}");
    assert!(w.fake.scheduled().is_empty());
}

/// The shipped manifest with a broker rollout announced at BTS at `at`.
fn rollout_manifest(at: &str) -> String {
    let shipped = read_repo_file("releases/c0044.000.yaml");
    let head = shipped.split("# Local times of each site.").next().unwrap();
    let day = day_in(30);
    let start = day.format("%Y-%m-%d 09:00");
    let ready = day.format("%Y-%m-%d 13:00");
    let until = (day + Duration::days(2)).format("%Y-%m-%d 17:00");
    format!(
        "{head}deployments:\n  bts:\n    start: {start}\n    integration_testing:\n      ready_by: {ready}\n      until: {until}\nannouncements:\n  - name: broker_rollout\n    site: bts\n    template: broker_rollout.mrkdwn\n    at: {at}\n    values:\n      start: \"14:00 today\"\n"
    )
}

#[test]
fn an_announcement_on_the_schedule_is_sent_once_and_moves_with_its_time() {
    let w = World::new(day_in(5));
    w.dirs.copy_shipped_sites(&["bts.yaml"]);
    let bts = "C0BASE0001";
    let first_day = day_in(3);
    let at = first_day.format("%Y-%m-%d 10:30").to_string();
    std::fs::write(
        w.dirs.releases().join("c0044.000.yaml"),
        rollout_manifest(&at),
    )
    .unwrap();
    let run = |extra: &str| {
        let mut cmd = cycle_command(
            &w.dirs,
            &[
                DirArg::State,
                DirArg::Cache,
                DirArg::Releases,
                DirArg::Sites,
            ],
        );
        let line =
            format!("prepare --site bts --cycle 44 --only slack --ticket bts=OSW-2011 {extra}");
        cmd.env("CYCLE_RETRY_BASE_MS", "1")
            .env("GITHUB_SERVER_URL", "file:///nonexistent-remotes")
            .env("SLACK_BOT_TOKEN", TOKEN)
            .env("SLACK_API_URL", w.fake.url())
            .args(line.split_whitespace());
        cmd.output().unwrap()
    };
    let dry = run("--dry-run");
    assert_eq!(dry.status.code(), Some(2), "{}", both(&dry));
    assert!(
        out(&dry).contains("bts:announce:broker_rollout"),
        "{}",
        out(&dry)
    );

    let first = run("--yes");
    assert_eq!(first.status.code(), Some(0), "{}", both(&first));
    let rollout: Vec<_> = w
        .fake
        .scheduled()
        .into_iter()
        .filter(|m| m.channel == bts && m.text.contains("Kafka broker rollout"))
        .collect();
    assert_eq!(rollout.len(), 1, "{rollout:?}");
    assert!(
        rollout[0].text.contains("restart at 14:00 today"),
        "{}",
        rollout[0].text
    );
    assert!(
        rollout[0].text.contains("TLS certificates"),
        "{}",
        rollout[0].text
    );

    w.fake.clear_requests();
    let again = run("--yes");
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));
    assert!(
        w.fake.calls("chat.scheduleMessage").is_empty(),
        "a rerun scheduled again"
    );

    // Moved a day later: the one message moves, nothing else does.
    let moved = (first_day + Duration::days(1))
        .format("%Y-%m-%d 10:30")
        .to_string();
    std::fs::write(
        w.dirs.releases().join("c0044.000.yaml"),
        rollout_manifest(&moved),
    )
    .unwrap();
    w.fake.clear_requests();
    let run_moved = run("--yes");
    assert_eq!(run_moved.status.code(), Some(0), "{}", both(&run_moved));
    assert_eq!(w.fake.calls("chat.scheduleMessage").len(), 1);
    assert_eq!(w.fake.calls("chat.deleteScheduledMessage").len(), 1);
    let rollout: Vec<_> = w
        .fake
        .scheduled()
        .into_iter()
        .filter(|m| m.channel == bts && m.text.contains("Kafka broker rollout"))
        .collect();
    assert_eq!(rollout.len(), 1);
}

#[test]
fn an_announcement_name_that_is_not_words_is_one_located_error() {
    let w = World::new(day_in(5));
    let text = rollout_manifest("2030-01-01 10:00")
        .replace("name: broker_rollout", "name: Broker-Rollout");
    std::fs::write(w.dirs.releases().join("c0044.000.yaml"), text).unwrap();
    let run = w.prepare("--dry-run");
    assert_eq!(run.status.code(), Some(1), "{}", both(&run));
    let text = err(&run);
    assert!(text.contains("c0044.000.yaml"), "{text}");
    assert!(text.contains("announcements"), "{text}");
    assert!(text.contains("Broker-Rollout"), "{text}");
}
