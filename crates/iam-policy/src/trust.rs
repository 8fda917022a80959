//! A role's trust policy judged for one AssumeRole that AWS refused: which statement trusts
//! whom, whether one names the caller (its ARN, its session's role, its account, anyone),
//! which condition fails for the request s3doctor sent (sts:ExternalId, MFA, a source
//! identity) or depends on what s3doctor cannot see (aws:PrincipalOrgID, tags), and the
//! statement to add when none trusts the caller. Pure: the documents come from IAM, the words go
//! to the credentials step and the remedy.
//!
//! The rules are the IAM User Guide's: a role's trust policy must allow the caller; one that
//! names the caller (or its role) is enough in the same account, one that names the account
//! leaves it to the caller's own policies, which must then allow sts:AssumeRole on the role
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>,
//! "Granting a user permissions to switch roles":
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html>).

use super::condition::{self, Context, Dependency, Origin, Outcome, Settled};
use super::document::{
    Effect, NamedPolicy, OneOrMany, PolicyDocument, PolicyKind, Principal, Statement,
};
use super::evaluate::{self, Policies, Request, StatementRef};
use crate::arn::Arn;

/// The Sid of every statement s3doctor adds to a trust policy: what `--undo` removes.
pub const SID_PREFIX: &str = "S3doctorTrust";

/// The AssumeRole to judge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAsk {
    /// Who asked: a user's ARN, or a session's (`arn:aws:sts::…:assumed-role/R/S`).
    pub caller_arn: String,
    /// For a session: its role's ARN (with its path when known).
    pub caller_role_arn: Option<String>,
    /// The role asked for.
    pub role_arn: String,
    /// `sts:AssumeRole`.
    pub action: String,
    /// The external id sent, if any.
    pub external_id: Option<String>,
    /// The session name sent (`sts:RoleSessionName`).
    pub session_name: String,
    /// The request went over HTTPS.
    pub secure: bool,
}

impl TrustAsk {
    /// The principal a trust statement names for this caller: the user, or the session's role.
    pub fn trustee(&self) -> &str {
        self.caller_role_arn.as_deref().unwrap_or(&self.caller_arn)
    }

    fn account(&self) -> &str {
        Arn::parse(&self.caller_arn).map_or("", |arn| arn.account)
    }

    fn is_session(&self) -> bool {
        self.caller_arn.contains(":assumed-role/")
    }

    /// What s3doctor knows of the request's context: what it sent and who sent it.
    pub fn context(&self) -> Context {
        let mut ctx = Context::default();
        let sent = Origin::AssumeRoleRequest;
        match &self.external_id {
            Some(id) => ctx.set("sts:ExternalId", id.clone(), sent.clone()),
            None => ctx.set_absent("sts:ExternalId", sent.clone()),
        };
        ctx.set(
            "sts:RoleSessionName",
            self.session_name.clone(),
            sent.clone(),
        );
        let who = Origin::Identity;
        ctx.set("aws:PrincipalArn", self.trustee().to_owned(), who.clone());
        ctx.set(
            "aws:PrincipalAccount",
            self.account().to_owned(),
            who.clone(),
        );
        ctx.set(
            "aws:SecureTransport",
            if self.secure { "true" } else { "false" },
            Origin::Endpoint,
        );
        if self.is_session() {
            ctx.set("aws:PrincipalType", "AssumedRole", who);
        } else {
            // A user's long-term keys carry no MFA and no source identity.
            ctx.set("aws:PrincipalType", "User", who);
            ctx.set_absent("aws:MultiFactorAuthPresent", sent.clone());
            ctx.set_absent("aws:MultiFactorAuthAge", sent.clone());
            ctx.set_absent("sts:SourceIdentity", sent);
        }
        ctx
    }
}

/// How a statement's principal names the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Names {
    /// Someone else.
    Other,
    /// The caller's account (`ACCOUNT`, `arn:…:root`): left to the caller's own policies.
    Account,
    /// Everyone (`*`).
    Anyone,
    /// The session's role.
    Role,
    /// The caller's own ARN.
    Caller,
}

