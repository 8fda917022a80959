//! The diagnosis of a run: from the engine's step results, the findings that stand (one per
//! problem; an explicit deny supersedes "nothing allows it"), how each is known, and the
//! policy that fixes them. Report, remedy and wizard read it; none of them re-applies a rule.

pub mod handover;

use crate::arn;
use crate::checks::RunSettings;
use crate::endpoint::Capabilities;
use crate::engine::{Engine, SessionInfo, StepResult};
use crate::finding::{Basis, Finding, FindingCode};
use crate::policy::{self, Access, PolicyDocument};

/// What a run (or the part of it that has run) shows, worked out once from its step results:
/// the findings that stand, the policy that fixes them, and whether the run is complete.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    steps: Vec<StepResult>,
    findings: Vec<Finding>,
    policy: Option<PolicyDocument>,
    steps_run: usize,
    steps_planned: usize,
}

impl Diagnosis {
    /// From the step results in checklist order, `planned` steps in all (those without a
    /// result did not run), the run's settings, and what is known of the session: what the
    /// endpoint offers, and the principal or region whose partition the policy's ARNs name.
    pub fn new(
        steps: Vec<StepResult>,
        planned: usize,
        run: &RunSettings,
        session: Option<&SessionInfo>,
    ) -> Diagnosis {
        let endpoint = session.and_then(|s| s.endpoint.as_ref());
        let principal = session
            .and_then(|s| s.identity.as_ref())
            .map(|i| &i.principal);
        let partition = arn::partition_for(principal, session.and_then(|s| s.region.as_deref()));
        let findings = dedupe(steps.iter().flat_map(|s| s.findings.iter().cloned()));
        // A server without IAM managed policies gets no IAM policy to attach: `fix` writes a
        // bucket-policy statement there instead.
        let s3_only = endpoint.is_some_and(Capabilities::s3_only);
        let policy = policy_for(
            &partition,
            &findings,
            run.access,
            run.prefix_scoped.then_some(run.prefix.as_str()),
        )
        .filter(|_| !s3_only);
        let steps_run = steps.iter().filter(|s| s.ran).count();
        Diagnosis {
            steps_planned: planned.max(steps.len()),
            steps_run,
            steps,
            findings,
            policy,
        }
    }

    /// The diagnosis of everything the engine has run so far.
    pub async fn of_engine(engine: &Engine) -> Diagnosis {
        let steps = engine.results().await;
        let info = engine.session_info().await;
        Diagnosis::new(
            steps,
            engine.units().len(),
            engine.run_settings(),
            Some(&info),
        )
    }

    /// The step results it was worked out from, in checklist order.
    pub fn steps(&self) -> &[StepResult] {
        &self.steps
    }

    /// The findings that stand: one per problem, each with the best basis known.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn error_count(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    /// The explicit denies among the findings: a new Allow cannot cure them.
    pub fn explicit_denies(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.code == FindingCode::ExplicitDeny)
    }

    /// The least-privilege IAM policy that fixes the missing permissions; `None` when nothing
    /// is missing, or the server has no IAM managed policies.
    pub fn policy(&self) -> Option<&PolicyDocument> {
        self.policy.as_ref()
    }

    /// The standing finding that explains one of a step's own findings: the same problem as
    /// the whole run explains it (a Deny traced by the policy steps replaces "nothing allows
    /// it", and the responsible statement joins it), or the finding itself.
    pub fn explain<'a>(&'a self, finding: &'a Finding) -> &'a Finding {
        self.findings
            .iter()
            .find(|e| {
                e.bucket == finding.bucket
                    && e.action == finding.action
                    && e.key == finding.key
                    && (e.code == finding.code
                        || (finding.code == FindingCode::PermissionMissing
                            && explains_a_refusal(e.code)))
            })
            .unwrap_or(finding)
    }

    pub fn steps_run(&self) -> usize {
        self.steps_run
    }

    pub fn steps_planned(&self) -> usize {
        self.steps_planned
    }

    /// Every planned step ran (a run cut short, or steps skipped because another failed,
    /// is not complete, and never reads as "no problems found").
    pub fn complete(&self) -> bool {
        self.steps_run == self.steps_planned
    }

    /// No error finding, and every step ran.
    pub fn ok(&self) -> bool {
        self.complete() && self.error_count() == 0
    }

    /// "3 of 11 steps ran".
    pub fn progress(&self) -> String {
        format!(
            "{} of {} step{} ran",
            self.steps_run,
            self.steps_planned,
            if self.steps_planned == 1 { "" } else { "s" }
        )
    }
}

