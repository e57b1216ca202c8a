//! A saved plan (`cycle prepare … --dry-run --out plan.json`), applied
//! later by `cycle apply plan.json` exactly as reviewed, or refused when
//! the world moved (Terraform's "Saved plan is stale"). Versioned
//! (`"format": 2`, `docs/plan-json.md`); it holds what the plan was made
//! from (the command, a digest of each input file, the settings, the
//! endpoints and the identity that will commit), what was observed (ticket
//! keys and statuses, branch heads, pull requests, the page's version,
//! scheduled messages, the findings that gate steps) and the plan itself
//! with each step's intent digest, and no secret. Pure: the drift between
//! two observations is a function of the two, each named before → after.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Plan;

/// The saved plan's format version.
pub const FORMAT: u32 = 2;

/// What `cycle apply` needs to make the same plan again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCommand {
    /// Sites, in the order asked for.
    pub sites: Vec<String>,
    /// Cycle number.
    pub cycle: u32,
    /// Revision.
    pub revision: u32,
    /// `--release FILE`, when the manifest was named directly.
    pub release: Option<String>,
    /// Known tickets given with `--ticket`, site → key.
    pub tickets: BTreeMap<String, String>,
    /// `--only`, as written.
    pub only: Vec<String>,
    /// `--skip`, as written.
    pub skip: Vec<String>,
    /// `--accept-version-mismatch`.
    pub accept_version_mismatch: bool,
    /// `--no-check`: `cycle check`'s findings were not asked for.
    #[serde(default)]
    pub no_check: bool,
    /// `--author`, as written.
    #[serde(default)]
    pub author: Option<String>,
    /// `--committer`, as written.
    #[serde(default)]
    pub committer: Option<String>,
    /// `--cycle-build-ref` (or its setting), as written: the ref of
    /// ts_cycle_build the page's versions are read at.
    #[serde(default)]
    pub cycle_build_ref: Option<String>,
    /// `cycle revert --to N`: the plan is the revert's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_to: Option<u32>,
}

/// What the plan was made from and against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Basis {
    /// Each input file (sites, templates, the release manifest), path →
    /// SHA-256 of its content.
    pub inputs: BTreeMap<String, String>,
    /// Configuration tickets found, site → key.
    pub tickets: BTreeMap<String, String>,
    /// Calendar tickets found, site → key.
    pub calendar: BTreeMap<String, String>,
    /// Branch heads, `owner/name branch` → commit (`null`: no such branch);
    /// a fork's ticket branch too.
    pub branches: BTreeMap<String, Option<String>>,
    /// What each step's lookup found, step id → a short stable form: a
    /// ticket's key and status, a PR's number and state, the page's id and
    /// version, a message's scheduled ids or posted `ts`.
    #[serde(default)]
    pub observed: BTreeMap<String, String>,
    /// Findings that gate a step, step id → the findings (an unreleased
    /// version gates `page_ready`): evaluated again at apply.
    #[serde(default)]
    pub gates: BTreeMap<String, Vec<String>>,
    /// The identity that will commit: `author NAME <EMAIL>; committer …`.
    #[serde(default)]
    pub identity: String,
    /// Settings and service endpoints the plan depends on, name → value
    /// (no secret: URLs and options only).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// The file `--out` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// [`FORMAT`].
    pub format: u32,
    /// The `cycle` version that wrote it.
    pub cycle_version: String,
    /// When it was written (RFC 3339).
    pub created_at: String,
    /// The command that made it.
    pub command: SavedCommand,
    /// What it was made from.
    pub basis: Basis,
    /// The plan, as `--format json` prints it (its pre-flight findings left
    /// out: they are checked again).
    pub plan: serde_json::Value,
}

impl SavedPlan {
    /// A saved plan of `plan`.
    pub fn new(command: SavedCommand, basis: Basis, plan: &Plan, created_at: String) -> Self {
        Self {
            format: FORMAT,
            cycle_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at,
            command,
            basis,
            plan: comparable(plan),
        }
    }

