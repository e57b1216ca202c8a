//! Rendering of messages, pages and edit values with minijinja.
//!
//! Templates live in the templates directory; the extension of a template
//! decides how values are escaped when they are inserted: `.xhtml`
//! (Confluence storage format) escapes HTML, `.mrkdwn` (Slack) escapes
//! `&`, `<` and `>`, everything else is inserted as is. Undefined variables
//! are errors that name the template, the line and the expression.
//!
//! Templates may come from a pull request (the CI dry run), so they read
//! nothing but their context: [`Templates::load`] reads the regular files
//! of the templates directory only (a symbolic link is refused, wherever it
//! points), an `include`, `import`, `from` or `extends` may name only
//! another template of that set (no `..`, no path), and the environment
//! has no loader and no function reading the file system or the
//! environment variables.

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};

/// Template names the planner renders; each is a file in the templates directory.
pub mod names {
    /// Jira ticket summary (one line).
    pub const JIRA_SUMMARY: &str = "jira_summary.txt";
    /// Jira ticket description.
    pub const JIRA_DESCRIPTION: &str = "jira_description.txt";
    /// Commit message of the configuration edits.
    pub const COMMIT_MESSAGE: &str = "commit_message.txt";
    /// Pull request title (one line).
    pub const PR_TITLE: &str = "pr_title.txt";
    /// Pull request body (GitHub Markdown).
    pub const PR_BODY: &str = "pr_body.md";
    /// Message posted in the review channel when a PR is ready.
    pub const PR_READY: &str = "pr_ready.mrkdwn";
    /// Confluence page title (one line).
    pub const CONFLUENCE_TITLE: &str = "confluence_title.txt";
    /// Confluence page body (storage-format XHTML).
    pub const CONFLUENCE_PAGE: &str = "confluence_page.xhtml";
    /// Slack announcement the calendar day before.
    pub const SLACK_DAY_BEFORE: &str = "slack_day_before.mrkdwn";
    /// Slack reminder one hour before.
    pub const SLACK_HOUR_BEFORE: &str = "slack_hour_before.mrkdwn";
    /// Slack announcement as the deployment starts.
    pub const SLACK_START: &str = "slack_start.mrkdwn";
    /// Calendar ticket summary (one line).
    pub const CALENDAR_SUMMARY: &str = "calendar_summary.txt";
    /// Calendar ticket description.
    pub const CALENDAR_DESCRIPTION: &str = "calendar_description.txt";
    /// Message posted in the site channel once the cycle page is ready
    /// (all base artifacts built).
    pub const PAGE_READY: &str = "page_ready.mrkdwn";

    /// `cycle revert`: the revert ticket's summary (one line).
    pub const REVERT_SUMMARY: &str = "revert_summary.txt";
    /// `cycle revert`: the revert ticket's description.
    pub const REVERT_DESCRIPTION: &str = "revert_description.txt";
    /// `cycle revert`: the commit message.
    pub const REVERT_COMMIT_MESSAGE: &str = "revert_commit_message.txt";
    /// `cycle revert`: the pull request's title (one line).
    pub const REVERT_PR_TITLE: &str = "revert_pr_title.txt";
    /// `cycle revert`: the pull request's body.
    pub const REVERT_PR_BODY: &str = "revert_pr_body.md";
    /// `cycle revert`: the notice in the site's channel.
    pub const REVERT_NOTICE: &str = "revert_notice.mrkdwn";
    /// `cycle revert`: its section on the reverted cycle's page.
    pub const REVERT_PAGE_LINE: &str = "revert_page_line.xhtml";
}

/// A template that failed to load or render, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct RenderError {
    /// `templates/name:line`, or the template name alone.
    pub location: String,
    /// What went wrong.
    pub message: String,
}

/// The template set of a templates directory.
pub struct Templates {
    env: Environment<'static>,
    dir: PathBuf,
}

