//! The house rule, kept by a test: imports point down. Each top-level module sits on a floor
//! (README, Development); a module may import its own floor or lower ones, never a higher one,
//! and no group of modules may import each other in a circle. The test reads the sources (test
//! modules excluded) the way `use crate::…` and `crate::…` paths name modules.
//!
//! Three crates are the three storeys, and the compiler keeps them apart: the policy code
//! (`crates/iam-policy`, re-exported as `policy` and `arn`) cannot import s3doctor; the library
//! (`crates/s3doctor-core`, floors 0 to 5) cannot import the wizard or the command line; the
//! `s3doctor` package (`src/`, floors 6 to 8) re-exports the library's modules under their own
//! names. Tests here keep the AWS SDK and tokio out of the policy crate and the terminal and the
//! command line out of the library, and check that each module sits in the crate of its floor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, bottom to top. A new module must be given a floor here (and in the README).
const FLOORS: &[(&str, u8)] = &[
    // 0: vocabulary, no AWS calls
    ("step", 0),
    ("finding", 0),
    ("runbook", 0),
    ("server", 0),
    ("operation", 0),
    // `arn` and `policy` are the iam-policy crate (crates/iam-policy), re-exported.
    ("arn", 0),
    ("bucket_name", 0),
    ("object_key", 0),
    ("envfile", 0),
    ("policy", 0),
    ("app_network", 0),
    // 1: AWS access and what its answers mean
    ("aws", 1),
    ("credentials", 1),
    ("answers", 1),
    ("endpoint", 1),
    // 2: live checks
    ("checks", 2),
    // 3: scheduling
    ("engine", 3),
    // 4: the findings that stand
    ("diagnosis", 4),
    // 5: readers of the diagnosis
    ("report", 5),
    ("remedy", 5),
    ("presigned", 5),
    ("explain", 5),
    ("why", 5),
    // 6: the s3doctor package's ground: how a run ends and its log
    ("exit", 6),
    ("logging", 6),
    // 7: views
    ("tui", 7),
    ("gallery", 7),
    // 8: commands
    ("cli", 8),
    ("commands", 8),
    ("demo", 8),
    ("url_command", 8),
    ("why_command", 8),
    ("docs", 8),
];

/// The highest floor of the library crate (`crates/s3doctor-core`); the floors above it are
/// the `s3doctor` package's.
const LIBRARY_TOP: u8 = 5;

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sources of the s3doctor package (the binary's side).
fn package_src() -> PathBuf {
    root().join("src")
}

/// The sources of the library crate.
fn library_src() -> PathBuf {
    root().join("crates/s3doctor-core/src")
}

/// The modules `lib.rs` in `dir` declares (`pub mod x;`).
fn declared_modules(dir: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(dir.join("lib.rs")).expect("read lib.rs");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_owned())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`crates/s3doctor-core/src/checks/kms.rs` →
/// `checks`, `src/tui/app.rs` → `tui`), or `None` for the crates' roots and the binary.
fn owner(path: &Path) -> Option<String> {
    let rel = path
        .strip_prefix(package_src())
        .or_else(|_| path.strip_prefix(library_src()))
        .ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// The code of a file without its test module and without comment lines.
fn code(text: &str) -> String {
    text.lines()
        .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules named by `crate::x` and `crate::{x, y::z}` in `code`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        found.insert(ident(&group[i..]).to_owned());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest).to_owned());
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// module → the other top-level modules it imports.
fn arrows() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&package_src(), &mut files);
    rust_files(&library_src(), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(from) = owner(&file) else { continue };
        let text = std::fs::read_to_string(&file).expect("read source");
        let to = named_modules(&code(&text));
        let entry = edges.entry(from.clone()).or_default();
        entry.extend(to.into_iter().filter(|m| *m != from && floor(m).is_some()));
    }
    edges
}

#[test]
fn every_module_has_a_floor() {
    let library = declared_modules(&library_src());
    let package = declared_modules(&package_src());
    assert!(
        library.len() > 15,
        "the library lists its modules: {library:?}"
    );
    assert!(
        package.len() > 5,
        "the package lists its modules: {package:?}"
    );
    let homeless: Vec<_> = library
        .iter()
        .chain(&package)
        .filter(|m| floor(m).is_none())
        .collect();
    assert!(
        homeless.is_empty(),
        "give these modules a floor in tests/it/house.rs and the README: {homeless:?}"
    );
}

