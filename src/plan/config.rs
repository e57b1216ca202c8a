//! The planning of a configuration branch: its edits, commit and push, and
//! the resulting diffs once the branch is read.

use super::{Action, Change, ConfigRequest, RepoState, Step, StepId, StepKind, StepSpec};
use crate::model::site::{EditSpec, Repository};

/// The configuration-branch step of one repository, from its resolved edits,
/// commit message and observed state. `branch` is the ticket branch when the
/// ticket is known; `shown` is what the plan calls it either way.
pub fn config_step(
    site: &str,
    repo: &Repository,
    edits: &[EditSpec],
    message: &str,
    branch: Option<&str>,
    shown: &str,
    state: RepoState,
) -> Step {
    let edit_changes = edits.iter().map(|e| Change::EditFile {
        repo: repo.repo.clone(),
        file: e.file().to_string(),
        edit: e.kind().to_string(),
        target: e.target(),
        value: e.value().to_string(),
    });
    let create_branch = Change::CreateBranch {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
        base: repo.base.clone(),
    };
    let commit = Change::Commit {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
        message: message.to_string(),
    };
    let push = Change::Push {
        repo: repo.repo.clone(),
        branch: shown.to_string(),
    };
    let (action, changes, notes) = match state {
        RepoState::Unknown { reason } => {
            let mut changes = vec![create_branch];
            changes.extend(edit_changes);
            changes.extend([commit, push]);
            (Action::Create, changes, vec![reason])
        }
        RepoState::Known {
            branch_exists,
            unpushed,
            changes: files,
            notes,
        } => {
            if files.is_empty() && !unpushed {
                let mut notes = notes;
                notes.push(if branch_exists {
                    format!("{shown} already has every edit")
                } else {
                    format!("{} already has every edit; no branch needed", repo.base)
                });
                (Action::None, vec![], notes)
            } else {
                let mut changes = Vec::new();
                if !branch_exists {
                    changes.push(create_branch);
                }
                if !files.is_empty() {
                    changes.extend(edit_changes);
                    changes.extend(files.iter().map(|f| Change::FileDiff {
                        repo: repo.repo.clone(),
                        path: f.path().to_string(),
                        diff: f.unified_diff().to_string(),
                    }));
                    changes.push(commit);
                }
                changes.push(push);
                let action = if branch_exists {
                    Action::Update
                } else {
                    Action::Create
                };
                (action, changes, notes)
            }
        }
    };
    Step {
        id: StepId::Config {
            site: site.to_string(),
            repo: repo.repo.clone(),
        },
        kind: StepKind::Config,
        checklist_item: 2,
        title: format!("Configuration branch {shown} in {}", repo.repo),
        action,
        selected: true,
        waiting_on: None,
        digest: String::new(),
        depends_on: vec![StepId::Ticket {
            site: site.to_string(),
        }],
        shows: vec![],
        observe: vec![format!(
            "branch {shown} in {} (cached clone and remote), base {}",
            repo.repo, repo.base
        )],
        changes,
        notes,
        spec: StepSpec::Config(ConfigRequest {
            repo: repo.clone(),
            edits: edits.to_vec(),
            branch: branch.map(str::to_string),
            message: message.to_string(),
            revert: None,
        }),
    }
}
