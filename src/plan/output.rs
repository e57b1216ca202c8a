//! Printing a plan: readable text grouped per site, or the JSON document.

use std::fmt::Write;

use crate::plan::{
    Action, Change, MessageRequest, PageRequest, Plan, PullRequestRequest, Step, TicketRequest,
};
use crate::style::Style;

/// How much of message and page bodies to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// First line of each body.
    Summary,
    /// Whole bodies.
    Full,
}

/// The plan as pretty JSON (see `docs/plan-json.md`).
pub fn json(plan: &Plan) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "summary".to_string(),
            serde_json::to_value(plan.counts()).unwrap_or_default(),
        );
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_else(|e| {
        // Serialising plain data cannot fail; keep the output valid JSON anyway.
        format!("{{\"error\": {:?}}}", e.to_string())
    });
    text.push('\n');
    text
}

/// The plan as text.
pub fn text(plan: &Plan, style: Style, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("Plan for {} ({})", plan.label, plan.tag))
    );
    if !plan.checks.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.bold("Pre-flight findings (cycle check)"));
        out.push_str(&super::check::text_lines(&plan.checks, "  "));
    }
    for site in &plan.sites {
        let _ = writeln!(out);
        let ticket = site.ticket.as_deref().unwrap_or("ticket not yet known");
        let _ = writeln!(
            out,
            "{} ({}, {}, branch {})",
            style.bold(&site.display_name),
            site.site,
            ticket,
            site.branch
        );
        for (i, step) in site.steps.iter().enumerate() {
            write_step(&mut out, i + 1, step, style, detail);
        }
    }
    if !plan.cycle_steps.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            style.bold(&format!("{} (all sites)", plan.label))
        );
        for (i, step) in plan.cycle_steps.iter().enumerate() {
            write_step(&mut out, i + 1, step, style, detail);
        }
    }
    let _ = writeln!(out);
    if plan.preflight.checked {
        let _ = writeln!(out, "{}", style.bold("Pre-flight checks"));
        out.push_str(&super::preflight::text(
            &plan.preflight.findings,
            style,
            detail == Detail::Full,
        ));
        let _ = writeln!(out);
    } else if let Some(reason) = &plan.preflight.skipped {
        let _ = writeln!(out, "{} {reason}", style.bold("Pre-flight checks skipped:"));
        let _ = writeln!(out);
    }
    let counts = plan.counts();
    let phrase = counts.phrase();
    let first = format!(
        "{} step{} to apply",
        counts.to_apply,
        plural(counts.to_apply)
    );
    let _ = writeln!(
        out,
        "{}{}, across {} site{}.",
        style.bold(&first),
        phrase.trim_start_matches(&format!("{} to apply", counts.to_apply)),
        plan.sites.len(),
        plural(plan.sites.len())
    );
    out
}

