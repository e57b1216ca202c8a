//! The change summary a config branch's pull request carries in its body
//! (pure): which files change, the new cycle tag, and how many image
//! revisions were reset to 0.
//!
//! It reads the line changes of each [`FileChange`](crate::edit::repo::FileChange) generically, without
//! knowing the site's edits: a changed line whose new value looks like a cycle
//! tag (`c0045`, `c0045.000` or `recommended_c0045`) counts as a tag change,
//! and a changed `revision:` line whose new value is `0` as a reset. YAML
//! (`key: value`, quoted, anchored, with a trailing comment) and shell-style
//! env lines (`KEY=value`, `export KEY=value`) are read alike.

use std::collections::BTreeSet;

/// What one file's change amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    /// Path in the repository.
    pub path: String,
    /// Tag values changed in the file: `(old, new)`; `old` is `None` for a
    /// line that was added.
    pub tags: Vec<(Option<String>, String)>,
    /// `revision:` values set to 0.
    pub revisions_reset: usize,
    /// Other changed lines (a replaced line counts once, as does an added
    /// or a removed one).
    pub other_lines: usize,
}

/// The summary of a branch's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSummary {
    /// One entry per changed file, in the order given.
    pub files: Vec<FileSummary>,
}

impl ChangeSummary {
    /// The distinct new tag values, sorted.
    pub fn new_tags(&self) -> Vec<String> {
        let tags: BTreeSet<&String> = self
            .files
            .iter()
            .flat_map(|f| f.tags.iter().map(|(_, new)| new))
            .collect();
        tags.into_iter().cloned().collect()
    }

    /// Revisions reset to 0 in all files.
    pub fn revisions_reset(&self) -> usize {
        self.files.iter().map(|f| f.revisions_reset).sum()
    }

    /// Markdown bullet lines (each ending in a newline) for a pull
    /// request's body.
    pub fn to_markdown(&self) -> String {
        if self.files.is_empty() {
            return "- No file changes\n".to_string();
        }
        let mut out = String::new();
        let tags = self.new_tags();
        if !tags.is_empty() {
            let label = if tags.len() == 1 {
                "New tag"
            } else {
                "New tags"
            };
            out.push_str(&format!("- {label}: {}\n", code_list(&tags)));
        }
        let resets = self.revisions_reset();
        if resets > 0 {
            out.push_str(&format!("- {}\n", revisions(resets)));
        }
        let n = self.files.len();
        out.push_str(&format!(
            "- {n} {} changed:\n",
            if n == 1 { "file" } else { "files" }
        ));
        for file in &self.files {
            let mut parts: Vec<String> = file
                .tags
                .iter()
                .map(|(old, new)| match old {
                    Some(old) => format!("tag `{old}` → `{new}`"),
                    None => format!("tag `{new}`"),
                })
                .collect();
            if file.revisions_reset > 0 {
                parts.push(revisions(file.revisions_reset));
            }
            if file.other_lines > 0 {
                let n = file.other_lines;
                parts.push(format!(
                    "{n} other {} changed",
                    if n == 1 { "line" } else { "lines" }
                ));
            }
            out.push_str(&format!("  - `{}`", file.path));
            if !parts.is_empty() {
                out.push_str(": ");
                out.push_str(&parts.join(", "));
            }
            out.push('\n');
        }
        out
    }
}

