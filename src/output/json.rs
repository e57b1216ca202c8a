//! The JSON documents `cycle` prints, all in one envelope (`docs/json.md`):
//! `"schema_version"` and `"kind"` first, then the document's fields, with
//! the cycle and revision as numbers and the image tag beside them. A
//! document's schema version changes only on an incompatible change (a field
//! removed or its meaning changed); new fields may appear at any time.

use serde::Serialize;

use crate::engine::Report;
use crate::model::cycle_id::CycleId;
use crate::plan::Plan;
use crate::plan::check;
use crate::plan::finding::{Counts, Finding};

/// What a JSON document is, its `"kind"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `cycle prepare --dry-run --json`: the plan (`docs/plan-json.md`).
    Plan,
    /// `cycle prepare --json` without `--dry-run`, `cycle apply --json`:
    /// what the run did.
    Apply,
    /// `cycle doctor --json`: the pre-flight findings.
    Doctor,
    /// `cycle status --json`: the checklist from the journal.
    Status,
    /// `cycle check --json`: whether the cycle build is ready.
    Check,
}

impl Kind {
    /// The schema version of this kind of document.
    pub fn schema_version(self) -> u32 {
        match self {
            Kind::Plan => crate::plan::SCHEMA_VERSION,
            // 1: `end` and `rows`, then the envelope and the cycle's numbers.
            Kind::Apply => 1,
            // 1: since the first `--json`; the envelope only added `kind`.
            Kind::Doctor => 1,
            // 1: the first version with a `schema_version`.
            Kind::Status => 1,
            // 2: `cycle` is the number (it was the label, a string), with
            // `revision`, `tag` and `label` beside it.
            Kind::Check => 2,
        }
    }
}

/// `schema_version` and `kind`, then the document's own fields.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    schema_version: u32,
    kind: Kind,
    #[serde(flatten)]
    body: &'a T,
}

/// `body` (a struct or a map, without `schema_version` and `kind` of its
/// own) as a pretty JSON document of `kind`, ending in a newline.
pub fn document<T: Serialize>(kind: Kind, body: &T) -> String {
    let envelope = Envelope {
        schema_version: kind.schema_version(),
        kind,
        body,
    };
    let mut text = serde_json::to_string_pretty(&envelope).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; keep the output valid JSON anyway.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    text.push('\n');
    text
}

/// The cycle a document is about, as every document names it.
#[derive(Debug, Serialize)]
struct Cycle {
    cycle: u32,
    revision: u32,
    tag: String,
    label: String,
}

impl Cycle {
    fn of(id: CycleId) -> Self {
        Self {
            cycle: id.cycle,
            revision: id.revision,
            tag: id.full_tag(),
            label: id.label(),
        }
    }
}

/// The plan (`cycle prepare --dry-run --json`, `docs/plan-json.md`), with
/// the counts of its steps as `summary`.
pub fn plan(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        // The envelope says it, first.
        map.remove("schema_version");
        map.insert(
            "summary".to_string(),
            serde_json::to_value(plan.counts()).unwrap_or_default(),
        );
    }
    document(Kind::Plan, &value)
}

/// What an apply did: how it ended and one row per selected step.
pub fn apply(plan: &Plan, report: &Report) -> String {
    #[derive(Serialize)]
    struct Apply<'a> {
        cycle: u32,
        revision: u32,
        tag: &'a str,
        label: &'a str,
        #[serde(flatten)]
        report: &'a Report,
    }
    document(
        Kind::Apply,
        &Apply {
            cycle: plan.cycle,
            revision: plan.revision,
            tag: &plan.tag,
            label: &plan.label,
            report,
        },
    )
}

/// `cycle doctor`'s findings for `sites`.
pub fn doctor(id: CycleId, sites: &[&str], findings: &[Finding]) -> String {
    #[derive(Serialize)]
    struct Doctor<'a> {
        #[serde(flatten)]
        cycle: Cycle,
        sites: &'a [&'a str],
        ok: bool,
        counts: Counts,
        findings: &'a [Finding],
    }
    document(
        Kind::Doctor,
        &Doctor {
            cycle: Cycle::of(id),
            sites,
            ok: !findings
                .iter()
                .any(|f| f.status == crate::plan::preflight::Status::Fail),
            counts: Counts::of(findings),
            findings,
        },
    )
}

/// `cycle check`'s findings: whether the cycle is ready, and each finding.
pub fn check(id: CycleId, findings: &[Finding]) -> String {
    #[derive(Serialize)]
    struct Check<'a> {
        #[serde(flatten)]
        cycle: Cycle,
        ready: bool,
        verdict: String,
        findings: &'a [Finding],
    }
    document(
        Kind::Check,
        &Check {
            cycle: Cycle::of(id),
            ready: check::ready(findings),
            verdict: check::verdict(findings),
            findings,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_comes_first() {
        #[derive(Serialize)]
        struct Body {
            a: u32,
        }
        let text = document(Kind::Status, &Body { a: 1 });
        assert_eq!(
            text,
            "{\n  \"schema_version\": 1,\n  \"kind\": \"status\",\n  \"a\": 1\n}\n"
        );
    }

    #[test]
    fn check_names_the_cycle_by_number() {
        let id = CycleId {
            cycle: 44,
            revision: 3,
        };
        let doc: serde_json::Value = serde_json::from_str(&check(id, &[])).unwrap();
        assert_eq!(doc["schema_version"], 2);
        assert_eq!(doc["kind"], "check");
        assert_eq!(doc["cycle"], 44);
        assert_eq!(doc["revision"], 3);
        assert_eq!(doc["ready"], true);
    }
}
