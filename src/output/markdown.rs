//! The plan and the pre-flight findings as GitHub-flavoured Markdown, for a
//! CI job summary (`$GITHUB_STEP_SUMMARY`) or a pull-request comment: a
//! summary line, the findings first, then one foldable `<details>` section
//! per site with a table of its steps and the config edits' diffs in fenced
//! `diff` blocks. It stays under GitHub's comment limit: diffs are cut, with
//! a note saying how to see all of it. Text from files and services is
//! escaped, so it can neither break the table nor inject HTML. Pure.

use std::fmt::Write;

use super::StatusDoc;
use super::shown::Shown;
use crate::engine::journal::Status as JournalStatus;
use crate::model::cycle_id::CycleId;
use crate::plan::check;
use crate::plan::finding::{Counts, Finding, Service, Status};
use crate::plan::{Action, Change, Plan, Step};

/// GitHub's limit on an issue comment's body, in characters.
pub const COMMENT_LIMIT: usize = 65_536;
/// What the rendering aims below, leaving room for a marker and a footer.
const BUDGET: usize = 60_000;
/// Diff lines shown per file before any cut for size.
const DIFF_LINES: usize = 400;

/// The plan as Markdown. `rerun` is the command that shows all of it (the
/// note under a cut diff names it).
pub fn plan(plan: &Plan, rerun: &str) -> String {
    let mut lines = DIFF_LINES;
    loop {
        let text = render(plan, rerun, Some(lines));
        if text.chars().count() <= BUDGET || lines == 0 {
            if text.chars().count() <= BUDGET {
                return text;
            }
            // Even without diffs: the tables themselves are cut.
            return cut(&render(plan, rerun, Some(0)), rerun);
        }
        lines /= 4;
    }
}

/// `cycle doctor`'s findings for `sites` as Markdown: a heading, then
/// [`preflight`].
pub fn doctor(id: CycleId, sites: &[&str], findings: &[Finding]) -> String {
    let mut text = format!(
        "### `cycle doctor`: {} ({}) for {}\n\n",
        escape(&id.label()),
        id.full_tag(),
        escape(&sites.join(", "))
    );
    text.push_str(&preflight(findings));
    text
}

/// The pre-flight findings (or `cycle doctor`'s) as Markdown: counts, then
/// each failure and warning with its fix, then the passed checks folded.
pub fn preflight(findings: &[Finding]) -> String {
    let mut out = String::new();
    let counts = Counts::of(findings.iter());
    let _ = writeln!(
        out,
        "{} checks: {} ok, {} failed, {} warnings, {} skipped.\n",
        findings.len(),
        counts.ok,
        counts.fail,
        counts.warn,
        counts.skipped
    );
    let notable: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
        .collect();
    if !notable.is_empty() {
        out.push_str("| | site | service | check | found | fix |\n|---|---|---|---|---|---|\n");
        for f in notable {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                mark(f.status),
                cell(f.site.as_deref().unwrap_or("all sites")),
                f.service.map_or("", Service::label),
                cell(&f.check),
                cell(&f.found),
                cell(f.fix.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    let rest: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Ok | Status::Skipped))
        .collect();
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} passed or skipped</summary>\n",
            rest.len()
        );
        for f in rest {
            let _ = writeln!(
                out,
                "- {} {} · {} · {}: {}",
                mark(f.status),
                escape(f.site.as_deref().unwrap_or("all sites")),
                f.service.map_or("", Service::label),
                escape(&f.check),
                escape(&f.found)
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}

fn render(plan: &Plan, rerun: &str, diff_lines: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### `cycle` plan: {} ({})\n",
        escape(&plan.label),
        escape(&plan.tag)
    );
    let sites = plan.sites.len();
    let _ = writeln!(
        out,
        "**{}, across {sites} site{}.**\n",
        plan.counts().phrase(),
        if sites == 1 { "" } else { "s" }
    );
    if plan.preflight.checked {
        out.push_str("#### Pre-flight checks\n\n");
        out.push_str(&preflight(&plan.preflight.findings));
        out.push('\n');
    } else if let Some(reason) = &plan.preflight.skipped {
        let _ = writeln!(out, "Pre-flight checks skipped: {}\n", escape(reason));
    }
    if !plan.checks.is_empty() {
        // Folded, errors first, at most CHECK_ROWS rows: one cause can make
        // a hundred findings, and the sites' sections must fit.
        let mut checks: Vec<&Finding> = plan.checks.iter().collect();
        checks.sort_by_key(|f| f.status != Status::Fail);
        let errors = checks.iter().filter(|f| f.status == Status::Fail).count();
        let _ = writeln!(
            out,
            "#### Pre-flight findings (cycle check)\n\n<details><summary>{} finding{}, {errors} error{}</summary>\n",
            checks.len(),
            if checks.len() == 1 { "" } else { "s" },
            if errors == 1 { "" } else { "s" }
        );
        let all = checks.len();
        check_table(&mut out, checks.into_iter().take(CHECK_ROWS));
        if all > CHECK_ROWS {
            let _ = writeln!(
                out,
                "\n_… {} more; `cycle check --cycle {}` lists them all._",
                all - CHECK_ROWS,
                plan.cycle
            );
        }
        out.push_str("\n</details>\n\n");
    }
    for site in &plan.sites {
        let to_apply = site.steps.iter().filter(|s| s.is_pending()).count();
        let heading = format!(
            "<b>{}</b> ({}, {}, branch <code>{}</code>): {to_apply} to apply",
            escape(&site.display_name),
            escape(&site.site),
            escape(site.ticket.as_deref().unwrap_or("ticket not yet known")),
            escape(&site.branch)
        );
        section(&mut out, &heading, &site.steps, rerun, diff_lines);
    }
    if !plan.cycle_steps.is_empty() {
        let to_apply = plan.cycle_steps.iter().filter(|s| s.is_pending()).count();
        let heading = format!(
            "<b>{} (all sites)</b>: {to_apply} to apply",
            escape(&plan.label)
        );
        section(&mut out, &heading, &plan.cycle_steps, rerun, diff_lines);
    }
    out
}

