//! `cycle sites list|show|validate`.

use std::fmt::Write;

use super::{Ctx, Outcome};
use crate::cli::SitesCommand;
use crate::model::site;

/// Runs a `sites` subcommand.
pub fn run(ctx: &Ctx, cmd: &SitesCommand) -> anyhow::Result<Outcome> {
    let dir = &ctx.settings.sites_dir;
    match cmd {
        SitesCommand::List => {
            let mut out = String::new();
            for loaded in crate::render::load_sites(dir)? {
                let s = &loaded.site;
                let _ = writeln!(
                    out,
                    "{:<10} {:<20} {:<18} {}",
                    s.name,
                    s.display_name,
                    s.time_zone,
                    s.repositories
                        .iter()
                        .map(|r| r.repo.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            ctx.print(&out)?;
        }
        SitesCommand::Show { site } => {
            let loaded = site::load_named(dir, site)?;
            let yaml = yaml_serde::to_string(&loaded.site)?;
            ctx.print(&format!("# {}\n{yaml}", loaded.source.path.display()))?;
        }
        SitesCommand::Validate => {
            let files = site::site_files(dir)?;
            if files.is_empty() {
                anyhow::bail!("no site files (*.yaml) in {}", dir.display());
            }
            let mut errors = Vec::new();
            let mut out = String::new();
            for file in &files {
                match crate::render::load_site(file) {
                    Ok(_) => {
                        let _ = writeln!(out, "ok      {}", file.display());
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            if !ctx.quiet {
                ctx.print(&out)?;
            }
            if !errors.is_empty() {
                anyhow::bail!(
                    "{} of {} site files are invalid:\n{}",
                    errors.len(),
                    files.len(),
                    errors.join("\n")
                );
            }
        }
    }
    Ok(Outcome::Clean)
}
