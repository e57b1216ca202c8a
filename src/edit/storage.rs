//! Owned sections of a Confluence page in storage format (pure).
//!
//! `cycle` writes the cycle page but people edit it too. The tool therefore
//! owns only its own *sections*, each delimited by a pair of anchor macros
//! whose names carry a `cycle:` id:
//!
//! ```text
//! <p><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">cycle:schedule:begin:1f0c…</ac:parameter></ac:structured-macro></p>
//! <h2>Schedule</h2> …
//! <p><ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">cycle:schedule:end</ac:parameter></ac:structured-macro></p>
//! ```
//!
//! The anchor macro is a built-in macro of both Confluence Cloud and Data
//! Center: it shows as a small anchor icon while editing, renders as
//! nothing, and pages saved by the editors store it with its name parameter
//! as written, plus attributes Confluence adds to the macro element
//! (`ac:macro-id`, `ac:schema-version`, `ac:local-id`, `data-layout`) or to
//! the paragraph around it. The markers are recognised whatever the
//! attributes, and the paragraph a marker sits in belongs to the section
//! (text typed next to an anchor is replaced with the section).
//!
//! A section id is lower-case ASCII letters, digits and `-` (`schedule`,
//! `revision-3`). The begin marker written by the tool ends in a fingerprint
//! of the section's content (FNV-1a, 64 bits, hex) so a rerun recognises
//! its own section even after Confluence has normalised the markup (added
//! attributes, wrapped table cells in paragraphs): a section is unchanged
//! when its fingerprint or its exact content matches what would be written.
//!
//! [`merge`] replaces the owned sections of a live page in place and leaves
//! every byte outside them as it was. A section the page lacks is inserted
//! after the nearest preceding section of the desired body that the page
//! has (before the nearest following one when none precedes it, at the end
//! when the page has none of them), so sections keep the template's order.
//! Sections on the page that the desired body does not mention (earlier
//! revisions, for instance) are left alone. Markers that do not pair up are
//! an error rather than a guess: a missing end marker would otherwise make
//! the tool add a second copy of the section.
//!
//! Anchor-looking text inside CDATA sections (code blocks) and XML comments
//! is ignored.

use std::fmt::Write as _;
use std::ops::Range;

/// Prefix of every marker anchor name.
pub const MARKER_PREFIX: &str = "cycle:";

/// Why a body's owned sections could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    /// A begin marker without its end marker before the next section (or
    /// the end of the page).
    #[error(
        "section `{id}` has a begin marker (anchor `cycle:{id}:begin`) but no end marker \
         (anchor `cycle:{id}:end`) before the next section or the end of the page"
    )]
    Unterminated {
        /// Section id.
        id: String,
    },
    /// An end marker without a begin marker before it.
    #[error(
        "section `{id}` has an end marker (anchor `cycle:{id}:end`) but no begin marker \
         (anchor `cycle:{id}:begin`) before it"
    )]
    UnexpectedEnd {
        /// Section id.
        id: String,
    },
    /// The same section twice.
    #[error("section `{id}` appears twice; remove one copy (both of its anchors)")]
    Duplicate {
        /// Section id.
        id: String,
    },
    /// A marker whose name is not `cycle:<id>:begin[:<fingerprint>]` or `cycle:<id>:end`.
    #[error(
        "anchor `{name}` is not a cycle marker (expected cycle:<id>:begin or cycle:<id>:end, \
         ids of a-z, 0-9 and -)"
    )]
    BadMarker {
        /// The anchor name.
        name: String,
    },
    /// The desired body has content that no section owns.
    #[error("the rendered page has content outside its owned sections: {excerpt:?}")]
    OutsideSections {
        /// The start of the stray content.
        excerpt: String,
    },
}

/// A section as the tool renders it: its id and its content (the markup
/// between its markers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedSection {
    /// Section id, e.g. `versions` or `revision-3`.
    pub id: String,
    /// Storage-format markup between the markers.
    pub content: String,
}

impl OwnedSection {
    /// The fingerprint written into the begin marker.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.content)
    }

    /// The section with its markers, as written to a page.
    pub fn to_markup(&self) -> String {
        format!(
            "{}{}{}",
            begin_marker(&self.id, Some(&self.fingerprint())),
            self.content,
            end_marker(&self.id)
        )
    }
}

/// The sections a rendered page body consists of, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    sections: Vec<OwnedSection>,
}

