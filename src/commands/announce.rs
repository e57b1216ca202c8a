//! `cycle announce --print`: every Slack announcement of a deployment,
//! rendered from the templates as `cycle prepare` would send it, printed for
//! a person to paste into Slack. Offline: no token, no network, no journal.

use std::fmt::Write as _;

use super::{Ctx, Outcome, chosen_sites, load_release};
use crate::cli::AnnounceArgs;
use crate::plan::{MessageRequest, Observed, Plan, StepId, StepSpec};
use crate::render::Templates;

/// Prints the announcements of the chosen sites.
pub fn run(ctx: &Ctx, args: &AnnounceArgs) -> anyhow::Result<Outcome> {
    if !args.print {
        anyhow::bail!(
            "cycle announce only prints (--print); `cycle prepare --only slack` schedules the \
             announcements in Slack"
        );
    }
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let plan = crate::engine::steps::registry::build(
        &release,
        &chosen,
        &all,
        &templates,
        &Observed::default(),
    )?;
    ctx.print(&announcements_text(&plan))?;
    Ok(Outcome::Clean)
}

/// The announcements of every site of `plan`, each under a heading with its
/// kind, time and channel, as plain text for pasting: the Slack client
/// escapes what a person types, so the mrkdwn entities are undone.
pub fn announcements_text(plan: &Plan) -> String {
    let mut out = String::new();
    for site in &plan.sites {
        let _ = writeln!(
            out,
            "# {}: {} ({})",
            site.display_name, plan.label, plan.tag
        );
        for step in &site.steps {
            let (StepId::Message { kind, .. }, StepSpec::Message(request)) = (&step.id, &step.spec)
            else {
                continue;
            };
            let _ = writeln!(out);
            let _ = writeln!(out, "## {}: {}", kind.as_str(), when(request));
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", unescape_mrkdwn(request.text.trim_end()));
        }
        let _ = writeln!(out);
    }
    out
}

/// `post Monday 23 February 2026 at 09:00 CLST in #summit-announce`.
fn when(request: &MessageRequest) -> String {
    match &request.at {
        Some(at) => format!(
            "post {} {} at {} {} in {}",
            at.weekday, at.date, at.time, at.zone, request.channel
        ),
        None => format!("post in {}", request.channel),
    }
}

/// Undoes [`crate::render::escape_mrkdwn`].
fn unescape_mrkdwn(text: &str) -> String {
    text.replace(crate::render::MRKDWN_GUARD, "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_undone_for_pasting() {
        let escaped = crate::render::escape_mrkdwn("<!channel> & <script> *bold* &lt;");
        assert_eq!(
            unescape_mrkdwn(&escaped),
            "<!channel> & <script> *bold* &lt;"
        );
    }
}
