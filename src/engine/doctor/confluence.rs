//! Confluence's checks for the cycle's page: the credentials (the current
//! user), the space, the parent page (in that space), and the account's
//! permission to add pages under it.

use super::{Credentials, Finding, Service, Status};
use crate::engine::pages::Pages;
use crate::plan::PageRequest;
use crate::services::confluence::{ConfluenceApi, ConfluenceError, ConfluenceUser, PageSummary};

/// What to set when Confluence is not configured or refuses the credentials.
const CREDENTIALS_FIX: &str = "set CONFLUENCE_URL, and CONFLUENCE_USER + CONFLUENCE_API_TOKEN (Cloud) or \
     CONFLUENCE_PAT (Data Center), to valid credentials (--confluence-api names the API)";
/// The credentials the checks need first.
const CREDENTIALS: Credentials = Credentials {
    service: Service::Confluence,
    fix: CREDENTIALS_FIX,
};

/// What Confluence answered, for [`evaluate`]. Errors are kept as their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The current user.
    pub user: Result<ConfluenceUser, String>,
    /// The space's id (`None`: no such space); not read after a failure.
    pub space: Option<Result<Option<String>, String>>,
    /// The parent page (`None` inside: no such page).
    pub parent: Option<Result<Option<PageSummary>, String>>,
    /// Whether the account may add pages under the parent.
    pub may_add: Option<Result<bool, String>>,
}

/// Checks the page's space and parent, and the credentials.
pub async fn check(pages: &Pages, page: Option<&PageRequest>, missing: Status) -> Vec<Finding> {
    let Some(page) = page else {
        return vec![];
    };
    let api = match CREDENTIALS.client(true, || pages.api(), missing) {
        Ok(client) => client,
        Err(findings) => return findings,
    };
    evaluate(&gather(api.as_ref(), page).await, page)
}

fn text(e: ConfluenceError) -> String {
    e.to_string()
}

/// Reads the user, then (when the credentials work) the space and the
/// parent page concurrently, then the permission on the parent.
pub async fn gather(api: &dyn ConfluenceApi, page: &PageRequest) -> Facts {
    let user = api.current_user().await.map_err(text);
    let mut facts = Facts {
        user,
        space: None,
        parent: None,
        may_add: None,
    };
    if !facts.user.as_ref().is_ok_and(|u| !u.anonymous) {
        return facts;
    }
    let (space, parent) = tokio::join!(
        api.find_space(&page.space),
        api.page_summary(&page.parent_id)
    );
    facts.space = Some(space.map_err(text));
    facts.parent = Some(parent.map_err(text));
    if matches!(facts.parent, Some(Ok(Some(_)))) {
        facts.may_add = Some(api.may_add_pages_under(&page.parent_id).await.map_err(text));
    }
    facts
}