impl Desired {
    /// Reads a rendered body: owned sections separated by whitespace only.
    pub fn parse(body: &str) -> Result<Self, SpliceError> {
        let found = sections(body)?;
        let mut at = 0;
        let mut out = Vec::with_capacity(found.len());
        for s in found {
            check_blank(&body[at..s.span.start])?;
            out.push(OwnedSection {
                id: s.id,
                content: body[s.content.clone()].to_string(),
            });
            at = s.span.end;
        }
        check_blank(&body[at..])?;
        Ok(Self { sections: out })
    }

    /// The sections in order.
    pub fn sections(&self) -> &[OwnedSection] {
        &self.sections
    }

    /// The body of a new page: every section with its markers, one per line.
    pub fn to_body(&self) -> String {
        self.sections
            .iter()
            .map(OwnedSection::to_markup)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What [`merge`] did to one section of the desired body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The page's section already holds this content.
    Unchanged,
    /// The page's section was replaced; a unified diff from the page's
    /// content to the new one.
    Replaced {
        /// Unified diff (`-` live, `+` desired).
        diff: String,
    },
    /// The page lacked the section; it was inserted.
    Added,
}

/// One section's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionChange {
    /// Section id.
    pub id: String,
    /// What happened to it.
    pub change: Change,
}

/// The result of [`merge`]: the new body and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The page body with the desired sections spliced in.
    pub body: String,
    /// Every desired section, in the desired order.
    pub sections: Vec<SectionChange>,
}

impl Merge {
    /// Whether no section needs writing.
    pub fn is_unchanged(&self) -> bool {
        self.sections.iter().all(|s| s.change == Change::Unchanged)
    }

    /// Ids of the sections that are replaced or added.
    pub fn changed_ids(&self) -> Vec<&str> {
        self.sections
            .iter()
            .filter(|s| s.change != Change::Unchanged)
            .map(|s| s.id.as_str())
            .collect()
    }

    /// A readable diff of the changed sections, for dry runs.
    pub fn diff(&self, desired: &Desired) -> String {
        let mut out = String::new();
        for (s, d) in self.sections.iter().zip(desired.sections()) {
            match &s.change {
                Change::Unchanged => {}
                Change::Replaced { diff } => {
                    let _ = writeln!(out, "section {} (replaced):", s.id);
                    out.push_str(diff);
                }
                Change::Added => {
                    let _ = writeln!(out, "section {} (added):", s.id);
                    for line in d.content.lines() {
                        let _ = writeln!(out, "+{line}");
                    }
                }
            }
        }
        out
    }
}

/// Splices the `desired` sections into the `live` page body. Text outside
/// the owned sections is kept byte for byte; see the module docs for where
/// missing sections go.
pub fn merge(live: &str, desired: &Desired) -> Result<Merge, SpliceError> {
    let on_page = sections(live)?;
    let find = |id: &str| on_page.iter().find(|s| s.id == id);
    // (position, replaced length, text): insertions sort before a
    // replacement starting at the same position.
    let mut edits: Vec<(usize, u8, usize, String)> = Vec::new();
    let mut changes = Vec::with_capacity(desired.sections.len());
    let mut appended = false;
    for (i, want) in desired.sections.iter().enumerate() {
        if let Some(have) = find(&want.id) {
            let content = &live[have.content.clone()];
            let same = content == want.content
                || have.fingerprint.as_deref() == Some(want.fingerprint().as_str());
            let change = if same {
                Change::Unchanged
            } else {
                edits.push((have.span.start, 1, have.span.len(), want.to_markup()));
                Change::Replaced {
                    diff: unified_diff(content, &want.content),
                }
            };
            changes.push(SectionChange {
                id: want.id.clone(),
                change,
            });
            continue;
        }
        let before = desired.sections[..i].iter().rev().find_map(|s| find(&s.id));
        let after = desired.sections[i + 1..].iter().find_map(|s| find(&s.id));
        let (pos, text) = match (before, after) {
            (Some(prev), _) => (prev.span.end, format!("\n{}", want.to_markup())),
            (None, Some(next)) => (next.span.start, format!("{}\n", want.to_markup())),
            (None, None) if !appended && (live.is_empty() || live.ends_with('\n')) => {
                (live.len(), want.to_markup())
            }
            (None, None) => (live.len(), format!("\n{}", want.to_markup())),
        };
        appended |= before.is_none() && after.is_none();
        edits.push((pos, 0, 0, text));
        changes.push(SectionChange {
            id: want.id.clone(),
            change: Change::Added,
        });
    }
    edits.sort_by_key(|(pos, kind, _, _)| (*pos, *kind));
    let mut body = String::with_capacity(live.len() + 256);
    let mut at = 0;
    for (pos, _, len, text) in edits {
        body.push_str(&live[at..pos]);
        body.push_str(&text);
        at = pos + len;
    }
    body.push_str(&live[at..]);
    Ok(Merge {
        body,
        sections: changes,
    })
}