/// What the trust policy says to this AssumeRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A Deny applies.
    Denied(StatementRef),
    /// An Allow names the caller and holds: the refusal comes from somewhere else.
    Trusted(StatementRef),
    /// An Allow names the caller's account; whether its own policies allow sts:AssumeRole on
    /// the role (`None`: they could not be read).
    Delegated {
        /// The Allow that names the account.
        statement: StatementRef,
        /// Whether the caller's own policies allow `sts:AssumeRole` on the role.
        identity_allows: Option<bool>,
    },
    /// Allows name the caller, but a condition of each fails (`settled` holds the failing tests).
    ConditionFails(Vec<StatementRef>),
    /// Allows name the caller, but depend on what s3doctor cannot know.
    DependsOn(Vec<StatementRef>),
    /// No statement names the caller.
    NotNamed,
}

/// The judgement: the verdict, whom each statement trusts, and the statement to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// What the trust policy says.
    pub verdict: Verdict,
    /// Each Allow covering the action: its reference and whom it trusts, as written.
    pub trusts: Vec<(StatementRef, Vec<String>)>,
    /// Allows that name the caller for other actions only (a web identity template's
    /// `sts:AssumeRoleWithWebIdentity`, say), with those actions.
    pub other_actions: Vec<(StatementRef, Vec<String>)>,
    /// The statement that trusts the caller, when the fix is one (nothing names the caller).
    pub to_add: Option<Statement>,
}

/// The trust policy of `role_arn` as a named policy (its statements cover the role).
pub fn named(role_arn: &str, document: &PolicyDocument) -> NamedPolicy {
    let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    NamedPolicy::new(
        format!("trust policy of role {name}"),
        None,
        PolicyKind::TrustPolicy,
        document.clone(),
    )
}

/// Judges the trust policy for `ask`; `identity` are the caller's own policies, when read.
pub fn judge(trust: &NamedPolicy, ask: &TrustAsk, identity: Option<&[NamedPolicy]>) -> Judgement {
    let context = ask.context();
    let variables = trust.document.version.as_deref() == Some(PolicyDocument::VERSION);
    let mut scan = Scan::default();
    let mut other_actions = Vec::new();
    for (index, statement) in trust.document.statement.iter().enumerate() {
        if !covers(statement, &ask.action) {
            if statement.effect == Effect::Allow && names(statement, ask) != Names::Other {
                let actions = statement
                    .action
                    .iter()
                    .flat_map(|a| a.iter().map(str::to_owned))
                    .collect();
                other_actions.push((
                    reference(trust, index, statement, Vec::new(), Vec::new()),
                    actions,
                ));
            }
            continue;
        }
        let names = names(statement, ask);
        if statement.effect == Effect::Allow {
            scan.trusts.push((
                reference(trust, index, statement, Vec::new(), Vec::new()),
                listed(statement),
            ));
        }
        if names == Names::Other {
            continue;
        }
        let outcome = match &statement.condition {
            None => Outcome::Met(Vec::new()),
            Some(block) => condition::evaluate(block, &context, variables),
        };
        scan.take(trust, index, statement, names, outcome);
    }
    let verdict = scan.verdict(ask, identity);
    let to_add = matches!(verdict, Verdict::NotNamed).then(|| statement_to_add(ask));
    Judgement {
        verdict,
        trusts: scan.trusts,
        other_actions,
        to_add,
    }
}

/// The statements that apply, sorted by what they do.
#[derive(Default)]
struct Scan {
    trusts: Vec<(StatementRef, Vec<String>)>,
    denies: Vec<StatementRef>,
    allows: Vec<StatementRef>,
    delegates: Vec<StatementRef>,
    failing: Vec<StatementRef>,
    open: Vec<StatementRef>,
}

impl Scan {
    fn take(
        &mut self,
        trust: &NamedPolicy,
        index: usize,
        statement: &Statement,
        names: Names,
        outcome: Outcome,
    ) {
        let deny = statement.effect == Effect::Deny;
        match outcome {
            Outcome::NotMet(failed) if !deny => {
                self.failing
                    .push(reference(trust, index, statement, Vec::new(), failed));
            }
            Outcome::NotMet(_) => {}
            Outcome::Unknown { unknown, settled } if !deny => {
                let depends = unknown.into_iter().map(Dependency::Condition).collect();
                self.open
                    .push(reference(trust, index, statement, depends, settled));
            }
            Outcome::Unknown { .. } => {}
            Outcome::Met(settled) => {
                let r = reference(trust, index, statement, Vec::new(), settled);
                match (deny, names) {
                    (true, _) => self.denies.push(r),
                    (false, Names::Account) => self.delegates.push(r),
                    (false, _) => self.allows.push(r),
                }
            }
        }
    }

