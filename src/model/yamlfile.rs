//! Reading our own YAML inputs (sites, release manifests) with errors that
//! point at `file:line:column: field: problem`.
//!
//! Parse errors come from `yaml_serde`; errors found after parsing (a bad
//! time zone, a template that does not compile) are located by querying the
//! source with `yamlpath`, so every message names the exact place to fix.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// An input error located in a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SourceError {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// Dotted field path (`jira.project`), empty when the whole document is at fault.
    pub field: String,
    /// What is wrong, without the location.
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column.max(1))?;
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// A YAML file's text, kept so later checks can locate fields in it.
#[derive(Debug, Clone)]
pub struct YamlSource {
    /// Where the text came from.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
}

impl YamlSource {
    /// Reads a file; an unreadable file is reported against its path.
    pub fn read(path: &Path) -> Result<Self, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| SourceError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read file: {e}"),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
        })
    }

    /// Deserializes the text strictly, mapping serde errors to located ones.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, SourceError> {
        yaml_serde::from_str(&self.text).map_err(|e| self.serde_error(&e))
    }

    /// An error at `field` (dotted path, digits index sequences), located by
    /// looking the field up in the source; falls back to its parent's
    /// location, then to the file alone.
    pub fn error_at(&self, field: &str, message: impl Into<String>) -> SourceError {
        let (line, column) = self.locate(field).unwrap_or((0, 0));
        SourceError {
            file: self.path.clone(),
            line,
            column,
            field: field.to_string(),
            message: message.into(),
        }
    }

    fn locate(&self, field: &str) -> Option<(usize, usize)> {
        let doc = yamlpath::Document::new(self.text.clone()).ok()?;
        let mut parts: Vec<&str> = field.split('.').filter(|p| !p.is_empty()).collect();
        while !parts.is_empty() {
            let route = yamlpath::Route::from(
                parts
                    .iter()
                    .map(|p| match p.parse::<usize>() {
                        Ok(i) => yamlpath::Component::Index(i),
                        Err(_) => yamlpath::Component::Key((*p).into()),
                    })
                    .collect::<Vec<_>>(),
            );
            if let Ok(feature) = doc
                .query_key_only(&route)
                .or_else(|_| doc.query_pretty(&route))
            {
                let (row, col) = feature.location.point_span.0;
                return Some((row + 1, col + 1));
            }
            parts.pop();
        }
        None
    }

    fn serde_error(&self, e: &yaml_serde::Error) -> SourceError {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let text = strip_locations(&e.to_string());
        let (field, message) = split_field(&text);
        // serde reports a missing field at the parent's first entry; the
        // parent key itself is the place to add it.
        let (line, column) = match field.rsplit_once('.') {
            Some((parent, _)) if message == "missing field" => {
                self.locate(parent).unwrap_or((line, column))
            }
            _ => (line, column),
        };
        SourceError {
            file: self.path.clone(),
            line,
            column,
            field,
            message,
        }
    }
}

/// Removes every " at line N column M" (the location is reported separately).
fn strip_locations(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(i) = out.find(" at line ") {
        let rest = &out[i + " at line ".len()..];
        let digits = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
        let n = digits(rest);
        let Some(after) = rest[n..].strip_prefix(" column ") else {
            break;
        };
        let m = digits(after);
        if n == 0 || m == 0 {
            break;
        }
        let end = i + " at line ".len() + n + " column ".len() + m;
        out.replace_range(i..end, "");
    }
    out
}

/// Splits serde's `path: message` and moves the field name of
/// "missing field `x`" / "unknown field `x`" into the path.
fn split_field(text: &str) -> (String, String) {
    let (path, message) = match text.split_once(": ") {
        Some((p, m)) if !p.contains(' ') => (p.to_string(), m.to_string()),
        _ => (String::new(), text.to_string()),
    };
    for (prefix, what) in [
        ("missing field `", "missing field"),
        ("unknown field `", "unknown field"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some((name, tail)) = rest.split_once('`')
        {
            let field = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            return (field, format!("{what}{tail}"));
        }
    }
    (path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Jira {
        project: String,
        issue_type: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        jira: Jira,
    }

    fn source(text: &str) -> YamlSource {
        YamlSource {
            path: PathBuf::from("sites/summit.yaml"),
            text: text.to_string(),
        }
    }

    #[test]
    fn missing_field_names_the_dotted_path() {
        let err = source("name: summit\njira:\n  issue_type: Story\n")
            .parse::<Doc>()
            .unwrap_err();
        assert_eq!(err.field, "jira.project");
        assert_eq!(err.message, "missing field");
        assert_eq!((err.line, err.column), (2, 1), "at the parent key");
        assert!(
            err.to_string()
                .starts_with("sites/summit.yaml:2:1: jira.project: missing field"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_is_located() {
        let err = source("name: summit\njira:\n  project: OSW\n  issue_type: Story\n  projet: X\n")
            .parse::<Doc>()
            .unwrap_err();
        assert_eq!(err.field, "jira.projet");
        assert!(err.message.starts_with("unknown field"), "{}", err.message);
        assert_eq!((err.line, err.column), (5, 3));
    }

    #[test]
    fn malformed_yaml_has_a_location() {
        let err = source("name: summit\n  nested: oops\njira: {}\n")
            .parse::<Doc>()
            .unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(
            err.message.contains("mapping values are not allowed"),
            "{err}"
        );
        assert!(err.field.is_empty());
    }

    #[test]
    fn scanner_errors_carry_one_location() {
        let err = source("name: summit\njira:\n  project: \"OSW\n")
            .parse::<Doc>()
            .unwrap_err();
        assert!(!err.message.contains(" at line "), "{err}");
        assert!(err.line >= 3, "{err}");
    }

    #[test]
    fn error_at_finds_the_line_of_a_field() {
        let src = source("name: summit\njira:\n  project: OSW\n  issue_type: Story\n");
        let err = src.error_at("jira.issue_type", "bad");
        assert_eq!(
            err.to_string(),
            "sites/summit.yaml:4:3: jira.issue_type: bad"
        );
        let err = src.error_at("jira.nothing", "bad");
        assert_eq!(err.line, 2, "falls back to the parent");
    }
}
