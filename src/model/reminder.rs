//! When the work-closure reminders go out: "at least one day prior AND on
//! the day of the deadline" (the observatory's Getting-Ready page), each at
//! a configured clock time of the zone the reminder is read in. Pure.
//!
//! Like the deployment announcements ([`crate::model::context::announcement_times`]),
//! a reminder is placed by the calendar, not by 24-hour steps: across a
//! clock change both are at the same clock time, and a clock time a change
//! skipped or repeated is placed as the day before of an announcement is
//! ([`place_leniently`]). And like them, a reminder whose time has passed
//! is never sent late ([`ClosureReminders::to_send`]).

use chrono::{Duration, NaiveDate, NaiveTime};
use serde::Serialize;

use crate::model::context::{When, place_leniently, zoned};
use crate::model::site::LoadedSite;

/// Which of the two reminders of a closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// The calendar day before the closure.
    DayBefore,
    /// The day of the closure.
    DayOf,
}

impl ReminderKind {
    /// The name in ids and templates (`closure_day_before`, `closure_day_of`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::DayBefore => "closure_day_before",
            ReminderKind::DayOf => "closure_day_of",
        }
    }
}

/// One reminder and when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// Which reminder.
    pub kind: ReminderKind,
    /// When it is sent, in the zone it is read in.
    pub at: When,
}

impl Reminder {
    /// Whether its time has passed at `now` (epoch seconds): a time equal
    /// to `now` has, as Slack refuses to schedule it.
    pub fn is_past(&self, now: i64) -> bool {
        self.at.unix <= now
    }
}

/// The two reminders of one work-closure deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosureReminders {
    /// The deadline's date.
    pub closure: NaiveDate,
    /// The day before, then the day of.
    pub reminders: [Reminder; 2],
}

impl ClosureReminders {
    /// The reminders still to be sent at `now` (epoch seconds); the others
    /// are missed, never sent late.
    pub fn to_send(&self, now: i64) -> Vec<&Reminder> {
        self.reminders.iter().filter(|r| !r.is_past(now)).collect()
    }
}

/// The reminders of the closure on `closure`, at the clock time `at` of
/// `site`'s zone, the day before and the day of.
///
/// # Errors
/// A closure on the first day chrono can represent, which has no day before.
pub fn closure_reminders(
    site: &LoadedSite,
    closure: NaiveDate,
    at: NaiveTime,
) -> Result<ClosureReminders, String> {
    let before = closure
        .checked_sub_signed(Duration::days(1))
        .ok_or_else(|| format!("the closure {closure} has no day before"))?;
    let place = |day: NaiveDate| zoned(site, place_leniently(site.tz, day.and_time(at)));
    Ok(ClosureReminders {
        closure,
        reminders: [
            Reminder {
                kind: ReminderKind::DayBefore,
                at: place(before),
            },
            Reminder {
                kind: ReminderKind::DayOf,
                at: place(closure),
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn site(name: &str) -> LoadedSite {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sites/{name}.yaml"));
        crate::model::site::load(&path).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn isos(r: &ClosureReminders) -> [&str; 2] {
        [&r.reminders[0].at.iso, &r.reminders[1].at.iso]
    }

    #[test]
    fn the_day_before_and_the_day_of_at_the_configured_time() {
        let r = closure_reminders(&site("summit"), date("2026-02-05"), time("09:00")).unwrap();
        assert_eq!(
            isos(&r),
            ["2026-02-04T09:00:00-03:00", "2026-02-05T09:00:00-03:00"]
        );
        assert_eq!(r.reminders[0].kind.as_str(), "closure_day_before");
        assert_eq!(r.reminders[1].kind.as_str(), "closure_day_of");
        assert_eq!(r.reminders[1].at.zone, "CLST");
        assert_eq!(r.reminders[1].at.weekday, "Thursday");
        // Arizona keeps no daylight time: a plain day apart.
        let r = closure_reminders(&site("tts"), date("2026-03-08"), time("09:00")).unwrap();
        assert_eq!(r.reminders[1].at.unix - r.reminders[0].at.unix, 86_400);
        assert_eq!(r.reminders[0].at.zone, "MST");
    }

    #[test]
    fn across_a_clock_change_both_keep_the_clock_time() {
        // Chile springs forward at 2026-09-06 00:00 (-04 → -03).
        let summit = site("summit");
        let r = closure_reminders(&summit, date("2026-09-06"), time("09:00")).unwrap();
        assert_eq!(
            isos(&r),
            ["2026-09-05T09:00:00-04:00", "2026-09-06T09:00:00-03:00"]
        );
        assert_eq!(r.reminders[1].at.unix - r.reminders[0].at.unix, 23 * 3600);
        assert_eq!(
            [&r.reminders[0].at.zone, &r.reminders[1].at.zone],
            ["CLT", "CLST"]
        );
        // A clock time the change skipped moves forward by the gap.
        let r = closure_reminders(&summit, date("2026-09-06"), time("00:30")).unwrap();
        assert_eq!(r.reminders[1].at.iso, "2026-09-06T01:30:00-03:00");
        // One it repeated (2026-04-04 23:00-24:00) is its first occurrence.
        let r = closure_reminders(&summit, date("2026-04-05"), time("23:30")).unwrap();
        assert_eq!(
            isos(&r),
            ["2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"]
        );
    }

    #[test]
    fn a_reminder_whose_time_has_passed_is_not_sent() {
        let r = closure_reminders(&site("bts"), date("2026-02-05"), time("09:00")).unwrap();
        let [day_before, day_of] = [r.reminders[0].at.unix, r.reminders[1].at.unix];
        let kinds = |now: i64| -> Vec<ReminderKind> {
            r.to_send(now).into_iter().map(|m| m.kind).collect()
        };
        assert_eq!(
            kinds(day_before - 1),
            [ReminderKind::DayBefore, ReminderKind::DayOf]
        );
        assert_eq!(kinds(day_before), [ReminderKind::DayOf]);
        assert_eq!(kinds(day_of - 1), [ReminderKind::DayOf]);
        assert!(kinds(day_of).is_empty());
        assert!(closure_reminders(&site("bts"), NaiveDate::MIN, time("09:00")).is_err());
    }
}
