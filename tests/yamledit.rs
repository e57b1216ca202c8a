//! Format-preserving edits on realistic copies of phalanx and docker-compose-ops
//! files (see `tests/fixtures/README.md`).

use std::collections::BTreeMap;
use std::path::Path;

use cycle::edit::env::{get_env, set_env};
use cycle::edit::yaml::{EditError, YamlPath, add_entry, reset_keys, set_scalar};

const CSC_APPS: [&str; 6] = ["obssys", "auxtel", "simonyitel", "love", "envsys", "calsys"];

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn path(s: &str) -> YamlPath {
    s.parse().expect("valid path")
}

/// Line-by-line comparison: both texts must have the same number of lines
/// (and the same final newline); returns the changed lines as
/// 1-based line number -> new text.
fn changed_lines(before: &str, after: &str) -> BTreeMap<usize, String> {
    let old: Vec<&str> = before.split('\n').collect();
    let new: Vec<&str> = after.split('\n').collect();
    assert_eq!(old.len(), new.len(), "line count changed");
    old.iter()
        .zip(&new)
        .enumerate()
        .filter(|(_, (o, n))| o != n)
        .map(|(i, (_, n))| (i + 1, (*n).to_owned()))
        .collect()
}

fn expect(lines: &[(usize, &str)]) -> BTreeMap<usize, String> {
    lines.iter().map(|(n, t)| (*n, (*t).to_owned())).collect()
}

/// The summit cycle bump: imageTag, nublado cycle and recommended tag, and
/// every CSC revision reset to 0. Returns (file, before, after, changes).
fn summit_bump(files: &[(String, String)]) -> Vec<(String, String, usize)> {
    files
        .iter()
        .map(|(name, doc)| {
            let (out, count) = match name.as_str() {
                "environments/values-summit.yaml" => (
                    set_scalar(doc, &path("controlSystem.imageTag"), "c0044").expect("tag"),
                    1,
                ),
                "applications/nublado/values-summit.yaml" => {
                    let out = set_scalar(doc, &path("controller.config.images.cycle"), "44")
                        .expect("cycle");
                    let out = set_scalar(
                        &out,
                        &path("controller.config.images.recommendedTag"),
                        "recommended_c0044",
                    )
                    .expect("recommendedTag");
                    (out, 2)
                }
                _ => reset_keys(doc, "revision", "0").expect("reset"),
            };
            (name.clone(), out, count)
        })
        .collect()
}

fn summit_files() -> Vec<(String, String)> {
    let mut names = vec![
        "environments/values-summit.yaml".to_owned(),
        "applications/nublado/values-summit.yaml".to_owned(),
    ];
    names.extend(
        CSC_APPS
            .iter()
            .map(|app| format!("applications/{app}/values-summit.yaml")),
    );
    names
        .into_iter()
        .map(|name| {
            let doc = fixture(&format!("phalanx/{name}"));
            (name, doc)
        })
        .collect()
}

/// Independent line-based oracle for the revision reset: every
/// `revision: <value>` line whose value holds a non-zero number (and is not
/// an alias) gets that number replaced by 0, everything else on the line kept.
fn expected_revision_lines(doc: &str) -> BTreeMap<usize, String> {
    let mut expected = BTreeMap::new();
    for (i, line) in doc.lines().enumerate() {
        let Some(at) = line.find("revision: ") else {
            continue;
        };
        let head = &line[..at + "revision: ".len()];
        let rest = &line[head.len()..];
        if !line[..at].trim().is_empty() || rest.starts_with('*') {
            continue;
        }
        let Some(start) = rest.find(|c: char| c.is_ascii_digit()) else {
            continue;
        };
        let len = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - start);
        if &rest[start..start + len] == "0" {
            continue;
        }
        let new = format!("{head}{}0{}", &rest[..start], &rest[start + len..]);
        expected.insert(i + 1, new);
    }
    expected
}

