//! Atlassian Document Format: a plain-text description (paragraphs, nested
//! bullets, links) as an ADF document.

use serde_json::{Value, json};

/// A bullet item and its nested items.
#[derive(Default)]
struct Bullet {
    text: String,
    children: Vec<Bullet>,
}

/// Plain text as an Atlassian Document Format document (Jira Cloud's
/// description format): blank lines separate paragraphs, line breaks inside
/// a paragraph are kept, lines starting with `* ` are bullets and `** `,
/// `*** ` ... nested bullets, and `http(s)://` addresses become links.
pub fn adf_document(text: &str) -> Value {
    let mut content = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    let mut bullets: Vec<Bullet> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if let Some((depth, item)) = bullet_line(line) {
            flush_paragraph(&mut lines, &mut content);
            add_bullet(&mut bullets, depth, item);
        } else if line.trim().is_empty() {
            flush_paragraph(&mut lines, &mut content);
            flush_list(&mut bullets, &mut content);
        } else {
            flush_list(&mut bullets, &mut content);
            lines.push(line);
        }
    }
    flush_paragraph(&mut lines, &mut content);
    flush_list(&mut bullets, &mut content);
    json!({ "type": "doc", "version": 1, "content": content })
}

/// `* item` → (1, "item"), `** item` → (2, "item"); anything else → None.
fn bullet_line(line: &str) -> Option<(usize, &str)> {
    let line = line.trim_start();
    let stars = line.bytes().take_while(|&b| b == b'*').count();
    let rest = &line[stars..];
    (stars > 0 && (rest.starts_with(' ') || rest.is_empty())).then(|| (stars, rest.trim()))
}

/// Adds an item at `depth` (1 = top level) under the last item of each
/// level; a level with no item yet takes it directly.
fn add_bullet(items: &mut Vec<Bullet>, depth: usize, text: &str) {
    match items.last_mut() {
        Some(last) if depth > 1 => add_bullet(&mut last.children, depth - 1, text),
        _ => items.push(Bullet {
            text: text.to_string(),
            children: Vec::new(),
        }),
    }
}

fn flush_paragraph(lines: &mut Vec<&str>, content: &mut Vec<Value>) {
    if lines.is_empty() {
        return;
    }
    let mut inline = Vec::new();
    for (i, line) in lines.drain(..).enumerate() {
        if i > 0 {
            inline.push(json!({ "type": "hardBreak" }));
        }
        inline.extend(inline_nodes(line));
    }
    content.push(json!({ "type": "paragraph", "content": inline }));
}

fn flush_list(items: &mut Vec<Bullet>, content: &mut Vec<Value>) {
    if !items.is_empty() {
        content.push(bullet_list(&std::mem::take(items)));
    }
}

fn bullet_list(items: &[Bullet]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut parts =
                vec![json!({ "type": "paragraph", "content": inline_nodes(&item.text) })];
            if !item.children.is_empty() {
                parts.push(bullet_list(&item.children));
            }
            json!({ "type": "listItem", "content": parts })
        })
        .collect();
    json!({ "type": "bulletList", "content": items })
}

/// Text nodes of one line, `http(s)://` addresses (without trailing
/// punctuation) marked as links. ADF forbids empty text nodes.
fn inline_nodes(line: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut plain = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            plain.push(' ');
        }
        let is_link = word.starts_with("https://") || word.starts_with("http://");
        let href = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if is_link && !href.ends_with("://") {
            if !plain.is_empty() {
                nodes.push(json!({ "type": "text", "text": std::mem::take(&mut plain) }));
            }
            nodes.push(json!({
                "type": "text",
                "text": href,
                "marks": [{ "type": "link", "attrs": { "href": href } }],
            }));
            plain.push_str(&word[href.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    if !plain.is_empty() {
        nodes.push(json!({ "type": "text", "text": plain }));
    }
    nodes
}
