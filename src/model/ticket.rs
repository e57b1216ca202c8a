//! The settings of a ticket a site files, written once for every kind: the
//! configuration ticket under `jira:` and the calendar ticket under
//! `calendar:` share [`TicketSettings`], and each kind adds its own fields
//! ([`NoExtras`], [`CalendarExtras`]).
//!
//! Read and written by hand rather than with `#[serde(flatten)]`, which
//! would lose what strict loading promises: an unknown field is refused
//! with the list of the kind's fields, and every error keeps its line and
//! field path.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The fields every ticket kind has, in the order the kinds list them.
const SHARED: [&str; 6] = [
    "project",
    "issue_type",
    "assignee",
    "labels",
    "components",
    "fields",
];

/// How a site's ticket is filed: what every kind shares, and `X`, the
/// fields of its kind alone (reached through `Deref`, so
/// `calendar.hours` reads as a field).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSettings<X> {
    /// Project key, e.g. `OSW` (was `DM` until January 2026) or `SUMMIT`.
    pub project: String,
    /// Issue type, e.g. `Story` or `Task`.
    pub issue_type: String,
    /// The assignee, as a Jira user search finds them (`mreuter`, an email
    /// address or a display name); resolved to an account id (Cloud) or
    /// user name (Data Center) once per run.
    pub assignee: Option<String>,
    /// Labels set on the ticket, e.g. `SoftwareRelease`.
    pub labels: Vec<String>,
    /// Components set on the ticket.
    pub components: Vec<String>,
    /// Further fields, by field id (`customfield_10056`): for the calendar
    /// ticket the start and end dates, participants, discipline.
    pub fields: BTreeMap<String, FieldSpec>,
    /// The fields of this kind alone.
    pub extra: X,
}

/// How the site's configuration ticket is filed (`jira:`).
pub type JiraSettings = TicketSettings<NoExtras>;

/// The calendar ticket of a site's deployment (`calendar:`): found by its
/// summary, created with the deployment window, and kept in sync when the
/// manifest's dates move.
pub type CalendarSettings = TicketSettings<CalendarExtras>;

impl<X> Deref for TicketSettings<X> {
    type Target = X;

    fn deref(&self) -> &X {
        &self.extra
    }
}

/// The fields a ticket kind adds to [`TicketSettings`].
pub trait TicketExtras: Default {
    /// The kind's name in type errors (`expected struct JiraSettings`).
    const NAME: &'static str;
    /// Every field of the kind, shared or its own, in the order an
    /// unknown-field error lists them and the settings are written.
    const FIELDS: &'static [&'static str];

    /// Reads the value of `field`, one of the kind's own fields.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        field: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error>;

    /// Writes the value of `field`, one of the kind's own fields.
    fn write<S: SerializeStruct>(&self, field: &'static str, out: &mut S) -> Result<(), S::Error>;
}

/// The configuration ticket adds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoExtras;

impl TicketExtras for NoExtras {
    const NAME: &'static str = "JiraSettings";
    const FIELDS: &'static [&'static str] = &SHARED;

    fn read<'de, A: MapAccess<'de>>(&mut self, _: &'static str, _: &mut A) -> Result<(), A::Error> {
        Ok(())
    }

    fn write<S: SerializeStruct>(&self, _: &'static str, _: &mut S) -> Result<(), S::Error> {
        Ok(())
    }
}

/// What the calendar ticket adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarExtras {
    /// Priority name, e.g. `SUMMIT-1`.
    pub priority: Option<String>,
    /// Length of the window when the manifest gives no `end` (hours; 8
    /// unless written).
    pub hours: u32,
}

impl Default for CalendarExtras {
    fn default() -> Self {
        Self {
            priority: None,
            hours: 8,
        }
    }
}

impl TicketExtras for CalendarExtras {
    const NAME: &'static str = "CalendarSettings";
    const FIELDS: &'static [&'static str] = &[
        "project",
        "issue_type",
        "priority",
        "assignee",
        "labels",
        "components",
        "fields",
        "hours",
    ];

    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        field: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match field {
            "priority" => self.priority = map.next_value()?,
            _ => self.hours = map.next_value()?,
        }
        Ok(())
    }

    fn write<S: SerializeStruct>(&self, field: &'static str, out: &mut S) -> Result<(), S::Error> {
        match field {
            "priority" => out.serialize_field(field, &self.priority),
            _ => out.serialize_field(field, &self.hours),
        }
    }
}

impl<X: TicketExtras> Serialize for TicketSettings<X> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct(X::NAME, X::FIELDS.len())?;
        for &field in X::FIELDS {
            match field {
                "project" => out.serialize_field(field, &self.project)?,
                "issue_type" => out.serialize_field(field, &self.issue_type)?,
                "assignee" => out.serialize_field(field, &self.assignee)?,
                "labels" => out.serialize_field(field, &self.labels)?,
                "components" => out.serialize_field(field, &self.components)?,
                "fields" => out.serialize_field(field, &self.fields)?,
                _ => self.extra.write(field, &mut out)?,
            }
        }
        out.end()
    }
}

impl<'de, X: TicketExtras> Deserialize<'de> for TicketSettings<X> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(X::NAME, X::FIELDS, SettingsVisitor(PhantomData))
    }
}