impl Templates {
    /// Reads every regular file of `dir` as a template (so rendering itself
    /// does no I/O); a syntax error is reported at its file and line. A
    /// symbolic link, and a template that includes or imports anything but
    /// another template of the set by its plain name, are refused with an
    /// error naming the template.
    pub fn load(dir: &Path) -> Result<Self, RenderError> {
        let unreadable = |e: std::io::Error| RenderError {
            location: dir.display().to_string(),
            message: format!(
                "cannot read templates directory: {e} (set --templates-dir or CYCLE_TEMPLATES_DIR)"
            ),
        };
        let mut env = environment();
        let mut files: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.path(), e.file_type().ok()?)))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sources = Vec::new();
        for (path, kind) in files {
            if kind.is_symlink() {
                return Err(RenderError {
                    location: path.display().to_string(),
                    message: "is a symbolic link: templates are read from the templates \
                              directory only; copy the file there instead"
                        .into(),
                });
            }
            if !kind.is_file() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let source = std::fs::read_to_string(&path).map_err(|e| RenderError {
                location: path.display().to_string(),
                message: format!("cannot read template: {e}"),
            })?;
            sources.push((path.clone(), name.to_string(), source));
        }
        let names: Vec<&str> = sources.iter().map(|(_, n, _)| n.as_str()).collect();
        for (path, _, source) in &sources {
            check_references(path, source, &names)?;
        }
        for (path, name, source) in sources {
            env.add_template_owned(name, source)
                .map_err(|e| render_error(&path.display().to_string(), &e))?;
        }
        Ok(Self {
            env,
            dir: dir.to_path_buf(),
        })
    }

    /// Names of the loaded templates, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.env.templates().map(|(n, _)| n.to_string()).collect();
        names.sort();
        names
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        tmpl.render(ctx).map_err(|e| self.error(name, &e))
    }

    /// Renders a one-line template (summary, title), trimmed.
    pub fn render_line(&self, name: &str, ctx: &Value) -> Result<String, RenderError> {
        let text = self.render(name, ctx)?;
        let line = text.trim();
        if line.contains('\n') {
            return Err(RenderError {
                location: self.dir.join(name).display().to_string(),
                message: "must render to a single line".into(),
            });
        }
        Ok(line.to_string())
    }

    /// The directory templates are read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn error(&self, name: &str, e: &Error) -> RenderError {
        let file = self.dir.join(e.name().unwrap_or(name));
        render_error(&file.display().to_string(), e)
    }
}

/// Refuses a template whose `include`, `import`, `from` or `extends` names
/// anything but another template of the set (`names`) by its plain name.
/// A name computed at render time can only find a loaded template (the
/// environment has no loader).
fn check_references(path: &Path, source: &str, names: &[&str]) -> Result<(), RenderError> {
    for (index, line) in source.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find("{%") {
            let tag = &rest[open + 2..];
            let end = tag.find("%}").unwrap_or(tag.len());
            let body = tag[..end].trim_start_matches(['-', '+']).trim_start();
            let keyword = body.split_whitespace().next().unwrap_or_default();
            if matches!(keyword, "include" | "import" | "from" | "extends") {
                for name in quoted(body) {
                    let plain = !name.contains(['/', '\\']) && name != ".." && name != ".";
                    if !plain || !names.contains(&name.as_str()) {
                        return Err(RenderError {
                            location: format!("{}:{}", path.display(), index + 1),
                            message: format!(
                                "`{keyword}` of {name:?}: a template may only {keyword} another \
                                 template of the templates directory, by its file name"
                            ),
                        });
                    }
                }
            }
            rest = &tag[end.min(tag.len())..];
        }
    }
    Ok(())
}

/// The string literals (single or double quoted) of a tag's body.
fn quoted(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let literal: String = chars.by_ref().take_while(|&d| d != c).collect();
            out.push(literal);
        }
    }
    out
}

fn render_error(file: &str, e: &Error) -> RenderError {
    let location = match e.line() {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    };
    let message = match e.kind() {
        ErrorKind::TemplateNotFound => "template not found".to_string(),
        ErrorKind::UndefinedError => {
            let expr = e
                .template_source()
                .zip(e.range())
                .and_then(|(src, r)| {
                    // minijinja points at the failing attribute; widen the
                    // range back to the start of the whole dotted expression.
                    let start = src.get(..r.start)?.trim_end_matches(|c: char| {
                        c.is_ascii_alphanumeric() || c == '_' || c == '.'
                    });
                    src.get(start.len()..r.end)
                })
                .map(|s| format!(" `{s}`"))
                .unwrap_or_default();
            format!("undefined variable{expr}")
        }
        _ => match e.detail() {
            Some(detail) => format!("{}: {detail}", e.kind()),
            None => e.kind().to_string(),
        },
    };
    RenderError { location, message }
}

