//! How a step's outcome reads for people in the apply's summary and in
//! `cycle status`: times in the site's zone (as the plan shows them, `09:00
//! CLST`, never `12:00 UTC`), Slack channels by the names the site file
//! gives (`#ts-build`, not `C0BUILD`), and the action said once (`scheduled
//! Q1 in #ts-build`, not `scheduled scheduled Q1`). The journal keeps the
//! raw outcome; only its display changes.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::model::context::display_time;
use crate::model::site::LoadedSite;
use crate::settings::Settings;

/// The sites whose zones and channel names the display uses.
pub struct Shown {
    sites: BTreeMap<String, LoadedSite>,
}

impl Shown {
    /// The sites of the sites directory (none when it cannot be read: the
    /// text is then shown as recorded).
    pub fn new(settings: &Settings) -> Self {
        let sites = crate::render::load_sites(&settings.sites_dir)
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.site.name.clone(), s))
            .collect();
        Self { sites }
    }

    /// `text`, the outcome of step `step` (`summit:slack:start`), for
    /// people: without a leading `action` it repeats, its UTC times in the
    /// site's zone, its channel id as the channel's name.
    pub fn text(&self, step: &str, action: Option<&str>, text: &str) -> String {
        let text = match action {
            Some(action) if !action.is_empty() => text
                .strip_prefix(action)
                .filter(|rest| rest.is_empty() || rest.starts_with(' '))
                .map_or(text, str::trim_start),
            _ => text,
        };
        let Some(loaded) = step.split_once(':').and_then(|(s, _)| self.sites.get(s)) else {
            return text.to_string();
        };
        let slack = &loaded.site.slack;
        let channel = if step.contains(":review-notice") {
            &slack.review_channel
        } else {
            &slack.channel
        };
        let words: Vec<&str> = text.split(' ').collect();
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut i = 0;
        while i < words.len() {
            // `2026-12-28 12:00 UTC` → `2026-12-28 09:00 CLST`.
            if i + 2 < words.len()
                && words[i + 2].trim_end_matches(['.', ',', ')']) == "UTC"
                && let Ok(at) = NaiveDateTime::parse_from_str(
                    &format!("{} {}", words[i], words[i + 1]),
                    "%Y-%m-%d %H:%M",
                )
            {
                let tail = &words[i + 2]["UTC".len()..];
                out.push(format!(
                    "{}{tail}",
                    display_time(loaded, Utc.from_utc_datetime(&at).timestamp())
                ));
                i += 3;
                continue;
            }
            // `in C0BUILD` → `in #ts-build`.
            if i > 0 && words[i - 1] == "in" && is_channel_id(words[i]) {
                out.push(channel.clone());
            } else {
                out.push(words[i].to_string());
            }
            i += 1;
        }
        out.join(" ")
    }
}

/// The last line of `text` that is not blank (with its newline): what
/// `-q` keeps of a plan, its closing count (`7 steps to apply, …`).
pub fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .unwrap_or_default()
}

/// Whether `word` is a Slack channel id (`C0BUILD`, `G01AB2CD3`).
fn is_channel_id(word: &str) -> bool {
    word.len() >= 7
        && word.starts_with(['C', 'G'])
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown() -> Shown {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sites");
        let sites = crate::render::load_sites(&dir).unwrap();
        Shown {
            sites: sites
                .into_iter()
                .map(|s| (s.site.name.clone(), s))
                .collect(),
        }
    }

    #[test]
    fn the_action_once_the_site_zone_and_the_channel_name() {
        let s = shown();
        assert_eq!(
            s.text(
                "summit:slack:start",
                Some("scheduled"),
                "scheduled Q00000007 in C0BUILD for 2026-12-28 12:00 UTC"
            ),
            "Q00000007 in #summit-announce for 2026-12-28 09:00 CLST"
        );
        assert_eq!(
            s.text(
                "summit:review-notice:lsst-sqre/phalanx",
                Some("posted"),
                "posted 1.2 in C0BUILD"
            ),
            "1.2 in #ts-build"
        );
        assert_eq!(s.text("summit:jira", Some("created"), "OSW-1"), "OSW-1");
        assert_eq!(s.text("page", Some("updated"), "page 1 v2"), "page 1 v2");
        assert_eq!(
            s.text("nowhere:slack:start", None, "in C0BUILD"),
            "in C0BUILD"
        );
    }
}
