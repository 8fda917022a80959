//! Guards of the one safety rule, read from the source: every call that writes (IAM, a
//! bucket's policy or CORS rules, an object, a user, a key…) is at a known site behind its
//! guard. A remedy write takes the confirmation of what was shown (`ConfirmedPlan`,
//! `ConfirmedUndo`, `ConfirmedCors`), which only the wizard's `y` and `fix`'s `y` or `--yes`
//! make; a probe write touches only s3doctor's own new probe, in a step the engine lets write
//! (never with `--read-only`); the gallery's seeding sends only through its `Sandbox`, to a
//! server on this machine. A write anywhere else fails here until it is given a guard and
//! listed.

use std::path::{Path, PathBuf};

/// The verbs of the SDK operations that change something; a call `.VERB_…()` is a write.
const WRITE_VERBS: &[&str] = &[
    "put",
    "create",
    "delete",
    "attach",
    "detach",
    "upload",
    "abort",
    "complete",
    "copy",
    "restore",
    "update",
    "tag",
    "untag",
    "remove",
    "add",
    "set",
    "enable",
    "disable",
    "write",
    "modify",
    "deactivate",
    "change",
    "replace",
    "schedule",
    "revoke",
    "retire",
    "import",
];

/// Calls that match a write verb and change nothing (getters and tokio's own methods).
const NOT_WRITES: &[&str] = &[
    ".enable_all()",
    ".abort_all()",
    ".upload_id()",
    ".create_date()",
];

/// The probe's writes: where they are (file, function) and what they call. They all live in
/// the probe's one owner, `checks/probe.rs`, and each takes a `ProbeKey` (which only a prefix
/// and a new uuid make), so each touches only s3doctor's own probe key (or multipart upload);
/// they are called from steps whose runbook mode writes, which the engine skips in a
/// read-only run.
const PROBE_WRITES: &[(&str, &str, &str)] = &[
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "put",
        ".put_object()",
    ),
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "put_acl",
        ".put_object_acl()",
    ),
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "delete",
        ".delete_object()",
    ),
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "start_multipart",
        ".create_multipart_upload()",
    ),
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "upload_part",
        ".upload_part()",
    ),
    (
        "crates/s3doctor-core/src/checks/probe.rs",
        "abort_multipart",
        ".abort_multipart_upload()",
    ),
];

/// One write call in the source: file, line, enclosing function, its signature, the call.
#[derive(Debug)]
struct Site {
    path: String,
    line: usize,
    name: String,
    signature: String,
    call: String,
}

