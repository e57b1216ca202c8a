//! The build team's `cycle/cycle.env` of `lsst-ts/ts_cycle_build` as data:
//! its assignments (`CYCLE=c0044`, `rev=.007`, `ts_xml=27.1.1`, …) and the
//! packages it shares with the release manifest. Pure: the cycle build
//! service reads the file.

use crate::model::cycle_id::CycleId;

/// Packages compared with (and filled into) the manifest: each is both a
/// manifest version field and a `cycle.env` variable.
pub const PACKAGES: [&str; 6] = [
    "ts_xml",
    "ts_sal",
    "ts_idl",
    "ts_salobj",
    "librdkafka",
    "python_confluent_kafka",
];

/// The assignments of a `cycle.env` file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CycleEnv {
    vars: Vec<(String, String)>,
}

/// A line of `cycle.env` that is not a comment, blank or `NAME=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl CycleEnv {
    /// Parses shell-style assignments: `NAME=value` or `export NAME=value`,
    /// values optionally quoted, `#` comments and blank lines skipped.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut vars = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").map_or(line, str::trim_start);
            let err = |message: String| ParseError {
                line: i + 1,
                message,
            };
            let Some((name, value)) = line.split_once('=') else {
                return Err(err(format!("expected NAME=value, found {line:?}")));
            };
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(err(format!("{name:?} is not a variable name")));
            }
            vars.push((name.to_string(), unquote(value).map_err(err)?));
        }
        Ok(Self { vars })
    }

    /// The value of `name` (the last assignment wins, as in a shell).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every assignment, in file order.
    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }

    /// The cycle and revision the file is for (`CYCLE=c0044`, `rev=.007`).
    pub fn cycle_id(&self) -> Result<CycleId, String> {
        let cycle = self.get("CYCLE").ok_or("it sets no CYCLE")?;
        let number = cycle
            .strip_prefix('c')
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| format!("CYCLE={cycle} is not of the form c0044"))?;
        let revision = match self.get("rev") {
            None => 0,
            Some(rev) => rev
                .strip_prefix('.')
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or_else(|| format!("rev={rev} is not of the form .007"))?,
        };
        CycleId::new(number, revision).map_err(|e| e.to_string())
    }
}

/// A value: bare (a trailing ` # comment` dropped), or in single or double quotes.
fn unquote(value: &str) -> Result<String, String> {
    let value = value.trim();
    for q in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(q) {
            let Some(end) = rest.find(q) else {
                return Err(format!("unterminated {q} quote"));
            };
            let after = rest[end + 1..].trim();
            if !after.is_empty() && !after.starts_with('#') {
                return Err(format!("unexpected text after the quoted value: {after:?}"));
            }
            return Ok(rest[..end].to_string());
        }
    }
    let bare = match value.find(" #").or_else(|| value.find("\t#")) {
        Some(i) => value[..i].trim_end(),
        None => value,
    };
    Ok(bare.to_string())
}