fn revisions(n: usize) -> String {
    format!(
        "{n} {} reset to 0",
        if n == 1 { "revision" } else { "revisions" }
    )
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Summarises the changes of a branch from each file's summary (made with
/// its `FileChange`, see [`crate::edit::repo::FileChange::summary`]).
pub fn summarize(files: &[FileSummary]) -> ChangeSummary {
    ChangeSummary {
        files: files.to_vec(),
    }
}

/// [`summarize`] as Markdown bullet lines.
pub fn change_summary(files: &[FileSummary]) -> String {
    summarize(files).to_markdown()
}

/// What the line diff `diff` of the file at `path` amounts to.
pub fn summarize_file(path: &str, diff: &similar::TextDiff<'_, '_, '_, str>) -> FileSummary {
    let mut summary = FileSummary {
        path: path.to_string(),
        tags: Vec::new(),
        revisions_reset: 0,
        other_lines: 0,
    };
    let old = diff.old_slices();
    let new = diff.new_slices();
    for op in diff.ops() {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        let removed = &old[old_range];
        let added = &new[new_range];
        let paired = removed.len().min(added.len());
        for (before, after) in removed.iter().zip(added.iter()) {
            match classify(Some(before), after) {
                Some(Line::Tag(old, new)) => summary.tags.push((old, new)),
                Some(Line::Reset) => summary.revisions_reset += 1,
                None => summary.other_lines += 1,
            }
        }
        for after in &added[paired..] {
            match classify(None, after) {
                Some(Line::Tag(old, new)) => summary.tags.push((old, new)),
                _ => summary.other_lines += 1,
            }
        }
        summary.other_lines += removed.len() - paired;
    }
    summary
}

enum Line {
    Tag(Option<String>, String),
    Reset,
}

/// What a changed line (`before` → `after`, `before` absent for an added
/// line) is.
fn classify(before: Option<&str>, after: &str) -> Option<Line> {
    let (key, value) = key_value(after)?;
    let old = before.and_then(key_value).filter(|(k, _)| *k == key);
    let old_value = old.map(|(_, v)| v);
    if old_value.as_deref() == Some(value.as_str()) {
        return None;
    }
    if key == "revision" && value == "0" && old_value.is_some() {
        return Some(Line::Reset);
    }
    is_tag(&value).then_some(Line::Tag(old_value, value))
}

/// The key and the plain value of a YAML `key: value` or env `KEY=value`
/// line: comment, anchor and quotes removed.
fn key_value(line: &str) -> Option<(&str, String)> {
    let line = line.trim();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    let colon = line
        .find(": ")
        .or_else(|| line.ends_with(':').then(|| line.len() - 1));
    let equals = line.find('=');
    let (at, width) = match (colon, equals) {
        (Some(c), Some(e)) if e < c => (e, 1),
        (Some(c), _) => (c, 1),
        (None, Some(e)) => (e, 1),
        (None, None) => return None,
    };
    let key = line[..at].trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let mut value = line[at + width..].trim();
    if let Some(i) = value.find(" #") {
        value = value[..i].trim_end();
    }
    if value.starts_with('#') {
        value = "";
    }
    if let Some(rest) = value.strip_prefix('&') {
        value = rest.split_once(' ').map_or("", |(_, v)| v.trim_start());
    }
    let unquoted = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    Some((key, unquoted.to_string()))
}

/// `c` and four digits, optionally `.` and three digits (a revision), or
/// `recommended_` before it.
fn is_tag(value: &str) -> bool {
    let value = value.strip_prefix("recommended_").unwrap_or(value);
    let Some(rest) = value.strip_prefix('c') else {
        return false;
    };
    let (cycle, revision) = rest.split_once('.').unwrap_or((rest, "000"));
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(cycle, 4) && digits(revision, 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{env, yaml};

    const ENVIRONMENT: &str =
        include_str!("../../tests/fixtures/phalanx/environments/values-summit.yaml");
    const NUBLADO: &str =
        include_str!("../../tests/fixtures/phalanx/applications/nublado/values-summit.yaml");
    const OBSSYS: &str =
        include_str!("../../tests/fixtures/phalanx/applications/obssys/values-summit.yaml");
    const AUXTEL: &str =
        include_str!("../../tests/fixtures/phalanx/applications/auxtel/values-summit.yaml");
    const CALSYS: &str =
        include_str!("../../tests/fixtures/phalanx/applications/calsys/values-summit.yaml");
    const SETUP_ENV: &str =
        include_str!("../../tests/fixtures/docker-compose-ops/summit/setup.env");

    fn change(path: &str, before: &str, after: String) -> FileSummary {
        summarize_file(path, &similar::TextDiff::from_lines(before, &after))
    }

    fn set(doc: &str, path: &str, value: &str) -> String {
        yaml::set_scalar(doc, &path.parse().unwrap(), value).unwrap()
    }

    #[test]
    fn a_summit_cycle_bump_in_phalanx() {
        let nublado = set(
            &set(NUBLADO, "controller.config.images.cycle", "45"),
            "controller.config.images.recommendedTag",
            "recommended_c0045",
        );
        let mut expected_resets = 0;
        let mut reset = |doc: &str| {
            let (out, n) = yaml::reset_keys(doc, "revision", "0").unwrap();
            expected_resets += n;
            out
        };
        let changes = vec![
            change(
                "environments/values-summit.yaml",
                ENVIRONMENT,
                set(ENVIRONMENT, "controlSystem.imageTag", "c0045"),
            ),
            change("applications/nublado/values-summit.yaml", NUBLADO, nublado),
            change(
                "applications/obssys/values-summit.yaml",
                OBSSYS,
                reset(OBSSYS),
            ),
            change(
                "applications/auxtel/values-summit.yaml",
                AUXTEL,
                reset(AUXTEL),
            ),
            change(
                "applications/calsys/values-summit.yaml",
                CALSYS,
                reset(CALSYS),
            ),
        ];
        // README of the fixtures: obssys 7, auxtel 3 (one anchored), calsys 11 (one quoted).
        assert_eq!(expected_resets, 21);
        let summary = summarize(&changes);
        assert_eq!(summary.revisions_reset(), expected_resets);
        assert_eq!(summary.new_tags(), ["c0045", "recommended_c0045"]);
        assert_eq!(
            summary.to_markdown(),
            "- New tags: `c0045`, `recommended_c0045`\n\
             - 21 revisions reset to 0\n\
             - 5 files changed:\n  \
               - `environments/values-summit.yaml`: tag `c0042` → `c0045`\n  \
               - `applications/nublado/values-summit.yaml`: tag `recommended_c0042` → `recommended_c0045`, 1 other line changed\n  \
               - `applications/obssys/values-summit.yaml`: 7 revisions reset to 0\n  \
               - `applications/auxtel/values-summit.yaml`: 3 revisions reset to 0\n  \
               - `applications/calsys/values-summit.yaml`: 11 revisions reset to 0\n"
        );
    }

    #[test]
    fn env_lines_and_single_counts() {
        let after = env::set_env(SETUP_ENV, "CYCLE", "c0045").unwrap();
        let changes = [change("summit/setup.env", SETUP_ENV, after)];
        assert_eq!(
            change_summary(&changes),
            "- New tag: `c0045`\n- 1 file changed:\n  - `summit/setup.env`: tag `c0041` → `c0045`\n"
        );
        let one = [change(
            "a.yaml",
            "x:\n  revision: 3\n",
            "x:\n  revision: 0\n".into(),
        )];
        assert_eq!(
            change_summary(&one),
            "- 1 revision reset to 0\n- 1 file changed:\n  - `a.yaml`: 1 revision reset to 0\n"
        );
        assert_eq!(change_summary(&[]), "- No file changes\n");
    }

    #[test]
    fn lines_are_read_generically() {
        assert_eq!(
            key_value("    revision: &at-rev 4 # keep"),
            Some(("revision", "4".to_string()))
        );
        assert_eq!(
            key_value("  imageTag: \"c0042\""),
            Some(("imageTag", "c0042".to_string()))
        );
        assert_eq!(
            key_value("export rev=.000  # revision"),
            Some(("rev", ".000".to_string()))
        );
        assert_eq!(
            key_value("cycle=c0038"),
            Some(("cycle", "c0038".to_string()))
        );
        assert_eq!(key_value("# a comment"), None);
        for tag in ["c0045", "c0039.000", "recommended_c0044"] {
            assert!(is_tag(tag), "{tag}");
        }
        for other in ["c045", "c00450", "recommended_", "45", "c0045.0", "x0045"] {
            assert!(!is_tag(other), "{other}");
        }
        // A revision line that was added is not a reset; an added tag line is a tag.
        let added = [change(
            "a.yaml",
            "a: 1\n",
            "a: 1\nrevision: 0\ntag: c0045\n".into(),
        )];
        let s = summarize(&added);
        assert_eq!(s.revisions_reset(), 0);
        assert_eq!(s.files[0].tags, [(None, "c0045".to_string())]);
    }
}