/// The environment shared by file templates and edit values.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Keep each template's source in release builds too (minijinja's
    // default there is off): an undefined variable's error quotes the
    // expression from it.
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".xhtml") {
            AutoEscape::Html
        } else if name.ends_with(".mrkdwn") {
            AutoEscape::Custom("mrkdwn")
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(format_value);
    env.add_filter("pad3", |n: u32| format!("{n:03}"));
    env.add_filter("pad4", |n: u32| format!("{n:04}"));
    env.add_filter("mrkdwn", |s: String| {
        Value::from_safe_string(escape_mrkdwn(&s))
    });
    env
}

fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() == AutoEscape::Custom("mrkdwn") && !value.is_safe() {
        if value.is_none() {
            return Ok(());
        }
        return out
            .write_str(&escape_mrkdwn(&value.to_string()))
            .map_err(Error::from);
    }
    if state.auto_escape() == AutoEscape::Html && !value.is_safe() && !value.is_none() {
        // XML escaping for the storage format: minijinja's HTML escaping
        // would also turn every `/` of a link into `&#x2f;`.
        return out
            .write_str(&escape_xml(&value.to_string()))
            .map_err(Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

/// Escapes text for XML (Confluence storage format): `&`, `<`, `>`, `"`, `'`.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The zero-width space that keeps a formatting character of inserted text
/// literal in Slack mrkdwn.
pub const MRKDWN_GUARD: char = '\u{200B}';

/// Escapes text for Slack mrkdwn. `&`, `<` and `>` are control characters
/// there and become entities (so `<!channel>` never pings and `<url>` never
/// links). The formatting characters `*`, `_`, `~` and `` ` `` have no
/// escape: Slack formats a span only when its delimiters touch the text at a
/// word boundary, so each one is fenced with zero-width spaces
/// ([`MRKDWN_GUARD`]) and `*bold*` shows as written, not bold.
pub fn escape_mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(entity) = mrkdwn_entity(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '*' | '_' | '~' | '`' => {
                out.push(MRKDWN_GUARD);
                out.push(c);
                out.push(MRKDWN_GUARD);
            }
            c => out.push(c),
        }
    }
    out
}

/// The entity of a mrkdwn control character (`&`, `<`, `>`).
fn mrkdwn_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// A Slack mrkdwn link `<url|text>`: in the URL only `&`, `<`, `>` become
/// entities (and `|` is percent-encoded), so formatting characters such as
/// the `_` of `ts_config_ocs` stay as they are; the text is escaped as any
/// inserted text ([`escape_mrkdwn`]). Templates insert it as a safe value.
pub fn mrkdwn_link(url: &str, text: &str) -> String {
    let mut out = String::with_capacity(url.len() + text.len() + 3);
    out.push('<');
    for c in url.chars() {
        match (mrkdwn_entity(c), c) {
            (Some(entity), _) => out.push_str(entity),
            (None, '|') => out.push_str("%7C"),
            (None, c) => out.push(c),
        }
    }
    out.push('|');
    out.push_str(&escape_mrkdwn(text));
    out.push('>');
    out
}

/// Renders an edit value template (`c{{ cycle | pad4 }}`) with `ctx`.
pub fn render_value(template: &str, ctx: &Value) -> Result<String, String> {
    let env = environment();
    env.render_str(template, ctx)
        .map_err(|e| render_error("value", &e).message)
}

/// Checks an edit value template of `site` against a sample cycle, so a typo
/// is found when the site is loaded rather than in the middle of a run.
pub fn check_value_template(template: &str, site: &crate::model::site::Site) -> Result<(), String> {
    let sample = crate::model::context::value_context(
        crate::model::cycle_id::CycleId {
            cycle: 1,
            revision: 0,
        },
        site,
    );
    render_value(template, &sample).map(|_| ())
}