    fn verdict(&self, ask: &TrustAsk, identity: Option<&[NamedPolicy]>) -> Verdict {
        if let Some(deny) = self.denies.first() {
            return Verdict::Denied(deny.clone());
        }
        if let Some(allow) = self.allows.first() {
            return Verdict::Trusted(allow.clone());
        }
        if let Some(statement) = self.delegates.first() {
            let identity_allows = identity.map(|policies| {
                let request = Request::new(
                    ask.caller_arn.clone(),
                    String::new(),
                    ask.action.clone(),
                    ask.role_arn.clone(),
                );
                let policies = Policies {
                    identity: policies,
                    ..Policies::default()
                };
                evaluate::evaluate(&request, &policies).is_allowed()
            });
            return Verdict::Delegated {
                statement: statement.clone(),
                identity_allows,
            };
        }
        if !self.failing.is_empty() {
            return Verdict::ConditionFails(self.failing.clone());
        }
        if !self.open.is_empty() {
            return Verdict::DependsOn(self.open.clone());
        }
        Verdict::NotNamed
    }
}

fn reference(
    policy: &NamedPolicy,
    index: usize,
    statement: &Statement,
    depends_on: Vec<Dependency>,
    settled: Vec<Settled>,
) -> StatementRef {
    // A trust policy has no ARN of its own (the role's ARN is not the policy's).
    StatementRef {
        policy_arn: None,
        ..StatementRef::new(policy, index, statement, depends_on, settled)
    }
}

/// The statement's `Action` (or `NotAction`) covers `action`.
fn covers(statement: &Statement, action: &str) -> bool {
    let any = |list: &OneOrMany| list.iter().any(|p| evaluate::action_matches(p, action));
    match (&statement.action, &statement.not_action) {
        (Some(list), _) => any(list),
        (None, Some(list)) => !any(list),
        (None, None) => false,
    }
}

/// Whom a statement trusts, as written: `AWS arn:…`, `Federated …`, `Service …`, `*`.
fn listed(statement: &Statement) -> Vec<String> {
    match &statement.principal {
        Some(Principal::Any) => vec!["*".to_owned()],
        Some(Principal::Map(map)) => map
            .iter()
            .flat_map(|(kind, values)| values.iter().map(move |v| format!("{kind} {v}")))
            .collect(),
        None if statement.not_principal.is_some() => {
            vec!["everyone but the NotPrincipal".to_owned()]
        }
        None => Vec::new(),
    }
}

/// How the statement's principal names the caller (the strongest of its entries).
fn names(statement: &Statement, ask: &TrustAsk) -> Names {
    let of = |p: &Principal| match p {
        Principal::Any => Names::Anyone,
        Principal::Map(_) => p
            .values("AWS")
            .iter()
            .map(|entry| entry_names(entry, ask))
            .max()
            .unwrap_or(Names::Other),
    };
    match (&statement.principal, &statement.not_principal) {
        (Some(p), _) => of(p),
        (None, Some(excluded)) if of(excluded) == Names::Other => Names::Anyone,
        _ => Names::Other,
    }
}

fn entry_names(entry: &str, ask: &TrustAsk) -> Names {
    if entry == "*" {
        return Names::Anyone;
    }
    if entry == ask.caller_arn {
        return Names::Caller;
    }
    let account = ask.account();
    let named = Arn::parse(entry);
    let root = named.is_some_and(|a| a.is_account_root() && a.region.is_empty());
    if entry == account || (root && named.is_some_and(|a| a.account == account)) {
        return Names::Account;
    }
    // A role named with or without its path matches the session's role of the same name.
    fn role_name(arn: Arn<'_>) -> Option<(&str, &str)> {
        arn.iam_name("role").map(|name| (arn.account, name))
    }
    let mine = ask.caller_role_arn.as_deref().and_then(Arn::parse);
    match (mine.and_then(role_name), named.and_then(role_name)) {
        (Some(mine), Some(theirs)) if mine == theirs => Names::Role,
        _ => Names::Other,
    }
}