/// Judges the facts (pure).
pub fn evaluate(facts: &Facts, page: &PageRequest) -> Vec<Finding> {
    let mut findings = Vec::new();
    let fail = |check: String, found: String, fix: String| {
        Finding::fail(Service::Confluence, None, check, found, fix)
    };
    match &facts.user {
        Ok(user) if user.anonymous => findings.push(fail(
            "credentials".into(),
            "Confluence answered as the anonymous user: the credentials were not taken".into(),
            CREDENTIALS_FIX.into(),
        )),
        Ok(user) => findings.push(Finding::ok(
            Service::Confluence,
            None,
            "credentials",
            format!("logged in as {}", user.name),
        )),
        Err(e) => findings.push(fail(
            "credentials".into(),
            e.clone(),
            CREDENTIALS_FIX.into(),
        )),
    }
    let space_check = format!("space {}", page.space);
    let space_id = match &facts.space {
        None => return findings,
        Some(Ok(Some(id))) => {
            findings.push(Finding::ok(
                Service::Confluence,
                None,
                space_check,
                format!("exists (id {id})"),
            ));
            Some(id.clone())
        }
        Some(Ok(None)) => {
            findings.push(fail(
                space_check,
                format!("space {} does not exist, or the account cannot see it", page.space),
                "fix confluence.space in the site file (a space key, e.g. LSSTCOM), or ask a space admin to \
                 let the account view the space"
                    .into(),
            ));
            None
        }
        Some(Err(e)) => {
            findings.push(fail(
                space_check,
                e.clone(),
                "check CONFLUENCE_URL and run again".into(),
            ));
            None
        }
    };
    let parent_check = format!("parent page {}", page.parent_id);
    match &facts.parent {
        Some(Ok(Some(parent))) => {
            let in_space = parent.space_key.as_deref() == Some(page.space.as_str())
                || (parent.space_id.is_some() && parent.space_id == space_id)
                || (parent.space_id.is_none() && parent.space_key.is_none());
            findings.push(if in_space || space_id.is_none() {
                Finding::ok(
                    Service::Confluence,
                    None,
                    parent_check,
                    format!("\"{}\" in {}", parent.title, page.space),
                )
            } else {
                fail(
                    parent_check,
                    format!("\"{}\" is not in space {}", parent.title, page.space),
                    format!(
                        "set confluence.parent_id to a page of space {} (or confluence.space to the parent's space)",
                        page.space
                    ),
                )
            });
        }
        Some(Ok(None)) => findings.push(fail(
            parent_check,
            format!("page {} does not exist, or the account cannot see it", page.parent_id),
            "set confluence.parent_id in the site file to the id of the \"Software Upgrades\" page (the number in \
             its address, …/pages/<id>/…)"
                .into(),
        )),
        Some(Err(e)) => findings.push(fail(parent_check, e.clone(), "check CONFLUENCE_URL and run again".into())),
        None => {}
    }
    let permission = format!("permission to add pages under {}", page.parent_id);
    match &facts.may_add {
        Some(Ok(true)) => findings.push(Finding::ok(
            Service::Confluence,
            None,
            permission,
            "the account may add pages there",
        )),
        Some(Ok(false)) => findings.push(fail(
            permission,
            format!("the account may not add pages under page {}", page.parent_id),
            format!(
                "ask an admin of space {} to grant the account \"Add pages\", or to lift the parent page's \
                 restrictions for it",
                page.space
            ),
        )),
        Some(Err(e)) => findings.push(fail(permission, e.clone(), "check CONFLUENCE_URL and run again".into())),
        None => {}
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PageRequest {
        PageRequest {
            space: "LSSTCOM".into(),
            parent_id: "166823989".into(),
            title: "Cycle 44 Upgrade".into(),
            body: String::new(),
            blocked_by: vec![],
        }
    }

    fn ready() -> Facts {
        Facts {
            user: Ok(ConfluenceUser {
                name: "Release Bot".into(),
                anonymous: false,
            }),
            space: Some(Ok(Some("98305".into()))),
            parent: Some(Ok(Some(PageSummary {
                id: "166823989".into(),
                title: "Software Upgrades".into(),
                space_id: Some("98305".into()),
                space_key: None,
            }))),
            may_add: Some(Ok(true)),
        }
    }

    fn statuses(facts: &Facts) -> Vec<(String, Status)> {
        evaluate(facts, &request())
            .into_iter()
            .map(|f| (f.check, f.status))
            .collect()
    }

    #[test]
    fn each_check_fails_on_its_own() {
        assert!(statuses(&ready()).iter().all(|(_, s)| *s == Status::Ok));
        assert_eq!(statuses(&ready()).len(), 4);
        let mut anonymous = ready();
        anonymous.user = Ok(ConfluenceUser {
            name: String::new(),
            anonymous: true,
        });
        assert_eq!(
            statuses(&anonymous)[0],
            ("credentials".into(), Status::Fail)
        );
        let mut no_space = ready();
        no_space.space = Some(Ok(None));
        assert_eq!(
            statuses(&no_space)[1],
            ("space LSSTCOM".into(), Status::Fail)
        );
        let mut elsewhere = ready();
        if let Some(Ok(Some(p))) = &mut elsewhere.parent {
            p.space_id = Some("1".into());
        }
        assert_eq!(
            statuses(&elsewhere)[2],
            ("parent page 166823989".into(), Status::Fail)
        );
        let mut denied = ready();
        denied.may_add = Some(Ok(false));
        let findings = evaluate(&denied, &request());
        assert_eq!(findings[3].status, Status::Fail);
        assert!(findings[3].fix.as_deref().unwrap().contains("Add pages"));
    }
}