/// The begin marker of section `id`, with the content's fingerprint when given.
pub fn begin_marker(id: &str, fingerprint: Option<&str>) -> String {
    match fingerprint {
        Some(fp) => anchor(&format!("{MARKER_PREFIX}{id}:begin:{fp}")),
        None => anchor(&format!("{MARKER_PREFIX}{id}:begin")),
    }
}

/// The end marker of section `id`.
pub fn end_marker(id: &str) -> String {
    anchor(&format!("{MARKER_PREFIX}{id}:end"))
}

/// FNV-1a (64 bits) of `content`, as 16 hex digits.
pub fn fingerprint(content: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in content.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn anchor(name: &str) -> String {
    format!(
        "<p><ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">{name}</ac:parameter></ac:structured-macro></p>"
    )
}

fn unified_diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("page", "cycle")
        .to_string()
}

fn check_blank(text: &str) -> Result<(), SpliceError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(());
    }
    Err(SpliceError::OutsideSections {
        excerpt: trimmed.chars().take(60).collect(),
    })
}

/// A section found in a body.
#[derive(Debug)]
struct Found {
    id: String,
    /// From the begin marker's block to the end marker's block.
    span: Range<usize>,
    /// Between the markers' blocks.
    content: Range<usize>,
    fingerprint: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Begin(Option<String>),
    End,
}

#[derive(Debug)]
struct Marker {
    id: String,
    kind: Kind,
    /// The macro, or the paragraph holding only the macro.
    span: Range<usize>,
}

/// Pairs the markers of `body` into sections.
fn sections(body: &str) -> Result<Vec<Found>, SpliceError> {
    let mut out: Vec<Found> = Vec::new();
    let mut open: Option<Marker> = None;
    for m in markers(body)? {
        match (open.take(), m.kind) {
            (None, Kind::Begin(fp)) => {
                open = Some(Marker {
                    id: m.id,
                    kind: Kind::Begin(fp),
                    span: m.span,
                })
            }
            (None, Kind::End) => return Err(SpliceError::UnexpectedEnd { id: m.id }),
            (Some(b), Kind::Begin(_)) => return Err(SpliceError::Unterminated { id: b.id }),
            (Some(b), Kind::End) if b.id != m.id => {
                return Err(SpliceError::Unterminated { id: b.id });
            }
            (Some(b), Kind::End) => {
                if out.iter().any(|s| s.id == b.id) {
                    return Err(SpliceError::Duplicate { id: b.id });
                }
                let fingerprint = match b.kind {
                    Kind::Begin(fp) => fp,
                    Kind::End => None,
                };
                out.push(Found {
                    id: b.id,
                    span: b.span.start..m.span.end,
                    content: b.span.end..m.span.start,
                    fingerprint,
                });
            }
        }
    }
    match open {
        Some(b) => Err(SpliceError::Unterminated { id: b.id }),
        None => Ok(out),
    }
}

/// Every `cycle:` anchor of `body`, in order, skipping CDATA and comments.
fn markers(body: &str) -> Result<Vec<Marker>, SpliceError> {
    const MACRO: &str = "<ac:structured-macro";
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let rest = &body[pos..];
        let next = [MACRO, "<![CDATA[", "<!--"]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min_by_key(|(i, _)| *i);
        let Some((i, what)) = next else { break };
        let start = pos + i;
        if what != MACRO {
            let close = if what == "<!--" { "-->" } else { "]]>" };
            pos = match body[start + what.len()..].find(close) {
                Some(j) => start + what.len() + j + close.len(),
                None => body.len(),
            };
            continue;
        }
        match anchor_at(body, start) {
            Some((name, end)) => {
                pos = end;
                if let Some(name) = name.strip_prefix(MARKER_PREFIX) {
                    let (id, kind) = parse_name(name).ok_or_else(|| SpliceError::BadMarker {
                        name: format!("{MARKER_PREFIX}{name}"),
                    })?;
                    out.push(Marker {
                        id,
                        kind,
                        span: widen_to_paragraph(body, start..end),
                    });
                }
            }
            None => pos = start + MACRO.len(),
        }
    }
    Ok(out)
}

