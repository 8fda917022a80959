//! What an evaluation decides and how it is said: the verdict, the statements behind it, how a
//! finding cites a statement, and the English of the open questions and dependencies.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::super::condition::{Dependency, Reading, Settled};
use super::super::document::{Effect, NamedPolicy, PolicyKind, Statement};

impl Reading {
    /// The question and the reading s3doctor takes, in one sentence (a statement's `conditions`
    /// label puts `uncertain:` before it).
    ///
    /// [`Reading::AnyonePastBoundary`]: "How AWS enforcement code logic evaluates requests to
    /// allow or deny access" says: "If a resource-based policy grants permission directly to the
    /// IAM user or the session principal that is making the request, then an implicit deny in an
    /// identity-based policy, a permissions boundary, or a session policy does not impact the
    /// final decision.", and "Resource-based policies that grant permissions to an IAM role ARN
    /// are limited by an implicit deny in a permissions boundary or session policy." It does not
    /// say which of the two an Allow to `"*"` is. s3doctor reads it like the role: limited.
    ///
    /// [`Reading::NotPrincipalWithoutAccount`]: "NotPrincipal" says: "When you use
    /// `NotPrincipal` with `Deny`, you must also specify the account ARN of the not-denied
    /// principal. Otherwise, the policy might deny access to the entire account containing the
    /// principal." s3doctor reads the caller as exempt, as the statement is written.
    pub fn text(self) -> &'static str {
        match self {
            Reading::AnyonePastBoundary => {
                "AWS does not document whether the permissions boundary limits a bucket-policy \
                 Allow to Principal \"*\" (AWS documents it for an Allow naming the user or \
                 session, which it does not limit, and the role, which it does); s3doctor reads it \
                 as limited, so the request may in fact be allowed"
            }
            Reading::NotPrincipalWithoutAccount => {
                "a NotPrincipal that lists the caller without its account ARN (and, for a role \
                 session, its role ARN) \"might deny access to the entire account containing the \
                 principal\" (AWS, NotPrincipal); s3doctor reads the caller as exempt, so the \
                 request may in fact be denied"
            }
        }
    }
}

impl Dependency {
    /// How a statement's `conditions` entry names it: `StringEquals aws:SourceVpce`,
    /// `policy variable ${aws:PrincipalTag/team}`, or `uncertain: …` for a reading. The label
    /// is English for people and for the report's `conditions`; nothing reads it back (the
    /// fact is the variant, in `depends_on`).
    pub fn label(&self) -> String {
        match self {
            Dependency::Condition(test) if test.key.is_empty() => test.operator.clone(),
            Dependency::Condition(test) => test.to_string(),
            Dependency::PolicyVariable { variable } => format!("policy variable ${{{variable}}}"),
            Dependency::Reading { reading } => format!("uncertain: {}", reading.text()),
        }
    }
}

/// The outcome of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Allowed, and no Deny matches.
    Allowed,
    /// A Deny statement matches; nothing can override it.
    ExplicitDeny,
    /// Nothing allows it (or the permissions boundary does not).
    ImplicitDeny,
}

impl Verdict {
    /// `allowed`, `explicit-deny` or `implicit-deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::ExplicitDeny => "explicit-deny",
            Verdict::ImplicitDeny => "implicit-deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names a policy in a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The policy's name.
    pub name: String,
    /// The policy's ARN, for managed policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Where the policy comes from.
    #[serde(flatten)]
    pub kind: PolicyKind,
}

impl PolicyRef {
    pub(super) fn of(policy: &NamedPolicy) -> Self {
        PolicyRef {
            name: policy.name.clone(),
            arn: policy.arn.clone(),
            kind: policy.kind.clone(),
        }
    }
}

/// Points at one statement of one policy, so a finding can cite it: the one statement
/// reference of s3doctor. The local evaluator knows everything about the statement; AWS's
/// access-denied message names only the policy's ARN, and AWS's policy simulator only the
/// policy's name, so what they do not say is `None`.
///
/// Serialised in a finding's `statement` as `policy_name`, `policy_arn`, `sid` and `index`
/// (always present, `null` when unknown, as in `s3doctor.report/v1` from the start), plus
/// `kind` (and `group`), `effect` and `conditions` when known. `conditions` is written from
/// `depends_on` (one label each, [`Dependency::label`]), so the two can never disagree; it is
/// not read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
pub struct StatementRef {
    /// Name of the policy holding the statement.
    pub policy_name: String,
    /// ARN of that policy, for managed policies (and the policies AWS names by ARN).
    pub policy_arn: Option<String>,
    /// Kind of that policy (serialised flattened: `"kind": "inline"`, plus `"group"`).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub policy_kind: Option<PolicyKind>,
    /// The statement's Sid, if it has one.
    pub sid: Option<String>,
    /// 0-based position of the statement in the policy, when known.
    pub index: Option<usize>,
    /// The statement's effect, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    /// What the statement's outcome depends on: a condition s3doctor cannot judge, a policy
    /// variable in `Resource` it cannot resolve, or a reading of AWS's documentation. Empty for
    /// unconditional statements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Dependency>,
    /// The conditions s3doctor could judge, with the request's values and where they came
    /// from: for a statement that applies, the tests that hold; for one in
    /// [`Decision::unmet`], the tests that fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settled: Vec<Settled>,
}

