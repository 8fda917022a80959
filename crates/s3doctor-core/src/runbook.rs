//! The checklist as data: step order, titles, "why" texts and finding templates, loaded from
//! the TOML embedded at build time, with `StepId` as the closed set of steps the code knows.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::finding::{FindingCode, Unreachable};
use crate::server::{EndpointKind, Server};
pub use crate::step::StepId;

const EMBEDDED: &str = include_str!("../../../assets/runbooks/s3-403.toml");

/// Whether a step runs once, once per bucket, or once per bucket and `--key` (the app's own
/// objects: no row without a key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    Global,
    Bucket,
    Object,
}

/// Which runs include a step: always, only when writes are allowed, only with `--access full`,
/// or only with `--origin` (browser uploads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Always,
    Write,
    Acl,
    Origin,
    /// Only with `--admin-profile` (the step reads what the app's keys may not).
    Admin,
}

impl Mode {
    /// True for the steps that write to the bucket (the upload, its ACL, its deletion, the
    /// multipart probe): a read-only run skips them. `acl` steps set an ACL on the probe, so
    /// they write too.
    pub fn writes(self) -> bool {
        matches!(self, Mode::Write | Mode::Acl)
    }
}

/// One step as the runbook describes it to a person.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub id: StepId,
    pub scope: Scope,
    #[serde(default)]
    pub mode: Mode,
    pub title: String,
    pub why: String,
    pub calls: Vec<String>,
    pub needs: Vec<StepId>,
}

/// Plain-words text for one finding code.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingText {
    pub title: String,
    pub what: String,
    pub fix: String,
    /// What to say instead of `what` when only a bare refusal was seen (basis `inferred`).
    #[serde(default)]
    pub inferred: Option<String>,
    /// The words for a server that is S3 only (no STS, so no IAM managed policies: Ceph RGW,
    /// R2, …), each replacing the general one when given.
    #[serde(default, rename = "s3-only")]
    pub s3_only: Option<ServerWords>,
    /// The words for Ceph RGW, over `s3-only`'s.
    #[serde(default, rename = "ceph-rgw")]
    pub ceph_rgw: Option<ServerWords>,
    /// The words for a call that got no answer within the timeout, over the server's.
    #[serde(default, rename = "timed-out")]
    pub timed_out: Option<ServerWords>,
    /// The words for a call whose connection was refused, over the server's.
    #[serde(default)]
    pub refused: Option<ServerWords>,
    /// The words for a call whose endpoint's host name did not resolve, over the server's.
    #[serde(default)]
    pub dns: Option<ServerWords>,
    /// The words for a call whose TLS handshake failed, over the server's.
    #[serde(default)]
    pub tls: Option<ServerWords>,
}

/// A finding's words for one kind of server; what is not given is the general text's.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerWords {
    pub title: Option<String>,
    pub what: Option<String>,
    pub fix: Option<String>,
    pub inferred: Option<String>,
}

/// A finding's templates as they apply to one server.
#[derive(Clone, Copy, Debug)]
pub struct Words<'a> {
    pub title: &'a str,
    pub what: &'a str,
    pub fix: &'a str,
    pub inferred: Option<&'a str>,
}

impl FindingText {
    /// True when every fix of the finding (the general one and each server's) names the
    /// statement behind it (`{statement}`): a finding built from it that cites a statement
    /// already says which in its fix.
    pub fn fix_names_statement(&self) -> bool {
        let servers = [
            &self.s3_only,
            &self.ceph_rgw,
            &self.timed_out,
            &self.refused,
        ];
        std::iter::once(Some(self.fix.as_str()))
            .chain(
                servers
                    .into_iter()
                    .map(|w| w.as_ref().and_then(|w| w.fix.as_deref())),
            )
            .flatten()
            .all(|fix| fix.contains("{statement}"))
    }

