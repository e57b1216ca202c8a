//! The engine's side of the Confluence page: the adapter when configured,
//! the versions read from ts_cycle_build, what an observation found of the
//! page, and the page step's execution.
//!
//! - [`Engine::observe_page_inputs`] (online and offline) reads
//!   `cycle/cycle.env` of ts_cycle_build through the run's clone cache when
//!   the page step is selected, reconciles it with the release manifest into
//!   [`Observed::cycle_build`], and records each known ticket's link.
//! - [`Engine::observe_page`] (online) finds the page by space and title and
//!   says what applying would do: create it, update the owned sections that
//!   differ (with their diff), or nothing.
//! - [`Engine::execute_page`] refuses while a pre-flight finding blocks the
//!   step, then [`confluence::ensure`]s the page: created under the parent,
//!   updated with the next version, not written when unchanged, a 409
//!   re-read, re-merged and retried once.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::journal::{Journal, Outcome};
use super::{Done, Engine};
use crate::model::cycle_id::CycleId;
use crate::model::release::LoadedRelease;
use crate::plan::check::Rules;
use crate::plan::{
    Action, CycleBuild, MessageKind, Observed, PageRequest, Plan, Seen, Step, StepId, StepSpec,
};
use crate::services::confluence::{
    self, Api, ConfluenceApi, ConfluenceClient, PageAction, PageSpec, PageState,
};
use crate::services::cycle_build::{self, Source};

/// Where the cycle's versions are read, and what they are compared with.
#[derive(Debug, Clone)]
struct VersionSource {
    /// Repository and ref of ts_cycle_build.
    source: Source,
    /// The cycle being prepared.
    id: CycleId,
    /// The manifest's versions of [`cycle_build::PACKAGES`].
    manifest: BTreeMap<String, String>,
    /// `--accept-version-mismatch`.
    accept_mismatch: bool,
}