/// The form a [`StatementRef`] is written in (`s3doctor.report/v1`): its fields in order, with
/// `conditions` labelled from `depends_on`.
#[derive(Serialize)]
struct StatementWire<'a> {
    policy_name: &'a str,
    policy_arn: &'a Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    policy_kind: Option<&'a PolicyKind>,
    sid: &'a Option<String>,
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<Effect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conditions: Vec<String>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    depends_on: &'a [Dependency],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    settled: &'a [Settled],
}

impl Serialize for StatementRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StatementWire {
            policy_name: &self.policy_name,
            policy_arn: &self.policy_arn,
            policy_kind: self.policy_kind.as_ref(),
            sid: &self.sid,
            index: self.index,
            effect: self.effect,
            conditions: self.conditions(),
            depends_on: &self.depends_on,
            settled: &self.settled,
        }
        .serialize(serializer)
    }
}

impl StatementRef {
    /// A statement of `policy` at `index`, with what its outcome depends on and the conditions
    /// that were settled.
    pub(crate) fn new(
        policy: &NamedPolicy,
        index: usize,
        statement: &Statement,
        depends_on: Vec<Dependency>,
        settled: Vec<Settled>,
    ) -> Self {
        StatementRef {
            policy_name: policy.name.clone(),
            policy_arn: policy.arn.clone(),
            policy_kind: Some(policy.kind.clone()),
            sid: statement.sid.clone(),
            index: Some(index),
            effect: Some(statement.effect),
            depends_on,
            settled,
        }
    }

    /// Adds a dependency.
    pub(super) fn depend(&mut self, dependency: Dependency) {
        self.depends_on.push(dependency);
    }

    /// What the statement depends on, one label each ([`Dependency::label`]): `"Operator key"`
    /// (e.g. `"StringEquals aws:SourceVpce"`), `"policy variable ${…}"`, `"uncertain: …"`.
    pub fn conditions(&self) -> Vec<String> {
        self.depends_on.iter().map(Dependency::label).collect()
    }

    /// True when the statement's outcome turns on a network key.
    pub fn depends_on_network(&self) -> bool {
        self.depends_on.iter().any(Dependency::is_network)
    }

    /// True when a settled network condition decided it.
    pub fn settled_by_network(&self) -> bool {
        self.settled.iter().any(|s| s.test.is_network())
    }

    /// A policy AWS named and nothing more (its ARN in an access-denied message, its name in
    /// the policy simulator's answer).
    pub fn policy(name: impl Into<String>, arn: Option<String>) -> Self {
        StatementRef {
            policy_name: name.into(),
            policy_arn: arn,
            ..StatementRef::default()
        }
    }

    /// True when the statement is known to be in a policy of this kind.
    pub fn is_in(&self, kind: &PolicyKind) -> bool {
        self.policy_kind.as_ref() == Some(kind)
    }

    /// How a finding cites the statement: `statement "DenyDelete" of policy sselfie-s3-user-policy`,
    /// `statement #2 of policy X` (counted from 1) without a Sid, `a statement of policy X`
    /// when AWS named only the policy.
    pub fn label(&self) -> String {
        let stmt = match (&self.sid, self.index) {
            (Some(sid), _) => format!("statement \"{sid}\""),
            (None, Some(i)) => format!("statement #{}", i + 1),
            (None, None) => "a statement".to_owned(),
        };
        format!("{stmt} of {}", self.policy_words())
    }

    /// The policy in a sentence: `policy NAME`, or `the bucket policy of B` for a policy that
    /// s3doctor names by what it is (bucket, trust, VPC endpoint and key policies; not
    /// `policy bucket policy of B`, nor `policy key policy of K`).
    fn policy_words(&self) -> String {
        if matches!(
            self.policy_kind,
            Some(
                PolicyKind::BucketPolicy
                    | PolicyKind::TrustPolicy
                    | PolicyKind::VpcEndpointPolicy
                    | PolicyKind::KeyPolicy
            )
        ) {
            format!("the {}", self.policy_name)
        } else {
            format!("policy {}", self.policy_name)
        }
    }