/// One finding per problem: the keys' problems once for the run, the others per bucket,
/// action and object (`--key`). When the policy steps traced a denial, their source and statement join the live
/// step's finding (which keeps its evidence), and an explicit deny replaces "nothing allows
/// it" for the same action: adding an Allow would not cure it.
fn dedupe(findings: impl Iterator<Item = Finding>) -> Vec<Finding> {
    let all: Vec<Finding> = findings.collect();
    let key = |f: &Finding| {
        let run_wide = f.code.is_credentials()
            || matches!(
                f.code,
                FindingCode::EndpointUnreachable | FindingCode::Throttled
            );
        if run_wide {
            (f.code, None, None, None)
        } else {
            (f.code, f.bucket.clone(), f.action.clone(), f.key.clone())
        }
    };
    let denied: Vec<(Option<String>, Option<String>, Option<String>)> = all
        .iter()
        .filter(|f| explains_a_refusal(f.code))
        .map(|f| (f.bucket.clone(), f.action.clone(), f.key.clone()))
        .collect();
    let mut out: Vec<Finding> = Vec::new();
    let mut superseded: Vec<Finding> = Vec::new();
    for f in all {
        let denied_too = denied.iter().any(|(bucket, action, key)| {
            *bucket == f.bucket && *action == f.action && *key == f.key
        });
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
                existing.vantages = existing.vantages.take().or(f.vantages);
                existing.evidence = existing.evidence.take().or(f.evidence);
            }
            None => out.push(f),
        }
    }
    // Keep the live evidence on the explicit deny that explains it.
    for m in superseded {
        if let Some(d) = out.iter_mut().find(|d| {
            explains_a_refusal(d.code)
                && d.bucket == m.bucket
                && d.action == m.action
                && d.key == m.key
        }) {
            // A live refusal stays an error: a condition that may hold explains it, it does
            // not excuse it (unless the app's own network is allowed: only here is refused).
            if m.is_error() && d.vantages.is_none() {
                d.severity = m.severity;
            }
            d.evidence = d.evidence.take().or(m.evidence);
        }
    }
    out
}

/// The codes that explain a refusal better than "nothing allows it": a Deny, or a condition
/// (the app's network, another key) that decides the action. An Allow would not cure them.
fn explains_a_refusal(code: FindingCode) -> bool {
    matches!(
        code,
        FindingCode::ExplicitDeny | FindingCode::DependsOnNetwork | FindingCode::DependsOnCondition
    )
}