#[test]
fn summit_cycle_bump_changes_exactly_the_expected_lines() {
    let files = summit_files();
    let results = summit_bump(&files);
    let mut total_revisions = 0;
    for ((name, before), (_, after, count)) in files.iter().zip(&results) {
        let changed = changed_lines(before, after);
        let expected = match name.as_str() {
            "environments/values-summit.yaml" => expect(&[(46, "  imageTag: \"c0044\"")]),
            "applications/nublado/values-summit.yaml" => expect(&[
                (11, "      cycle: 44"),
                (12, "      recommendedTag: \"recommended_c0044\""),
            ]),
            _ => {
                total_revisions += count;
                expected_revision_lines(before)
            }
        };
        assert_eq!(changed, expected, "{name}");
        assert_eq!(*count, expected.len(), "{name}: reported count");
    }
    // Counted by hand from the fixtures (see tests/fixtures/README.md).
    assert_eq!(total_revisions, 88);
}

#[test]
fn summit_revision_resets_per_file() {
    let expected_counts = [
        ("obssys", 7),
        ("auxtel", 3),
        ("simonyitel", 23),
        ("love", 5),
        ("envsys", 39),
        ("calsys", 11),
    ];
    for (app, n) in expected_counts {
        let doc = fixture(&format!("phalanx/applications/{app}/values-summit.yaml"));
        let (_, count) = reset_keys(&doc, "revision", "0").expect("reset");
        assert_eq!(count, n, "{app}");
    }
}

#[test]
fn summit_bump_is_idempotent() {
    let files = summit_files();
    let once: Vec<(String, String)> = summit_bump(&files)
        .into_iter()
        .map(|(name, out, _)| (name, out))
        .collect();
    let twice = summit_bump(&once);
    for ((name, first), (_, second, _)) in once.iter().zip(&twice) {
        assert_eq!(first, second, "{name}");
    }
    for (name, doc) in &once {
        if name.contains("nublado") || name.contains("environments") {
            continue;
        }
        let (out, count) = reset_keys(doc, "revision", "0").expect("reset");
        assert_eq!((count, out.as_bytes()), (0, doc.as_bytes()), "{name}");
    }
    let env = &once[0].1;
    assert_eq!(
        set_scalar(env, &path("controlSystem.imageTag"), "c0044").expect("tag"),
        *env
    );
}

#[test]
fn quote_styles_are_kept() {
    let obssys = fixture("phalanx/applications/obssys/values-summit.yaml");
    let calsys = fixture("phalanx/applications/calsys/values-summit.yaml");
    let (obssys_out, _) = reset_keys(&obssys, "revision", "0").expect("reset");
    let (calsys_out, _) = reset_keys(&calsys, "revision", "0").expect("reset");
    let line = |doc: &str, n: usize| doc.lines().nth(n - 1).unwrap_or_default().to_owned();
    // Double-quoted, plain with a trailing comment, plain.
    assert_eq!(line(&obssys_out, 324), "    revision: \"0\"");
    assert_eq!(
        line(&obssys_out, 17),
        "    revision: 0 # hotfix for DM-00000, drop at next cycle"
    );
    assert_eq!(line(&obssys_out, 73), "    revision: 0");
    // Single-quoted.
    assert_eq!(line(&calsys_out, 227), "    revision: '0'");

    let env = fixture("phalanx/environments/values-base.yaml");
    let out = set_scalar(&env, &path("controlSystem.imageTag"), "c0045").expect("tag");
    assert_eq!(
        changed_lines(&env, &out),
        expect(&[(46, "  imageTag: \"c0045\"")])
    );

    // A plain integer set to a non-integer falls back to double quotes.
    let nublado = fixture("phalanx/applications/nublado/values-base.yaml");
    let out =
        set_scalar(&nublado, &path("controller.config.images.cycle"), "c0044").expect("cycle");
    assert_eq!(
        changed_lines(&nublado, &out),
        expect(&[(12, "      cycle: \"c0044\"")])
    );
}