    /// How the evaluator's sentences name the statement: `Sid DenyDelete in policy
    /// sselfie-s3-user-policy`, or `statement #2 in policy X` (counted from 1) without a Sid.
    pub fn in_policy(&self) -> String {
        match (
            self.sid.as_deref().filter(|sid| !sid.is_empty()),
            self.index,
        ) {
            (Some(sid), _) => format!("Sid {sid} in {}", self.policy_words()),
            (None, Some(i)) => format!("statement #{} in {}", i + 1, self.policy_words()),
            (None, None) => format!("a statement in {}", self.policy_words()),
        }
    }
}

/// The verdict with the statements behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The outcome.
    pub verdict: Verdict,
    /// `ExplicitDeny`: every Deny that matches. `Allowed`: every Allow that matches (identity,
    /// bucket policy, then boundary). `ImplicitDeny`: the Allows that the permissions boundary
    /// cancelled (see `blocked_by_boundary`); empty when nothing allows at all.
    pub statements: Vec<StatementRef>,
    /// Statements that would match but depend on a condition (or an unresolved policy variable),
    /// which is not evaluated here: a conditional Allow does not allow and a conditional Deny
    /// does not deny, but either may in reality.
    pub conditional: Vec<StatementRef>,
    /// Statements that match the request but whose condition fails with what is known (each
    /// with the failing tests in `settled`): an Allow there is one for another network or
    /// another request, not a missing one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmet: Vec<StatementRef>,
    /// Set when an identity or bucket policy allows (or, for a bucket-policy Allow to `"*"`,
    /// may allow: see [`Reading::AnyonePastBoundary`]) but the permissions boundary does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by_boundary: Option<PolicyRef>,
}

impl Decision {
    /// True when the verdict is `Allowed`.
    pub fn is_allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }

    /// The open questions of AWS's documentation that the verdict depends on, one sentence each
    /// ([`Reading::text`]), with the statement concerned. Empty when the verdict
    /// follows from what AWS documents (conditions aside).
    pub fn readings(&self) -> Vec<(&StatementRef, &str)> {
        self.conditional
            .iter()
            .flat_map(|s| {
                s.depends_on.iter().filter_map(move |d| match d {
                    Dependency::Reading { reading } => Some((s, reading.text())),
                    _ => None,
                })
            })
            .collect()
    }

    /// The conditional statements that could change the verdict: the Denies when it allows,
    /// the Allows when nothing does (a conditional Deny cannot make a denial worse, a
    /// conditional Allow cannot make an Allow better). Empty for an explicit deny.
    pub fn open(&self) -> Vec<&StatementRef> {
        let wanted = match self.verdict {
            Verdict::Allowed => Effect::Deny,
            Verdict::ImplicitDeny => Effect::Allow,
            Verdict::ExplicitDeny => return Vec::new(),
        };
        self.conditional
            .iter()
            .filter(|s| s.effect == Some(wanted))
            .collect()
    }

    /// One plain sentence for people, e.g. `explicitly denied by Sid DenyDelete in policy X`,
    /// followed by the conditions the outcome may depend on.
    pub fn summary(&self) -> String {
        let labels = |refs: &[StatementRef]| {
            refs.iter()
                .map(StatementRef::in_policy)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut text = match (self.verdict, &self.blocked_by_boundary) {
            (Verdict::Allowed, _) => format!("allowed by {}", labels(&self.statements)),
            (Verdict::ExplicitDeny, _) => {
                format!("explicitly denied by {}", labels(&self.statements))
            }
            (Verdict::ImplicitDeny, Some(boundary)) if self.statements.is_empty() => format!(
                "the permissions boundary {} does not allow it",
                boundary.name
            ),
            (Verdict::ImplicitDeny, Some(boundary)) => format!(
                "allowed by {}, but the permissions boundary {} does not allow it",
                labels(&self.statements),
                boundary.name
            ),
            (Verdict::ImplicitDeny, None) => "no statement allows it".to_owned(),
        };
        if !self.conditional.is_empty() {
            let parts: Vec<String> = self
                .conditional
                .iter()
                .map(|r| {
                    let effect = r.effect.map(|e| format!("{e} ")).unwrap_or_default();
                    format!("{} ({effect}{})", r.conditions().join(", "), r.in_policy())
                })
                .collect();
            text.push_str("; depends on ");
            text.push_str(&parts.join("; "));
        }
        text
    }
}