/// The statement that trusts the caller: its ARN (a session's role), `sts:AssumeRole`, and the
/// external id the request sent, if any.
pub fn statement_to_add(ask: &TrustAsk) -> Statement {
    let trustee = ask.trustee();
    let name = trustee.rsplit('/').next().unwrap_or(trustee);
    let sid: String = format!("{SID_PREFIX}{name}")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut statement = Statement::new(Effect::Allow);
    statement.sid = Some(sid);
    statement.principal = Some(Principal::aws(trustee.to_owned()));
    statement.action = Some(OneOrMany::One(ask.action.clone()));
    if let Some(id) = &ask.external_id {
        let condition = serde_json::json!({"StringEquals": {"sts:ExternalId": id}});
        statement.condition = condition.as_object().cloned();
    }
    statement
}

/// The document with `statement` added (replacing a statement with the same Sid).
pub fn with_statement(document: &PolicyDocument, statement: Statement) -> PolicyDocument {
    let mut out = document.clone();
    out.statement.retain(|s| s.sid != statement.sid);
    out.statement.push(statement);
    out
}

/// The document without s3doctor's statements, and how many there were.
pub fn without_s3doctor_statements(document: &PolicyDocument) -> (PolicyDocument, usize) {
    let mut out = document.clone();
    let before = out.statement.len();
    out.statement.retain(|s| {
        !s.sid
            .as_deref()
            .is_some_and(|sid| sid.starts_with(SID_PREFIX))
    });
    let removed = before - out.statement.len();
    (out, removed)
}

impl Judgement {
    /// What the trust policy says, and what a person does about it, in words.
    pub fn explain(&self, ask: &TrustAsk) -> (String, String) {
        let who = ask.trustee();
        let role = &ask.role_arn;
        match &self.verdict {
            Verdict::Denied(s) => (
                format!("{} denies sts:AssumeRole to {who}.", s.in_policy()),
                format!(
                    "Remove or narrow {} of the trust policy of {role}: no Allow outweighs a Deny.",
                    s.label()
                ),
            ),
            Verdict::Trusted(s) => (
                format!(
                    "{} trusts {who}, so the trust policy is not what refuses: an explicit deny of sts:AssumeRole in {who}'s own policies, its permissions boundary or a service control policy does.",
                    s.in_policy()
                ),
                format!(
                    "Find the Deny of sts:AssumeRole on {role}: in {who}'s policies and permissions boundary, and in the organization's service control policies."
                ),
            ),
            Verdict::Delegated {
                statement,
                identity_allows,
            } => delegated(statement, *identity_allows, who, role),
            Verdict::ConditionFails(refs) => condition_fails(refs, who),
            Verdict::DependsOn(refs) => (
                format!(
                    "{} trusts {who} depending on what s3doctor cannot see: {}.",
                    refs.iter()
                        .map(StatementRef::in_policy)
                        .collect::<Vec<_>>()
                        .join(", "),
                    refs.iter()
                        .flat_map(|r| r.conditions())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "Check that {who} meets those conditions (its organization, its tags); if it does not, the trust policy does not trust it."
                ),
            ),
            Verdict::NotNamed => {
                let whom: Vec<String> = self.trusts.iter().flat_map(|(_, w)| w.clone()).collect();
                let trusted = if whom.is_empty() {
                    "no one".to_owned()
                } else {
                    whom.join(", ")
                };
                let json = self
                    .to_add
                    .as_ref()
                    .and_then(|s| serde_json::to_string(s).ok())
                    .unwrap_or_default();
                let mut what = format!(
                    "No statement of the trust policy of {role} trusts {who}: it trusts {trusted}"
                );
                for (s, actions) in &self.other_actions {
                    what.push_str(&format!(
                        "; {} names {who}, but for {} only, not {}",
                        s.in_policy(),
                        actions.join(", "),
                        ask.action
                    ));
                }
                (
                    format!("{what}."),
                    format!(
                        "Add this statement to the trust policy of {role} (`s3doctor fix` adds it after confirmation; `fix --undo` removes it): {json}"
                    ),
                )
            }
        }
    }
}

