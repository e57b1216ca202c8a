use super::*;

fn p(s: &str) -> YamlPath {
    s.parse().expect("valid path")
}

fn set(doc: &str, path: &str, value: &str) -> String {
    set_scalar(doc, &p(path), value).expect("set_scalar")
}

/// Every node as (kind, byte range, start and end points), in order.
fn nodes(tree: &Tree) -> Vec<(String, usize, usize, Point, Point)> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        out.push((
            node.kind().to_string(),
            node.start_byte(),
            node.end_byte(),
            node.start_position(),
            node.end_position(),
        ));
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

#[test]
fn incremental_reparse_equals_a_full_parse() {
    // The real phalanx values files: every integer scalar rewritten to
    // one of another length, a multi-line entry inserted at the top and
    // one appended, as the edits of this module do.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/phalanx");
    let mut checked = 0;
    for dir in std::fs::read_dir(format!("{root}/applications")).unwrap() {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let doc = std::fs::read_to_string(file.unwrap().path()).unwrap();
            let tree = parse(&doc).unwrap();
            let mut edits: Vec<Edit> = nodes(&tree)
                .into_iter()
                .filter(|(kind, ..)| kind == "integer_scalar")
                .map(|(_, start, end, ..)| Edit {
                    start,
                    end,
                    text: "12345".into(),
                })
                .collect();
            edits.push(Edit {
                start: 0,
                end: 0,
                text: "x-new:\n  a: 1\n".into(),
            });
            edits.push(Edit {
                start: doc.len(),
                end: doc.len(),
                text: "\nx-last: 2\n".into(),
            });
            let (out, incremental) = apply_checked(&doc, &tree, edits).unwrap();
            assert_eq!(nodes(&incremental), nodes(&parse_tree(&out).unwrap()));
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} files");
}

#[test]
fn path_parsing() {
    assert_eq!(p("a.b.0.c").segments(), ["a", "b", "0", "c"]);
    assert_eq!(p("a.b.0.c").to_string(), "a.b.0.c");
    assert!(p("").is_root());
    for bad in [".a", "a.", "a..b", "."] {
        let err = bad.parse::<YamlPath>().expect_err(bad);
        assert!(matches!(err, EditError::InvalidPath { .. }), "{bad}: {err}");
    }
}

#[test]
fn keeps_double_quotes() {
    let doc = "controlSystem:\n  imageTag: \"c0042\" # cycle\n  other: 1\n";
    assert_eq!(
        set(doc, "controlSystem.imageTag", "c0044"),
        "controlSystem:\n  imageTag: \"c0044\" # cycle\n  other: 1\n"
    );
    assert_eq!(
        set(doc, "controlSystem.imageTag", "say \"hi\"\\"),
        "controlSystem:\n  imageTag: \"say \\\"hi\\\"\\\\\" # cycle\n  other: 1\n"
    );
}

#[test]
fn keeps_single_quotes() {
    let doc = "a: 'x'\n";
    assert_eq!(set(doc, "a", "it's"), "a: 'it''s'\n");
    assert_eq!(set(doc, "a", "line\nbreak"), "a: \"line\\nbreak\"\n");
    // Equality is checked on the decoded value.
    assert_eq!(set("a: 'it''s'\n", "a", "it's"), "a: 'it''s'\n");
}

