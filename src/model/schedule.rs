//! The schedule rule of a cycle (`schedule.yaml`, shipped with the
//! documented rule) and what `cycle new` derives from it: every date of a
//! release manifest, counted in days from the close of release work (day 1),
//! worked back from the summit's date or forward from the closure's, each at
//! a local time of the site (or of another zone, converted), with the
//! warnings a release manager must see (a Friday, a date in the past, a
//! summit day that is not the documented weekday). Pure.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::model::yamlfile::{SourceError, YamlSource};

/// The shipped rule (`schedule.yaml`): the documented one.
pub const SHIPPED: &str = include_str!("../../schedule.yaml");

/// The rule for both kinds of upgrade.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRule {
    /// A full cycle (revision 0).
    pub full: KindRule,
    /// An incremental upgrade (a revision).
    pub incremental: KindRule,
}

/// The rule of one kind of upgrade.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    /// The weekday the summit's deployment always falls on, when the rule
    /// has one (a full cycle: Tuesday).
    #[serde(default, deserialize_with = "optional_weekday")]
    pub summit_weekday: Option<Weekday>,
    /// Weekdays no deployment may fall on.
    #[serde(default, deserialize_with = "weekdays")]
    pub never_on: Vec<Weekday>,
    /// The manifest's `schedule` dates, by key, as days.
    pub milestones: BTreeMap<String, u32>,
    /// Each site's deployment.
    pub sites: BTreeMap<String, SiteRule>,
}

/// When a site deploys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRule {
    /// The deployment's start.
    pub start: At,
    /// A test stand's integration testing window.
    #[serde(default)]
    pub integration_testing: Option<Window>,
}

/// A test stand's integration testing window.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Every system ready by.
    pub ready_by: At,
    /// Testing holds the stand until.
    pub until: At,
}

/// A day of the schedule at a time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct At {
    /// Day, 1 being the close of release work.
    pub day: u32,
    /// Local time, `HH:MM`.
    pub time: NaiveTime,
    /// The zone `time` is in (an IANA name); the site's when absent.
    #[serde(default, deserialize_with = "optional_zone")]
    pub zone: Option<Tz>,
}

/// A weekday's English name (`Tuesday`).
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn weekday_of(name: &str) -> Result<Weekday, String> {
    name.parse::<Weekday>()
        .map_err(|_| format!("`{name}` is not a weekday (Monday … Sunday)"))
}

fn optional_weekday<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Weekday>, D::Error> {
    let name: Option<String> = Option::deserialize(d)?;
    name.map(|n| weekday_of(&n).map_err(serde::de::Error::custom))
        .transpose()
}

fn optional_zone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
    let name: Option<String> = Option::deserialize(d)?;
    name.map(|n| {
        n.parse::<Tz>()
            .map_err(|_| serde::de::Error::custom(format!("`{n}` is not an IANA time zone")))
    })
    .transpose()
}

fn weekdays<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
    let names: Vec<String> = Vec::deserialize(d)?;
    names
        .iter()
        .map(|n| weekday_of(n).map_err(serde::de::Error::custom))
        .collect()
}

impl ScheduleRule {
    /// Reads a rule file, errors located at file:line:column.
    pub fn load(path: &std::path::Path) -> Result<Self, SourceError> {
        let source = YamlSource::read(path)?;
        let rule: Self = source.parse()?;
        rule.check(&source)?;
        Ok(rule)
    }

    /// The shipped rule.
    pub fn shipped() -> Self {
        let source = YamlSource {
            path: "schedule.yaml".into(),
            text: SHIPPED.to_string(),
        };
        source
            .parse()
            .expect("the shipped schedule.yaml is valid (tested)")
    }

