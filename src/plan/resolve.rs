//! Settling a built plan for one run: the selection, the waits and each
//! step's digest.

use std::collections::BTreeMap;

use super::{Action, Plan, Selection, Step, StepId, Wait};

/// Applies `selection` to the plan and settles what each step can do in a
/// run of it: a step `withdrawn` (cancelled on purpose, see
/// [`super::Observed::withdrawn`]) has nothing to do; a step that would
/// write but depends on a human step not yet
/// marked done, on a step the run does not apply, or on a waiting or missed
/// step, waits (typed in [`Step::waiting_on`]); then every step's
/// [`Step::digest`] is computed. Pure; the engine calls it on every plan it
/// builds, so the dry run, the saved plan, the prompt and the apply read the
/// same value.
pub fn resolve(plan: &mut Plan, selection: &Selection, withdrawn: &BTreeMap<StepId, String>) {
    let release = if plan.revision > 0 {
        format!("--cycle {} --revision {}", plan.cycle, plan.revision)
    } else {
        format!("--cycle {}", plan.cycle)
    };
    for step in plan.steps_mut() {
        step.selected = !step.kind.is_human() && selection.selects(step);
        // Cancelled on purpose: nothing to do, and said so.
        if let Some(why) = withdrawn.get(&step.id) {
            step.action = Action::None;
            step.changes.clear();
            step.waiting_on = None;
            step.notes = vec![format!(
                "cancelled ({why}); to apply it again: cycle mark --site {} {release} {} pending",
                step.id.site().unwrap_or(super::step::CYCLE_SCOPE),
                step.id.local()
            )];
        }
    }
    // To a fixed point: a wait travels down the dependency chains.
    loop {
        let known: BTreeMap<StepId, (Action, bool, Option<Wait>)> = plan
            .steps()
            .map(|s| (s.id.clone(), (s.action, s.selected, s.waiting_on.clone())))
            .collect();
        let mut changed = false;
        for step in plan.steps_mut() {
            if !step.action.writes() {
                continue;
            }
            let wait = step.depends_on.iter().find_map(|dep| {
                let (action, selected, waits) = known.get(dep)?;
                match action {
                    Action::Manual => Some(Wait::Person {
                        step: dep.clone(),
                        mark: format!(
                            "cycle mark --site {} {release} {} done",
                            dep.site().unwrap_or(super::step::CYCLE_SCOPE),
                            dep.local()
                        ),
                    }),
                    Action::Waiting => Some(Wait::Step {
                        step: dep.clone(),
                        why: waits
                            .as_ref()
                            .map_or_else(|| "waiting".to_string(), Wait::describe),
                    }),
                    Action::Missed => Some(Wait::Step {
                        step: dep.clone(),
                        why: "missed".to_string(),
                    }),
                    Action::Create | Action::Update if !selected => Some(Wait::Step {
                        step: dep.clone(),
                        why: "not selected".to_string(),
                    }),
                    _ => None,
                }
            });
            if let Some(wait) = wait {
                step.action = Action::Waiting;
                step.waiting_on = Some(wait);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for step in plan.steps_mut() {
        step.digest = intent_digest(step);
    }
}

/// SHA-256 (hex) of what a step would send: its action, its changes and
/// what it waits for.
fn intent_digest(step: &Step) -> String {
    use sha2::Digest as _;
    let intent = serde_json::json!({
        "action": step.action,
        "changes": step.changes,
        "waiting_on": step.waiting_on,
    });
    let digest = sha2::Sha256::digest(intent.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks a step that would write as waiting on `findings` that gate it
/// (none: unchanged).
pub fn gate(step: &mut Step, findings: &[String]) {
    if step.action.writes() && !findings.is_empty() {
        step.action = Action::Waiting;
        step.waiting_on = Some(Wait::Findings {
            findings: findings.to_vec(),
        });
    }
}