/// The adapter for the cycle's page step of one run, or why it is not
/// available, and where the page's versions come from.
pub struct Pages {
    confluence: Result<Arc<dyn ConfluenceApi>, String>,
    versions: Option<VersionSource>,
    /// For a revision: the rules to list its XML changes with.
    xml: Option<Rules>,
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
    pub(super) fn api(&self) -> anyhow::Result<&Arc<dyn ConfluenceApi>> {
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
fn cycle_build_of(observed: &cycle_build::Observed, versions: &VersionSource) -> CycleBuild {
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
fn seen_of(state: PageState, request: &PageRequest, journal_id: Option<&str>) -> Seen {
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

impl Engine {
    /// Reads ts_cycle_build's `cycle.env` when a selected page step needs
    /// the versions, and records the link of every known ticket for the
    /// page's ticket table. Runs offline too (cached clone only).
    pub(crate) async fn observe_page_inputs(&self, plan: &Plan, observed: &mut Observed) {
        for step in plan.steps() {
            if let StepId::Ticket { site } = &step.id
                && let Some(key) = observed.tickets.get(site)
                && let Some(url) = self.tickets.browse_url(key)
            {
                observed.seen.entry(step.id.clone()).or_insert(Seen {
                    action: Action::None,
                    note: format!("ticket {key}"),
                    detail: vec![],
                    link: Some(url),
                    waiting_on: None,
                    basis: None,
                });
            }
        }
        let Some(versions) = &self.pages.versions else {
            return;
        };
        if observed.cycle_build.is_some()
            || !plan
                .steps()
                .any(|s| s.id == StepId::Page && self.selection.selects(s))
        {
            return;
        }
        let git = self.git.clone();
        let source = versions.source.clone();
        let read = tokio::task::spawn_blocking(move || git.cycle_build(&source)).await;
        let (mut build, xml_version) = match read {
            Ok(Ok(found)) => {
                let xml = match &found {
                    cycle_build::Observed::Read(s) => s.env.get("ts_xml").map(str::to_string),
                    cycle_build::Observed::Offline => None,
                };
                (cycle_build_of(&found, versions), xml)
            }
            Ok(Err(e)) => (unreadable(versions, &format!("{e:#}")), None),
            Err(e) => (unreadable(versions, &e.to_string()), None),
        };
        let xml_version = xml_version.or_else(|| versions.manifest.get("ts_xml").cloned());
        if self.id.revision > 0
            && !self.offline
            && let Some(rules) = &self.pages.xml
            && let Some(version) = xml_version
        {
            match self.tickets.api() {
                Err(e) => build
                    .notes
                    .push(format!("the revision's XML changes are not listed: {e}")),
                Ok(api) => {
                    let server = crate::services::http::env_var("GITHUB_SERVER_URL")
                        .unwrap_or_else(|| "https://github.com".to_string());
                    let changes = super::check::revision_changes(
                        self.git.clone(),
                        api.as_ref(),
                        rules,
                        &server,
                        &version,
                        None,
                        |key| self.tickets.browse_url(key),
                    )
                    .await;
                    match changes {
                        Ok(changes) => observed.xml_changes = Some(changes),
                        Err(e) => build
                            .notes
                            .push(format!("the revision's XML changes are not listed: {e}")),
                    }
                }
            }
        }
        observed.cycle_build = Some(build);
    }

    /// Looks for the page of `plan` (read only) when the page step or an
    /// announcement of it is selected: the journal's page id is a hint, the
    /// page is found by space and title.
    pub(crate) async fn observe_page(&self, plan: &Plan, journal: &Journal) -> Vec<(StepId, Seen)> {
        let Some(step) = plan.step(&StepId::Page) else {
            return vec![];
        };
        let StepSpec::Page(request) = &step.spec else {
            return vec![];
        };
        let wanted = plan.steps().any(|s| {
            self.selection.selects(s)
                && matches!(
                    &s.id,
                    StepId::Page
                        | StepId::Message {
                            kind: MessageKind::PageReady,
                            ..
                        }
                )
        });
        if !wanted {
            return vec![];
        }
        let api = match self.pages.api() {
            Ok(api) => api,
            Err(reason) => {
                return vec![(
                    StepId::Page,
                    Seen {
                        action: Action::Create,
                        note: format!("the page was not looked up: {reason}"),
                        detail: vec![],
                        link: None,
                        waiting_on: None,
                        basis: None,
                    },
                )];
            }
        };
        let journal_id = match journal.entry(&StepId::Page).outcome {
            Some(Outcome::Page { id, .. }) => Some(id),
            _ => None,
        };
        let seen = match confluence::find(api.as_ref(), &spec(request)).await {
            Ok(state) => seen_of(state, request, journal_id.as_deref()),
            Err(e) => Seen {
                action: Action::Create,
                note: format!("the page could not be looked up ({e}); applying looks again first"),
                detail: vec![],
                link: None,
                waiting_on: None,
                basis: None,
            },
        };
        vec![(StepId::Page, seen)]
    }

    /// Executes the page step: refuses while a pre-flight finding blocks
    /// it, then finds the page and creates or updates only what differs.
    pub(crate) async fn execute_page(
        &self,
        step: &Step,
        request: &PageRequest,
        observed: &Observed,
    ) -> anyhow::Result<Done> {
        let _ = observed;
        if !request.blocked_by.is_empty() {
            anyhow::bail!(
                "{}: blocked by pre-flight findings: {}. Nothing was written; fix the release \
                 manifest or the ts_cycle_build ref (--cycle-build-ref), or pass \
                 --accept-version-mismatch",
                step.id,
                request.blocked_by.join("; ")
            );
        }
        let api = self.pages.api().map_err(|e| {
            anyhow::anyhow!(
                "{}: the {} step cannot be applied ({e}); use --skip {}",
                step.id,
                super::kind_name(step.kind),
                super::selector_name(crate::plan::Selector::Confluence)
            )
        })?;
        let out = confluence::ensure(api.as_ref(), &spec(request)).await?;
        for note in &out.notes {
            self.progress.note(&format!("{}: {note}", step.id));
        }
        Ok(Done {
            action: match out.action {
                PageAction::Created => "created",
                PageAction::Updated => "updated",
                PageAction::Unchanged => "unchanged",
            }
            .to_string(),
            outcome: Outcome::Page {
                id: out.id,
                version: out.version,
                url: Some(out.url),
            },
        })
    }
}

/// A finding for a `cycle.env` that could not be read.
fn unreadable(versions: &VersionSource, error: &str) -> CycleBuild {
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

/// The adapter's spec of the planned page.
fn spec(request: &PageRequest) -> PageSpec {
    PageSpec {
        space: request.space.clone(),
        parent_id: request.parent_id.clone(),
        title: request.title.clone(),
        body: request.body.clone(),
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