    fn check(&self, source: &YamlSource) -> Result<(), SourceError> {
        for (name, kind) in [("full", &self.full), ("incremental", &self.incremental)] {
            if !kind.sites.contains_key("summit") {
                return Err(source.error_at(
                    &format!("{name}.sites"),
                    "the rule needs the summit's day (sites.summit.start)",
                ));
            }
            for (site, rule) in &kind.sites {
                let mut days = vec![("start", rule.start.day)];
                if let Some(w) = &rule.integration_testing {
                    days.push(("integration_testing.ready_by", w.ready_by.day));
                    days.push(("integration_testing.until", w.until.day));
                }
                for (field, day) in days {
                    if day == 0 {
                        return Err(source.error_at(
                            &format!("{name}.sites.{site}.{field}.day"),
                            "days count from 1 (the close of release work)",
                        ));
                    }
                }
            }
            for (key, day) in &kind.milestones {
                if *day == 0 {
                    return Err(source.error_at(
                        &format!("{name}.milestones.{key}"),
                        "days count from 1 (the close of release work)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The rule of a full cycle (revision 0) or an incremental upgrade.
    pub fn kind(&self, revision: u32) -> &KindRule {
        if revision == 0 {
            &self.full
        } else {
            &self.incremental
        }
    }
}

/// The date `cycle new` starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The summit's deployment date: worked back to the closure.
    Summit(NaiveDate),
    /// The close of release work: worked forward to the summit.
    Closure(NaiveDate),
}

/// One site's derived deployment, in the site's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedDeployment {
    /// The start.
    pub start: NaiveDateTime,
    /// Integration testing: ready by, until.
    pub integration_testing: Option<(NaiveDateTime, NaiveDateTime)>,
}

/// Everything derived for a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// Day 1.
    pub closure: NaiveDate,
    /// The summit's day.
    pub summit: NaiveDate,
    /// The manifest's `schedule` dates, by key.
    pub milestones: BTreeMap<String, NaiveDate>,
    /// Each site's deployment, by site name.
    pub deployments: BTreeMap<String, DerivedDeployment>,
    /// What the release manager must look at before using the dates.
    pub warnings: Vec<String>,
}

/// Works the dates out of `rule` from `anchor`, for the sites of `zones`
/// (site name → its zone); `today` is the site-independent date the past is
/// judged against. A site of the rule that is not in `zones` is left out.
pub fn derive(
    rule: &KindRule,
    anchor: Anchor,
    zones: &BTreeMap<String, Tz>,
    today: NaiveDate,
) -> Result<Derived, String> {
    let summit_day = rule
        .sites
        .get("summit")
        .map(|s| s.start.day)
        .ok_or("the schedule rule has no summit day")?;
    let closure = match anchor {
        Anchor::Closure(date) => date,
        Anchor::Summit(date) => date - Duration::days(i64::from(summit_day) - 1),
    };
    let day = |n: u32| closure + Duration::days(i64::from(n) - 1);
    let summit = day(summit_day);
    let mut warnings = Vec::new();
    if let Some(weekday) = rule.summit_weekday
        && summit.weekday() != weekday
    {
        warnings.push(format!(
            "the summit's deployment on {} is a {}, not a {} as the schedule rule has it",
            summit,
            weekday_name(summit.weekday()),
            weekday_name(weekday)
        ));
    }
    let milestones: BTreeMap<String, NaiveDate> = rule
        .milestones
        .iter()
        .map(|(k, d)| (k.clone(), day(*d)))
        .collect();
    let mut deployments = BTreeMap::new();
    for (site, site_rule) in &rule.sites {
        let Some(tz) = zones.get(site) else {
            continue;
        };
        let local = |at: &At| -> Result<NaiveDateTime, String> {
            let naive = day(at.day).and_time(at.time);
            match at.zone {
                None => Ok(naive),
                Some(zone) => {
                    let instant = zone.from_local_datetime(&naive).earliest().ok_or_else(|| {
                        format!("{naive} does not exist in {zone} (a clock change)")
                    })?;
                    Ok(instant.with_timezone(tz).naive_local())
                }
            }
        };
        let start = local(&site_rule.start)?;
        if tz.from_local_datetime(&start).single().is_none() {
            warnings.push(format!(
                "{site}: {start} is not one instant in {tz} (a clock change): pick another time"
            ));
        }
        let integration_testing = site_rule
            .integration_testing
            .as_ref()
            .map(|w| Ok::<_, String>((local(&w.ready_by)?, local(&w.until)?)))
            .transpose()?;
        let weekday = start.date().weekday();
        if rule.never_on.contains(&weekday) {
            let name = weekday_name(weekday);
            warnings.push(format!(
                "{site}: the deployment on {} falls on a {name}; deployments never happen on a {name}",
                start.date()
            ));
        }
        if start.date() < today {
            warnings.push(format!(
                "{site}: the deployment on {} is in the past",
                start.date()
            ));
        }
        deployments.insert(
            site.clone(),
            DerivedDeployment {
                start,
                integration_testing,
            },
        );
    }
    if closure < today {
        warnings.push(format!(
            "the close of release work, {closure}, is in the past"
        ));
    }
    Ok(Derived {
        closure,
        summit,
        milestones,
        deployments,
        warnings,
    })
}

/// The date-time form of a manifest (`2026-02-24 09:00`).
pub fn manifest_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The versions of a new manifest and where each came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewVersions {
    /// Read from ts_cycle_build's `cycle.env`, field → version.
    pub cycle_build: BTreeMap<String, String>,
    /// Where they were read (`ts_cycle_build cycle/cycle.env at main (3d30cac)`).
    pub cycle_build_at: String,
    /// Taken from the newest earlier manifest, field → version.
    pub previous: BTreeMap<String, String>,
    /// That manifest's file name.
    pub previous_file: String,
}

/// The versions a manifest must carry that `cycle.env` does not have.
pub const CARRIED: [&str; 4] = ["strimzi", "kafka", "schema_registry", "ts_sal_utils"];

/// The text of a new release manifest: what a careful person writes by
/// hand, with a comment on where each value came from.
pub fn manifest_text(
    id: crate::model::cycle_id::CycleId,
    derived: &Derived,
    versions: &NewVersions,
    restarted: &[String],
    valid_as_of: NaiveDate,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let kind = if id.revision == 0 {
        "a full cycle".to_string()
    } else {
        format!("an incremental upgrade (revision {})", id.revision)
    };
    let _ = writeln!(
        out,
        "# Release manifest for {}: {kind}, written by `cycle new` from the schedule\n\
         # rule (summit on {}, close of release work on {}). Check every value\n\
         # before preparing; `cycle prepare` checks the versions against\n\
         # ts_cycle_build again.",
        id.label(),
        derived.summit,
        derived.closure
    );
    let _ = writeln!(out, "cycle: {}", id.cycle);
    let _ = writeln!(out, "revision: {}", id.revision);
    let _ = writeln!(out, "valid_as_of: {valid_as_of}\n");
    out.push_str("versions:\n");
    if !versions.cycle_build.is_empty() {
        let _ = writeln!(out, "  # From {}.", versions.cycle_build_at);
        for (k, v) in &versions.cycle_build {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
    if let (Some(xml), Some(sal)) = (
        versions.cycle_build.get("ts_xml"),
        versions.cycle_build.get("ts_sal"),
    ) {
        out.push_str("  # The CSC packages' versions follow ts_xml and ts_sal.\n");
        let _ = writeln!(out, "  csc_rpms: {xml}-{sal}");
        let _ = writeln!(out, "  csc_jars: {xml}_{sal}");
    }
    if !versions.previous.is_empty() {
        let _ = writeln!(out, "  # As in {}: check them.", versions.previous_file);
        for (k, v) in &versions.previous {
            let _ = writeln!(out, "  {k}: {v}");
        }
    }
    out.push_str("\nschedule:\n");
    for (k, d) in &derived.milestones {
        let _ = writeln!(out, "  {k}: {d}");
    }
    out.push_str("\n# Local times of each site.\ndeployments:\n");
    for (site, d) in &derived.deployments {
        let _ = writeln!(out, "  {site}:");
        let _ = writeln!(out, "    start: {}", manifest_time(&d.start));
        if let Some((ready_by, until)) = &d.integration_testing {
            out.push_str("    integration_testing:\n");
            let _ = writeln!(out, "      ready_by: {}", manifest_time(ready_by));
            let _ = writeln!(out, "      until: {}", manifest_time(until));
        }
    }
    out.push_str("\noperational_changes: []\n\nnew_cscs: []\n");
    if id.revision > 0 {
        out.push_str(
            "\n# The components the revision restarts (top-level keys of the sites'\n\
             # application values files, or globs of them).\n\
             restarted_components:\n",
        );
        for component in restarted {
            let _ = writeln!(out, "  - {component}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones() -> BTreeMap<String, Tz> {
        [
            ("bts".to_string(), chrono_tz::America::Santiago),
            ("tts".to_string(), chrono_tz::America::Phoenix),
            ("summit".to_string(), chrono_tz::America::Santiago),
        ]
        .into()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_full_cycle_works_back_from_a_tuesday_summit() {
        let rule = ScheduleRule::shipped();
        // Day 20 is Tuesday 24 February 2026: day 1 is Thursday 5 February.
        let d = derive(
            rule.kind(0),
            Anchor::Summit(date("2026-02-24")),
            &zones(),
            date("2026-01-01"),
        )
        .unwrap();
        assert_eq!(d.closure, date("2026-02-05"));
        assert_eq!(d.milestones["artifact_build"], date("2026-02-06"));
        assert_eq!(d.milestones["container_build_week"], date("2026-02-08"));
        assert_eq!(d.milestones["bts_deploy_week"], date("2026-02-17"));
        assert_eq!(d.deployments["bts"].start, at("2026-02-17 09:00"));
        assert_eq!(d.deployments["summit"].start, at("2026-02-24 09:00"));
        // By day 15 at 9 AM Pacific (PST, UTC-8) is 14:00 in La Serena
        // (CLST, UTC-3) and 10:00 in Tucson (MST, UTC-7).
        let (ready, until) = d.deployments["bts"].integration_testing.unwrap();
        assert_eq!(ready, at("2026-02-19 14:00"));
        assert_eq!(until, at("2026-02-21 17:00"));
        assert_eq!(
            d.deployments["tts"].integration_testing.unwrap().0,
            at("2026-02-19 10:00")
        );
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn pacific_time_follows_daylight_saving_into_each_site() {
        let rule = ScheduleRule::shipped();
        // Day 15 is Thursday 12 March 2026: the US is on PDT (UTC-7) since
        // 8 March, Chile still on CLST (UTC-3): 9 AM PT is 13:00 there;
        // Arizona keeps MST (UTC-7): 09:00.
        let d = derive(
            rule.kind(0),
            Anchor::Summit(date("2026-03-17")),
            &zones(),
            date("2026-01-01"),
        )
        .unwrap();
        assert_eq!(d.closure, date("2026-02-26"));
        assert_eq!(
            d.deployments["bts"].integration_testing.unwrap().0,
            at("2026-03-12 13:00")
        );
        assert_eq!(
            d.deployments["tts"].integration_testing.unwrap().0,
            at("2026-03-12 09:00")
        );
    }

    #[test]
    fn an_incremental_upgrade_goes_forward_from_the_closure_and_warns() {
        let rule = ScheduleRule::shipped();
        // Closure on Monday 9 March 2026: BTS Friday 13th, summit Sunday 15th.
        let d = derive(
            rule.kind(3),
            Anchor::Closure(date("2026-03-09")),
            &zones(),
            date("2026-12-07"),
        )
        .unwrap();
        assert_eq!(d.summit, date("2026-03-15"));
        assert_eq!(d.deployments["bts"].start, at("2026-03-13 09:00"));
        assert!(
            d.warnings
                .iter()
                .any(|w| w.contains("bts: the deployment on 2026-03-13 falls on a Friday")),
            "{:?}",
            d.warnings
        );
        assert!(d.warnings.iter().any(|w| w.contains("is in the past")));
        // A full cycle whose summit is not a Tuesday is named.
        let d = derive(
            rule.kind(0),
            Anchor::Summit(date("2026-02-25")),
            &zones(),
            date("2026-01-01"),
        )
        .unwrap();
        assert!(
            d.warnings[0].contains("is a Wednesday, not a Tuesday"),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn a_bad_rule_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule.yaml");
        std::fs::write(
            &path,
            SHIPPED.replacen("summit_weekday: Tuesday", "summit_weekday: Tusday", 1),
        )
        .unwrap();
        let e = ScheduleRule::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("schedule.yaml:") && e.contains("`Tusday` is not a weekday"),
            "{e}"
        );
    }
}