/// `<id>:begin[:<fp>]` or `<id>:end`.
fn parse_name(name: &str) -> Option<(String, Kind)> {
    let mut parts = name.split(':');
    let id = parts.next()?;
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return None;
    }
    let kind = match (parts.next()?, parts.next(), parts.next()) {
        ("begin", None, None) => Kind::Begin(None),
        ("begin", Some(fp), None) if !fp.is_empty() => Kind::Begin(Some(fp.to_string())),
        ("end", None, None) => Kind::End,
        _ => return None,
    };
    Some((id.to_string(), kind))
}

/// An anchor macro starting at `start`: its name and where the macro ends.
/// `None` when the macro there is not an anchor with one text parameter.
fn anchor_at(body: &str, start: usize) -> Option<(String, usize)> {
    let (open, mut at) = tag_at(body, start, "ac:structured-macro")?;
    if open.self_closing || attr(open.text, "ac:name") != Some("anchor") {
        return None;
    }
    at = skip_ws(body, at);
    let (param, after) = tag_at(body, at, "ac:parameter")?;
    if param.self_closing || attr(param.text, "ac:name").is_some_and(|n| !n.is_empty()) {
        return None;
    }
    let close = "</ac:parameter>";
    let text_len = body[after..].find(close)?;
    let name = &body[after..after + text_len];
    if name.contains('<') {
        return None;
    }
    at = skip_ws(body, after + text_len + close.len());
    let end_tag = "</ac:structured-macro>";
    body[at..]
        .starts_with(end_tag)
        .then(|| (name.trim().to_string(), at + end_tag.len()))
}

struct Tag<'a> {
    text: &'a str,
    self_closing: bool,
}

/// The start tag `<name …>` at `at` and the position after it.
fn tag_at<'a>(body: &'a str, at: usize, name: &str) -> Option<(Tag<'a>, usize)> {
    let rest = body.get(at..)?;
    let after_name = rest.strip_prefix('<')?.strip_prefix(name)?;
    if !after_name.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace()) {
        return None;
    }
    let end = rest.find('>')?;
    let text = &rest[..=end];
    Some((
        Tag {
            text,
            self_closing: text.ends_with("/>"),
        },
        at + end + 1,
    ))
}

/// The value of attribute `name` in a start tag (quotes `"` or `'`).
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let inner = tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let mut rest = inner.split_once(|c: char| c.is_ascii_whitespace())?.1;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let value_part = rest[eq + 1..].trim_start();
        let quote = value_part.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let close = value_part[1..].find(quote)?;
        let value = &value_part[1..=close];
        if key == name {
            return Some(value);
        }
        rest = &value_part[close + 2..];
    }
}

fn skip_ws(body: &str, at: usize) -> usize {
    at + body[at..].len() - body[at..].trim_start().len()
}

