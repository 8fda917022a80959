//! `s3doctor explain CODE`: what a finding code means, how s3doctor detects it, the usual
//! causes and the fix — like `rustc --explain`. The meaning and the fix are the runbook's own
//! text (what the wizard and the reports show); detection and causes come from
//! `assets/explain/findings.toml`. Every `FindingCode` must have both (a unit test says so).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::finding::FindingCode;
use crate::runbook::Runbook;

const EMBEDDED: &str = include_str!("../../../assets/explain/findings.toml");

/// What `assets/explain/findings.toml` adds for one code.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    pub detect: String,
    pub causes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainFile {
    code: BTreeMap<String, Detection>,
}

/// Parses the explain asset; codes are kept as text so that an unknown one is reported, not
/// a parse error.
fn parse(text: &str) -> Result<BTreeMap<String, Detection>, toml::de::Error> {
    Ok(toml::from_str::<ExplainFile>(text)?.code)
}

fn embedded() -> &'static BTreeMap<String, Detection> {
    static DATA: OnceLock<BTreeMap<String, Detection>> = OnceLock::new();
    // A broken asset yields no explanations; the unit tests fail on it long before a release.
    DATA.get_or_init(|| parse(EMBEDDED).unwrap_or_default())
}

/// The code named by `text` (`permission.missing`; case and surrounding space ignored).
pub fn lookup(text: &str) -> Option<FindingCode> {
    let wanted = text.trim().to_ascii_lowercase();
    FindingCode::ALL.into_iter().find(|c| c.as_str() == wanted)
}

/// Detection and causes of one code, when the asset has them.
pub fn detection(code: FindingCode) -> Option<&'static Detection> {
    embedded().get(code.as_str())
}

/// The runbook's templates name the run's values (`{bucket}`, `{action}` …); out of a run
/// they read as `<bucket>`, `<action>`, and the optional clauses disappear.
fn generic(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if !after[..end].is_empty()
                    && after[..end]
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_') =>
            {
                let name = &after[..end];
                match name {
                    "source" | "statement" | "endpoint_flag" => {}
                    // The bucket, or bucket/object for the app's own object (--key).
                    "target" => out.push_str("<bucket>"),
                    "object_word" => out.push_str("<object>"),
                    // The server that answered (AWS, Ceph RGW, …): said in words.
                    "server" => out.push_str("the server"),
                    _ => {
                        out.push('<');
                        out.push_str(name);
                        out.push('>');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    // "… on <bucket>. " with an empty {source}: no trailing space, no ": ." left over.
    out.replace(": .", ".").trim().to_owned()
}

/// Word-wraps `text` at `width` columns, each line starting with `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.chars().count() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines.join("\n")
}

/// The full explanation of one code, as `s3doctor explain` prints it.
pub fn render(code: FindingCode, runbook: &Runbook) -> String {
    let mut out = String::new();
    let title = runbook
        .finding(code)
        .map(|t| generic(&t.title))
        .unwrap_or_default();
    out.push_str(&format!("{code}: {title}\n\n"));
    if let Some(text) = runbook.finding(code) {
        out.push_str("What it means\n");
        out.push_str(&wrap(&generic(&text.what), "  ", 80));
        out.push_str("\n\n");
    }
    if let Some(d) = detection(code) {
        out.push_str("How s3doctor detects it\n");
        out.push_str(&wrap(&d.detect, "  ", 80));
        out.push_str("\n\nUsual causes\n");
        for cause in &d.causes {
            let item = wrap(cause, "    ", 80);
            out.push_str("  - ");
            out.push_str(item.trim_start());
            out.push('\n');
        }
        out.push('\n');
    }
    if let Some(text) = runbook.finding(code) {
        out.push_str("The fix\n");
        out.push_str(&wrap(&generic(&text.fix), "  ", 80));
        out.push('\n');
    }
    out
}

/// Every code with its title, one a line: `s3doctor explain` without a code.
pub fn list(runbook: &Runbook) -> String {
    let width = FindingCode::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for code in FindingCode::ALL {
        let title = runbook
            .finding(code)
            .map(|t| generic(&t.title))
            .unwrap_or_default();
        out.push_str(&format!("{:<width$}  {title}\n", code.as_str()));
    }
    out.push_str(
        "\n`s3doctor explain CODE` tells what one means, how it is detected and the fix.\n",
    );
    out
}

/// The one-line answer to a code s3doctor does not know: the closest code, then all of them.
pub fn unknown(text: &str) -> String {
    let wanted = text.trim().to_ascii_lowercase();
    let closest = FindingCode::ALL
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted, c.as_str()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!(" (did you mean {c}?)"))
        .unwrap_or_default();
    let known: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
    format!(
        "unknown finding code {text:?}{closest}. Known codes: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asset_parses_and_names_only_known_codes() {
        let data = parse(EMBEDDED).unwrap();
        for name in data.keys() {
            assert!(lookup(name).is_some(), "{name} is not a FindingCode");
        }
    }

    /// A code added to `FindingCode` fails here until someone explains it.
    #[test]
    fn every_finding_code_is_explained() {
        let runbook = Runbook::embedded();
        for code in FindingCode::ALL {
            let d = detection(code)
                .unwrap_or_else(|| panic!("{code} has no entry in assets/explain/findings.toml"));
            assert!(!d.detect.trim().is_empty(), "{code}: empty detect");
            assert!(!d.causes.is_empty(), "{code}: no causes");
            let text = render(code, runbook);
            for heading in [
                "What it means",
                "How s3doctor detects it",
                "Usual causes",
                "The fix",
            ] {
                assert!(text.contains(heading), "{code} lacks {heading}:\n{text}");
            }
            assert!(!text.contains('{'), "{code} keeps a placeholder:\n{text}");
        }
    }

    #[test]
    fn explanation_uses_the_runbook_text_the_wizard_shows() {
        let runbook = Runbook::embedded();
        let text = render(FindingCode::PermissionMissing, runbook);
        assert!(
            text.starts_with("permission.missing: Not allowed: <action>\n"),
            "{text}"
        );
        assert!(text.contains("Nothing allows <principal> to perform <action> on <bucket>."));
        assert!(text.contains("s3:ListBucket granted on bucket/*"));
        assert!(text.contains("Attach a least-privilege policy"));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "too wide: {line}");
        }
    }

    #[test]
    fn lookup_ignores_case_and_space() {
        assert_eq!(
            lookup(" Permission.Explicit-Deny "),
            Some(FindingCode::ExplicitDeny)
        );
        assert_eq!(lookup("permission"), None);
    }

    #[test]
    fn unknown_code_is_one_line_with_every_known_code_and_a_suggestion() {
        let line = unknown("permission.mising");
        assert!(!line.contains('\n'));
        assert!(
            line.contains("(did you mean permission.missing?)"),
            "{line}"
        );
        for code in FindingCode::ALL {
            assert!(line.contains(code.as_str()), "{line}");
        }
        assert!(!unknown("zzz").contains("did you mean"));
    }

    #[test]
    fn generic_keeps_stray_braces_and_drops_optional_clauses() {
        assert_eq!(generic("on {bucket}. {source}"), "on <bucket>.");
        assert_eq!(generic("a {b c} {"), "a {b c} {");
        assert_eq!(generic("statement{statement} ok"), "statement ok");
        assert_eq!(generic("{server}'s time"), "the server's time");
    }
}
