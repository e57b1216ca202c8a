//! The engine's side of the Confluence page, used by the page kind
//! ([`super::steps::page`]): the adapter when configured, where the
//! versions are read from ts_cycle_build and how they compare with the
//! manifest, and what a lookup found of the page.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::cycle_id::CycleId;
use crate::model::release::LoadedRelease;
use crate::plan::check::Rules;
use crate::plan::{Action, CycleBuild, PageRequest, Seen};
use crate::services::confluence::{self, Api, ConfluenceApi, ConfluenceClient, PageState};
use crate::services::cycle_build::{self, Source};

/// Where the cycle's versions are read, and what they are compared with.
#[derive(Debug, Clone)]
pub(crate) struct VersionSource {
    /// Repository and ref of ts_cycle_build.
    pub(crate) source: Source,
    /// The cycle being prepared.
    pub(crate) id: CycleId,
    /// The manifest's versions of [`cycle_build::PACKAGES`].
    pub(crate) manifest: BTreeMap<String, String>,
    /// `--accept-version-mismatch`.
    pub(crate) accept_mismatch: bool,
}

/// The adapter for the cycle's page step of one run, or why it is not
/// available, and where the page's versions come from.
pub struct Pages {
    confluence: Result<Arc<dyn ConfluenceApi>, String>,
    pub(crate) versions: Option<VersionSource>,
    /// For a revision: the rules to list its XML changes with.
    pub(crate) xml: Option<Rules>,
}

impl Pages {
    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            confluence: Err(reason.to_string()),
            versions: None,
            xml: None,
        }
    }

    /// Confluence from the environment (`CONFLUENCE_URL`, and
    /// `CONFLUENCE_USER` + `CONFLUENCE_API_TOKEN` or `CONFLUENCE_PAT`),
    /// speaking `api` (from configuration, never guessed from the host).
    /// When `required` (the page step is selected and applied) missing or
    /// unusable settings are an error before any step runs; otherwise the
    /// page is not looked up and the plan says why.
    pub fn from_env(api: Api, required: bool) -> anyhow::Result<Self> {
        match confluence::Config::from_env() {
            Ok(config) => Ok(Self {
                confluence: Ok(Arc::new(ConfluenceClient::new(config.with_api(api)))),
                versions: None,
                xml: None,
            }),
            Err(e) if required => Err(e.into()),
            Err(e) => Ok(Self::none(&e.to_string())),
        }
    }

    /// Reads the versions of `release` from ts_cycle_build
    /// (`$GITHUB_SERVER_URL/lsst-ts/ts_cycle_build.git`, default
    /// `https://github.com`) at `reference`, a template of the cycle names
    /// (`{{ full_tag }}`, `{{ tag }}`, `{{ cycle }}`, `{{ revision }}`);
    /// `None` reads the default branch. `accept_mismatch` lets the page
    /// step through despite pre-flight findings.
    pub fn with_versions(
        mut self,
        release: &LoadedRelease,
        reference: Option<&str>,
        accept_mismatch: bool,
    ) -> anyhow::Result<Self> {
        self.versions = Some(VersionSource {
            source: cycle_build_source(reference, release.id)?,
            id: release.id,
            manifest: release.release.versions.packages(),
            accept_mismatch,
        });
        Ok(self)
    }

    /// Lists a revision's XML changes on its page section (ts_xml merges of
    /// each ticket of the XML release, found with `rules`).
    pub fn with_xml_changes(mut self, rules: Rules) -> Self {
        self.xml = Some(rules);
        self
    }

    /// The adapter, or why Confluence is not available.
    pub(crate) fn api(&self) -> anyhow::Result<&Arc<dyn ConfluenceApi>> {
        self.confluence
            .as_ref()
            .map_err(|reason| anyhow::anyhow!("{reason}"))
    }
}

/// Where ts_cycle_build's `cycle/cycle.env` is read for cycle revision `id`:
/// `$GITHUB_SERVER_URL/lsst-ts/ts_cycle_build.git` (default
/// `https://github.com`) at `reference`, a template of the cycle names
/// (`None`: the default branch).
pub fn cycle_build_source(reference: Option<&str>, id: CycleId) -> anyhow::Result<Source> {
    let reference = reference
        .map(|template| {
            render_reference(template, id)
                .map_err(|e| anyhow::anyhow!("--cycle-build-ref {template:?}: {e}"))
        })
        .transpose()?;
    let server = crate::services::http::env_var("GITHUB_SERVER_URL")
        .unwrap_or_else(|| "https://github.com".to_string());
    Ok(Source {
        url: format!(
            "{}/lsst-ts/ts_cycle_build.git",
            server.trim_end_matches('/')
        ),
        reference,
    })
}

