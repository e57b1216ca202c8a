//! Text for a terminal: the plan grouped per site, the pre-flight findings
//! (`cycle doctor`) grouped per site and service, and `cycle check`'s
//! findings as aligned lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::StatusDoc;
use super::shown::Shown;
use crate::engine::Report;
use crate::engine::journal::Status as JournalStatus;
use crate::model::cycle_id::CycleId;
use crate::plan::finding::{Counts, Finding, Service, Status};
use crate::plan::{
    Action, Change, LinkMoveRequest, MessageRequest, PageRequest, Plan, PullRequestRequest, Step,
    TicketRequest, VersionRequest,
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

/// The plan as text.
pub fn plan(plan: &Plan, style: Style, detail: Detail) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("Plan for {} ({})", plan.label, plan.tag))
    );
    if !plan.checks.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.bold("Pre-flight findings (cycle check)"));
        out.push_str(&check_lines(&plan.checks, "  "));
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
        out.push_str(&preflight(
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
pub fn steps(steps: &[Step], style: Style, detail: Detail) -> String {
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
    let manual = step.kind.is_human();
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
/// `+`/`~`/`-` sign and colours (`None` for a change that shows nothing).
pub(crate) fn change_headline(change: &Change) -> Option<String> {
    let mut out = String::new();
    write_change(&mut out, change, Style::plain(), Detail::Summary);
    out.lines()
        .next()
        .map(|l| {
            l.trim()
                .trim_start_matches(['+', '~', '-', '•'])
                .trim()
                .to_string()
        })
        .filter(|l| !l.is_empty())
}

fn write_change(out: &mut String, change: &Change, style: Style, detail: Detail) {
    let plus = style.green("+");
    let tilde = style.yellow("~");
    let minus = style.red("-");
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
        Change::CreateVersion(VersionRequest {
            project,
            name,
            description,
        }) => {
            let _ = writeln!(
                out,
                "        {plus} create Jira version \"{name}\" in {project} ({description})"
            );
        }
        Change::MoveLinks(LinkMoveRequest {
            from,
            to_summary,
            keep,
        }) => {
            let kept = if keep.is_empty() {
                String::new()
            } else {
                format!(", except those of {}", keep.join(", "))
            };
            let _ = writeln!(
                out,
                "        {plus} move the links of {from} to \"{to_summary}\"{kept}"
            );
        }
        Change::CancelMessage(MessageRequest {
            channel, message, ..
        }) => {
            let _ = writeln!(
                out,
                "        {minus} delete the pending {message} in {channel}, if any"
            );
        }
        Change::AddToPage(PageRequest {
            space,
            title,
            body: text,
            ..
        }) => {
            let _ = writeln!(out, "        {tilde} add to \"{title}\" in {space}");
            body(out, text, detail);
        }
        Change::Manual { instructions } => {
            let _ = writeln!(out, "        • {instructions}");
        }
    }
}

/// The end-of-run summary (of an apply or `cycle cancel`): what was
/// created, reused, updated, skipped and failed, with links, then the count
/// of each.
pub fn apply(report: &Report, style: Style, shown: &Shown) -> String {
    let mut out = String::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", style.bold("Summary"));
    for row in &report.rows {
        *counts.entry(row.action.as_str()).or_default() += 1;
        let action = match row.action.as_str() {
            "failed" | "blocked" => style.red(&row.action),
            "cancelled" | "waiting" | "missed" => style.yellow(&row.action),
            "created" | "updated" => style.green(&row.action),
            other => style.dim(other),
        };
        let link = row
            .link
            .as_deref()
            .map(|l| format!("  {l}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<44} {action:<10} {}{link}",
            row.id.to_string(),
            shown.text(&row.id.to_string(), Some(&row.action), &row.detail)
        );
    }
    let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(out, "{}.", counts.join(", "));
    out
}

/// `cycle status`: per site, each step's status, its outcome for people
/// (or what to run for a person's step) and its link.
pub fn status(doc: &StatusDoc, style: Style, shown: &Shown) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("{} ({})", doc.label, doc.tag))
    );
    for group in &doc.groups {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", style.bold(&group.display_name));
        for r in &group.steps {
            let status = r.entry.status;
            let painted = match status {
                JournalStatus::Finished => style.green(status.as_str()),
                JournalStatus::Failed => style.red(status.as_str()),
                JournalStatus::Running | JournalStatus::Cancelled => style.yellow(status.as_str()),
                JournalStatus::Pending | JournalStatus::Unset => style.dim(status.as_str()),
            };
            let what = match (&r.entry.outcome, &r.entry.error) {
                (_, Some(e)) if status == JournalStatus::Failed => e.clone(),
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
    out
}

/// `cycle check`'s findings as aligned text lines, each followed by what to
/// do, every line after `indent`.
pub fn check_lines(findings: &[Finding], indent: &str) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{indent}{:<8} {:<16} {}",
            super::severity(f.status),
            f.check,
            f.found
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "{indent}{:<25} → {fix}", "");
        }
    }
    out
}