/// One foldable section: the steps' table, then the diffs.
fn section(
    out: &mut String,
    heading: &str,
    steps: &[Step],
    rerun: &str,
    diff_lines: Option<usize>,
) {
    let _ = writeln!(out, "<details><summary>{heading}</summary>\n");
    out.push_str("| # | step | status | observes | would change |\n|---|---|---|---|---|\n");
    for (i, step) in steps.iter().enumerate() {
        let changes: Vec<String> = step
            .changes
            .iter()
            .filter(|c| !matches!(c, Change::FileDiff { .. }))
            .filter_map(super::text::change_headline)
            .map(|c| escape(&c))
            .collect();
        let mut would = changes.join("<br>");
        if would.is_empty() {
            would = step
                .notes
                .iter()
                .map(|n| escape(n))
                .collect::<Vec<_>>()
                .join("<br>");
        }
        let _ = writeln!(
            out,
            "| {} | {}<br><sub><code>{}</code></sub> | {} | {} | {} |",
            i + 1,
            escape(&step.title),
            escape(&step.id.to_string()),
            step_status(step),
            step.observe
                .iter()
                .map(|o| escape(o))
                .collect::<Vec<_>>()
                .join("<br>"),
            would
        );
    }
    out.push('\n');
    for step in steps {
        for change in &step.changes {
            if let Change::FileDiff { repo, path, diff } = change {
                let _ = writeln!(out, "`{}`: `{}`\n", tick(repo), tick(path));
                fenced_diff(out, diff, rerun, diff_lines);
            }
        }
    }
    out.push_str("</details>\n\n");
}

/// A diff in a fence longer than any backtick run in it, cut to `lines`.
fn fenced_diff(out: &mut String, diff: &str, rerun: &str, lines: Option<usize>) {
    let all: Vec<&str> = diff.lines().collect();
    let shown = lines.map_or(all.len(), |n| n.min(all.len()));
    if shown == 0 && !all.is_empty() {
        let _ = writeln!(
            out,
            "_{} diff lines left out to stay under GitHub's comment limit; `{}` shows all of it._\n",
            all.len(),
            tick(rerun)
        );
        return;
    }
    let longest = diff.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{fence}diff");
    for line in &all[..shown] {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{fence}");
    if shown < all.len() {
        let _ = writeln!(
            out,
            "_… {} more lines cut to stay under GitHub's comment limit; `{}` shows all of it._",
            all.len() - shown,
            tick(rerun)
        );
    }
    out.push('\n');
}

/// A last resort for a plan whose tables alone exceed the budget: cut at a
/// line's end, every `<details>` left open closed.
fn cut(text: &str, rerun: &str) -> String {
    let mut out: String = text.chars().take(BUDGET).collect();
    if let Some(end) = out.rfind('\n') {
        out.truncate(end + 1);
    }
    let open = out.matches("<details>").count();
    let closed = out.matches("</details>").count();
    for _ in closed..open {
        out.push_str("\n</details>\n");
    }
    let _ = write!(
        out,
        "\n\n_The plan is cut here to stay under GitHub's comment limit; `{}` shows all of it._\n",
        tick(rerun)
    );
    out
}

/// At most this many of `cycle check`'s findings are listed in a plan.
const CHECK_ROWS: usize = 30;

fn step_status(step: &Step) -> String {
    if step.kind.is_human() {
        return if step.action == Action::None {
            "✅ done".to_string()
        } else {
            "🧑 manual".to_string()
        };
    }
    if !step.selected {
        return "➖ not selected".to_string();
    }
    match step.action {
        Action::Create => "➕ create".to_string(),
        Action::Update => "✏️ update".to_string(),
        Action::None => "✅ up to date".to_string(),
        Action::Manual => "🧑 manual".to_string(),
        Action::Waiting => match &step.waiting_on {
            Some(wait) => format!("⏳ {}", escape(&wait.describe())),
            None => "⏳ waiting".to_string(),
        },
        Action::Missed => "⌛ missed".to_string(),
    }
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "✅",
        Status::Fail => "❌",
        Status::Warn => "⚠️",
        Status::Skipped => "➖",
    }
}