/// The least-privilege policy for the buckets with missing permissions, if any.
fn policy_for(
    partition: &str,
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
    // The app's own objects (`--key`) that the prefix leaves out are added by name.
    let objects: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.is_fixable_by_policy())
        .filter_map(|f| Some((f.bucket.clone()?, f.key.clone()?)))
        .filter(|(_, key)| prefix.is_some_and(|p| !key.starts_with(p)))
        .collect();
    (!buckets.is_empty()).then(|| {
        let doc = policy::generate_with(partition, &buckets, access, prefix, &extra);
        policy::with_objects(doc, partition, &objects)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::finding::{DenySource, Evidence, Severity, StatementRef};
    use crate::step::StepId;

    fn finding(code: FindingCode, step: StepId, bucket: &str, action: &str) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            step,
            bucket: Some(bucket.into()),
            action: Some(action.into()),
            source: None,
            basis: Basis::AwsMessage,
            resource: None,
            key: None,
            title: format!("{code}"),
            summary: format!("{code} from {step}"),
            remedy: "fix it".into(),
            statement: None,
            evidence: None,
            vantages: None,
        }
    }

    fn evidence(request_id: &str) -> Evidence {
        Evidence {
            operation: "PutObject".into(),
            http_status: Some(403),
            error_code: Some("AccessDenied".into()),
            message: Some("Access Denied".into()),
            request_id: Some(request_id.into()),
            headers: Vec::new(),
            authorization_id: None,
            unreachable: None,
        }
    }

    fn step(id: StepId, status: Status, ran: bool, findings: Vec<Finding>) -> StepResult {
        StepResult {
            id,
            bucket: Some("b".into()),
            key: None,
            status,
            elapsed_ms: 1,
            detail: String::new(),
            evidence: None,
            findings,
            blocking: false,
            ran,
        }
    }

    fn run() -> RunSettings {
        RunSettings {
            buckets: vec!["b".into(), "c".into()],
            ..RunSettings::default()
        }
    }

    /// The diagnosis of one finished step per finding list, every planned step run.
    fn diagnose(findings: Vec<Vec<Finding>>, endpoint: Option<&Capabilities>) -> Diagnosis {
        let steps: Vec<StepResult> = findings
            .into_iter()
            .map(|f| step(StepId::PutObject, Status::Fail, true, f))
            .collect();
        let planned = steps.len();
        let session = SessionInfo {
            endpoint: endpoint.cloned(),
            ..SessionInfo::default()
        };
        Diagnosis::new(steps, planned, &run(), Some(&session))
    }

    fn codes(d: &Diagnosis) -> Vec<(FindingCode, Option<&str>, Option<&str>)> {
        d.findings()
            .iter()
            .map(|f| (f.code, f.bucket.as_deref(), f.action.as_deref()))
            .collect()
    }

    #[test]
    fn a_problem_stands_once_per_bucket_and_action_and_the_keys_once_per_run() {
        let put = |bucket| {
            finding(
                FindingCode::PermissionMissing,
                StepId::PutObject,
                bucket,
                "s3:PutObject",
            )
        };
        let keys = |bucket| {
            finding(
                FindingCode::CredentialsMissing,
                StepId::PutObject,
                bucket,
                "s3:PutObject",
            )
        };
        let d = diagnose(
            vec![
                vec![put("b"), keys("b")],
                vec![put("b"), put("c"), keys("c")],
            ],
            None,
        );
        assert_eq!(
            codes(&d),
            [
                (
                    FindingCode::PermissionMissing,
                    Some("b"),
                    Some("s3:PutObject")
                ),
                (
                    FindingCode::CredentialsMissing,
                    Some("b"),
                    Some("s3:PutObject")
                ),
                (
                    FindingCode::PermissionMissing,
                    Some("c"),
                    Some("s3:PutObject")
                ),
            ]
        );
        assert_eq!(d.error_count(), 3);
    }

    #[test]
    fn what_the_policies_say_replaces_an_inference_and_the_live_evidence_stays() {
        let mut live = finding(
            FindingCode::PermissionMissing,
            StepId::PutObject,
            "b",
            "s3:PutObject",
        );
        live.basis = Basis::Inferred;
        live.evidence = Some(evidence("LIVE"));
        let mut traced = finding(
            FindingCode::PermissionMissing,
            StepId::IdentityPolicies,
            "b",
            "s3:PutObject",
        );
        traced.basis = Basis::Policies;
        traced.summary = "no statement of the user's policies allows it".into();
        traced.source = Some(DenySource::IdentityPolicy);
        traced.statement = Some(StatementRef {
            policy_name: "app".into(),
            sid: Some("Read".into()),
            ..StatementRef::default()
        });
        let d = diagnose(vec![vec![live], vec![traced]], None);
        let [f] = d.findings() else {
            panic!("one finding: {:?}", d.findings());
        };
        assert_eq!(f.basis, Basis::Policies);
        assert_eq!(f.summary, "no statement of the user's policies allows it");
        assert_eq!(f.source, Some(DenySource::IdentityPolicy));
        assert_eq!(
            f.statement.as_ref().and_then(|s| s.sid.as_deref()),
            Some("Read")
        );
        assert_eq!(
            f.evidence.as_ref().and_then(|e| e.request_id.as_deref()),
            Some("LIVE")
        );
    }

    #[test]
    fn an_explicit_deny_supersedes_nothing_allows_it_for_the_same_bucket_and_action() {
        let mut missing = finding(
            FindingCode::PermissionMissing,
            StepId::PutObject,
            "b",
            "s3:PutObject",
        );
        missing.evidence = Some(evidence("LIVE"));
        let deny = finding(
            FindingCode::ExplicitDeny,
            StepId::BucketPolicy,
            "b",
            "s3:PutObject",
        );
        let other = finding(
            FindingCode::PermissionMissing,
            StepId::GetObject,
            "b",
            "s3:GetObject",
        );
        let d = diagnose(vec![vec![missing.clone(), other.clone()], vec![deny]], None);
        assert_eq!(
            codes(&d),
            [
                (
                    FindingCode::PermissionMissing,
                    Some("b"),
                    Some("s3:GetObject")
                ),
                (FindingCode::ExplicitDeny, Some("b"), Some("s3:PutObject")),
            ]
        );
        // The deny keeps the live step's evidence, and explains the step's own finding.
        let denied = d.explain(&missing);
        assert_eq!(denied.code, FindingCode::ExplicitDeny);
        assert_eq!(
            denied
                .evidence
                .as_ref()
                .and_then(|e| e.request_id.as_deref()),
            Some("LIVE")
        );
        assert_eq!(d.explain(&other).code, FindingCode::PermissionMissing);
        assert_eq!(d.explicit_denies().count(), 1);
    }

    #[test]
    fn the_fixing_policy_grants_the_buckets_whose_own_policies_lack_an_allow() {
        let put = |bucket| {
            finding(
                FindingCode::PermissionMissing,
                StepId::PutObject,
                bucket,
                "s3:PutObject",
            )
        };
        let d = diagnose(vec![vec![put("b")]], None);
        let json = d.policy().expect("a policy").to_pretty_json();
        assert!(json.contains("arn:aws:s3:::b/"), "{json}");
        assert!(!json.contains("arn:aws:s3:::c"), "{json}");
        assert!(!json.contains("s3:AbortMultipartUpload"), "{json}");

        // The policy names the resources in the partition of the principal, else the region.
        let steps = vec![step(StepId::PutObject, Status::Fail, true, vec![put("b")])];
        for (arn, region, partition) in [
            ("arn:aws-cn:iam::1:user/app", None, "aws-cn"),
            ("", Some("us-gov-west-1"), "aws-us-gov"),
        ] {
            let session = SessionInfo {
                identity: crate::arn::parse_principal(arn)
                    .ok()
                    .map(|principal| crate::checks::Identity::new(principal, None, true)),
                region: region.map(str::to_owned),
                ..SessionInfo::default()
            };
            let d = Diagnosis::new(steps.clone(), 1, &run(), Some(&session));
            let json = d.policy().expect("a policy").to_pretty_json();
            assert!(
                json.contains(&format!("\"arn:{partition}:s3:::b/*\"")),
                "{json}"
            );
        }

        // Multipart clean-up is granted only when the multipart step asked for it.
        let abort = finding(
            FindingCode::PermissionMissing,
            StepId::MultipartUpload,
            "b",
            "s3:AbortMultipartUpload",
        );
        let d = diagnose(vec![vec![put("b"), abort]], None);
        let json = d.policy().expect("a policy").to_pretty_json();
        assert!(json.contains("s3:AbortMultipartUpload"), "{json}");

        // A missing Allow in the bucket policy, or an explicit deny, is not fixed by an
        // identity policy.
        let mut in_bucket_policy = put("b");
        in_bucket_policy.source = Some(DenySource::BucketPolicy);
        let deny = finding(
            FindingCode::ExplicitDeny,
            StepId::PutObject,
            "b",
            "s3:PutObject",
        );
        assert!(
            diagnose(vec![vec![in_bucket_policy]], None)
                .policy()
                .is_none()
        );
        assert!(
            diagnose(vec![vec![put("b"), deny]], None)
                .policy()
                .is_none()
        );

        // A server without IAM managed policies gets none to attach.
        let rgw = Capabilities {
            sts: false,
            iam: false,
            ..Capabilities::aws()
        };
        assert!(
            diagnose(vec![vec![put("b")]], Some(&rgw))
                .policy()
                .is_none()
        );
        assert!(
            diagnose(vec![vec![put("b")]], Some(&Capabilities::aws()))
                .policy()
                .is_some()
        );
    }

    #[test]
    fn a_run_cut_short_is_incomplete_and_never_ok() {
        // Nothing ran yet: 9 steps planned.
        let nothing = Diagnosis::new(Vec::new(), 9, &run(), None);
        assert!(!nothing.complete() && !nothing.ok());
        assert_eq!(nothing.progress(), "0 of 9 steps ran");
        // A step skipped because another failed did not run.
        let skipped = Diagnosis::new(
            vec![
                step(StepId::BucketExists, Status::Pass, true, Vec::new()),
                step(StepId::ListObjects, Status::Skip, false, Vec::new()),
            ],
            2,
            &run(),
            None,
        );
        assert!(!skipped.complete() && !skipped.ok());
        assert_eq!(skipped.progress(), "1 of 2 steps ran");
        // Fewer rows planned than results is still every result.
        let one = Diagnosis::new(
            vec![step(StepId::BucketExists, Status::Pass, true, Vec::new())],
            0,
            &run(),
            None,
        );
        assert_eq!(one.progress(), "1 of 1 step ran");
    }

    #[test]
    fn no_problems_found_needs_every_step_run_and_no_error() {
        // Skipped by design (--read-only) still ran.
        let clean = Diagnosis::new(
            vec![
                step(StepId::BucketExists, Status::Pass, true, Vec::new()),
                step(StepId::PutObject, Status::Skip, true, Vec::new()),
            ],
            2,
            &run(),
            None,
        );
        assert!(clean.complete() && clean.ok());
        assert!(clean.findings().is_empty() && clean.policy().is_none());
        // A warning is not an error.
        let mut warning = finding(
            FindingCode::PermissionMissing,
            StepId::PutObject,
            "b",
            "s3:PutObject",
        );
        warning.severity = Severity::Warning;
        assert!(diagnose(vec![vec![warning]], None).ok());
        let error = finding(
            FindingCode::PermissionMissing,
            StepId::PutObject,
            "b",
            "s3:PutObject",
        );
        let failed = diagnose(vec![vec![error]], None);
        assert!(failed.complete() && !failed.ok());
        assert_eq!(failed.error_count(), 1);
    }
}