fn delegated(
    statement: &StatementRef,
    identity_allows: Option<bool>,
    who: &str,
    role: &str,
) -> (String, String) {
    let head = format!(
        "{} trusts {who}'s account, which leaves it to {who}'s own policies",
        statement.in_policy()
    );
    let grant =
        format!("{{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"{role}\"}}");
    match identity_allows {
        Some(false) => (
            format!("{head}, and none of them allows sts:AssumeRole on {role}."),
            format!("Allow sts:AssumeRole on {role} in {who}'s own policies: {grant}"),
        ),
        Some(true) => (
            format!(
                "{head}, and they allow it: a Deny (its permissions boundary, a service control policy) refuses."
            ),
            format!(
                "Find the Deny of sts:AssumeRole on {role}: {who}'s permissions boundary, the organization's service control policies."
            ),
        ),
        None => (
            format!("{head}, which could not be read."),
            format!("Check that {who}'s policies allow sts:AssumeRole on {role}: {grant}"),
        ),
    }
}

fn condition_fails(refs: &[StatementRef], who: &str) -> (String, String) {
    let tests: Vec<&Settled> = refs.iter().flat_map(|r| r.settled.iter()).collect();
    let what = refs
        .iter()
        .map(|r| {
            let failing: Vec<String> = r
                .settled
                .iter()
                .map(|t| {
                    format!(
                        "it requires {}, and {}",
                        t.test.passing(false),
                        t.describe()
                    )
                })
                .collect();
            format!("{} trusts {who}, but {}", r.in_policy(), failing.join("; "))
        })
        .collect::<Vec<_>>()
        .join(". ");
    let fixes: Vec<String> = tests.iter().map(|t| meet(t)).collect();
    (format!("{what}."), fixes.join(" "))
}