/// `cycle status` as Markdown: one table per site.
pub fn status(doc: &StatusDoc, shown: &Shown) -> String {
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
                (_, Some(e)) if r.entry.status == JournalStatus::Failed => escape(e),
                (Some(o), _) => escape(&shown.text(&r.id, None, &o.summary())),
                (None, _) => escape(&r.title),
            };
            let what = match &r.link {
                Some(link) => format!("{what} ([link]({}))", destination(link)),
                None => what,
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {what} |",
                tick(&r.id),
                r.entry.status.as_str()
            );
        }
        out.push('\n');
    }
    out
}

/// `cycle check`'s findings of the cycle `label`: the verdict as a heading,
/// then a table of the findings.
pub fn check(label: &str, findings: &[Finding]) -> String {
    let mut out = format!("## {}: {}\n\n", escape(label), check::verdict(findings));
    check_table(&mut out, findings.iter());
    out
}

/// A table of `cycle check`'s findings, one row each.
fn check_table<'a>(out: &mut String, findings: impl Iterator<Item = &'a Finding>) {
    out.push_str("| severity | check | subject | finding | what to do |\n|---|---|---|---|---|\n");
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            super::severity(f.status),
            f.check,
            cell(f.subject()),
            cell(&f.found),
            cell(f.fix.as_deref().unwrap_or(""))
        );
    }
}