#[test]
fn plain_stays_plain_when_same_kind() {
    assert_eq!(set("cycle: 42\n", "cycle", "44"), "cycle: 44\n");
    assert_eq!(set("tag: c0043\n", "tag", "c0044"), "tag: c0044\n");
    assert_eq!(set("f: 1.5\n", "f", "2.25"), "f: 2.25\n");
    assert_eq!(set("b: true\n", "b", "false"), "b: false\n");
    // Kind changes fall back to double quotes.
    assert_eq!(set("cycle: 42\n", "cycle", "c0044"), "cycle: \"c0044\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "44"), "tag: \"44\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "yes"), "tag: \"yes\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "a: b"), "tag: \"a: b\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "x # y"), "tag: \"x # y\"\n");
    assert_eq!(set("tag: c0043\n", "tag", ""), "tag: \"\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "*x"), "tag: \"*x\"\n");
    assert_eq!(set("tag: c0043\n", "tag", "1.2.3"), "tag: \"1.2.3\"\n");
}

#[test]
fn null_and_empty_values_take_any_plain_kind() {
    assert_eq!(set("a: ~\n", "a", "4"), "a: 4\n");
    assert_eq!(set("a: null\n", "a", "c0044"), "a: c0044\n");
    assert_eq!(set("a:\nb: 1\n", "a", "4"), "a: 4\nb: 1\n");
    assert_eq!(
        set("a: # note\nb: 1\n", "a", "x y"),
        "a: x y # note\nb: 1\n"
    );
}

#[test]
fn unchanged_value_is_byte_identical() {
    let doc = "a:\n  b: \"c0044\"\n  n: 44\n";
    assert_eq!(set(doc, "a.b", "c0044"), doc);
    assert_eq!(set(doc, "a.n", "44"), doc);
}

#[test]
fn sequences_and_flow_collections() {
    let doc = "list:\n  - name: a\n    rev: 1\n  - name: b\n    rev: 2\n";
    assert_eq!(
        set(doc, "list.1.rev", "0"),
        "list:\n  - name: a\n    rev: 1\n  - name: b\n    rev: 0\n"
    );
    assert_eq!(set("m: {a: 1, b: x}\n", "m.b", "z"), "m: {a: 1, b: z}\n");
    // `y` is a boolean to YAML 1.1 readers such as Helm.
    assert_eq!(
        set("m: {a: 1, b: x}\n", "m.b", "y"),
        "m: {a: 1, b: \"y\"}\n"
    );
    assert_eq!(
        set("m: {a: 1, b: x}\n", "m.b", "u,v"),
        "m: {a: 1, b: \"u,v\"}\n"
    );
    assert_eq!(set("s: [1, 2]\n", "s.1", "5"), "s: [1, 5]\n");
    assert_eq!(set("{a: 1}", "a", "2"), "{a: 2}");
}

#[test]
fn anchored_scalar_keeps_anchor_and_alias_is_refused() {
    let doc = "a: &rev 4\nb: *rev\n";
    assert_eq!(set(doc, "a", "0"), "a: &rev 0\nb: *rev\n");
    let err = set_scalar(doc, &p("b"), "0").expect_err("alias");
    assert!(
        matches!(&err, EditError::Alias { alias, line: 2, .. } if alias == "*rev"),
        "{err}"
    );
    let doc = "x: &base\n  image:\n    revision: 3\ny:\n  <<: *base\n";
    let err = set_scalar(doc, &p("y.image.revision"), "0").expect_err("merged");
    assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
}

#[test]
fn errors() {
    let doc = "a:\n  b: 1\n  c: [1]\n";
    let err = set_scalar(doc, &p("a.x"), "1").expect_err("missing");
    assert_eq!(
        err.to_string(),
        "path `a.x` not found: no key `x` in the mapping at `a` (line 2)"
    );
    let err = set_scalar(doc, &p("a"), "1").expect_err("mapping");
    assert_eq!(
        err,
        EditError::NotScalar {
            path: "a".into(),
            found: "mapping",
            line: 2
        }
    );
    let err = set_scalar(doc, &p(""), "1").expect_err("root");
    assert_eq!(
        err.to_string(),
        "`(document root)` at line 1 is a mapping, not a scalar value"
    );
    let err = set_scalar(doc, &p("a.c"), "1").expect_err("sequence");
    assert!(matches!(
        err,
        EditError::NotScalar {
            found: "sequence",
            ..
        }
    ));
    let err = set_scalar(doc, &p("a.b.c"), "1").expect_err("scalar");
    assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
    let err = set_scalar(doc, &p("a.c.3"), "1").expect_err("index");
    assert!(err.to_string().contains("has 1 items"), "{err}");
    let err = set_scalar("a: |\n  text\n", &p("a"), "x").expect_err("block");
    assert!(
        matches!(err, EditError::Unsupported { line: 1, .. }),
        "{err}"
    );
    assert_eq!(set("a: |\n  text\n", "a", "text\n"), "a: |\n  text\n");
}

#[test]
fn invalid_yaml_reports_position() {
    let doc = "a:\n  b: 1\n c: [\n";
    let err = set_scalar(doc, &p("a.b"), "2").expect_err("invalid");
    let EditError::InvalidYaml { line, .. } = err else {
        panic!("expected InvalidYaml, got {err}");
    };
    assert_eq!(line, 3);
    let err = set_scalar("a:\n\tb: 1\n", &p("a.b"), "2").expect_err("tab");
    assert!(
        matches!(err, EditError::InvalidYaml { line: 2, .. }),
        "{err}"
    );
    let err = reset_keys("a: b: c\n", "a", "1").expect_err("invalid");
    assert!(
        matches!(err, EditError::InvalidYaml { line: 1, .. }),
        "{err}"
    );
}

#[test]
fn weird_inputs_do_not_panic() {
    for doc in [
        "",
        "\n",
        "# only a comment\n",
        "just a scalar",
        "42",
        "- a\n- b\n",
        "{a: 1}",
        "[1, 2]",
        "---\n",
        "a:\n",
        "&x a",
        "*x",
        "\u{feff}a: 1\n",
        "a: 1\n---\nb: 2\n",
        "? complex\n: key\n",
        "a: !!str 5\n",
        "\"a\": 1",
        "a:\r\n  b: 1\r\n",
    ] {
        let _ = set_scalar(doc, &p("a"), "1");
        let _ = set_scalar(doc, &p("a.b"), "1");
        let _ = set_scalar(doc, &p("0"), "1");
        let _ = set_scalar(doc, &p(""), "1");
        let _ = reset_keys(doc, "a", "1");
        let _ = add_entry(doc, &p(""), "k", "v");
        let _ = add_entry(doc, &p("a"), "k", "x: 1");
    }
    assert_eq!(set("just a scalar", "", "other"), "other");
    assert_eq!(set("42", "", "43"), "43");
    assert_eq!(set("a: !!str 5\n", "a", "6"), "a: !!str 6\n");
    assert_eq!(set("a:\r\n  b: 1\r\n", "a.b", "2"), "a:\r\n  b: 2\r\n");
}

#[test]
fn reset_keys_everywhere() {
    let doc = "\
x: &base
  image:
    revision: 3 # pinned
y:
  <<: *base
  image:
    revision: '2'
list:
  - revision: \"7\"
  - revision: 0
  - {revision: 5, other: 1}
alias: &r 9
z:
  revision: *r
  nested:
    revision:
    deeper:
      revision: null
";
    let (out, n) = reset_keys(doc, "revision", "0").expect("reset");
    assert_eq!(n, 5);
    assert_eq!(
        out,
        "\
x: &base
  image:
    revision: 0 # pinned
y:
  <<: *base
  image:
    revision: '0'
list:
  - revision: \"0\"
  - revision: 0
  - {revision: 0, other: 1}
alias: &r 9
z:
  revision: *r
  nested:
    revision:
    deeper:
      revision: 0
"
    );
    let (again, n) = reset_keys(&out, "revision", "0").expect("reset");
    assert_eq!((again.as_str(), n), (out.as_str(), 0));
}

#[test]
fn add_entry_block_mapping() {
    let doc = "\
atdome:
  image:
    revision: 4 # note
# next section
atmcs:
  enabled: true
";
    let out = add_entry(
        doc,
        &p(""),
        "atnew",
        "image:\n  revision: 0\n  pullPolicy: Always\n",
    )
    .expect("add");
    assert_eq!(
        out,
        "\
atdome:
  image:
    revision: 4 # note
# next section
atmcs:
  enabled: true
atnew:
  image:
    revision: 0
    pullPolicy: Always
"
    );
    let out = add_entry(
        doc,
        &p("atdome.image"),
        "repository",
        "ts-dockerhub.lsst.org/atdome",
    )
    .expect("add");
    assert_eq!(
        out,
        "\
atdome:
  image:
    revision: 4 # note
    repository: ts-dockerhub.lsst.org/atdome
# next section
atmcs:
  enabled: true
"
    );
    // Same value: unchanged; different: error.
    assert_eq!(
        add_entry(&out, &p("atdome.image"), "revision", "4").expect("same"),
        out
    );
    let err = add_entry(&out, &p("atdome.image"), "revision", "5").expect_err("exists");
    assert!(
        matches!(&err, EditError::KeyExists { line: 3, existing, .. } if existing == "4"),
        "{err}"
    );
}

#[test]
fn add_entry_edge_cases() {
    assert_eq!(add_entry("", &p(""), "a", "1").expect("empty"), "a: 1\n");
    assert_eq!(
        add_entry("# c\n", &p(""), "a", "b: 1").expect("comment only"),
        "# c\na:\n  b: 1\n"
    );
    assert_eq!(
        add_entry("x: 1", &p(""), "a", "1").expect("no newline"),
        "x: 1\na: 1"
    );
    assert_eq!(
        add_entry("x:\ny: 2\n", &p("x"), "a", "1").expect("absent"),
        "x:\n  a: 1\ny: 2\n"
    );
    assert_eq!(
        add_entry("x:\n    y: 2\n", &p("x"), "a", "b: 1").expect("4-space"),
        "x:\n    y: 2\n    a:\n        b: 1\n"
    );
    assert_eq!(
        add_entry("x:\n  y: 2\n", &p("x"), "needs: quote", "[1, 2]").expect("key"),
        "x:\n  y: 2\n  \"needs: quote\": [1, 2]\n"
    );
    let err = add_entry("x: {y: 1}\n", &p("x"), "a", "1").expect_err("flow");
    assert!(matches!(err, EditError::NotMapping { .. }), "{err}");
    let err = add_entry("x: 1\n", &p("x"), "a", "1").expect_err("scalar");
    assert!(
        matches!(
            err,
            EditError::NotMapping {
                found: "scalar",
                ..
            }
        ),
        "{err}"
    );
    let err = add_entry("x: 1\n", &p(""), "a", "b: [").expect_err("bad fragment");
    assert!(matches!(err, EditError::InvalidYaml { .. }), "{err}");
}

#[test]
fn repeated_merge_keys_are_read_as_helm_reads_them() {
    let doc = "\
x-a: &a
  affinity: {}
x-b: &b
  secret: s
comp:
  <<: *a
  <<: *b
  image:
    revision: 3
";
    let (out, n) = reset_keys(doc, "revision", "0").expect("repeated merge keys");
    assert_eq!(n, 1);
    assert_eq!(out, doc.replace("revision: 3", "revision: 0"));
    assert_eq!(
        set(doc, "comp.image.revision", "4"),
        doc.replace("revision: 3", "revision: 4")
    );
    // Any other repeated key is still refused, at its mapping.
    let err = reset_keys("a: 1\nb:\n  c: 1\n  c: 2\n", "c", "0").expect_err("dup");
    assert!(
        matches!(&err, EditError::InvalidYaml { line: 3, message, .. }
                if message.contains("duplicate entry with key \"c\"")),
        "{err}"
    );
    // Tags and multi-line values still read.
    assert_eq!(
        set("a: !!str 5\nb: !x {c: 1}\n", "a", "6"),
        "a: !!str 6\nb: !x {c: 1}\n"
    );
}

#[test]
fn set_keys_under_components_only() {
    let doc = "\
x-producer: &producer
  image:
    revision: 6
x-pod: &pod
  affinity: {}
love-manager:
  manager:
    frontend:
      image:
        revision: '6'
    producers:
    - name: general
      <<: *producer
    - name: atqueue
      <<: *producer
  <<: *pod
love-commander:
  image:
    revision: 3
  <<: *pod
";
    let comps = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (out, n) = set_keys_under(doc, &comps(&["love-manager"]), "revision", "7").expect("set");
    assert_eq!(n, 2);
    assert_eq!(
        out,
        doc.replacen("revision: 6", "revision: 7", 1)
            .replace("revision: '6'", "revision: '7'")
    );
    let (again, n) =
        set_keys_under(&out, &comps(&["love-manager"]), "revision", "7").expect("again");
    assert_eq!((again.as_str(), n), (out.as_str(), 0));

    // The producer definition is also used by a component not restarted.
    let shared = format!("{doc}other:\n  <<: *producer\n");
    let err =
        set_keys_under(&shared, &comps(&["love-manager"]), "revision", "7").expect_err("shared");
    assert!(
        matches!(&err, EditError::SharedAnchor { anchor, other, line: 3, other_line: 22, .. }
                if anchor == "producer" && other == "other"),
        "{err}"
    );
    let (_, n) = set_keys_under(&shared, &comps(&["love-manager", "other"]), "revision", "7")
        .expect("both restarted");
    assert_eq!(n, 2);

    // A revision that is an alias of another component's revision.
    let doc = "at1:\n  revision: &r 4\nat2:\n  revision: *r\n";
    let err = set_keys_under(doc, &comps(&["at2"]), "revision", "5").expect_err("alias");
    assert!(
        matches!(&err, EditError::SharedAnchor { other, other_line: 2, .. } if other == "at1"),
        "{err}"
    );
    let (out, n) = set_keys_under(doc, &comps(&["at1", "at2"]), "revision", "5").expect("both");
    assert_eq!(
        (out.as_str(), n),
        ("at1:\n  revision: &r 5\nat2:\n  revision: *r\n", 1)
    );

    // A definition held by another component is that component's own.
    let held = "at1: &base\n  revision: 4\nat2:\n  <<: *base\n";
    let err = set_keys_under(held, &comps(&["at2"]), "revision", "5").expect_err("held");
    assert!(
        matches!(&err, EditError::SharedAnchor { other, .. } if other == "at1"),
        "{err}"
    );

    let err = set_keys_under(doc, &comps(&["nope"]), "revision", "5").expect_err("missing");
    assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
    assert_eq!(top_level_keys(doc).expect("keys"), ["at1", "at2"]);
    assert!(top_level_keys("").expect("empty").is_empty());
}

#[test]
fn get_scalar_reads_what_set_scalar_writes() {
    let doc = "a: &x\n  tag: \"c0044\" # the cycle\n  n: 3\nb: *x\nc:\nlist:\n  - 'q'\nblock: |\n  text\n";
    let get = |path: &str| get_scalar(doc, &p(path));
    assert_eq!(get("a.tag").unwrap().as_deref(), Some("c0044"));
    assert_eq!(get("a.n").unwrap().as_deref(), Some("3"));
    assert_eq!(get("list.0").unwrap().as_deref(), Some("q"));
    // Absent paths and empty values read as none.
    assert_eq!(get("a.missing").unwrap(), None);
    assert_eq!(get("c").unwrap(), None);
    assert_eq!(get("list.3").unwrap(), None);
    assert!(matches!(get("a"), Err(EditError::NotScalar { .. })));
    assert!(matches!(get("b.tag"), Err(EditError::Alias { .. })));
    assert!(matches!(get("block"), Err(EditError::Unsupported { .. })));
    assert!(matches!(
        get_scalar("a: [", &p("a")),
        Err(EditError::InvalidYaml { .. })
    ));
}

#[test]
fn scalars_of_key_lists_what_reset_keys_changes() {
    let doc = "\
x-base: &base
  image:
    revision: 6 # shared
one:
  <<: *base
two:
  image:
    revision: '2'
  sidecars:
    - name: s
      revision: 3
    - {name: t, revision: 4}
three:
  revision: *base
dotted.key:
  revision: 9
";
    let found: Vec<(String, String)> = scalars_of_key(doc, "revision")
        .unwrap()
        .into_iter()
        .map(|(path, value)| (path.to_string(), value))
        .collect();
    let expected = [
        ("x-base.image.revision", "6"),
        ("two.image.revision", "2"),
        ("two.sidecars.0.revision", "3"),
        ("two.sidecars.1.revision", "4"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(found, expected);
    // Each path reads back, and reset_keys changes the same values
    // (plus the one under `dotted.key`, which no path can name).
    for (path, value) in &found {
        assert_eq!(get_scalar(doc, &p(path)).unwrap().as_ref(), Some(value));
    }
    assert_eq!(reset_keys(doc, "revision", "0").unwrap().1, found.len() + 1);
    assert!(scalars_of_key("", "revision").unwrap().is_empty());
}