    /// Reads a saved plan, refusing another format.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a saved plan: {e}"))?;
        match value.get("format").and_then(serde_json::Value::as_u64) {
            Some(f) if f == u64::from(FORMAT) => {}
            Some(f) => {
                return Err(format!(
                    "saved plan format {f}; this cycle reads format {FORMAT}"
                ));
            }
            None => return Err("not a saved plan: no \"format\"".to_string()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a saved plan: {e}"))
    }

    /// Every way the world moved since the plan was saved, one sentence
    /// each; empty when it may be applied.
    pub fn drift(&self, now: &Basis, plan: &Plan) -> Vec<String> {
        let mut drift = self.drift_bases(now);
        drift.extend(step_drift(&self.plan, &comparable(plan)));
        drift
    }

    /// How the inputs, tickets and branches differ from `now`.
    fn drift_bases(&self, now: &Basis) -> Vec<String> {
        let mut drift = Vec::new();
        let before = &self.basis;
        for (path, digest) in &before.inputs {
            match now.inputs.get(path) {
                None => drift.push(format!("input file {path} was removed")),
                Some(d) if d != digest => drift.push(format!("input file {path} changed")),
                Some(_) => {}
            }
        }
        for path in now.inputs.keys() {
            if !before.inputs.contains_key(path) {
                drift.push(format!("input file {path} was added"));
            }
        }
        for (what, was, is) in [
            ("ticket", &before.tickets, &now.tickets),
            ("calendar ticket", &before.calendar, &now.calendar),
        ] {
            let sites: std::collections::BTreeSet<&String> = was.keys().chain(is.keys()).collect();
            for site in sites {
                match (was.get(site), is.get(site)) {
                    (None, Some(key)) => drift.push(format!("{site}: {what} {key} appeared")),
                    (Some(key), None) => drift.push(format!(
                        "{site}: {what} {key} is no longer found (deleted, retitled or moved)"
                    )),
                    (Some(a), Some(b)) if a != b => {
                        drift.push(format!("{site}: {what} was {a}, is now {b}"))
                    }
                    _ => {}
                }
            }
        }
        for (what, was, is) in [
            ("setting", &before.settings, &now.settings),
            ("observed", &before.observed, &now.observed),
        ] {
            let keys: std::collections::BTreeSet<&String> = was.keys().chain(is.keys()).collect();
            for key in keys {
                let (a, b) = (was.get(key), is.get(key));
                if a != b {
                    let shown = |v: Option<&String>| v.map_or("nothing".to_string(), Clone::clone);
                    drift.push(if what == "setting" {
                        format!("setting {key} changed: {} → {}", shown(a), shown(b))
                    } else {
                        format!("{key}: {} → {}", shown(a), shown(b))
                    });
                }
            }
        }
        let gated: std::collections::BTreeSet<&String> =
            before.gates.keys().chain(now.gates.keys()).collect();
        for id in gated {
            let shown = |v: Option<&Vec<String>>| match v {
                Some(f) if !f.is_empty() => f.join("; "),
                _ => "no finding".to_string(),
            };
            let (a, b) = (before.gates.get(id), now.gates.get(id));
            if a != b {
                drift.push(format!(
                    "{id}: the findings that gate it changed: {} → {}",
                    shown(a),
                    shown(b)
                ));
            }
        }
        if before.identity != now.identity {
            drift.push(format!(
                "the identity that commits changed: {} → {}",
                before.identity, now.identity
            ));
        }
        let branches: std::collections::BTreeSet<&String> =
            before.branches.keys().chain(now.branches.keys()).collect();
        for branch in branches {
            let shown = |h: Option<&Option<String>>| match h {
                Some(Some(c)) => c.chars().take(8).collect::<String>(),
                _ => "absent".to_string(),
            };
            let (a, b) = (before.branches.get(branch), now.branches.get(branch));
            if a.cloned().flatten() != b.cloned().flatten() {
                drift.push(format!(
                    "branch {branch} moved: {} → {}",
                    shown(a),
                    shown(b)
                ));
            }
        }
        drift
    }
}

/// The plan as saved and compared: its JSON without the pre-flight
/// findings (checked again at apply).
pub fn comparable(plan: &Plan) -> serde_json::Value {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("preflight");
        map.remove("checks");
    }
    value
}

