//! The XML release's Jira version (vanward's `create_cap_release`, first
//! half): `ts_xml X.Y.Z` in the CAP project, described "for Cycle N" (and
//! " revision R"), found by its exact name and created once. Planned when
//! the manifest has a `cap_release` section.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::Outcome;
use crate::model::release::LoadedRelease;
use crate::plan::{
    Change, CycleInput, Observed, Plan, PlanError, Planner, Selector, Step, StepId, StepKind,
    StepSpec, VersionRequest, pending_step,
};
use crate::services::jira::{NewVersion, find_version};

/// The CAP version kind.
pub struct CapVersion;

/// The XML version of the release (the manifest's, or ts_cycle_build's once
/// read), which names the CAP release.
pub fn xml_version(release: &LoadedRelease) -> Result<String, PlanError> {
    release.release.versions.ts_xml.clone().ok_or_else(|| {
        release
            .source
            .error_at(
                "cap_release",
                "the CAP release is named after ts_xml: give versions.ts_xml (or let \
                 cycle read it from ts_cycle_build's cycle.env)",
            )
            .into()
    })
}

/// The version's name for XML `xml`: `ts_xml 27.0.0`.
pub fn version_name(xml: &str) -> String {
    format!("ts_xml {xml}")
}

impl Planner for CapVersion {
    fn plan_cycle(&self, input: &CycleInput<'_>) -> Result<Vec<Step>, PlanError> {
        let Some(cap) = &input.release.release.cap_release else {
            return Ok(vec![]);
        };
        let xml = xml_version(input.release)?;
        let id = input.release.id;
        let mut description = format!("for Cycle {}", id.cycle);
        if id.revision > 0 {
            description.push_str(&format!(" revision {}", id.revision));
        }
        let request = VersionRequest {
            project: cap.project.clone(),
            name: version_name(&xml),
            description,
        };
        Ok(vec![pending_step(
            StepId::CapVersion,
            1,
            format!("Jira version {} in {}", request.name, request.project),
            vec![],
            vec![format!(
                "version \"{}\" of project {}",
                request.name, request.project
            )],
            vec![Change::CreateVersion(request.clone())],
            StepSpec::Version(request),
            input.observed,
        )])
    }
}

/// Finds the version of `request` (read only).
async fn find(cx: &Cx<'_>, request: &VersionRequest) -> anyhow::Result<Option<(String, String)>> {
    let api = cx.services.tickets.api()?;
    let versions = api
        .project_versions(&request.project)
        .await?
        .ok_or_else(|| anyhow::anyhow!("Jira knows no project {}", request.project))?;
    Ok(find_version(&versions, &request.name).map(|v| (v.id.clone(), v.name.clone())))
}

#[async_trait(?Send)]
impl Kind for CapVersion {
    fn kind(&self) -> StepKind {
        StepKind::CapVersion
    }

    fn name(&self) -> &'static str {
        "CAP version"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Jira)
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Lookup]
    }

    async fn observe(
        &self,
        _phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        _observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        if cx.offline || cx.services.tickets.configured().is_err() {
            return learnt;
        }
        for step in Cx::steps_of(plan, StepKind::CapVersion) {
            let StepSpec::Version(request) = &step.spec else {
                continue;
            };
            match find(cx, request).await {
                Ok(Some((id, name))) => {
                    learnt
                        .statuses
                        .insert(step.id.clone(), format!("version {name} {id}"));
                    learnt
                        .done
                        .insert(step.id.clone(), format!("version {name} exists ({id})"));
                }
                Ok(None) => {}
                Err(e) => cx
                    .progress
                    .note(&format!("{}: not looked up: {e:#}", step.id)),
            }
        }
        learnt
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::Version(request) = &step.spec {
            needs.versions.push((step.id.clone(), request.clone()));
        }
    }

    /// Finds the version first; creates it in the project otherwise.
    async fn execute(
        &self,
        cx: &Cx<'_>,
        step: &Step,
        _observed: &Observed,
    ) -> anyhow::Result<Done> {
        let StepSpec::Version(request) = &step.spec else {
            anyhow::bail!("{}: not a version step", step.id);
        };
        if let Some((id, name)) = find(cx, request).await? {
            return Ok(Done {
                outcome: Outcome::Version { id, name },
                action: "found".into(),
            });
        }
        let api = cx.services.tickets.api()?;
        let project_id = api
            .project_id(&request.project)
            .await?
            .ok_or_else(|| anyhow::anyhow!("Jira knows no project {}", request.project))?;
        let created = api
            .create_version(
                &request.project,
                &NewVersion {
                    project_id,
                    name: request.name.clone(),
                    description: request.description.clone(),
                },
            )
            .await?;
        Ok(Done {
            outcome: Outcome::Version {
                id: created.id,
                name: created.name,
            },
            action: "created".into(),
        })
    }
}