/// The ts_cycle_build ref of a cycle from its template.
pub fn render_reference(template: &str, id: CycleId) -> Result<String, String> {
    let ctx = minijinja::context! {
        cycle => id.cycle,
        revision => id.revision,
        tag => id.tag(),
        full_tag => id.full_tag(),
        revision_suffix => id.revision_suffix(),
        label => id.label(),
    };
    let reference = crate::render::render_value(template, &ctx)?;
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().any(char::is_whitespace) {
        return Err(format!(
            "renders to {reference:?}, not a branch, tag or commit"
        ));
    }
    Ok(reference.to_string())
}

/// The plan's view of a reconciliation: the versions filled in, the
/// findings as sentences.
pub(crate) fn cycle_build_of(
    observed: &cycle_build::Observed,
    versions: &VersionSource,
) -> CycleBuild {
    let reconciled = cycle_build::reconcile(observed, versions.id, &versions.manifest);
    CycleBuild {
        filled: reconciled
            .versions
            .into_iter()
            .filter(|(package, _)| !versions.manifest.contains_key(package))
            .collect(),
        findings: reconciled
            .findings
            .iter()
            .map(ToString::to_string)
            .collect(),
        notes: reconciled.notes,
        accepted: versions.accept_mismatch,
    }
}

/// What applying the page step would do, from what [`confluence::find`] saw.
pub(crate) fn seen_of(state: PageState, request: &PageRequest, journal_id: Option<&str>) -> Seen {
    match state {
        PageState::Absent => {
            let mut detail = vec![];
            if let Some(id) = journal_id {
                detail.push(format!(
                    "the journal's page {id} has no longer this title in {} (renamed, moved or deleted?)",
                    request.space
                ));
            }
            Seen {
                action: Action::Create,
                note: format!(
                    "would create page '{}' under page {} in space {}",
                    request.title, request.parent_id, request.space
                ),
                detail,
                link: None,
                waiting_on: None,
                basis: Some("no page".to_string()),
            }
        }
        PageState::Identical(page) => Seen {
            action: Action::None,
            note: format!(
                "page {} (version {}) already has every section",
                page.id, page.version
            ),
            detail: vec![],
            basis: Some(format!("page {} version {}", page.id, page.version)),
            link: Some(page.url),
            waiting_on: None,
        },
        PageState::Differs {
            page,
            sections,
            diff,
        } => Seen {
            action: Action::Update,
            note: format!(
                "page {} (version {}) exists; would update section{} {} as version {}",
                page.id,
                page.version,
                if sections.len() == 1 { "" } else { "s" },
                sections.join(", "),
                page.version + 1
            ),
            detail: diff.lines().map(str::to_string).collect(),
            basis: Some(format!("page {} version {}", page.id, page.version)),
            link: Some(page.url),
            waiting_on: None,
        },
    }
}

/// A finding for a `cycle.env` that could not be read.
pub(crate) fn unreadable(versions: &VersionSource, error: &str) -> CycleBuild {
    CycleBuild {
        filled: BTreeMap::new(),
        findings: vec![format!(
            "cannot read {} of ts_cycle_build at {}: {error}",
            cycle_build::ENV_FILE,
            versions.source.reference()
        )],
        notes: vec![],
        accepted: versions.accept_mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::confluence::PageRef;

    fn request() -> PageRequest {
        PageRequest {
            space: "LSSTCOM".into(),
            parent_id: "166823989".into(),
            title: "Cycle 44 Upgrade".into(),
            body: String::new(),
            blocked_by: vec![],
        }
    }

    #[test]
    fn references_are_templates_of_the_cycle() {
        let id = CycleId::new(44, 3).unwrap();
        assert_eq!(render_reference("{{ full_tag }}", id).unwrap(), "c0044.003");
        assert_eq!(render_reference("main", id).unwrap(), "main");
        assert!(render_reference("{{ nope }}", id).is_err());
        assert!(render_reference("a b", id).is_err());
    }

    #[test]
    fn what_was_found_says_what_applying_does() {
        let absent = seen_of(PageState::Absent, &request(), Some("4242"));
        assert_eq!(absent.action, Action::Create);
        assert_eq!(
            absent.note,
            "would create page 'Cycle 44 Upgrade' under page 166823989 in space LSSTCOM"
        );
        assert!(absent.detail[0].contains("4242"));
        let page = PageRef {
            id: "7".into(),
            version: 3,
            url: "https://c/wiki/x".into(),
        };
        let same = seen_of(PageState::Identical(page.clone()), &request(), None);
        assert_eq!(same.action, Action::None);
        assert_eq!(same.link.as_deref(), Some("https://c/wiki/x"));
        let differs = seen_of(
            PageState::Differs {
                page,
                sections: vec!["versions".into()],
                diff: "-a\n+b\n".into(),
            },
            &request(),
            None,
        );
        assert_eq!(differs.action, Action::Update);
        assert!(
            differs.note.ends_with("section versions as version 4"),
            "{}",
            differs.note
        );
        assert_eq!(differs.detail, ["-a", "+b"]);
    }
}