    /// The templates for `server`: the most specific words given for it (Ceph RGW's, then
    /// those of servers that are S3 only), else the general ones.
    pub fn for_server(&self, server: Server) -> Words<'_> {
        self.for_answer(server, None)
    }

    /// The templates for `server` and a call that got no answer in the way `unreachable`
    /// says: the words for how it got none over the server's.
    pub fn for_answer(&self, server: Server, unreachable: Option<Unreachable>) -> Words<'_> {
        let mut words = Words {
            title: &self.title,
            what: &self.what,
            fix: &self.fix,
            inferred: self.inferred.as_deref(),
        };
        let layers = [
            self.s3_only.as_ref().filter(|_| server.s3_only),
            self.ceph_rgw
                .as_ref()
                .filter(|_| server.kind == EndpointKind::CephRgw),
            match unreachable {
                Some(Unreachable::TimedOut) => self.timed_out.as_ref(),
                Some(Unreachable::Refused) => self.refused.as_ref(),
                Some(Unreachable::Dns) => self.dns.as_ref(),
                Some(Unreachable::Tls) => self.tls.as_ref(),
                // No words of their own: the general ones.
                Some(Unreachable::Connection | Unreachable::Other) | None => None,
            },
        ];
        for layer in layers.into_iter().flatten() {
            words.title = layer.title.as_deref().unwrap_or(words.title);
            words.what = layer.what.as_deref().unwrap_or(words.what);
            words.fix = layer.fix.as_deref().unwrap_or(words.fix);
            words.inferred = layer.inferred.as_deref().or(words.inferred);
        }
        words
    }
}

/// The whole runbook.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub name: String,
    #[serde(rename = "step")]
    pub steps: Vec<StepDef>,
    #[serde(rename = "finding")]
    pub findings: BTreeMap<FindingCode, FindingText>,
}

/// Why a runbook file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    #[error("runbook is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("runbook steps {found:?} do not match the steps s3doctor knows {expected:?}")]
    Steps {
        found: Vec<StepId>,
        expected: Vec<StepId>,
    },
    #[error("runbook has no text for finding {0}")]
    MissingFinding(FindingCode),
}

impl Runbook {
    /// Parses and checks a runbook: every known step exactly once, every finding explained.
    pub fn parse(text: &str) -> Result<Self, RunbookError> {
        let runbook: Runbook = toml::from_str(text)?;
        let found: Vec<StepId> = runbook.steps.iter().map(|s| s.id).collect();
        if found != StepId::ALL {
            return Err(RunbookError::Steps {
                found,
                expected: StepId::ALL.to_vec(),
            });
        }
        if let Some(code) = FindingCode::ALL
            .iter()
            .find(|c| !runbook.findings.contains_key(c))
        {
            return Err(RunbookError::MissingFinding(*code));
        }
        Ok(runbook)
    }

    /// The runbook compiled into the binary.
    #[allow(clippy::expect_used)] // checked by the unit test below; a broken build asset is a bug
    pub fn embedded() -> &'static Runbook {
        static RUNBOOK: OnceLock<Runbook> = OnceLock::new();
        RUNBOOK.get_or_init(|| Runbook::parse(EMBEDDED).expect("embedded runbook is valid"))
    }

    /// The definition of one step.
    pub fn step(&self, id: StepId) -> &StepDef {
        // parse() guarantees every StepId is present, in ALL's order.
        &self.steps[StepId::ALL.iter().position(|s| *s == id).unwrap_or(0)]
    }

    /// The text for one finding code.
    pub fn finding(&self, code: FindingCode) -> Option<&FindingText> {
        self.findings.get(&code)
    }
}

