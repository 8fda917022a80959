//! The diagnosis of a run: from the engine's step results, the findings that stand (one per
//! problem; an explicit deny supersedes "nothing allows it"), how each is known, and the
//! policy that fixes them. Report, remedy and wizard read it; none of them re-applies a rule.

pub mod handover;

use crate::finding::{Basis, Finding, FindingCode};
use crate::policy::{self, Access, PolicyDocument};

/// One finding per problem: the keys' problems once for the run, the others per bucket and
/// action. When the policy steps traced a denial, their source and statement join the live
/// step's finding (which keeps its evidence), and an explicit deny replaces "nothing allows
/// it" for the same action: adding an Allow would not cure it.
pub fn dedupe(findings: impl Iterator<Item = Finding>) -> Vec<Finding> {
    let all: Vec<Finding> = findings.collect();
    let key = |f: &Finding| {
        let run_wide = f.code.is_credentials()
            || matches!(
                f.code,
                FindingCode::EndpointUnreachable | FindingCode::Throttled
            );
        if run_wide {
            (f.code, None, None)
        } else {
            (f.code, f.bucket.clone(), f.action.clone())
        }
    };
    let denied: Vec<(Option<String>, Option<String>)> = all
        .iter()
        .filter(|f| f.code == FindingCode::ExplicitDeny)
        .map(|f| (f.bucket.clone(), f.action.clone()))
        .collect();
    let mut out: Vec<Finding> = Vec::new();
    let mut superseded: Vec<Finding> = Vec::new();
    for f in all {
        let denied_too = denied
            .iter()
            .any(|(bucket, action)| *bucket == f.bucket && *action == f.action);
        if f.code == FindingCode::PermissionMissing && denied_too {
            superseded.push(f);
            continue;
        }
        match out.iter_mut().find(|e| key(e) == key(&f)) {
            Some(existing) => {
                // What the policies say replaces an inference from a bare refusal.
                if existing.basis == Basis::Inferred && f.basis != Basis::Inferred {
                    existing.summary = f.summary.clone();
                }
                existing.basis = existing.basis.merge(f.basis);
                existing.source = existing.source.or(f.source);
                existing.statement = existing.statement.take().or(f.statement);
                existing.evidence = existing.evidence.take().or(f.evidence);
            }
            None => out.push(f),
        }
    }
    // Keep the live evidence on the explicit deny that explains it.
    for m in superseded {
        if let Some(d) = out.iter_mut().find(|d| {
            d.code == FindingCode::ExplicitDeny && d.bucket == m.bucket && d.action == m.action
        }) {
            d.evidence = d.evidence.take().or(m.evidence);
        }
    }
    out
}

/// The least-privilege policy for the buckets with missing permissions, if any.
pub fn policy_for(
    findings: &[Finding],
    access: Access,
    prefix: Option<&str>,
) -> Option<PolicyDocument> {
    let mut buckets: Vec<String> = findings
        .iter()
        .filter(|f| f.is_fixable_by_policy())
        .filter_map(|f| f.bucket.clone())
        .collect();
    buckets.dedup();
    // Multipart clean-up actions are only asked for by the multipart-upload step.
    let extra: Vec<&str> = policy::MULTIPART_ACTIONS
        .into_iter()
        .filter(|a| {
            findings
                .iter()
                .any(|f| f.code.is_fixable_by_policy() && f.action.as_deref() == Some(*a))
        })
        .collect();
    (!buckets.is_empty()).then(|| policy::generate_with(&buckets, access, prefix, &extra))
}