#[test]
fn anchors_aliases_and_merge_keys_are_untouched() {
    let love = fixture("phalanx/applications/love/values-summit.yaml");
    let (out, _) = reset_keys(&love, "revision", "0").expect("reset");
    let changed = changed_lines(&love, &out);
    // The anchored template's own revision is edited where it is defined...
    assert_eq!(
        changed.get(&63).map(String::as_str),
        Some("    revision: 0")
    );
    // ...and the anchor and every merge key that uses it stay as they were.
    for (i, line) in love.lines().enumerate() {
        if line.contains('&') || line.contains('*') || line.contains("<<") {
            assert!(!changed.contains_key(&(i + 1)), "line {} changed", i + 1);
        }
    }
    assert_eq!(out.matches("<<: *base-manager-producer").count(), 5);
    assert!(
        out.contains("x-manager-producer:\n  &base-manager-producer\n  image:\n    revision: 0\n")
    );

    let auxtel = fixture("phalanx/applications/auxtel/values-summit.yaml");
    let (out, count) = reset_keys(&auxtel, "revision", "0").expect("reset");
    assert_eq!(count, 3);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[184],
        "    revision: &at-rev 0 # keep atspectrograph on the same revision"
    );
    assert_eq!(lines[214], "    revision: *at-rev");
    // Going through the alias is refused with a pointer to the alias.
    let err = set_scalar(&auxtel, &path("atspectrograph.image.revision"), "1").expect_err("alias");
    assert_eq!(
        err,
        EditError::Alias {
            path: "atspectrograph.image.revision".into(),
            alias: "*at-rev".into(),
            line: 215,
            column: 15,
        }
    );
}