/// Widens a marker's span to the paragraph it sits in, if any (so the
/// section stays well-formed when someone typed next to the anchor).
fn widen_to_paragraph(body: &str, span: Range<usize>) -> Range<usize> {
    let before = &body[..span.start];
    let open = before
        .rmatch_indices("<p")
        .map(|(i, _)| i)
        .find(|&i| before[i + 2..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()));
    let Some(open) = open else {
        return span;
    };
    if before[open..].contains("</p>") {
        return span;
    }
    let after = &body[span.end..];
    let Some(close) = after.find("</p>") else {
        return span;
    };
    let nested = after[..close]
        .match_indices("<p")
        .any(|(i, _)| after[i + 2..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()));
    if nested {
        return span;
    }
    open..span.end + close + "</p>".len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: &str, content: &str) -> String {
        format!("{}{content}{}", begin_marker(id, None), end_marker(id))
    }

    fn desired(parts: &[(&str, &str)]) -> Desired {
        let body: Vec<String> = parts.iter().map(|(i, c)| section(i, c)).collect();
        Desired::parse(&body.join("\n")).unwrap()
    }

    #[test]
    fn parses_rendered_sections_and_refuses_stray_content() {
        let d = desired(&[("schedule", "\n<h2>S</h2>\n"), ("versions", "<p>v</p>")]);
        let ids: Vec<&str> = d.sections().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["schedule", "versions"]);
        assert_eq!(d.sections()[0].content, "\n<h2>S</h2>\n");
        let stray = format!("<p>hi</p>{}", section("a", "x"));
        assert_eq!(
            Desired::parse(&stray),
            Err(SpliceError::OutsideSections {
                excerpt: "<p>hi</p>".into()
            })
        );
    }

    #[test]
    fn a_new_page_carries_fingerprints() {
        let d = desired(&[("a", "<p>x</p>")]);
        let body = d.to_body();
        assert!(body.contains(&format!("cycle:a:begin:{}", fingerprint("<p>x</p>"))));
        assert_eq!(Desired::parse(&body).unwrap(), d);
    }

    #[test]
    fn rerun_on_own_output_changes_nothing() {
        let d = desired(&[("a", "<p>x</p>"), ("b", "<p>y</p>")]);
        let m = merge(&d.to_body(), &d).unwrap();
        assert!(m.is_unchanged());
        assert_eq!(m.body, d.to_body());
    }

    #[test]
    fn text_outside_sections_survives_byte_for_byte() {
        let old = desired(&[("a", "<p>old</p>"), ("b", "<p>b</p>")]);
        let human = "<p>Human &amp; notes</p>\n  <table><tr><td>x</td></tr></table>";
        let live = format!("{human}\n{}\n<p>between</p>\n", old.to_body());
        let new = desired(&[("a", "<p>new</p>"), ("b", "<p>b</p>")]);
        let m = merge(&live, &new).unwrap();
        assert_eq!(m.changed_ids(), ["a"]);
        assert!(m.body.starts_with(&format!("{human}\n")));
        assert!(m.body.contains("<p>new</p>"));
        assert!(!m.body.contains("<p>old</p>"));
        assert!(m.body.ends_with("\n<p>between</p>\n"));
        let again = merge(&m.body, &new).unwrap();
        assert!(again.is_unchanged());
        assert_eq!(again.body, m.body);
    }

    #[test]
    fn confluence_attributes_on_markers_are_tolerated() {
        let live = "<p>intro</p><p local-id=\"p1\"><ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\" data-layout=\"default\" ac:local-id=\"l1\" ac:macro-id=\"m1\"><ac:parameter ac:name=\"\">cycle:a:begin</ac:parameter></ac:structured-macro></p><table data-layout=\"default\"><tbody><tr><td><p>x</p></td></tr></tbody></table><p><ac:structured-macro ac:macro-id='m2' ac:name='anchor'>\n<ac:parameter ac:name=\"\">cycle:a:end</ac:parameter>\n</ac:structured-macro></p><p>outro</p>";
        let d = desired(&[("a", "<p>y</p>")]);
        let m = merge(live, &d).unwrap();
        assert_eq!(
            m.body,
            format!("<p>intro</p>{}<p>outro</p>", d.sections()[0].to_markup())
        );
    }

    #[test]
    fn fingerprint_match_means_unchanged_even_after_normalisation() {
        let d = desired(&[("a", "<table><tr><td>x</td></tr></table>")]);
        let fp = d.sections()[0].fingerprint();
        // Confluence rewrote the table; the fingerprint still says it is ours.
        let live = format!(
            "{}<table data-layout=\"default\"><tbody><tr><td><p>x</p></td></tr></tbody></table>{}",
            begin_marker("a", Some(&fp)),
            end_marker("a")
        );
        let m = merge(&live, &d).unwrap();
        assert!(m.is_unchanged());
        assert_eq!(m.body, live);
    }

    #[test]
    fn missing_sections_go_next_to_their_neighbours() {
        let live = format!(
            "<p>top</p>\n{}\n<p>mid</p>\n{}\n<p>bottom</p>",
            section("b", "B"),
            section("d", "D")
        );
        let d = desired(&[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")]);
        let m = merge(&live, &d).unwrap();
        let changes: Vec<(&str, &Change)> = m
            .sections
            .iter()
            .map(|s| (s.id.as_str(), &s.change))
            .collect();
        assert_eq!(
            changes,
            [
                ("a", &Change::Added),
                ("b", &Change::Unchanged),
                ("c", &Change::Added),
                ("d", &Change::Unchanged),
                ("e", &Change::Added)
            ]
        );
        let order: Vec<String> = sections(&m.body)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
        assert!(m.body.starts_with("<p>top</p>\n"));
        assert!(m.body.contains("\n<p>mid</p>\n"));
        assert!(m.body.ends_with("\n<p>bottom</p>"));
        assert!(merge(&m.body, &d).unwrap().is_unchanged());
    }

    #[test]
    fn sections_not_desired_are_left_alone_and_revisions_are_not_repeated() {
        let base = desired(&[("schedule", "S"), ("versions", "V")]);
        let mut page = base.to_body();
        for rev in [1, 2] {
            let r = desired(&[(&format!("revision-{rev}") as &str, "R")]);
            for _ in 0..3 {
                page = merge(&page, &r).unwrap().body;
            }
        }
        let ids: Vec<String> = sections(&page).unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["schedule", "versions", "revision-1", "revision-2"]);
        assert!(page.starts_with(&base.to_body()));
    }

    #[test]
    fn an_empty_page_gets_every_section() {
        let d = desired(&[("a", "A"), ("b", "B")]);
        let m = merge("", &d).unwrap();
        assert_eq!(
            m.body,
            format!(
                "{}\n{}",
                d.sections()[0].to_markup(),
                d.sections()[1].to_markup()
            )
        );
        let m = merge("<p>x</p>", &d).unwrap();
        assert!(m.body.starts_with("<p>x</p>\n"));
    }

    #[test]
    fn broken_markers_are_errors_not_guesses() {
        let d = desired(&[("a", "A")]);
        let lone_begin = format!("{}<p>x</p>", begin_marker("a", None));
        assert_eq!(
            merge(&lone_begin, &d),
            Err(SpliceError::Unterminated { id: "a".into() })
        );
        let lone_end = format!("<p>x</p>{}", end_marker("a"));
        assert_eq!(
            merge(&lone_end, &d),
            Err(SpliceError::UnexpectedEnd { id: "a".into() })
        );
        let nested = format!(
            "{}{}",
            begin_marker("a", None),
            section("b", "B") + &end_marker("a")
        );
        assert_eq!(
            merge(&nested, &d),
            Err(SpliceError::Unterminated { id: "a".into() })
        );
        let twice = format!("{}{}", section("a", "1"), section("a", "2"));
        assert_eq!(
            merge(&twice, &d),
            Err(SpliceError::Duplicate { id: "a".into() })
        );
        let bad = anchor("cycle:Bad Id:begin");
        assert!(matches!(
            merge(&bad, &d),
            Err(SpliceError::BadMarker { .. })
        ));
        let msg = SpliceError::Unterminated { id: "a".into() }.to_string();
        assert!(msg.contains("cycle:a:end"), "{msg}");
    }

    #[test]
    fn other_anchors_cdata_and_comments_are_ignored() {
        let d = desired(&[("a", "A")]);
        let live = format!(
            "{}<ac:structured-macro ac:name=\"code\"><ac:plain-text-body><![CDATA[{}]]></ac:plain-text-body></ac:structured-macro><!-- {} -->",
            anchor("top"),
            begin_marker("a", None),
            end_marker("a")
        );
        let m = merge(&live, &d).unwrap();
        assert_eq!(m.sections[0].change, Change::Added);
        assert!(m.body.starts_with(&live));
    }

    #[test]
    fn a_paragraph_shared_with_a_marker_belongs_to_the_section() {
        // A person typed next to the anchors: those paragraphs go with the
        // section, so the result stays well-formed.
        let live = "<p>keep</p><p>note <strong>x</strong> <ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">cycle:a:begin</ac:parameter></ac:structured-macro></p>old<p><ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">cycle:a:end</ac:parameter></ac:structured-macro> tail</p><p>keep too</p>";
        let d = desired(&[("a", "new")]);
        let m = merge(live, &d).unwrap();
        assert_eq!(
            m.body,
            format!("<p>keep</p>{}<p>keep too</p>", d.sections()[0].to_markup())
        );
    }

    #[test]
    fn diffs_show_replaced_and_added_sections() {
        let live = section("a", "<p>one</p>\n<p>two</p>\n");
        let d = desired(&[("a", "<p>one</p>\n<p>2</p>\n"), ("b", "<p>b</p>\n")]);
        let m = merge(&live, &d).unwrap();
        let diff = m.diff(&d);
        assert!(diff.contains("section a (replaced):"), "{diff}");
        assert!(diff.contains("-<p>two</p>"), "{diff}");
        assert!(diff.contains("+<p>2</p>"), "{diff}");
        assert!(diff.contains("section b (added):\n+<p>b</p>"), "{diff}");
    }

    #[test]
    fn attributes_are_read_with_either_quote() {
        assert_eq!(attr("<x a=\"1\" b='2'>", "b"), Some("2"));
        assert_eq!(attr("<x a=\"1\" b='2'/>", "a"), Some("1"));
        assert_eq!(attr("<x xa:name=\"1\">", "a:name"), None);
        assert_eq!(attr("<x>", "a"), None);
    }
}
