//! `cycle status`: the checklist of a cycle per site, from the journal
//! (no network): each step's status, its links and the manual steps.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Outcome, chosen_sites, load_release};
use crate::cli::StatusArgs;
use crate::engine::journal::{Entry, Status};
use crate::engine::{self};
use crate::model::site;
use crate::output::Format;
use crate::output::json::{self, Kind};
use crate::output::markdown::escape;
use crate::plan::{self, Observed, Step, StepKind};
use crate::render::Templates;

/// One step in the status.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    title: String,
    manual: bool,
    #[serde(flatten)]
    entry: Entry,
    link: Option<String>,
}

/// One site (or the cycle's shared steps) in the status.
#[derive(Debug, Serialize)]
struct Group {
    site: String,
    display_name: String,
    steps: Vec<Row>,
}

/// The whole status document.
#[derive(Debug, Serialize)]
struct StatusDoc {
    cycle: u32,
    revision: u32,
    tag: String,
    label: String,
    groups: Vec<Group>,
}

/// Prints the status.
pub fn run(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<Outcome> {
    let all = site::load_all(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites, args.all)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let journal = engine::journal_for(&ctx.settings.state_dir, release.id)?;
    let mut observed = Observed::default();
    for s in &chosen {
        if let Some(key) = journal.ticket(&s.site.name) {
            observed.tickets.insert(s.site.name.clone(), key);
        }
    }
    let plan = plan::build(&release, &chosen, &all, &templates, &observed)?;
    let row = |step: &Step| {
        let entry = journal.entry(&step.id);
        Row {
            id: step.id.to_string(),
            title: step.title.clone(),
            manual: step.kind == StepKind::Manual,
            link: entry
                .outcome
                .as_ref()
                .and_then(|o| o.link().map(str::to_string)),
            entry,
        }
    };
    let mut groups: Vec<Group> = plan
        .sites
        .iter()
        .map(|s| Group {
            site: s.site.clone(),
            display_name: s.display_name.clone(),
            steps: s.steps.iter().map(row).collect(),
        })
        .collect();
    if !plan.cycle_steps.is_empty() {
        groups.push(Group {
            site: plan::step::CYCLE_SCOPE.to_string(),
            display_name: format!("{} (all sites)", plan.label),
            steps: plan.cycle_steps.iter().map(row).collect(),
        });
    }
    let doc = StatusDoc {
        cycle: plan.cycle,
        revision: plan.revision,
        tag: plan.tag.clone(),
        label: plan.label.clone(),
        groups,
    };
    match Format::pick(args.json, args.format) {
        Format::Json => {
            ctx.print(&json::document(Kind::Status, &doc))?;
            return Ok(Outcome::Clean);
        }
        Format::Markdown => {
            ctx.print(&markdown_of(&doc, &super::shown::Shown::new(&ctx.settings)))?;
            return Ok(Outcome::Clean);
        }
        Format::Text => {}
    }
    let mut out = String::new();
    let shown = super::shown::Shown::new(&ctx.settings);
    let _ = writeln!(
        out,
        "{}",
        ctx.style.bold(&format!("{} ({})", doc.label, doc.tag))
    );
    for group in &doc.groups {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", ctx.style.bold(&group.display_name));
        for r in &group.steps {
            let status = r.entry.status;
            let painted = match status {
                Status::Finished => ctx.style.green(status.as_str()),
                Status::Failed => ctx.style.red(status.as_str()),
                Status::Running | Status::Cancelled => ctx.style.yellow(status.as_str()),
                Status::Pending | Status::Unset => ctx.style.dim(status.as_str()),
            };
            let what = match (&r.entry.outcome, &r.entry.error) {
                (_, Some(e)) if status == Status::Failed => e.clone(),
                (Some(o), _) => shown.text(&r.id, None, &o.summary()),
                (None, _) if r.manual => format!(
                    "manual: cycle mark --site {} --cycle {} {} done",
                    group.site,
                    doc.cycle,
                    r.id.split_once(':').map_or(r.id.as_str(), |(_, s)| s)
                ),
                (None, _) => r.title.clone(),
            };
            let link = r
                .link
                .as_deref()
                .map(|l| format!("  {l}"))
                .unwrap_or_default();
            let local = r.id.split_once(':').map_or(r.id.as_str(), |(_, s)| s);
            let _ = writeln!(out, "  {local:<36} {painted:<9} {what}{link}");
        }
    }
    ctx.print(&out)?;
    Ok(Outcome::Clean)
}

/// The checklist as Markdown: one table per site.
fn markdown_of(doc: &StatusDoc, shown: &super::shown::Shown) -> String {
    let mut out = format!(
        "### `cycle` status: {} ({})\n\n",
        escape(&doc.label),
        escape(&doc.tag)
    );
    for group in &doc.groups {
        let _ = writeln!(out, "#### {}\n", escape(&group.display_name));
        out.push_str("| step | status | outcome |\n|---|---|---|\n");
        for r in &group.steps {
            let what = match (&r.entry.outcome, &r.entry.error) {
                (_, Some(e)) if r.entry.status == Status::Failed => escape(e),
                (Some(o), _) => escape(&shown.text(&r.id, None, &o.summary())),
                (None, _) => escape(&r.title),
            };
            let what = match &r.link {
                Some(link) => format!("{what} ([link]({}))", link.replace(')', "%29")),
                None => what,
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {what} |",
                r.id.replace('`', "'"),
                r.entry.status.as_str()
            );
        }
        out.push('\n');
    }
    out
}