#[test]
fn missing_path_is_an_error() {
    let env = fixture("phalanx/environments/values-summit.yaml");
    let err = set_scalar(&env, &path("controlSystem.imageTagg"), "c0044").expect_err("missing");
    assert!(
        matches!(&err, EditError::PathNotFound { path, .. } if path == "controlSystem.imageTagg"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("no key `imageTagg`"), "{msg}");
    assert!(msg.contains("line 46"), "{msg}");

    let err = set_scalar(&env, &path("nosuch.imageTag"), "c0044").expect_err("missing");
    assert!(
        err.to_string()
            .contains("no key `nosuch` in the mapping at the top level")
    );

    let err = set_scalar(&env, &path("controlSystem"), "c0044").expect_err("mapping");
    assert!(
        matches!(
            err,
            EditError::NotScalar {
                found: "mapping",
                line: 46,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn invalid_yaml_reports_the_line() {
    let env = fixture("phalanx/environments/values-summit.yaml");
    let mut lines: Vec<&str> = env.split('\n').collect();
    lines.insert(9, "  broken: [unclosed");
    let broken = lines.join("\n");
    let err = set_scalar(&broken, &path("controlSystem.imageTag"), "c0044").expect_err("invalid");
    match err {
        EditError::InvalidYaml { line, .. } => assert!((10..=11).contains(&line), "line {line}"),
        other => panic!("expected InvalidYaml, got {other:?}"),
    }

    let mut lines: Vec<&str> = env.split('\n').collect();
    lines[45] = "\timageTag: \"c0042\"";
    let tabbed = lines.join("\n");
    let err = reset_keys(&tabbed, "revision", "0").expect_err("tab");
    assert!(
        matches!(err, EditError::InvalidYaml { line: 46, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("invalid YAML at line 46"),
        "{err}"
    );
}

#[test]
fn add_entry_appends_a_new_csc_block() {
    let auxtel = fixture("phalanx/applications/auxtel/values-summit.yaml");
    let block = "enabled: true\nimage:\n  revision: 0\n  repository: ts-dockerhub.lsst.org/atnewcsc\n  pullPolicy: Always\n";
    let out = add_entry(&auxtel, &path(""), "atnewcsc", block).expect("add");
    assert_eq!(
        out.strip_prefix(auxtel.as_str()),
        Some(
            "atnewcsc:\n  enabled: true\n  image:\n    revision: 0\n    repository: ts-dockerhub.lsst.org/atnewcsc\n    pullPolicy: Always\n"
        )
    );
    // Adding it again is a no-op; a different value is refused.
    assert_eq!(
        add_entry(&out, &path(""), "atnewcsc", block).expect("again"),
        out
    );
    let err = add_entry(&out, &path(""), "atnewcsc", "enabled: false").expect_err("exists");
    assert!(
        matches!(&err, EditError::KeyExists { key, line: 241, .. } if key == "atnewcsc"),
        "{err:?}"
    );

    // Into a nested mapping: goes after its last entry, at its indentation.
    let out = add_entry(&auxtel, &path("ataos.image"), "tag", "c0044-special").expect("add");
    let image_end = auxtel
        .lines()
        .take_while(|l| !l.starts_with("atbuilding"))
        .position(|l| l.contains("pullPolicy"))
        .expect("ataos pullPolicy");
    let out_lines: Vec<&str> = out.lines().collect();
    assert_eq!(out_lines[image_end + 1], "    tag: c0044-special");
    assert_eq!(out.lines().count(), auxtel.lines().count() + 1);
}

#[test]
fn env_files_keep_export_and_comments() {
    let setup = fixture("docker-compose-ops/summit/setup.env");
    assert_eq!(get_env(&setup, "CYCLE").as_deref(), Some("c0041"));
    assert_eq!(get_env(&setup, "rev").as_deref(), Some(".000"));
    let out = set_env(&setup, "CYCLE", "c0044").expect("cycle");
    let out = set_env(&out, "rev", ".000").expect("rev");
    assert_eq!(
        changed_lines(&setup, &out),
        expect(&[(1, "export CYCLE=c0044")])
    );
    let out2 = set_env(&out, "rev", ".001").expect("rev");
    assert_eq!(
        changed_lines(&out, &out2),
        expect(&[(
            2,
            "export rev=.001  # revision within the cycle, reset on a cycle bump"
        )])
    );
    assert_eq!(set_env(&out, "CYCLE", "c0044").expect("same"), out);
    assert!(
        set_env(&setup, "cycle", "c0044").is_err(),
        "keys are case-sensitive"
    );

    let love = fixture("love/love.env");
    let out = set_env(&love, "cycle", "c0044").expect("cycle");
    assert_eq!(changed_lines(&love, &out), expect(&[(2, "cycle=c0044")]));
    let out = set_env(&love, "LOVE_MANAGER_REDIS_HOST", "redis2").expect("quoted");
    assert_eq!(
        changed_lines(&love, &out),
        expect(&[(5, "LOVE_MANAGER_REDIS_HOST=\"redis2\"")])
    );
}

#[test]
fn other_sites_bump_their_own_lines() {
    for (site, tag_line, nublado_lines) in
        [("tucson-teststand", 38, (11, 12)), ("base", 46, (12, 13))]
    {
        let env = fixture(&format!("phalanx/environments/values-{site}.yaml"));
        let out = set_scalar(&env, &path("controlSystem.imageTag"), "c0044").expect("tag");
        assert_eq!(
            changed_lines(&env, &out),
            expect(&[(tag_line, "  imageTag: \"c0044\"")]),
            "{site}"
        );
        let nublado = fixture(&format!("phalanx/applications/nublado/values-{site}.yaml"));
        let out = set_scalar(&nublado, &path("controller.config.images.cycle"), "44")
            .and_then(|d| {
                set_scalar(
                    &d,
                    &path("controller.config.images.recommendedTag"),
                    "recommended_c0044",
                )
            })
            .expect("nublado");
        assert_eq!(
            changed_lines(&nublado, &out),
            expect(&[
                (nublado_lines.0, "      cycle: 44"),
                (
                    nublado_lines.1,
                    "      recommendedTag: \"recommended_c0044\""
                ),
            ]),
            "{site}"
        );
    }
}

/// Every values file of the three sites on phalanx `main` (August 2026,
/// `tests/fixtures/phalanx-2026-08`) is read, as Helm reads it: two of them
/// repeat the merge key `<<` in one mapping.
#[test]
fn every_site_values_file_of_phalanx_main_is_read() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/phalanx-2026-08");
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert_eq!(files.len(), 104);
    let mut repeated = Vec::new();
    for path in &files {
        let doc = std::fs::read_to_string(path).unwrap();
        let (out, _) =
            reset_keys(&doc, "revision", "0").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(reset_keys(&out, "revision", "0").unwrap().1, 0);
        let twice =
            doc.lines().collect::<Vec<_>>().windows(2).any(|w| {
                w[0].trim_start().starts_with("<<:") && w[1].trim_start().starts_with("<<:")
            });
        if twice {
            repeated.push(path.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    repeated.sort();
    assert_eq!(
        repeated,
        [
            "applications/simonyitel/values-base.yaml",
            "applications/simonyitel/values-summit.yaml"
        ]
    );
}