/// Steps alone, numbered, as in the plan text (used by `cycle config`).
pub fn steps_text(steps: &[Step], style: Style, detail: Detail) -> String {
    let mut out = String::new();
    for (i, step) in steps.iter().enumerate() {
        write_step(&mut out, i + 1, step, style, detail);
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write_step(out: &mut String, n: usize, step: &Step, style: Style, detail: Detail) {
    let manual = step.kind == crate::plan::StepKind::Manual;
    let tag = match step.action {
        _ if manual && step.action == Action::None => style.dim("[done]"),
        _ if !manual && !step.selected => style.dim("[not selected]"),
        Action::Create => style.green("[create]"),
        Action::Update => style.yellow("[update]"),
        Action::None => style.dim("[no change]"),
        Action::Manual => style.cyan("[manual]"),
        Action::Waiting => style.yellow("[waiting]"),
        Action::Missed => style.dim("[missed]"),
    };
    let _ = writeln!(
        out,
        "  {n:>2}. {tag} {} {}",
        step.title,
        style.dim(&format!("(checklist {}, {})", step.checklist_item, step.id))
    );
    if !manual && !step.selected {
        // What `--only`/`--skip` leave out shows its line alone.
        return;
    }
    if let Some(wait) = &step.waiting_on {
        let _ = writeln!(out, "        {}", style.yellow(&wait.describe()));
    }
    for o in &step.observe {
        let _ = writeln!(out, "        {} {o}", style.dim("observe:"));
    }
    if !step.depends_on.is_empty() {
        let _ = writeln!(
            out,
            "        {} {}",
            style.dim("after:"),
            step.depends_on
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !step.shows.is_empty() {
        let _ = writeln!(
            out,
            "        {} {}",
            style.dim("shows:"),
            step.shows
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for change in &step.changes {
        write_change(out, change, style, detail);
    }
    for note in &step.notes {
        let _ = writeln!(out, "        {} {note}", style.dim("note:"));
    }
}

fn body(out: &mut String, text: &str, detail: Detail) {
    let lines: Vec<&str> = text.lines().collect();
    let shown = match detail {
        Detail::Full => lines.len(),
        Detail::Summary => lines.len().min(1),
    };
    for line in &lines[..shown] {
        let _ = writeln!(out, "            | {line}");
    }
    if shown < lines.len() {
        let _ = writeln!(
            out,
            "            | … {} more line{} (-v shows all)",
            lines.len() - shown,
            plural(lines.len() - shown)
        );
    }
}

/// The first line of a change as the text plan shows it, without its
/// `+`/`~` sign and colours (`None` for a change that shows nothing).
pub(crate) fn change_headline(change: &Change) -> Option<String> {
    let mut out = String::new();
    write_change(&mut out, change, Style::plain(), Detail::Summary);
    out.lines()
        .next()
        .map(|l| {
            l.trim()
                .trim_start_matches(['+', '~', '•'])
                .trim()
                .to_string()
        })
        .filter(|l| !l.is_empty())
}

fn write_change(out: &mut String, change: &Change, style: Style, detail: Detail) {
    let plus = style.green("+");
    let tilde = style.yellow("~");
    match change {
        Change::CreateIssue(TicketRequest {
            project,
            issue_type,
            summary,
            description,
            labels,
            components,
            fields,
            users,
            assignee,
            priority,
            ..
        }) => {
            let _ = writeln!(
                out,
                "        {plus} create {issue_type} in {project}: \"{summary}\""
            );
            let mut extra: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            extra.extend(
                users
                    .iter()
                    .map(|(k, users)| format!("{k}=users({})", users.join(","))),
            );
            if !labels.is_empty() {
                extra.push(format!("labels={}", labels.join(",")));
            }
            if !components.is_empty() {
                extra.push(format!("components={}", components.join(",")));
            }
            if let Some(a) = assignee {
                extra.push(format!("assignee={a}"));
            }
            if let Some(p) = priority {
                extra.push(format!("priority={p}"));
            }
            if !extra.is_empty() {
                let _ = writeln!(out, "          {}", extra.join(" "));
            }
            body(out, description, detail);
        }
        Change::UpdateIssue { key, fields } => {
            let _ = writeln!(out, "        {tilde} update {key}:");
            for (k, v) in fields {
                let _ = writeln!(out, "          {k}={v}");
            }
        }
        Change::CreateBranch { branch, base, .. } => {
            let _ = writeln!(out, "        {plus} create branch {branch} from {base}");
        }
        Change::EditFile {
            file,
            target,
            value,
            edit,
            ..
        } => {
            let _ = writeln!(out, "        {tilde} {file}: {target} → {value:?} ({edit})");
        }
        Change::FileDiff { diff, .. } => {
            for line in diff.lines() {
                let painted = if line.starts_with("+++") || line.starts_with("---") {
                    style.bold(line)
                } else if line.starts_with('+') {
                    style.green(line)
                } else if line.starts_with('-') {
                    style.red(line)
                } else if line.starts_with("@@") {
                    style.cyan(line)
                } else {
                    line.to_string()
                };
                let _ = writeln!(out, "          {painted}");
            }
        }
        Change::Commit {
            branch, message, ..
        } => {
            let _ = writeln!(out, "        {plus} commit on {branch}: \"{message}\"");
        }
        Change::Push { branch, .. } => {
            let _ = writeln!(out, "        {plus} push {branch} (no force)");
        }
        Change::OpenPullRequest(PullRequestRequest {
            title,
            body: text,
            reviewers,
            labels,
            draft,
            ..
        }) => {
            let kind = if *draft {
                "draft pull request"
            } else {
                "pull request"
            };
            let _ = writeln!(out, "        {plus} open {kind} \"{title}\"");
            if !reviewers.is_empty() {
                let _ = writeln!(out, "          reviewers: {}", reviewers.join(", "));
            }
            if !labels.is_empty() {
                let _ = writeln!(out, "          labels: {}", labels.join(", "));
            }
            body(out, text, detail);
        }
        Change::PublishPage(PageRequest {
            space,
            parent_id,
            title,
            body: text,
            ..
        }) => {
            let _ = writeln!(
                out,
                "        {plus} publish \"{title}\" in {space} under page {parent_id}"
            );
            body(out, text, detail);
        }
        Change::PostMessage(MessageRequest {
            channel,
            message,
            at,
            text,
            ..
        }) => {
            let when = match at {
                Some(w) => format!("at {} {} {} {}", w.weekday, w.date, w.time, w.zone),
                None => "when ready".to_string(),
            };
            let _ = writeln!(out, "        {plus} post {message} to {channel} {when}");
            body(out, text, detail);
        }
        Change::Manual { instructions } => {
            let _ = writeln!(out, "        • {instructions}");
        }
    }
}
