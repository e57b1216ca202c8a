//! The cycle's page over any [`ConfluenceApi`]: what to create or which
//! sections to update, finding the page and ensuring it.

use crate::edit::storage::{Change, Desired, SectionChange, SpliceError};

use super::*;

/// A page as reported back: id, version and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    /// Page id.
    pub id: String,
    /// Version number.
    pub version: u64,
    /// Link to the page.
    pub url: String,
}

impl From<&Page> for PageRef {
    fn from(p: &Page) -> Self {
        Self {
            id: p.id.clone(),
            version: p.version,
            url: p.url.clone(),
        }
    }
}

/// What [`find`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageState {
    /// No page with that title in the space.
    Absent,
    /// The page holds the desired sections.
    Identical(PageRef),
    /// The page exists and some owned sections differ or are missing.
    Differs {
        /// The page.
        page: PageRef,
        /// Ids of the sections that would be replaced or added.
        sections: Vec<String>,
        /// Unified diff of those sections, live against desired.
        diff: String,
    },
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    /// The page was created.
    Created,
    /// Owned sections were replaced or added.
    Updated,
    /// Nothing to write.
    Unchanged,
}

/// The result of [`ensure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOutcome {
    /// Page id.
    pub id: String,
    /// Version after the step.
    pub version: u64,
    /// Link to the page.
    pub url: String,
    /// What was done.
    pub action: PageAction,
    /// What happened to each owned section (empty when created).
    pub sections: Vec<SectionChange>,
    /// Things worth telling the user (e.g. the appearance could not be set).
    pub notes: Vec<String>,
}

/// What to do with an existing page, decided from what was observed (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Update the page to this body.
    Update {
        /// The merged body.
        body: String,
        /// Per-section changes.
        sections: Vec<SectionChange>,
        /// Diff of the changed sections.
        diff: String,
    },
    /// Write nothing.
    Unchanged {
        /// Per-section changes (all unchanged).
        sections: Vec<SectionChange>,
    },
}

/// Decides what to write to the live `page` for `desired` (pure). A page
/// that does not exist yet is created with [`Desired::to_body`].
pub fn decide(page: &Page, desired: &Desired) -> Result<Decision, SpliceError> {
    let merged = crate::edit::storage::merge(&page.body, desired)?;
    if merged.is_unchanged() {
        return Ok(Decision::Unchanged {
            sections: merged.sections,
        });
    }
    let diff = merged.diff(desired);
    Ok(Decision::Update {
        body: merged.body,
        sections: merged.sections,
        diff,
    })
}

/// The version message of an update: which sections changed.
pub fn update_message(sections: &[SectionChange]) -> String {
    let ids: Vec<&str> = sections
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .map(|s| s.id.as_str())
        .collect();
    format!("cycle: updated sections {}", ids.join(", "))
}

/// Reads the page without writing anything (dry run).
pub async fn find<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageRequest,
) -> Result<PageState, ConfluenceError> {
    let desired = desired(spec)?;
    let Some(page) = api.find_page(&spec.space, &spec.title).await? else {
        return Ok(PageState::Absent);
    };
    match decide(&page, &desired).map_err(|source| page_error(spec, source))? {
        Decision::Unchanged { .. } => Ok(PageState::Identical(PageRef::from(&page))),
        Decision::Update { sections, diff, .. } => Ok(PageState::Differs {
            page: PageRef::from(&page),
            sections: sections
                .iter()
                .filter(|s| s.change != Change::Unchanged)
                .map(|s| s.id.clone())
                .collect(),
            diff,
        }),
    }
}

/// Makes the page hold the desired sections: creates it under the parent
/// when absent, updates only the owned sections when they differ, writes
/// nothing when they match. A 409 is re-read, re-merged and retried once.
/// A create refused because a page of that title appeared meanwhile (a
/// title is unique in a space: another run created it first) reads that
/// page and updates it instead.
pub async fn ensure<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageRequest,
) -> Result<PageOutcome, ConfluenceError> {
    write(api, spec, true)
        .await
        .map(|out| out.unwrap_or_else(|| unreachable!("a page that is absent is created")))
}