/// Every `.rs` file of s3doctor's two packages (the binary's `src/` and the library's
/// `crates/s3doctor-core/src/`) that is compiled outside tests (path relative to the
/// workspace), with its code lines: comments and `#[cfg(test)]` items blanked, line numbers
/// kept. The policy crate sends nothing (it has no AWS SDK).
fn sources() -> Vec<(String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("crates/s3doctor-core/src"), &mut files);
    let mut test_only: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a source file");
        let (lines, test_mods) = code_lines(&text);
        for m in test_mods {
            test_only.push(child_module(path, &m));
        }
        out.push((path.clone(), lines));
    }
    out.into_iter()
        .filter(|(p, _)| {
            !test_only
                .iter()
                .any(|t| p.starts_with(t.with_extension("")) || p == t)
        })
        .map(|(p, lines)| {
            let rel = p.strip_prefix(root).expect("under the crate");
            (rel.to_string_lossy().replace('\\', "/"), lines)
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file of module `name` declared in `parent` (`src/a.rs` → `src/a/name.rs`).
fn child_module(parent: &Path, name: &str) -> PathBuf {
    let stem = parent
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let dir = parent.parent().expect("a parent dir");
    if matches!(stem, "lib" | "main" | "mod") {
        dir.join(format!("{name}.rs"))
    } else {
        dir.join(stem).join(format!("{name}.rs"))
    }
}

/// The lines of `text` with comment lines and `#[cfg(test)]` items blanked, and the modules
/// declared under `#[cfg(test)]` in their own files.
fn code_lines(text: &str) -> (Vec<String>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut test_mods = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "#[cfg(test)]" {
            let code = !lines[i].trim_start().starts_with("//");
            out.push(if code {
                lines[i].to_owned()
            } else {
                String::new()
            });
            i += 1;
            continue;
        }
        let item = lines.get(i + 1).copied().unwrap_or_default();
        let indent = &item[..item.len() - item.trim_start().len()];
        let end = if item.trim_end().ends_with(';') {
            if let Some(m) = item.trim().strip_prefix("mod ") {
                test_mods.push(m.trim_end_matches(';').to_owned());
            }
            i + 1
        } else {
            let close = format!("{indent}}}");
            (i + 1..lines.len())
                .find(|&j| lines[j] == close)
                .unwrap_or(lines.len() - 1)
        };
        out.extend((i..=end).map(|_| String::new()));
        i = end + 1;
    }
    (out, test_mods)
}

/// The write calls on a line.
fn writes_in(line: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for (at, _) in line.match_indices('.') {
        let rest = &line[at + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        let call = format!(".{name}()");
        let is_write = WRITE_VERBS
            .iter()
            .any(|v| name.strip_prefix(v).is_some_and(|r| r.starts_with('_')));
        if is_write && rest[name.len()..].starts_with("()") && !NOT_WRITES.contains(&call.as_str())
        {
            calls.push(call);
        }
    }
    calls
}

fn sites() -> Vec<Site> {
    let mut sites = Vec::new();
    for (path, lines) in sources() {
        for (i, line) in lines.iter().enumerate() {
            for call in writes_in(line) {
                let (name, signature) = enclosing_fn(&lines, i)
                    .unwrap_or_else(|| panic!("{path}:{}: {call} outside a fn", i + 1));
                sites.push(Site {
                    path: path.clone(),
                    line: i + 1,
                    name,
                    signature,
                    call,
                });
            }
        }
    }
    sites
}

/// The function line `at` is in: its name and its signature (up to the body's `{`).
fn enclosing_fn(lines: &[String], at: usize) -> Option<(String, String)> {
    let start = (0..=at).rev().find(|&i| fn_name(&lines[i]).is_some())?;
    let name = fn_name(&lines[start])?;
    let mut signature = String::new();
    for line in &lines[start..=at] {
        signature.push_str(line);
        if line.trim_end().ends_with('{') {
            break;
        }
    }
    Some((name, signature))
}

fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    for word in ["pub(crate) ", "pub(super) ", "pub ", "async "] {
        rest = rest.strip_prefix(word).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(rest[..end].to_owned())
}

/// The confirmation a remedy write takes: the CORS rule's, the undo's, or the plan's.
fn confirmation_of(site: &Site) -> &'static str {
    match (site.call.as_str(), site.name.as_str()) {
        (".put_bucket_cors()", _) => "ConfirmedCors",
        (_, "undo") => "ConfirmedUndo",
        _ => "ConfirmedPlan",
    }
}

#[test]
fn every_write_is_at_a_known_site_behind_its_guard() {
    let sites = sites();
    let mut remedy = 0;
    let mut probes = 0;
    let mut seeding = 0;
    for site in &sites {
        let at = format!(
            "{}:{}: {} in fn {}",
            site.path, site.line, site.call, site.name
        );
        if site.path.starts_with("crates/s3doctor-core/src/remedy/") {
            let confirmation = confirmation_of(site);
            assert!(
                site.signature.contains(confirmation),
                "{at}, which takes no {confirmation}"
            );
            remedy += 1;
        } else if site.path.starts_with("crates/s3doctor-core/src/checks/") {
            assert!(
                PROBE_WRITES.contains(&(&site.path, &site.name, &site.call)),
                "{at}: not one of the probe's writes"
            );
            assert!(
                site.signature.contains("key: &ProbeKey"),
                "{at}, which takes no ProbeKey"
            );
            probes += 1;
        } else if site.path == "src/gallery/seed.rs" {
            // A method of the seeder, whose clients all come from its Sandbox.
            assert!(
                site.signature.contains("&self"),
                "{at}: not a method of Seeder"
            );
            seeding += 1;
        } else {
            panic!("{at}: a write outside the remedy, the probes and the gallery's seeding");
        }
    }
    // Every site was seen (so the scan still finds them): the remedy's six grants, CORS, the
    // trust statement, and the undo's two detaches, two bucket-policy writes and the trust
    // statement's removal; the probe's six; the seeding's (its users, buckets and roles).
    assert_eq!(remedy, 13, "{sites:#?}");
    assert_eq!(probes, PROBE_WRITES.len(), "{sites:#?}");
    assert_eq!(seeding, 22, "{sites:#?}");
}

#[test]
fn the_seeding_gets_its_clients_from_the_sandbox_only() {
    let direct: Vec<(String, usize)> = sites_of(".clients")
        .into_iter()
        .filter(|(p, _)| p.starts_with("src/gallery/"))
        .collect();
    assert_eq!(direct, [("src/gallery/sandbox.rs".to_owned(), 5)]);
    assert_eq!(
        sites_of("Sandbox::new("),
        [("src/gallery/seed.rs".to_owned(), 2)],
        "a seeder is made only with a sandbox"
    );
}

#[test]
fn the_scan_finds_writes_and_only_writes() {
    let (lines, mods) = code_lines(
        "fn a() {\n    s3.put_object()\n    // s3.delete_object()\n}\n#[cfg(test)]\nfn t() {\n    s3.delete_bucket()\n}\n#[cfg(test)]\nmod aws_answers;\n",
    );
    assert_eq!(mods, ["aws_answers"]);
    let found: Vec<String> = lines.iter().flat_map(|l| writes_in(l)).collect();
    assert_eq!(found, [".put_object()"]);
    assert_eq!(
        writes_in("x.upload_id().abort_all() s3.get_object()"),
        Vec::<String>::new()
    );
    assert_eq!(
        writes_in("iam.create_user().user_name(u)"),
        [".create_user()"]
    );
}

/// The files that contain `pattern` outside comments and tests, with how often.
fn sites_of(pattern: &str) -> Vec<(String, usize)> {
    let mut sites: Vec<(String, usize)> = sources()
        .into_iter()
        .map(|(path, lines)| {
            let n = lines.iter().map(|l| l.matches(pattern).count()).sum();
            (path, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    sites.sort();
    sites
}

#[test]
fn only_the_wizard_and_fix_confirm_a_plan_or_a_cors_rule() {
    assert_eq!(
        sites_of(".confirm()"),
        [
            ("src/commands/fix.rs".to_owned(), 2),
            ("src/tui/app.rs".to_owned(), 1)
        ]
    );
}

#[test]
fn only_fix_undo_confirms_an_undo() {
    assert_eq!(
        sites_of("ConfirmedUndo::confirm"),
        [("src/commands/fix.rs".to_owned(), 1)]
    );
}