#[test]
fn each_module_sits_in_the_crate_of_its_floor() {
    let misplaced: Vec<String> = declared_modules(&library_src())
        .into_iter()
        .filter(|m| floor(m).is_some_and(|f| f > LIBRARY_TOP))
        .map(|m| format!("{m} is in crates/s3doctor-core but on a floor of the s3doctor package"))
        .chain(
            declared_modules(&package_src())
                .into_iter()
                .filter(|m| floor(m).is_some_and(|f| f <= LIBRARY_TOP))
                .map(|m| format!("{m} is in src/ but on a floor of the library")),
        )
        .collect();
    assert!(misplaced.is_empty(), "{misplaced:#?}");
}

#[test]
fn the_library_knows_nothing_of_the_terminal_or_the_command_line() {
    let manifest = std::fs::read_to_string(root().join("crates/s3doctor-core/Cargo.toml"))
        .expect("read crates/s3doctor-core/Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(deps.iter().any(|d| d == "aws-sdk-s3"), "{deps:?}");
    let terminal = [
        "ratatui",
        "crossterm",
        "clap",
        "color-eyre",
        "tracing-subscriber",
    ];
    let named: Vec<&String> = deps
        .iter()
        .filter(|d| terminal.iter().any(|t| d.starts_with(t)) || *d == "s3doctor")
        .collect();
    assert!(named.is_empty(), "the library depends on {named:?}");
    let mut files = Vec::new();
    rust_files(&library_src(), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let named = ["ratatui::", "crossterm::", "clap::", "color_eyre::"]
            .into_iter()
            .find(|crate_path| text.contains(crate_path));
        assert_eq!(named, None, "{} names a crate above it", file.display());
    }
}

#[test]
fn imports_point_down() {
    let edges = arrows();
    assert!(
        edges.get("tui").is_some_and(|to| to.contains("engine")),
        "the reader sees the wizard import the engine: {edges:?}"
    );
    let upward: Vec<String> = edges
        .iter()
        .flat_map(|(from, to)| to.iter().map(move |t| (from, t)))
        .filter(|(from, to)| floor(to) > floor(from))
        .map(|(from, to)| {
            format!(
                "{from} (floor {:?}) → {to} (floor {:?})",
                floor(from),
                floor(to)
            )
        })
        .collect();
    assert!(upward.is_empty(), "imports that point up: {upward:#?}");
}

#[test]
fn no_module_circles() {
    let edges = arrows();
    // A circle exists when some module can reach itself.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = edges[start].iter().collect();
        while let Some(m) = stack.pop() {
            if m == start {
                circles.push(start.clone());
                break;
            }
            if seen.insert(m.clone()) {
                stack.extend(edges.get(m).into_iter().flatten());
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules on an import circle: {circles:?}"
    );
}

/// The `[dependencies]` of a Cargo manifest, one name each.
fn dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && let Some((name, _)) = line.split_once('=') {
            names.push(name.trim().to_owned());
        }
    }
    names
}

#[test]
fn the_policy_crate_needs_no_aws_sdk_no_runtime_and_no_s3doctor() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("crates/iam-policy/Cargo.toml"))
        .expect("read crates/iam-policy/Cargo.toml");
    let deps = dependencies(&manifest);
    assert!(deps.iter().any(|d| d == "serde"), "{deps:?}");
    let heavy: Vec<&String> = deps
        .iter()
        .filter(|d| d.starts_with("aws-") || d.starts_with("tokio") || *d == "s3doctor")
        .collect();
    assert!(heavy.is_empty(), "the policy crate depends on {heavy:?}");
    let mut files = Vec::new();
    rust_files(&root.join("crates/iam-policy/src"), &mut files);
    assert!(files.len() > 5, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let named = [
            "aws_sdk_",
            "aws_smithy_",
            "aws_config",
            "aws_types",
            "aws_runtime",
        ]
        .into_iter()
        .chain(["aws_credential_types", "tokio::", "s3doctor::"])
        .find(|crate_path| text.contains(crate_path));
        assert_eq!(named, None, "{} names another crate", file.display());
    }
}

#[test]
fn the_reader_understands_grouped_imports() {
    let found = named_modules(
        "use crate::{checks::{A, B}, finding::Finding};\nlet x = crate::aws::connect();",
    );
    assert_eq!(
        found,
        ["aws", "checks", "finding"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    );
}