/// A key of a ticket's mapping: one of `FIELDS`, else an unknown field.
struct FieldKey(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldKey {
    type Value = &'static str;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.0
            .iter()
            .find(|field| **field == key)
            .copied()
            .ok_or_else(|| E::unknown_field(key, self.0))
    }
}

struct SettingsVisitor<X>(PhantomData<X>);

impl<'de, X: TicketExtras> Visitor<'de> for SettingsVisitor<X> {
    type Value = TicketSettings<X>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "struct {}", X::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen: Vec<&'static str> = Vec::new();
        let (mut project, mut issue_type) = (None, None);
        let mut settings = TicketSettings {
            project: String::new(),
            issue_type: String::new(),
            assignee: None,
            labels: Vec::new(),
            components: Vec::new(),
            fields: BTreeMap::new(),
            extra: X::default(),
        };
        while let Some(field) = map.next_key_seed(FieldKey(X::FIELDS))? {
            if seen.contains(&field) {
                return Err(de::Error::duplicate_field(field));
            }
            seen.push(field);
            match field {
                "project" => project = Some(map.next_value()?),
                "issue_type" => issue_type = Some(map.next_value()?),
                "assignee" => settings.assignee = map.next_value()?,
                "labels" => settings.labels = map.next_value()?,
                "components" => settings.components = map.next_value()?,
                "fields" => settings.fields = map.next_value()?,
                _ => settings.extra.read(field, &mut map)?,
            }
        }
        settings.project = project.ok_or_else(|| de::Error::missing_field("project"))?;
        settings.issue_type = issue_type.ok_or_else(|| de::Error::missing_field("issue_type"))?;
        Ok(settings)
    }
}

/// Which end of the deployment window a date field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowEdge {
    /// The deployment's start (`deployments.<site>.start`).
    Start,
    /// Its end (`deployments.<site>.end`, else the start plus `hours`).
    End,
}

/// A further Jira field of a ticket, typed as its field is, so that what is
/// sent is what Jira takes: `{type: option, value: Deployment}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FieldSpec {
    /// A date field, sent as `YYYY-MM-DD` in the site's zone; kept in sync
    /// with the manifest.
    Date {
        /// The window's start or end.
        at: WindowEdge,
    },
    /// A date-time field, sent with the site's offset
    /// (`2026-02-24T09:00:00.000-0300`); kept in sync with the manifest.
    DateTime {
        /// The window's start or end.
        at: WindowEdge,
    },
    /// A single-choice option field, sent as `{"value": …}`.
    Option {
        /// The option's value, e.g. `Deployment`.
        value: String,
    },
    /// A multiple-choice option field, sent as `[{"value": …}, …]`.
    Options {
        /// The options' values, e.g. `[Software]`.
        values: Vec<String>,
    },
    /// A multi-user picker, sent as `[{"id": …}, …]` (Data Center:
    /// `{"name": …}`); each user is found as for [`TicketSettings::assignee`].
    Users {
        /// The users, e.g. `[mreuter, rbovill]`.
        users: Vec<String>,
    },
    /// Any other field: the value is sent as written.
    Plain {
        /// The value, as Jira takes it.
        value: serde_json::Value,
    },
}

impl FieldSpec {
    /// The field's type as written in site files (`date`, `option`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            FieldSpec::Date { .. } => "date",
            FieldSpec::DateTime { .. } => "date_time",
            FieldSpec::Option { .. } => "option",
            FieldSpec::Options { .. } => "options",
            FieldSpec::Users { .. } => "users",
            FieldSpec::Plain { .. } => "plain",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALENDAR: &str = "project: SUMMIT\nissue_type: Task\npriority: SUMMIT-1\nassignee: null\n\
        labels:\n- SoftwareRelease\ncomponents: []\nfields:\n  customfield_10059:\n    type: date\n    at: start\nhours: 8\n";

    #[test]
    fn calendar_settings_read_and_write_in_the_kinds_field_order() {
        let cal: CalendarSettings = yaml_serde::from_str(CALENDAR).unwrap();
        assert_eq!(cal.priority.as_deref(), Some("SUMMIT-1"));
        assert_eq!(cal.hours, 8);
        assert_eq!(cal.labels, ["SoftwareRelease"]);
        assert_eq!(yaml_serde::to_string(&cal).unwrap(), CALENDAR);
    }

    #[test]
    fn each_kind_refuses_the_fields_of_the_other_and_defaults_its_own() {
        let err =
            yaml_serde::from_str::<JiraSettings>("project: OSW\nissue_type: Story\nhours: 3\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with(
                "unknown field `hours`, expected one of `project`, `issue_type`, \
                 `assignee`, `labels`, `components`, `fields`"
            ),
            "{err}"
        );
        let cal: CalendarSettings =
            yaml_serde::from_str("project: SUMMIT\nissue_type: Task\n").unwrap();
        assert_eq!(cal.extra, CalendarExtras::default());
        assert_eq!(cal.hours, 8);
        let err = yaml_serde::from_str::<CalendarSettings>("issue_type: Task\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("missing field `project`"), "{err}");
    }
}