/// Loads a site file ([`crate::model::site::load`]) and checks that every
/// edit's value template renders for a cycle: an error names the file, line
/// and field (`repositories.0.edits.0.value`).
pub fn load_site(
    path: &std::path::Path,
) -> Result<crate::model::site::LoadedSite, crate::model::yamlfile::SourceError> {
    let loaded = crate::model::site::load(path)?;
    check_site_values(&loaded)?;
    Ok(loaded)
}

/// Every site of `dir` ([`crate::model::site::load_all`]), each edit's
/// value template checked as [`load_site`] does.
pub fn load_sites(dir: &std::path::Path) -> anyhow::Result<Vec<crate::model::site::LoadedSite>> {
    let sites = crate::model::site::load_all(dir)?;
    for loaded in &sites {
        check_site_values(loaded)?;
    }
    Ok(sites)
}

fn check_site_values(
    loaded: &crate::model::site::LoadedSite,
) -> Result<(), crate::model::yamlfile::SourceError> {
    for (i, repo) in loaded.site.repositories.iter().enumerate() {
        for (j, edit) in repo.edits.iter().enumerate() {
            if let Err(e) = check_value_template(edit.value(), &loaded.site) {
                return Err(loaded
                    .source
                    .error_at(&format!("repositories.{i}.edits.{j}.value"), e));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn a_site_value_template_that_does_not_render_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sites/summit.yaml"),
        )
        .unwrap();
        let text = shipped.replacen("value: \"{{ tag }}\"", "value: \"{{ tga }}\"", 1);
        let path = dir.path().join("summit.yaml");
        std::fs::write(&path, &text).unwrap();
        let err = load_site(&path).unwrap_err();
        assert_eq!(err.field, "repositories.0.edits.0.value", "{err}");
        assert!(err.message.contains("undefined variable"), "{err}");
        let line = text.lines().position(|l| l.contains("{{ tga }}")).unwrap() + 1;
        assert_eq!(err.line, line, "{err}");
        assert!(load_sites(dir.path()).is_err());
    }

    fn templates(files: &[(&str, &str)]) -> (tempfile::TempDir, Templates) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let t = Templates::load(dir.path()).unwrap();
        (dir, t)
    }

    #[test]
    fn templates_read_only_the_templates_directory() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("config");
        std::fs::write(&secret, "token = ghp_outside_file_secret\n").unwrap();
        // A symbolic link, wherever it points, is refused, naming it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "A").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, dir.path().join("jira_summary.txt")).unwrap();
            let err = Templates::load(dir.path()).err().unwrap();
            assert!(err.location.ends_with("jira_summary.txt"), "{err}");
            assert!(err.message.contains("symbolic link"), "{err}");
            assert!(!err.to_string().contains("ghp_outside"), "{err}");
        }
        // Includes and imports of anything but another template by name.
        for source in [
            "{% include \"../config\" %}",
            "{%- include '/etc/passwd' -%}",
            "x\n{% import \"sub/macros.txt\" as m %}",
            "{% from \"..\" import y %}",
            "{% extends \"missing.txt\" %}",
            "{% include [\"a.txt\", \"../../x\"] %}",
        ] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("a.txt"), "A").unwrap();
            std::fs::write(dir.path().join("b.txt"), source).unwrap();
            let err = Templates::load(dir.path()).err().unwrap();
            assert!(err.location.contains("b.txt:"), "{source}: {err}");
            assert!(err.message.contains("may only"), "{source}: {err}");
        }
        let (_d, t) = templates(&[("a.txt", "A{{ x }}"), ("b.txt", "{% include \"a.txt\" %}B")]);
        let ctx = minijinja::context! { x => 1 };
        assert_eq!(t.render("b.txt", &ctx).unwrap(), "A1B");
        // A name computed at render time finds loaded templates only.
        let (_d, t) = templates(&[("c.txt", "{% include p %}")]);
        let ctx = minijinja::context! { p => "../../../etc/hostname" };
        assert!(t.render("c.txt", &ctx).is_err());
        // Nothing reads the environment or files.
        let (_d, t) = templates(&[("d.txt", "{{ env }}{{ read_file('x') }}")]);
        assert!(t.render("d.txt", &minijinja::context! {}).is_err());
    }

    #[test]
    fn links_keep_the_url_whole_and_escape_the_text() {
        assert_eq!(
            mrkdwn_link(
                "https://github.com/lsst-ts/ts_config_ocs/pull/5",
                "ts_config_ocs#5"
            ),
            "<https://github.com/lsst-ts/ts_config_ocs/pull/5|ts\u{200B}_\u{200B}config\u{200B}_\u{200B}ocs#5>"
        );
        assert_eq!(
            mrkdwn_link("https://x/?a=1&b=<2>|", "x"),
            "<https://x/?a=1&amp;b=&lt;2&gt;%7C|x>"
        );
    }

    #[test]
    fn mrkdwn_templates_escape_user_text() {
        let (_d, t) = templates(&[("m.mrkdwn", "Change: {{ text }} *bold*")]);
        let out = t
            .render("m.mrkdwn", &context! { text => "a <!channel> & <b>" })
            .unwrap();
        assert_eq!(out, "Change: a &lt;!channel&gt; &amp; &lt;b&gt; *bold*");
        let (_d, t) = templates(&[("m.mrkdwn", "{{ text }}")]);
        let ctx = minijinja::context! { text => "*bold* _it_ ~x~ `c`" };
        assert_eq!(
            t.render("m.mrkdwn", &ctx).unwrap(),
            "\u{200B}*\u{200B}bold\u{200B}*\u{200B} \u{200B}_\u{200B}it\u{200B}_\u{200B} \
             \u{200B}~\u{200B}x\u{200B}~\u{200B} \u{200B}`\u{200B}c\u{200B}`\u{200B}"
        );
    }

    #[test]
    fn xhtml_templates_escape_user_text() {
        let (_d, t) = templates(&[("p.xhtml", "<p>{{ text }}</p>")]);
        let out = t
            .render("p.xhtml", &context! { text => "<script>&\"" })
            .unwrap();
        assert_eq!(out, "<p>&lt;script&gt;&amp;&quot;</p>");
    }

    #[test]
    fn undefined_variables_name_template_line_and_expression() {
        let (d, t) = templates(&[(
            "x.txt",
            "line one\n{{ release.nope }}\n{{ release.versions.nope }}\n",
        )]);
        let err = t
            .render("x.txt", &context! { release => context! { cycle => 1 } })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2: undefined variable `release.nope`",
                d.path().join("x.txt").display()
            )
        );
        let ctx = context! { release => context! { nope => 1, versions => context! {} } };
        let err = t.render("x.txt", &ctx).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(":3: undefined variable `release.versions.nope`"),
            "{err}"
        );
    }

    #[test]
    fn missing_template_is_an_error() {
        let (_d, t) = templates(&[]);
        let err = t.render("nope.txt", &context! {}).unwrap_err();
        assert!(
            err.to_string().ends_with("nope.txt: template not found"),
            "{err}"
        );
    }

    #[test]
    fn value_templates_pad_and_fail_on_typos() {
        let ctx = context! { cycle => 44, revision => 3 };
        assert_eq!(render_value("c{{ cycle | pad4 }}", &ctx).unwrap(), "c0044");
        assert_eq!(
            render_value(".{{ revision | pad3 }}", &ctx).unwrap(),
            ".003"
        );
        assert!(render_value("{{ cycel }}", &ctx).is_err());
    }

    #[test]
    fn syntax_errors_are_found_at_load() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.txt"), "ok\n{% if %}\n").unwrap();
        let err = Templates::load(dir.path()).err().unwrap();
        assert!(err.location.ends_with("bad.txt:2"), "{err}");
    }

    #[test]
    fn one_line_templates_must_stay_one_line() {
        let (_d, t) = templates(&[("a.txt", "one\ntwo\n"), ("b.txt", "  one  \n")]);
        assert!(t.render_line("a.txt", &context! {}).is_err());
        assert_eq!(t.render_line("b.txt", &context! {}).unwrap(), "one");
    }
}