/// The steps whose intent differs, by id: each step's action and digest of
/// exactly what it would send, compared before → after.
fn step_drift(was: &serde_json::Value, is: &serde_json::Value) -> Vec<String> {
    let steps = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        let mut all = BTreeMap::new();
        let site_steps = v["sites"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["steps"].as_array().into_iter().flatten());
        let cycle_steps = v["cycle_steps"].as_array().into_iter().flatten();
        for step in site_steps.chain(cycle_steps) {
            all.insert(
                step["id"].as_str().unwrap_or_default().to_string(),
                step.clone(),
            );
        }
        all
    };
    let (a, b) = (steps(was), steps(is));
    let ids: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut drift = Vec::new();
    for id in ids {
        match (a.get(id), b.get(id)) {
            (Some(x), Some(y)) => {
                let action = |v: &serde_json::Value| {
                    let base = v["action"].as_str().unwrap_or("?").to_string();
                    if v["selected"] == serde_json::Value::Bool(false) {
                        format!("{base}, not selected")
                    } else {
                        base
                    }
                };
                if action(x) != action(y) {
                    drift.push(format!("step {id}: {} → {}", action(x), action(y)));
                } else if x["digest"] != y["digest"] {
                    drift.push(format!(
                        "step {id}: what it would send changed ({}: {} → {})",
                        action(y),
                        short(&x["digest"]),
                        short(&y["digest"])
                    ));
                }
            }
            (Some(_), None) => drift.push(format!("step {id} is no longer planned")),
            (None, Some(_)) => drift.push(format!("step {id} is new")),
            _ => {}
        }
    }
    drift
}

/// The first 12 hex digits of a digest.
fn short(digest: &serde_json::Value) -> String {
    digest.as_str().unwrap_or("?").chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basis() -> Basis {
        Basis {
            inputs: [("sites/summit.yaml".to_string(), "aa".to_string())].into(),
            tickets: BTreeMap::new(),
            calendar: BTreeMap::new(),
            branches: [
                (
                    "lsst-sqre/phalanx main".to_string(),
                    Some("1234567890".to_string()),
                ),
                ("lsst-sqre/phalanx tickets/OSW-1".to_string(), None),
            ]
            .into(),
            ..Basis::default()
        }
    }

    fn saved() -> SavedPlan {
        SavedPlan {
            format: FORMAT,
            cycle_version: "0".into(),
            created_at: String::new(),
            command: SavedCommand {
                sites: vec!["summit".into()],
                cycle: 44,
                revision: 0,
                release: None,
                tickets: BTreeMap::new(),
                only: vec![],
                skip: vec![],
                accept_version_mismatch: false,
                no_check: false,
                author: None,
                committer: None,
                cycle_build_ref: None,
                revert_to: None,
            },
            basis: basis(),
            plan: serde_json::json!({"sites": [], "cycle_steps": []}),
        }
    }

    #[test]
    fn each_drift_is_named() {
        let mut now = basis();
        now.inputs.insert("sites/summit.yaml".into(), "bb".into());
        now.tickets.insert("summit".into(), "OSW-9".into());
        now.branches
            .insert("lsst-sqre/phalanx main".into(), Some("abcdef0123".into()));
        // The bases first; the plan is compared once they agree.
        let drift = saved().drift_bases(&now);
        assert_eq!(
            drift,
            [
                "input file sites/summit.yaml changed",
                "summit: ticket OSW-9 appeared",
                "branch lsst-sqre/phalanx main moved: 12345678 → abcdef01",
            ]
        );
    }

    #[test]
    fn another_format_is_refused_by_name() {
        let e = SavedPlan::parse(r#"{"format": 1}"#).unwrap_err();
        assert!(e.contains("format 1"), "{e}");
        assert!(
            SavedPlan::parse("{}")
                .unwrap_err()
                .contains("no \"format\"")
        );
    }

    #[test]
    fn a_changed_step_is_named_with_its_actions() {
        let step = |action: &str, digest: &str| {
            serde_json::json!({"sites": [{"steps": [{"id": "summit:jira", "action": action,
                "selected": true, "digest": digest}]}], "cycle_steps": []})
        };
        assert_eq!(
            step_drift(&step("create", "aa"), &step("none", "bb")),
            ["step summit:jira: create → none"]
        );
        assert_eq!(
            step_drift(&step("create", "aaaa"), &step("create", "bbbb")),
            ["step summit:jira: what it would send changed (create: aaaa → bbbb)"]
        );
        assert!(step_drift(&step("create", "aa"), &step("create", "aa")).is_empty());
    }
}