/// How to meet a failing condition of a trust policy, per key.
fn meet(test: &Settled) -> String {
    let key = test.test.key.to_ascii_lowercase();
    let values = test.test.values.join(" or ");
    match key.as_str() {
        "sts:externalid" => format!("Send the external id the role requires ({values}): --external-id for s3doctor, external_id in the app's profile or its AssumeRole call."),
        "aws:multifactorauthpresent" | "aws:multifactorauthage" => "The role requires MFA: assume it from a session made with an MFA code (aws sts get-session-token --serial-number … --token-code …); s3doctor asks for no code.".to_owned(),
        "sts:sourceidentity" => format!("The role requires a source identity ({values}): set SourceIdentity on the AssumeRole call (aws sts assume-role --source-identity)."),
        "sts:rolesessionname" => format!("The role requires a session name ({values}): --role-session-name for s3doctor, role_session_name in the app's profile."),
        _ => format!("Meet the condition: {}.", test.test.passing(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";
    const CI: &str = "arn:aws:iam::123456789012:user/ci";

    fn ask(external_id: Option<&str>) -> TrustAsk {
        TrustAsk {
            caller_arn: CI.to_owned(),
            caller_role_arn: None,
            role_arn: ROLE.to_owned(),
            action: "sts:AssumeRole".to_owned(),
            external_id: external_id.map(str::to_owned),
            session_name: "s3doctor".to_owned(),
            secure: true,
        }
    }

    fn trust(json: serde_json::Value) -> NamedPolicy {
        named(ROLE, &PolicyDocument::parse(&json.to_string()).unwrap())
    }

    #[test]
    fn a_trust_policy_that_names_someone_else_gets_the_callers_statement() {
        let t = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "Deployer",
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/deployer"},
            "Action": "sts:AssumeRole"}]}),
        );
        let j = judge(&t, &ask(None), None);
        assert_eq!(j.verdict, Verdict::NotNamed);
        // The classic copy of a web identity template: the caller, but for another action.
        let template = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": CI}, "Action": "sts:AssumeRoleWithWebIdentity"}]}),
        );
        let (what, _) = judge(&template, &ask(None), None).explain(&ask(None));
        assert!(what.contains("it trusts no one; statement #1 in the trust policy of role deploy names arn:aws:iam::123456789012:user/ci, but for sts:AssumeRoleWithWebIdentity only, not sts:AssumeRole"), "{what}");
        let add = j.to_add.clone().unwrap();
        assert_eq!(add.sid.as_deref(), Some("S3doctorTrustci"));
        assert_eq!(add.principal, Some(Principal::aws(CI.to_owned())));
        let (what, fix) = j.explain(&ask(None));
        assert!(
            what.contains("it trusts AWS arn:aws:iam::123456789012:user/deployer"),
            "{what}"
        );
        assert!(
            fix.contains(r#""Principal":{"AWS":"arn:aws:iam::123456789012:user/ci"}"#),
            "{fix}"
        );
        // Added, it trusts: judged again, the caller is trusted by s3doctor's statement.
        let fixed = named(ROLE, &with_statement(&t.document, add));
        assert!(
            matches!(judge(&fixed, &ask(None), None).verdict, Verdict::Trusted(s) if s.sid.as_deref() == Some("S3doctorTrustci"))
        );
        let (undone, removed) = without_s3doctor_statements(&fixed.document);
        assert_eq!((undone, removed), (t.document.clone(), 1));
    }

    #[test]
    fn a_failing_condition_is_named_with_what_the_request_sent() {
        let t = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "Vendor",
            "Effect": "Allow", "Principal": {"AWS": CI}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "abc-123"}}}]}),
        );
        let j = judge(&t, &ask(None), None);
        let Verdict::ConditionFails(refs) = &j.verdict else {
            panic!("{:?}", j.verdict)
        };
        assert_eq!(refs[0].sid.as_deref(), Some("Vendor"));
        assert!(
            j.to_add.is_none(),
            "a failing condition is not fixed by trusting more"
        );
        let (what, fix) = j.explain(&ask(None));
        assert!(
            what.contains("Sid Vendor in the trust policy of role deploy trusts"),
            "{what}"
        );
        assert!(
            what.contains("sts:ExternalId is not in the request (from the AssumeRole request)"),
            "{what}"
        );
        assert!(fix.contains("--external-id"), "{fix}");
        // With the right id it is trusted; with another it fails again.
        assert!(matches!(
            judge(&t, &ask(Some("abc-123")), None).verdict,
            Verdict::Trusted(_)
        ));
        assert!(matches!(
            judge(&t, &ask(Some("nope")), None).verdict,
            Verdict::ConditionFails(_)
        ));
    }

    #[test]
    fn mfa_org_and_account_delegation_are_told_apart() {
        let mfa = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}),
        );
        let (what, fix) = judge(&mfa, &ask(None), None).explain(&ask(None));
        assert!(
            what.contains("aws:MultiFactorAuthPresent is not in the request"),
            "{what}"
        );
        assert!(fix.contains("MFA"), "{fix}");
        let org = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}),
        );
        let j = judge(&org, &ask(None), None);
        assert!(
            matches!(j.verdict, Verdict::DependsOn(_)),
            "{:?}",
            j.verdict
        );
        assert!(
            j.explain(&ask(None))
                .0
                .contains("StringEquals aws:PrincipalOrgID")
        );
        let account = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}),
        );
        let none: Vec<NamedPolicy> = Vec::new();
        let j = judge(&account, &ask(None), Some(&none));
        assert!(
            matches!(
                j.verdict,
                Verdict::Delegated {
                    identity_allows: Some(false),
                    ..
                }
            ),
            "{:?}",
            j.verdict
        );
        let (_, fix) = j.explain(&ask(None));
        assert!(
            fix.contains(
                r#""Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/deploy""#
            ),
            "{fix}"
        );
        let deny = trust(serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": CI}, "Action": "sts:AssumeRole"},
            {"Sid": "NoCi", "Effect": "Deny", "Principal": {"AWS": CI}, "Action": "sts:*"}]}));
        assert!(
            matches!(judge(&deny, &ask(None), None).verdict, Verdict::Denied(s) if s.sid.as_deref() == Some("NoCi"))
        );
    }

    #[test]
    fn a_session_is_trusted_as_its_role_with_or_without_its_path() {
        let session = TrustAsk {
            caller_arn: "arn:aws:sts::123456789012:assumed-role/ci/build-7".to_owned(),
            caller_role_arn: Some("arn:aws:iam::123456789012:role/build/ci".to_owned()),
            ..ask(None)
        };
        let t = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/build/ci"}, "Action": "sts:AssumeRole"}]}),
        );
        assert!(matches!(
            judge(&t, &session, None).verdict,
            Verdict::Trusted(_)
        ));
        let other = trust(
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        );
        let j = judge(&other, &session, None);
        assert_eq!(j.verdict, Verdict::NotNamed);
        assert_eq!(
            j.to_add.unwrap().principal,
            Some(Principal::aws(
                "arn:aws:iam::123456789012:role/build/ci".to_owned()
            ))
        );
    }
}