/// `cycle check`'s findings of the cycle `label` (`Cycle 44, Revision 3`),
/// then the verdict.
pub fn check(label: &str, findings: &[Finding]) -> String {
    let mut out = check_lines(findings, "");
    let _ = writeln!(out, "\n{label}: {}", crate::plan::check::verdict(findings));
    out
}

/// `cycle doctor`'s findings for `sites`: a heading, then [`preflight`].
pub fn doctor(
    id: CycleId,
    sites: &[&str],
    findings: &[Finding],
    style: Style,
    verbose: bool,
) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}",
        style.bold(&format!(
            "cycle doctor: {} ({}) for {}",
            id.label(),
            id.full_tag(),
            sites.join(", ")
        ))
    );
    let _ = writeln!(text);
    text.push_str(&preflight(findings, style, verbose));
    text
}

fn mark(status: Status, style: Style) -> String {
    match status {
        Status::Ok => style.green("✓"),
        Status::Fail => style.red("✗"),
        Status::Warn => style.yellow("!"),
        Status::Skipped => style.dim("-"),
    }
}

/// The findings as text, grouped by site (what all sites share first) and
/// service, one line per check and the fix under each failure or warning.
/// `verbose` shows passed checks too; otherwise a service whose checks all
/// passed is one line.
pub fn preflight(findings: &[Finding], style: Style, verbose: bool) -> String {
    let mut out = String::new();
    let mut sites: Vec<Option<&str>> = Vec::new();
    for f in findings {
        if !sites.contains(&f.site.as_deref()) {
            sites.push(f.site.as_deref());
        }
    }
    sites.sort_by_key(|s| s.is_some());
    for site in sites {
        let heading = site.unwrap_or("all sites");
        let _ = writeln!(out, "{}", style.bold(heading));
        for service in Service::ALL {
            let group: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.site.as_deref() == site && f.service == Some(service))
                .collect();
            if group.is_empty() {
                continue;
            }
            let counts = Counts::of(group.iter().copied());
            if !verbose && counts.ok == group.len() {
                let _ = writeln!(
                    out,
                    "  {} {}: {} check{} passed",
                    mark(Status::Ok, style),
                    service.label(),
                    counts.ok,
                    if counts.ok == 1 { "" } else { "s" }
                );
                continue;
            }
            let _ = writeln!(out, "  {}", service.label());
            for f in group {
                if f.status == Status::Ok && !verbose {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "    {} {}: {}",
                    mark(f.status, style),
                    f.check,
                    f.found
                );
                if let Some(fix) = &f.fix {
                    let _ = writeln!(out, "      {} {fix}", style.dim("fix:"));
                }
            }
            if !verbose && counts.ok > 0 {
                let _ = writeln!(
                    out,
                    "    {} {} other check{} passed",
                    mark(Status::Ok, style),
                    counts.ok,
                    if counts.ok == 1 { "" } else { "s" }
                );
            }
        }
    }
    let counts = Counts::of(findings);
    let _ = writeln!(
        out,
        "{} check{}: {} ok, {} failed, {} warning{}, {} skipped.",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        counts.ok,
        counts.fail,
        counts.warn,
        if counts.warn == 1 { "" } else { "s" },
        counts.skipped
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::check::Check;
    use crate::plan::preflight::Preflight;

    #[test]
    fn text_groups_by_site_and_service_and_names_the_fix() {
        let findings = vec![
            Finding::ok(Service::Jira, None, "credentials", "logged in as Bot"),
            Finding::ok(Service::Slack, Some("summit"), "channel #a", "member"),
            Finding::fail(
                Service::Slack,
                Some("summit"),
                "channel #b",
                "the bot is not a member",
                "invite @bot to #b",
            ),
            Finding::skipped(Service::Git, Some("tts"), "base branch", "offline"),
        ];
        let shown = preflight(&findings, Style::plain(), false);
        assert_eq!(
            shown,
            "all sites\n  ✓ Jira: 1 check passed\nsummit\n  Slack\n    ✗ channel #b: the bot is \
             not a member\n      fix: invite @bot to #b\n    ✓ 1 other check passed\ntts\n  git\n    \
             - base branch: offline\n4 checks: 2 ok, 1 failed, 0 warnings, 1 skipped.\n"
        );
        let verbose = preflight(&findings, Style::plain(), true);
        assert!(verbose.contains("    ✓ channel #a: member\n"), "{verbose}");
        assert!(
            verbose.contains("    ✓ credentials: logged in as Bot\n"),
            "{verbose}"
        );
        let checked = Preflight::checked(findings);
        assert!(checked.failed());
        assert_eq!(
            Counts::of(&checked.findings),
            Counts {
                ok: 2,
                fail: 1,
                warn: 0,
                skipped: 1
            }
        );
    }

    #[test]
    fn check_text_ends_with_the_verdict() {
        let f = [Finding::check(
            Status::Fail,
            Check::Conda,
            "ts-x",
            "ts-x 1 is missing",
            "upload it",
        )];
        let text = check("Cycle 44", &f);
        assert!(
            text.contains("error    conda            ts-x 1 is missing\n"),
            "{text}"
        );
        assert!(text.contains("→ upload it\n"), "{text}");
        assert!(
            text.ends_with("\nCycle 44: not ready (1 to fix)\n"),
            "{text}"
        );
    }
}
