//! `cycle prepare`: plan every checklist step of the chosen sites.

use std::collections::BTreeMap;

use super::{Ctx, Outcome, load_release};
use crate::cli::PrepareArgs;
use crate::model::site::{self, LoadedSite};
use crate::plan::output::{self as plan_output, Detail};
use crate::plan::{self, Observed};
use crate::render::Templates;

/// Builds the plan and prints it (`--dry-run`); apply is not available yet.
pub fn run(ctx: &Ctx, args: &PrepareArgs) -> anyhow::Result<Outcome> {
    let all = site::load_all(&ctx.settings.sites_dir)?;
    let chosen: Vec<&LoadedSite> = if args.all {
        all.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for name in &args.sites {
            let found = all.iter().find(|s| &s.site.name == name);
            match found {
                Some(s) if !chosen.iter().any(|c: &&LoadedSite| c.site.name == *name) => {
                    chosen.push(s)
                }
                Some(_) => {}
                None => {
                    site::load_named(&ctx.settings.sites_dir, name)?;
                }
            }
        }
        chosen
    };
    let tickets = parse_tickets(&args.tickets, &chosen)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    if !args.dry_run {
        anyhow::bail!(
            "applying the plan is not available yet: run `cycle prepare --dry-run` to see it, and `cycle config` to make the configuration edits"
        );
    }
    let mut observed = Observed {
        tickets,
        ..Default::default()
    };
    // Every (site, repository) is observed at once: fetches are the slow part,
    // and syncs of one repository are serialised by the cache itself.
    let tickets = &observed.tickets;
    let build = crate::edit::repo::Build::from(&release);
    let states = std::thread::scope(|scope| {
        let handles: Vec<_> = chosen
            .iter()
            .flat_map(|site| site.site.repositories.iter().map(move |repo| (*site, repo)))
            .map(|(site, repo)| {
                let key = tickets.get(&site.site.name).cloned();
                let handle = scope.spawn(move || {
                    super::config::observe(ctx, site, repo, build, key.as_deref(), args.offline)
                });
                ((site.site.name.clone(), repo.repo.clone()), handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(key, handle)| {
                let state = handle.join().unwrap_or_else(|_| plan::RepoState::Unknown {
                    reason: "observing the repository failed unexpectedly".into(),
                });
                (key, state)
            })
            .collect::<Vec<_>>()
    });
    observed.repos.extend(states);
    let plan = plan::build(&release, &chosen, &all, &templates, &observed)?;
    let text = if args.json {
        plan_output::json(&plan)
    } else {
        let detail = if ctx.verbose {
            Detail::Full
        } else {
            Detail::Summary
        };
        plan_output::text(&plan, ctx.style, detail)
    };
    ctx.print(&text)?;
    Ok(if plan.has_changes() {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

/// Parses `--ticket KEY` (one site) and `--ticket SITE=KEY`.
fn parse_tickets(
    values: &[String],
    sites: &[&LoadedSite],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut tickets = BTreeMap::new();
    for value in values {
        let (site, key) = match value.split_once('=') {
            Some((site, key)) => (site.to_string(), key.to_string()),
            None if sites.len() == 1 => (sites[0].site.name.clone(), value.clone()),
            None => anyhow::bail!(
                "--ticket {value}: with several sites, write SITE=KEY (e.g. summit=OSW-2010)"
            ),
        };
        if !sites.iter().any(|s| s.site.name == site) {
            anyhow::bail!("--ticket {value}: site `{site}` is not being prepared");
        }
        check_ticket_key(&key).map_err(|e| anyhow::anyhow!("--ticket {value}: {e}"))?;
        if let Some(other) = tickets.insert(site.clone(), key) {
            anyhow::bail!("--ticket {value}: site `{site}` already has ticket {other}");
        }
    }
    Ok(tickets)
}

/// Checks the form of a Jira key, e.g. `OSW-2010`.
pub fn check_ticket_key(key: &str) -> Result<(), String> {
    let valid = key.split_once('-').is_some_and(|(project, number)| {
        project.starts_with(|c: char| c.is_ascii_uppercase())
            && project
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err(format!("`{key}` is not a Jira key like OSW-2010"))
    }
}
