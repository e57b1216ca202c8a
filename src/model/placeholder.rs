//! Placeholders someone meant to fill in later (`TODO`, `CONFIRM`,
//! `<branch>`), found in every string of a site or release manifest as a
//! whole word or a whole value, so `priority: TODO`, `labels: [CONFIRM]`
//! and `repo: TODO/phalanx` are refused where they are written, while a
//! person named Todorović is not.

use crate::model::yamlfile::{SourceError, YamlSource};

/// Words that mark a value as not filled in yet.
const MARKERS: [&str; 6] = ["CONFIRM", "TODO", "TBD", "FIXME", "CHANGEME", "XXX"];

/// The placeholder `value` carries, if any: a whole value in one pair of
/// angle brackets (`<field id>`, not `<b>x</b>`), or one of the markers as a whole word, written in
/// capitals (words are split at anything but a letter or a digit, so
/// `customfield_TODO` and `TODO/phalanx` carry `TODO`; `Todorović` and
/// `todos` carry none).
pub fn marker(value: &str) -> Option<&str> {
    let trimmed = value.trim();
    if let Some(inner) = trimmed.strip_prefix('<').and_then(|t| t.strip_suffix('>'))
        && !inner.trim().is_empty()
        && !inner.contains(['<', '>'])
    {
        return Some(trimmed);
    }
    trimmed
        .split(|c: char| !c.is_alphanumeric())
        .find(|word| MARKERS.contains(word))
}

/// What to do about `marker`.
pub fn unconfirmed(marker: &str) -> String {
    format!(
        "`{marker}` is a placeholder: confirm the real value (`cycle doctor` checks it against the service) and write it here"
    )
}

/// The first placeholder among every key and string of `source`, located
/// at its field (`calendar.priority`, `jira.labels.0`).
pub fn check(source: &YamlSource) -> Result<(), SourceError> {
    let Ok(value) = yaml_serde::from_str::<yaml_serde::Value>(&source.text) else {
        // The typed parse reports a malformed file, located.
        return Ok(());
    };
    let mut path = Vec::new();
    match walk(&value, &mut path) {
        Some((field, marker)) => Err(source.error_at(&field, unconfirmed(&marker))),
        None => Ok(()),
    }
}

/// Depth first: the dotted field and marker of the first placeholder.
fn walk(value: &yaml_serde::Value, path: &mut Vec<String>) -> Option<(String, String)> {
    use yaml_serde::Value;
    match value {
        Value::String(text) => marker(text).map(|m| (path.join("."), m.to_string())),
        Value::Sequence(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(i.to_string());
            let found = walk(item, path);
            path.pop();
            found
        }),
        Value::Mapping(map) => map.iter().find_map(|(key, item)| {
            let name = match key {
                Value::String(k) => k.clone(),
                other => yaml_serde::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            path.push(name.clone());
            let found = marker(&name)
                .map(|m| (path.join("."), m.to_string()))
                .or_else(|| walk(item, path));
            path.pop();
            found
        }),
        Value::Tagged(tagged) => walk(&tagged.value, path),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_whole_words_or_whole_values() {
        for (value, found) in [
            ("TODO", Some("TODO")),
            (" CONFIRM ", Some("CONFIRM")),
            ("TODO/phalanx", Some("TODO")),
            ("customfield_TODO", Some("TODO")),
            ("Announce in TODO", Some("TODO")),
            ("<branch>", Some("<branch>")),
            ("Todorović", None),
            ("Ana Todorović", None),
            ("todos", None),
            ("XXXL", None),
            ("main", None),
            ("Release Manager <rm@example.org>", None),
            ("<>", None),
            ("<script>alert(1)</script>", None),
            ("MTScheduler <!channel>", None),
        ] {
            assert_eq!(marker(value), found, "{value}");
        }
    }

    #[test]
    fn the_first_placeholder_is_located_at_its_field() {
        let source = YamlSource {
            path: "sites/summit.yaml".into(),
            text: "name: summit\njira:\n  assignee: Ana Todorović\n  labels: [a, CONFIRM]\n"
                .to_string(),
        };
        assert_eq!(
            check(&source).unwrap_err().to_string(),
            "sites/summit.yaml:4:15: jira.labels.1: `CONFIRM` is a placeholder: confirm the real \
             value (`cycle doctor` checks it against the service) and write it here"
        );
    }
}