/// Text for Markdown and inline HTML: `&`, `<`, `>` as entities, the
/// characters that would start Markdown syntax or end a table cell
/// backslash-escaped, and an `@` before a word character (a mention of a
/// person, `@org/team` of a team) followed by a zero-width joiner, so text
/// from a service notifies no one.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut after_word = false;
    while let Some(c) = chars.next() {
        let word = c.is_alphanumeric() || c == '_';
        match c {
            // GitHub links `@name` after a non-word character only (an
            // e-mail address is not a mention).
            '@' if !after_word
                && chars
                    .peek()
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_') =>
            {
                out.push_str("@\u{200d}");
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '*' | '_' | '`' | '[' | ']' | '#' | '~' | '\\' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        after_word = word;
    }
    out
}

/// A table cell: [`escape`]d.
fn cell(text: &str) -> String {
    escape(text)
}

/// A link's destination: a `)` would end it.
fn destination(url: &str) -> String {
    url.replace(')', "%29")
}

/// Text inside single backticks: a backtick would end the span.
fn tick(text: &str) -> String {
    text.replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::steps::registry::build;
    use crate::model::site::LoadedSite;
    use crate::plan::Observed;
    use crate::render::Templates;

    fn root() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The shipped three sites' plan, with a config diff of `lines` lines
    /// added to the summit's first step.
    fn three_site_plan(lines: usize) -> Plan {
        let sites = crate::model::site::load_all(&root().join("sites")).unwrap();
        let release = crate::model::release::load(&root().join("releases/c0044.000.yaml")).unwrap();
        let templates = Templates::load(&root().join("templates")).unwrap();
        let chosen: Vec<&LoadedSite> = sites.iter().collect();
        let mut plan = build(&release, &chosen, &sites, &templates, &Observed::default()).unwrap();
        let diff: String = (0..lines)
            .map(|i| format!("-  revision: {i}\n+  revision: 0\n"))
            .collect();
        let summit = plan.sites.iter_mut().find(|s| s.site == "summit").unwrap();
        summit.steps[0].changes.push(Change::FileDiff {
            repo: "lsst-sqre/phalanx".into(),
            path: "applications/big/values-summit.yaml".into(),
            diff: format!("--- a/x\n+++ b/x\n@@ -1 +1 @@\n{diff}"),
        });
        plan
    }

    #[test]
    fn a_three_site_plan_has_the_summary_a_section_per_site_and_its_diffs() {
        let plan = three_site_plan(3);
        let text = super::plan(&plan, "cycle prepare --all --cycle 44 --dry-run");
        assert!(
            text.starts_with("### `cycle` plan: Cycle 44 (c0044.000)\n"),
            "{text}"
        );
        let summary = text.lines().find(|l| l.starts_with("**")).unwrap();
        assert!(summary.ends_with("across 3 sites.**"), "{summary}");
        assert_eq!(
            text.matches("<details><summary><b>").count(),
            4,
            "3 sites and the cycle"
        );
        for site in ["Summit", "Tucson Test Stand", "Base Test Stand"] {
            assert!(text.contains(&format!("<b>{site}</b>")), "{site}");
        }
        assert!(text.contains("| # | step | status | observes | would change |"));
        assert!(text.contains("```diff\n--- a/x"), "{text}");
        assert!(text.contains("➕ create"));
        assert!(!text.contains("cut to stay under"));
    }

    #[test]
    fn a_diff_too_long_for_a_comment_is_cut_with_a_note() {
        let plan = three_site_plan(20_000);
        let rerun = "cycle prepare --all --cycle 44 --dry-run";
        let text = super::plan(&plan, rerun);
        assert!(text.chars().count() < COMMENT_LIMIT, "{}", text.len());
        assert!(
            text.contains(&format!(
                "cut to stay under GitHub's comment limit; `{rerun}` shows all of it"
            )),
            "{}",
            &text[text.len() - 2000..]
        );
        // Every site's section is still there.
        assert_eq!(text.matches("<details><summary><b>").count(), 4);
    }

    #[test]
    fn user_text_cannot_break_the_table_or_inject_html() {
        let text = escape("a | b <script>alert(1)</script> **bold** [x](y)\nnext");
        assert!(!text.contains("<script>"), "{text}");
        assert!(text.contains("\\|"));
        assert!(text.contains("\\*\\*bold\\*\\*"));
        assert!(text.contains("<br>next"));
    }

    #[test]
    fn mentions_ping_no_one_and_a_cut_closes_every_details() {
        let text = escape("ask @octocat and @lsst-sqre/release-team, mail rm@example.org; @ alone");
        assert!(!text.contains("@octocat"), "{text}");
        assert!(text.contains("@\u{200d}octocat"), "{text}");
        assert!(text.contains("@\u{200d}lsst-sqre/release-team"), "{text}");
        assert!(text.contains("@ alone"), "{text}");
        assert!(text.contains("rm@example.org"), "{text}");
        let long = format!(
            "<details><summary>a</summary>\n\n{}",
            "| row | row |\n".repeat(BUDGET / 8)
        );
        let out = cut(&long, "cycle prepare");
        assert_eq!(
            out.matches("<details>").count(),
            out.matches("</details>").count()
        );
        assert!(out.chars().count() < COMMENT_LIMIT);
        assert!(out.contains("</details>\n\n\n_The plan is cut here"));
    }

    #[test]
    fn a_diff_with_backticks_gets_a_longer_fence_and_a_cut_names_the_rerun() {
        let mut out = String::new();
        let diff = "+a ``` b\n-c\n d\n";
        fenced_diff(&mut out, diff, "cycle prepare --dry-run", Some(2));
        assert!(out.starts_with("````diff\n+a ``` b\n-c\n````\n"), "{out}");
        assert!(out.contains("1 more lines cut"), "{out}");
        assert!(out.contains("`cycle prepare --dry-run` shows all of it"));
    }

    #[test]
    fn check_findings_are_a_table_escaped_once() {
        use crate::plan::check::Check;
        let f = [Finding::check(
            Status::Fail,
            Check::Conda,
            "ts_x",
            "ts_x 1 is | missing <b>",
            "upload it",
        )];
        let text = check("Cycle 44", &f);
        assert!(
            text.starts_with("## Cycle 44: not ready (1 to fix)\n\n| severity |"),
            "{text}"
        );
        assert!(
            text.contains(
                "| error | conda | ts\\_x | ts\\_x 1 is \\| missing &lt;b&gt; | upload it |"
            ),
            "{text}"
        );
    }
}