/// [`ensure`] for a page that must exist already (a revert's line on the
/// reverted cycle's page): its owned sections added or updated, every other
/// byte kept; `None`, and nothing written, when there is no such page.
pub async fn amend<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageRequest,
) -> Result<Option<PageOutcome>, ConfluenceError> {
    write(api, spec, false).await
}

/// [`ensure`], creating an absent page only when `create`.
async fn write<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageRequest,
    create_absent: bool,
) -> Result<Option<PageOutcome>, ConfluenceError> {
    let desired = desired(spec)?;
    let mut live = api.find_page(&spec.space, &spec.title).await?;
    let mut conflicts = 0;
    let mut taken = false;
    loop {
        let Some(page) = live else {
            if !create_absent {
                return Ok(None);
            }
            match create(api, spec, &desired).await {
                Err(e) if !taken && title_taken(&e) => {
                    taken = true;
                    live = api.find_page(&spec.space, &spec.title).await?;
                    if live.is_none() {
                        return Err(e);
                    }
                    continue;
                }
                created => return created.map(Some),
            }
        };
        let (body, sections) =
            match decide(&page, &desired).map_err(|source| page_error(spec, source))? {
                Decision::Unchanged { sections } => {
                    return Ok(Some(outcome(
                        &page,
                        PageAction::Unchanged,
                        sections,
                        vec![],
                    )));
                }
                Decision::Update { body, sections, .. } => (body, sections),
            };
        match api
            .update_page(&page, &body, &update_message(&sections))
            .await
        {
            Ok(updated) => {
                return Ok(Some(outcome(
                    &updated,
                    PageAction::Updated,
                    sections,
                    vec![],
                )));
            }
            Err(ConfluenceError::Conflict { .. }) if conflicts == 0 => {
                conflicts += 1;
                live = api.find_page(&spec.space, &spec.title).await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether Confluence refused a create because the space already holds a
/// page of that title (v2: 400 "A page with this title already exists";
/// v1 the same text, or a 409 on some versions).
pub fn title_taken(e: &ConfluenceError) -> bool {
    matches!(
        e,
        ConfluenceError::Rejected { status: 400 | 409, message, .. }
            if message.to_ascii_lowercase().contains("title already exists")
                || message.to_ascii_lowercase().contains("same title")
    )
}

async fn create<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageRequest,
    desired: &Desired,
) -> Result<PageOutcome, ConfluenceError> {
    let page = api
        .create_page(
            &spec.space,
            &spec.parent_id,
            &spec.title,
            &desired.to_body(),
        )
        .await?;
    let notes = match api.set_full_width(&page).await {
        Ok(true) => vec![],
        Ok(false) => vec![
            "full-width appearance is only set through Confluence Cloud's API; set it by hand \
             if wanted"
                .to_string(),
        ],
        Err(e) => vec![format!(
            "the page was created but its full-width appearance was not set: {e}"
        )],
    };
    Ok(outcome(&page, PageAction::Created, vec![], notes))
}

fn desired(spec: &PageRequest) -> Result<Desired, ConfluenceError> {
    Desired::parse(&spec.body).map_err(|source| ConfluenceError::Template {
        title: spec.title.clone(),
        source,
    })
}

fn page_error(spec: &PageRequest, source: SpliceError) -> ConfluenceError {
    ConfluenceError::Page {
        title: spec.title.clone(),
        source,
    }
}

fn outcome(
    page: &Page,
    action: PageAction,
    sections: Vec<SectionChange>,
    notes: Vec<String>,
) -> PageOutcome {
    PageOutcome {
        id: page.id.clone(),
        version: page.version,
        url: page.url.clone(),
        action,
        sections,
        notes,
    }
}