/// Fills `{name}` placeholders from `vars`; unknown placeholders are left as they are.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_runbook_names_every_step_in_order() {
        let rb = Runbook::parse(EMBEDDED).unwrap();
        let ids: Vec<_> = rb.steps.iter().map(|s| s.id).collect();
        assert_eq!(ids, StepId::ALL);
        for step in &rb.steps {
            assert!(!step.why.trim().is_empty(), "{} has no why", step.id);
            assert!(!step.calls.is_empty(), "{} names no call", step.id);
            assert!(
                !step.why.contains('\\'),
                "{} has a stray line continuation",
                step.id
            );
        }
    }

    #[test]
    fn needs_only_point_backwards() {
        let rb = Runbook::embedded();
        for (i, step) in rb.steps.iter().enumerate() {
            for need in &step.needs {
                let j = StepId::ALL.iter().position(|s| s == need).unwrap();
                assert!(j < i, "{} needs {} which comes later", step.id, need);
            }
        }
    }

    #[test]
    fn every_finding_code_has_text() {
        let rb = Runbook::embedded();
        for code in FindingCode::ALL {
            let text = rb.finding(code).unwrap();
            assert!(!text.what.is_empty() && !text.fix.is_empty());
        }
    }

    #[test]
    fn a_finding_takes_the_words_of_the_server_that_answered() {
        let t = Runbook::embedded()
            .finding(FindingCode::InvalidKeyId)
            .expect("text");
        let aws = t.for_server(Server::AWS);
        assert!(aws.fix.contains("IAM > Users"), "{}", aws.fix);
        let other = t.for_server(Server {
            kind: EndpointKind::S3Compatible,
            s3_only: true,
        });
        assert!(
            other.what.starts_with("{server} does not know"),
            "{}",
            other.what
        );
        assert!(!other.fix.contains("IAM"), "{}", other.fix);
        let rgw = t.for_server(Server {
            kind: EndpointKind::CephRgw,
            s3_only: true,
        });
        // Ceph RGW's own fix, over the s3-only words, which it keeps where it has none.
        assert!(rgw.fix.contains("radosgw-admin key create"), "{}", rgw.fix);
        assert_eq!(rgw.what, other.what);
        // An emulator with STS and IAM speaks as AWS does.
        let moto = t.for_server(Server {
            kind: EndpointKind::AwsCompatible,
            s3_only: false,
        });
        assert_eq!(moto.fix, aws.fix);
    }

    #[test]
    fn unknown_step_id_is_rejected() {
        let bad = EMBEDDED.replacen("id = \"identity\"", "id = \"whoami\"", 1);
        assert!(matches!(Runbook::parse(&bad), Err(RunbookError::Toml(_))));
    }

    #[test]
    fn missing_step_is_rejected() {
        let start = EMBEDDED.find("[[step]]\nid = \"identity\"").unwrap();
        let end = EMBEDDED[start + 1..].find("[[step]]").unwrap() + start + 1;
        let bad = format!("{}{}", &EMBEDDED[..start], &EMBEDDED[end..]);
        assert!(matches!(
            Runbook::parse(&bad),
            Err(RunbookError::Steps { .. })
        ));
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        assert_eq!(fill("{a} and {b}", &[("a", "x")]), "x and {b}");
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any text: an error or a runbook, never a panic.
            #[test]
            fn any_text_parses_or_errs(text in ".{0,400}") {
                let _ = Runbook::parse(&text);
            }

            /// The real runbook with a slice cut out or a character put in.
            #[test]
            fn damaged_runbooks_never_panic(
                cut in 0usize..EMBEDDED.len(),
                len in 0usize..200,
                insert in proptest::option::of(any::<char>()),
            ) {
                let mut text: Vec<char> = EMBEDDED.chars().collect();
                let start = cut.min(text.len());
                let end = (start + len).min(text.len());
                text.drain(start..end);
                if let Some(c) = insert {
                    text.insert(start, c);
                }
                let text: String = text.into_iter().collect();
                if let Ok(r) = Runbook::parse(&text) {
                    // Whatever parses is complete: every step, every finding.
                    prop_assert_eq!(r.steps.len(), StepId::ALL.len());
                }
            }

            /// Filling a template never panics and leaves no known placeholder behind.
            #[test]
            fn fill_replaces_every_known_placeholder(template in ".{0,200}", value in "[a-z{}]{0,12}") {
                let out = fill(&format!("{template}{{bucket}}"), &[("bucket", value.as_str())]);
                prop_assert!(out.ends_with(value.as_str()));
            }
        }
    }
}
