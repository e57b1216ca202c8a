//! `cycle render TEMPLATE --site SITE`: preview one template.

use super::{Ctx, Outcome, load_release};
use crate::cli::RenderArgs;
use crate::model::site;
use crate::render::Templates;

/// Renders the template and prints it.
pub fn run(ctx: &Ctx, args: &RenderArgs) -> anyhow::Result<Outcome> {
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let names = templates.names();
    let name = if names.contains(&args.template) {
        args.template.clone()
    } else {
        let matches: Vec<&String> = names
            .iter()
            .filter(|n| n.split('.').next() == Some(args.template.as_str()))
            .collect();
        match matches.as_slice() {
            [one] => (*one).clone(),
            _ => anyhow::bail!(
                "unknown template `{}` in {} (available: {})",
                args.template,
                templates.dir().display(),
                names.join(", ")
            ),
        }
    };
    if let Some(key) = &args.ticket {
        super::prepare::check_ticket_key(key).map_err(|e| anyhow::anyhow!("--ticket: {e}"))?;
    }
    let loaded = site::load_named(&ctx.settings.sites_dir, &args.site)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let tickets = args
        .ticket
        .iter()
        .map(|k| (loaded.site.name.clone(), k.clone()))
        .collect();
    let rows = crate::model::context::site_rows(&all, &release, &tickets);
    let (value, _) =
        crate::plan::template_context(&templates, &release, &loaded, args.ticket.clone(), &rows)?;
    let mut text = templates.render(&name, &value)?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    ctx.print(&text)?;
    Ok(Outcome::Clean)
}
