//! The evaluator's tests: AWS's documented cases, incidents, and properties of the glob.

use super::super::condition::{self, Dependency};
use super::super::document::{Effect, OneOrMany, PolicyDocument, PolicyKind, Principal, Statement};
use super::*;
use proptest::prelude::*;

const ACCOUNT: &str = "123456789012";
const USER: &str = "arn:aws:iam::123456789012:user/sselfie";
const OBJECT: &str = "arn:aws:s3:::sselfie/uploads/a.jpg";

fn policy(name: &str, kind: PolicyKind, json: &str) -> NamedPolicy {
    NamedPolicy::new(name, None, kind, PolicyDocument::parse(json).unwrap())
}

fn inline(name: &str, json: &str) -> NamedPolicy {
    policy(name, PolicyKind::Inline, json)
}

fn bucket(json: &str) -> NamedPolicy {
    policy("bucket policy of sselfie", PolicyKind::BucketPolicy, json)
}

fn request(action: &str, resource: &str) -> Request {
    Request::new(USER, ACCOUNT, action, resource)
}

fn identity_only(identity: &[NamedPolicy], action: &str, resource: &str) -> Decision {
    let policies = Policies {
        identity,
        ..Policies::default()
    };
    evaluate(&request(action, resource), &policies)
}

/// Incident 2: Get/Put/List allowed, DeleteObject explicitly denied.
fn incident_2_user_policy() -> NamedPolicy {
    inline(
        "sselfie-s3-user-policy",
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"AllowObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
           "Resource":"arn:aws:s3:::sselfie/*"},
          {"Sid":"AllowList","Effect":"Allow","Action":"s3:ListBucket",
           "Resource":"arn:aws:s3:::sselfie"},
          {"Sid":"DenyDelete","Effect":"Deny","Action":"s3:DeleteObject",
           "Resource":"arn:aws:s3:::sselfie/*"}
        ]}"#,
    )
}

#[test]
fn incident_2_delete_is_explicitly_denied_put_is_allowed() {
    let policies = [incident_2_user_policy()];
    let delete = identity_only(&policies, "s3:DeleteObject", OBJECT);
    assert_eq!(delete.verdict, Verdict::ExplicitDeny);
    assert_eq!(delete.statements.len(), 1);
    let deny = &delete.statements[0];
    assert_eq!(deny.sid.as_deref(), Some("DenyDelete"));
    assert_eq!(deny.index, Some(2));
    assert_eq!(deny.effect, Some(Effect::Deny));
    assert_eq!(deny.policy_kind, Some(PolicyKind::Inline));
    assert_eq!(
        deny.in_policy(),
        "Sid DenyDelete in policy sselfie-s3-user-policy"
    );
    assert_eq!(
        delete.summary(),
        "explicitly denied by Sid DenyDelete in policy sselfie-s3-user-policy"
    );

    let put = identity_only(&policies, "s3:PutObject", OBJECT);
    assert_eq!(put.verdict, Verdict::Allowed);
    assert!(put.is_allowed());
    assert_eq!(put.statements[0].sid.as_deref(), Some("AllowObjects"));

    let list = identity_only(&policies, "s3:ListBucket", "arn:aws:s3:::sselfie");
    assert_eq!(list.verdict, Verdict::Allowed);
    // ListBucket is granted on the bucket, not on its objects.
    let list_objects = identity_only(&policies, "s3:ListBucket", OBJECT);
    assert_eq!(list_objects.verdict, Verdict::ImplicitDeny);
    assert_eq!(list_objects.summary(), "no statement allows it");

    let acl = identity_only(&policies, "s3:PutObjectAcl", OBJECT);
    assert_eq!(acl.verdict, Verdict::ImplicitDeny);
    assert!(acl.statements.is_empty());
    // Another bucket.
    let other = identity_only(&policies, "s3:PutObject", "arn:aws:s3:::other/a");
    assert_eq!(other.verdict, Verdict::ImplicitDeny);
}

#[test]
fn no_policies_is_implicit_deny() {
    let decision = evaluate(&request("s3:GetObject", OBJECT), &Policies::default());
    assert_eq!(decision.verdict, Verdict::ImplicitDeny);
    assert!(decision.statements.is_empty() && decision.conditional.is_empty());
}

#[test]
fn label_without_sid_counts_from_one() {
    let policies = [inline(
        "X",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},
                         {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    )];
    let decision = identity_only(&policies, "s3:GetObject", OBJECT);
    assert_eq!(
        decision.statements[0].in_policy(),
        "statement #2 in policy X"
    );
    assert_eq!(decision.summary(), "allowed by statement #2 in policy X");
}

#[test]
fn bucket_policy_deny_for_everyone_wins() {
    let identity = [inline(
        "admin",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let resource = bucket(
        r#"{"Statement":[{"Sid":"DenyWrites","Effect":"Deny","Principal":"*",
            "Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::sselfie/*"}]}"#,
    );
    let policies = Policies {
        identity: &identity,
        resource: Some(&resource),
        boundary: None,
    };
    let put = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert_eq!(put.verdict, Verdict::ExplicitDeny);
    assert_eq!(
        put.statements[0].policy_kind,
        Some(PolicyKind::BucketPolicy)
    );
    assert_eq!(
        put.statements[0].in_policy(),
        "Sid DenyWrites in the bucket policy of sselfie"
    );
    let get = evaluate(&request("s3:GetObject", OBJECT), &policies);
    assert_eq!(get.verdict, Verdict::Allowed);
}

#[test]
fn bucket_policy_principals() {
    let deny_for = |principal: &str| {
        bucket(&format!(
            r#"{{"Statement":[{{"Effect":"Deny","Principal":{principal},"Action":"s3:*","Resource":"*"}}]}}"#
        ))
    };
    let allow_for = |principal: &str| {
        bucket(&format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"*"}}]}}"#
        ))
    };
    let session = "arn:aws:sts::123456789012:assumed-role/app-role/i-0abc";
    let judge = |principal_arn: &str, resource: &NamedPolicy| {
        let policies = Policies {
            identity: &[],
            resource: Some(resource),
            boundary: None,
        };
        evaluate(
            &Request::new(principal_arn, ACCOUNT, "s3:GetObject", OBJECT),
            &policies,
        )
        .verdict
    };
    use Verdict::*;
    let cases: &[(&str, &str, Verdict, Verdict)] = &[
        // (principal element, caller, verdict of the Deny, verdict of the Allow)
        (r#""*""#, USER, ExplicitDeny, Allowed),
        (r#"{"AWS":"*"}"#, USER, ExplicitDeny, Allowed),
        (
            &format!(r#"{{"AWS":"{USER}"}}"#),
            USER,
            ExplicitDeny,
            Allowed,
        ),
        (
            r#"{"AWS":["arn:aws:iam::123456789012:user/other"]}"#,
            USER,
            ImplicitDeny,
            ImplicitDeny,
        ),
        // The account delegates: a Deny applies, an Allow needs an identity policy too.
        (
            r#"{"AWS":"123456789012"}"#,
            USER,
            ExplicitDeny,
            ImplicitDeny,
        ),
        (
            r#"{"AWS":"arn:aws:iam::123456789012:root"}"#,
            USER,
            ExplicitDeny,
            ImplicitDeny,
        ),
        (
            r#"{"AWS":"arn:aws:iam::999999999999:root"}"#,
            USER,
            ImplicitDeny,
            ImplicitDeny,
        ),
        (
            r#"{"AWS":"999999999999"}"#,
            USER,
            ImplicitDeny,
            ImplicitDeny,
        ),
        (
            r#"{"AWS":"arn:aws:iam::123456789012:role/app-role"}"#,
            session,
            ExplicitDeny,
            Allowed,
        ),
        (
            r#"{"AWS":"arn:aws:iam::123456789012:role/path/app-role"}"#,
            session,
            ExplicitDeny,
            Allowed,
        ),
        (
            r#"{"AWS":"arn:aws:iam::123456789012:role/other-role"}"#,
            session,
            ImplicitDeny,
            ImplicitDeny,
        ),
        (
            r#"{"AWS":"arn:aws:iam::999999999999:role/app-role"}"#,
            session,
            ImplicitDeny,
            ImplicitDeny,
        ),
        (
            &format!(r#"{{"AWS":"{session}"}}"#),
            session,
            ExplicitDeny,
            Allowed,
        ),
        (
            r#"{"Service":"cloudfront.amazonaws.com"}"#,
            USER,
            ImplicitDeny,
            ImplicitDeny,
        ),
    ];
    for (principal, caller, deny, allow) in cases {
        assert_eq!(
            judge(caller, &deny_for(principal)),
            *deny,
            "Deny {principal} for {caller}"
        );
        assert_eq!(
            judge(caller, &allow_for(principal)),
            *allow,
            "Allow {principal} for {caller}"
        );
    }
}

#[test]
fn account_is_read_from_the_arn_when_not_given() {
    let resource = bucket(
        r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*"}]}"#,
    );
    let policies = Policies {
        identity: &[],
        resource: Some(&resource),
        boundary: None,
    };
    let decision = evaluate(&Request::new(USER, "", "s3:GetObject", OBJECT), &policies);
    assert_eq!(decision.verdict, Verdict::ExplicitDeny);
}

/// "NotPrincipal" (IAM User Guide), <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html>:
/// with `NotPrincipal: [user/Bob, 444455556666:root]`, "all principals *except* the user
/// named Bob in AWS account 444455556666 are explicitly denied access to a resource". So
/// the account's root ARN in `NotPrincipal` exempts the root, not the account's other
/// principals.
#[test]
fn not_principal_listing_the_account_exempts_only_the_listed_principals() {
    let resource = bucket(
        r#"{"Statement":[{"Sid":"OnlyAdmin","Effect":"Deny",
           "NotPrincipal":{"AWS":["arn:aws:iam::123456789012:user/admin","arn:aws:iam::123456789012:root"]},
           "Action":"s3:*","Resource":"*"}]}"#,
    );
    let identity = [inline(
        "all",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let policies = Policies {
        identity: &identity,
        resource: Some(&resource),
        boundary: None,
    };
    let judge = |arn: &str| {
        evaluate(
            &Request::new(arn, ACCOUNT, "s3:GetObject", OBJECT),
            &policies,
        )
    };
    // Another user of the listed account: denied (before the correction: exempt).
    let mine = judge(USER);
    assert_eq!(mine.verdict, Verdict::ExplicitDeny);
    assert_eq!(mine.statements[0].sid.as_deref(), Some("OnlyAdmin"));
    assert!(mine.readings().is_empty());
    // A role session of that account: denied too.
    let session = judge("arn:aws:sts::123456789012:assumed-role/app/s");
    assert_eq!(session.verdict, Verdict::ExplicitDeny);
    // The listed user, listed with its account: exempt, firmly.
    let admin = judge("arn:aws:iam::123456789012:user/admin");
    assert_eq!(admin.verdict, Verdict::Allowed);
    assert!(admin.conditional.is_empty());
    // The account root: exempt.
    assert!(judge("arn:aws:iam::123456789012:root").is_allowed());
    // Someone from another account: denied.
    let stranger = Request::new(
        "arn:aws:iam::999999999999:user/x",
        "999999999999",
        "s3:GetObject",
        OBJECT,
    );
    assert_eq!(
        evaluate(&stranger, &policies).verdict,
        Verdict::ExplicitDeny
    );

    // The bare account id is the same principal as its root ARN.
    let by_id = bucket(
        r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},
           "Action":"s3:*","Resource":"*"}]}"#,
    );
    let policies = Policies {
        identity: &identity,
        resource: Some(&by_id),
        boundary: None,
    };
    assert_eq!(
        evaluate(&request("s3:GetObject", OBJECT), &policies).verdict,
        Verdict::ExplicitDeny
    );
    let root = Request::new("arn:aws:iam::123456789012:root", "", "s3:GetObject", OBJECT);
    assert!(evaluate(&root, &policies).is_allowed());
}

/// "NotPrincipal": "you must also specify the account ARN of the not-denied principal.
/// Otherwise, the policy might deny access to the entire account containing the principal."
/// "might": s3doctor reads the listed caller as exempt and says the verdict is open.
#[test]
fn not_principal_without_the_account_is_an_open_question() {
    let identity = [inline(
        "all",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let only_user = bucket(&format!(
        r#"{{"Statement":[{{"Sid":"OnlyMe","Effect":"Deny","NotPrincipal":{{"AWS":"{USER}"}},
           "Action":"s3:*","Resource":"*"}}]}}"#
    ));
    let policies = Policies {
        identity: &identity,
        resource: Some(&only_user),
        boundary: None,
    };
    let decision = evaluate(&request("s3:GetObject", OBJECT), &policies);
    assert_eq!(decision.verdict, Verdict::Allowed);
    let readings = decision.readings();
    assert_eq!(readings.len(), 1);
    assert_eq!(readings[0].0.sid.as_deref(), Some("OnlyMe"));
    assert_eq!(readings[0].0.effect, Some(Effect::Deny));
    assert!(
        readings[0]
            .1
            .contains("might deny access to the entire account")
    );
    assert!(
        decision
            .summary()
            .contains("s3doctor reads the caller as exempt")
    );

    // A role session listed with its role but not the account: open too; with the
    // account: settled.
    let session = "arn:aws:sts::123456789012:assumed-role/app/s";
    let role_only = bucket(&format!(
        r#"{{"Statement":[{{"Effect":"Deny","NotPrincipal":{{"AWS":["{session}","arn:aws:iam::123456789012:role/app"]}},
           "Action":"s3:*","Resource":"*"}}]}}"#
    ));
    let with_account = bucket(&format!(
        r#"{{"Statement":[{{"Effect":"Deny","NotPrincipal":{{"AWS":["{session}","arn:aws:iam::123456789012:role/app","arn:aws:iam::123456789012:root"]}},
           "Action":"s3:*","Resource":"*"}}]}}"#
    ));
    let judge = |resource: &NamedPolicy| {
        evaluate(
            &Request::new(session, ACCOUNT, "s3:GetObject", OBJECT),
            &Policies {
                identity: &identity,
                resource: Some(resource),
                boundary: None,
            },
        )
    };
    let open = judge(&role_only);
    assert!(open.is_allowed());
    assert_eq!(open.readings().len(), 1);
    let settled = judge(&with_account);
    assert!(settled.is_allowed());
    assert!(settled.readings().is_empty());
}

/// "Permissions boundaries for IAM entities" and "NotPrincipal"
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html>):
/// "The `NotPrincipal` element with a `Deny` effect will always deny any IAM principal that
/// has a permissions boundary policy attached, regardless of the values specified in the
/// `NotPrincipal` element."
#[test]
fn not_principal_deny_applies_to_every_principal_with_a_boundary() {
    let identity = [inline(
        "all",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let resource = bucket(&format!(
        r#"{{"Statement":[{{"Sid":"OnlyApp","Effect":"Deny",
           "NotPrincipal":{{"AWS":["{USER}","arn:aws:iam::123456789012:root"]}},
           "Action":"s3:*","Resource":"*"}}]}}"#
    ));
    let boundary = policy(
        "s3-boundary",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let without = Policies {
        identity: &identity,
        resource: Some(&resource),
        boundary: None,
    };
    // Listed with its account and no boundary: exempt.
    assert!(evaluate(&request("s3:PutObject", OBJECT), &without).is_allowed());
    // The same principal with a boundary (that allows everything): denied all the same.
    let with = Policies {
        boundary: Some(&boundary),
        ..without
    };
    let decision = evaluate(&request("s3:PutObject", OBJECT), &with);
    assert_eq!(decision.verdict, Verdict::ExplicitDeny);
    assert_eq!(decision.statements[0].sid.as_deref(), Some("OnlyApp"));
    assert_eq!(
        decision.statements[0].policy_kind,
        Some(PolicyKind::BucketPolicy)
    );
    // Listing "*" (nobody denied) changes nothing either.
    let star = bucket(
        r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}]}"#,
    );
    let with_star = Policies {
        resource: Some(&star),
        ..with
    };
    assert_eq!(
        evaluate(&request("s3:PutObject", OBJECT), &with_star).verdict,
        Verdict::ExplicitDeny
    );
    // An Allow with NotPrincipal is not a Deny: the rule does not apply to it.
    let allow = bucket(
        r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:user/x"},"Action":"s3:*","Resource":"*"}]}"#,
    );
    let with_allow = Policies {
        identity: &[],
        resource: Some(&allow),
        boundary: Some(&boundary),
    };
    assert!(evaluate(&request("s3:PutObject", OBJECT), &with_allow).is_allowed());
}

#[test]
fn identity_policies_ignore_principal() {
    let identity = [inline(
        "odd",
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/x"},
           "Action":"s3:GetObject","Resource":"*"}]}"#,
    )];
    assert!(identity_only(&identity, "s3:GetObject", OBJECT).is_allowed());
}

#[test]
fn not_action_allow() {
    let identity = [inline(
        "all-but-delete",
        r#"{"Statement":[{"Sid":"NotDelete","Effect":"Allow","NotAction":["s3:Delete*","iam:*"],
           "Resource":"arn:aws:s3:::sselfie/*"}]}"#,
    )];
    assert!(identity_only(&identity, "s3:PutObject", OBJECT).is_allowed());
    assert!(identity_only(&identity, "S3:PUTOBJECT", OBJECT).is_allowed());
    assert_eq!(
        identity_only(&identity, "s3:DeleteObject", OBJECT).verdict,
        Verdict::ImplicitDeny
    );
    assert_eq!(
        identity_only(&identity, "iam:CreatePolicy", OBJECT).verdict,
        Verdict::ImplicitDeny
    );
}

#[test]
fn not_action_deny() {
    let identity = [inline(
        "p",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
           {"Sid":"OnlyReads","Effect":"Deny","NotAction":"s3:Get*","Resource":"*"}]}"#,
    )];
    assert!(identity_only(&identity, "s3:GetObject", OBJECT).is_allowed());
    assert_eq!(
        identity_only(&identity, "s3:PutObject", OBJECT).verdict,
        Verdict::ExplicitDeny
    );
}

#[test]
fn action_wildcards() {
    assert!(action_matches("s3:*Object", "s3:PutObject"));
    assert!(action_matches("s3:*Object", "s3:GetObject"));
    assert!(!action_matches("s3:*Object", "s3:PutObjectAcl"));
    assert!(action_matches("s3:*", "s3:ListBucket"));
    assert!(action_matches("*", "iam:CreatePolicy"));
    assert!(action_matches("s3:Get*", "s3:GetObject"));
    assert!(action_matches("S3:get*", "s3:GetObject"));
    assert!(!action_matches("s3:Get*", "s3:PutObject"));
    assert!(action_matches("s3:?etObject", "s3:GetObject"));
    assert!(!action_matches("s3:?etObject", "s3:etObject"));
    assert!(!action_matches("s3:GetObject", "s3:GetObjectAcl"));
    assert!(action_matches("s3:*Object*", "s3:GetObjectAcl"));
    assert!(action_matches("**", ""));
    assert!(!action_matches("?", ""));
    let identity = [inline(
        "objects",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"*"}]}"#,
    )];
    assert!(identity_only(&identity, "s3:DeleteObject", OBJECT).is_allowed());
    assert!(!identity_only(&identity, "s3:PutObjectAcl", OBJECT).is_allowed());
}

#[test]
fn resource_wildcards_are_case_sensitive() {
    assert!(resource_matches("arn:aws:s3:::sselfie/*", OBJECT));
    assert!(!resource_matches("arn:aws:s3:::SSELFIE/*", OBJECT));
    assert!(!resource_matches(
        "arn:aws:s3:::sselfie/*",
        "arn:aws:s3:::sselfie"
    ));
    assert!(resource_matches(
        "arn:aws:s3:::sselfie*",
        "arn:aws:s3:::sselfie"
    ));
    assert!(resource_matches(
        "arn:aws:s3:::ss?lfie/uploads/?.jpg",
        OBJECT
    ));
    assert!(resource_matches("arn:aws:s3:::*/uploads/*", OBJECT));
    assert!(resource_matches("*", OBJECT));
}

#[test]
fn not_resource() {
    let identity = [inline(
        "p",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
           {"Sid":"OnlyThisBucket","Effect":"Deny","Action":"s3:*",
            "NotResource":["arn:aws:s3:::sselfie","arn:aws:s3:::sselfie/*"]}]}"#,
    )];
    assert!(identity_only(&identity, "s3:PutObject", OBJECT).is_allowed());
    let other = identity_only(&identity, "s3:PutObject", "arn:aws:s3:::other/x");
    assert_eq!(other.verdict, Verdict::ExplicitDeny);
    assert_eq!(other.statements[0].sid.as_deref(), Some("OnlyThisBucket"));
}

#[test]
fn conditions_are_reported_not_guessed() {
    let identity = [inline(
        "vpce",
        r#"{"Statement":[
          {"Sid":"FromVpce","Effect":"Allow","Action":"s3:*","Resource":"*",
           "Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}},
          {"Sid":"TlsOnly","Effect":"Deny","Action":"s3:*","Resource":"*",
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}
        ]}"#,
    )];
    let decision = identity_only(&identity, "s3:PutObject", OBJECT);
    assert_eq!(decision.verdict, Verdict::ImplicitDeny);
    assert!(decision.statements.is_empty());
    assert_eq!(decision.conditional.len(), 2);
    assert_eq!(decision.conditional[0].sid.as_deref(), Some("FromVpce"));
    assert_eq!(decision.conditional[0].effect, Some(Effect::Allow));
    assert_eq!(
        decision.conditional[0].conditions(),
        ["StringEquals aws:SourceVpce"]
    );
    assert_eq!(decision.conditional[1].effect, Some(Effect::Deny));
    assert_eq!(
        decision.conditional[1].conditions(),
        ["Bool aws:SecureTransport"]
    );
    assert_eq!(
        decision.summary(),
        "no statement allows it; depends on StringEquals aws:SourceVpce (Allow Sid FromVpce \
         in policy vpce); Bool aws:SecureTransport (Deny Sid TlsOnly in policy vpce)"
    );

    // A conditional Deny next to an unconditional Allow: allowed, with the Deny reported.
    let identity = [
        inline(
            "allow",
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        ),
        identity[0].clone(),
    ];
    let decision = identity_only(&identity, "s3:PutObject", OBJECT);
    assert_eq!(decision.verdict, Verdict::Allowed);
    assert_eq!(decision.conditional.len(), 2);
    // A conditional statement that does not match the action is not listed.
    let decision = identity_only(&identity[1..], "iam:ListUsers", OBJECT);
    assert!(decision.conditional.is_empty());
}

/// The TLS-only guard AWS recommends (S3 User Guide, "Security best practices": a Deny with
/// `Bool aws:SecureTransport false`) against what the endpoint's scheme says.
#[test]
fn a_condition_the_context_settles_applies_or_drops_the_statement() {
    let identity = [inline(
        "all",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let resource = bucket(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"TlsOnly","Effect":"Deny","Principal":"*",
           "Action":"s3:*","Resource":["arn:aws:s3:::sselfie","arn:aws:s3:::sselfie/*"],
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
    );
    let policies = Policies {
        identity: &identity,
        resource: Some(&resource),
        boundary: None,
    };
    let over = |scheme_secure: &str| {
        let mut cx = Context::default();
        cx.set(
            "aws:SecureTransport",
            scheme_secure,
            condition::Origin::Endpoint,
        );
        evaluate(&request("s3:PutObject", OBJECT).with_context(cx), &policies)
    };
    // http://: the Deny applies, firmly, and says why.
    let http = over("false");
    assert_eq!(http.verdict, Verdict::ExplicitDeny);
    assert_eq!(http.statements[0].sid.as_deref(), Some("TlsOnly"));
    assert!(http.conditional.is_empty());
    assert_eq!(
        http.statements[0].settled[0].describe(),
        "aws:SecureTransport is false (from the endpoint's scheme)"
    );
    // https://: it does not apply, and is kept among the unmet statements.
    let https = over("true");
    assert!(https.is_allowed());
    assert!(https.conditional.is_empty());
    assert_eq!(https.unmet[0].sid.as_deref(), Some("TlsOnly"));
    // Nothing known: it depends, as before.
    let unknown = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert!(unknown.is_allowed());
    assert_eq!(unknown.open().len(), 1);
    assert_eq!(
        unknown.conditional[0].conditions(),
        ["Bool aws:SecureTransport"]
    );
    assert!(!unknown.conditional[0].depends_on_network());
}

#[test]
fn an_allow_for_another_network_is_unmet_not_missing() {
    let resource = bucket(
        r#"{"Statement":[{"Sid":"FromOffice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/sselfie"},
           "Action":"s3:PutObject","Resource":"arn:aws:s3:::sselfie/*",
           "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
    );
    let policies = Policies {
        identity: &[],
        resource: Some(&resource),
        boundary: None,
    };
    let from = |network: condition::AppNetwork| {
        evaluate(
            &request("s3:PutObject", OBJECT).with_context(network.network_path()),
            &policies,
        )
    };
    // From here (nothing known): it depends on the network.
    let here = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert_eq!(here.verdict, Verdict::ImplicitDeny);
    let open = here.open();
    assert_eq!(open.len(), 1);
    assert!(open[0].depends_on_network());
    assert!(matches!(&open[0].depends_on[0], Dependency::Condition(t) if t.key == "aws:SourceIp"));
    // From the office: allowed.
    let office = from(condition::AppNetwork {
        source_ip: Some("203.0.113.20".parse().unwrap()),
        ..Default::default()
    });
    assert!(office.is_allowed());
    assert!(office.statements[0].settled_by_network());
    // Through a VPC endpoint there is no aws:SourceIp: the Allow is unmet.
    let vpce = from(condition::AppNetwork {
        vpce: Some("vpce-1".into()),
        ..Default::default()
    });
    assert_eq!(vpce.verdict, Verdict::ImplicitDeny);
    assert!(vpce.conditional.is_empty());
    assert_eq!(vpce.unmet[0].sid.as_deref(), Some("FromOffice"));
    assert_eq!(vpce.unmet[0].settled[0].request, None);
}

#[test]
fn permissions_boundary_must_also_allow() {
    let identity = [inline(
        "all",
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )];
    let boundary = policy(
        "read-only-boundary",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Sid":"ReadOnly","Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
    );
    let policies = Policies {
        identity: &identity,
        resource: None,
        boundary: Some(&boundary),
    };
    let get = evaluate(&request("s3:GetObject", OBJECT), &policies);
    assert_eq!(get.verdict, Verdict::Allowed);
    assert_eq!(get.statements.len(), 2);
    assert_eq!(
        get.statements[1].policy_kind,
        Some(PolicyKind::PermissionsBoundary)
    );

    let put = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert_eq!(put.verdict, Verdict::ImplicitDeny);
    let blocked = put.blocked_by_boundary.as_ref().unwrap();
    assert_eq!(blocked.name, "read-only-boundary");
    assert_eq!(blocked.kind, PolicyKind::PermissionsBoundary);
    assert_eq!(put.statements[0].policy_name, "all");
    assert_eq!(
        put.summary(),
        "allowed by statement #1 in policy all, but the permissions boundary \
         read-only-boundary does not allow it"
    );

    // A boundary alone grants nothing.
    let alone = Policies {
        identity: &[],
        resource: None,
        boundary: Some(&boundary),
    };
    let decision = evaluate(&request("s3:GetObject", OBJECT), &alone);
    assert_eq!(decision.verdict, Verdict::ImplicitDeny);
    assert_eq!(decision.blocked_by_boundary, None);

    // A Deny in the boundary is an explicit deny.
    let denying = policy(
        "b",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:Put*","Resource":"*"}]}"#,
    );
    let policies = Policies {
        identity: &identity,
        resource: None,
        boundary: Some(&denying),
    };
    let put = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert_eq!(put.verdict, Verdict::ExplicitDeny);
    assert!(put.statements[0].is_in(&PolicyKind::PermissionsBoundary));
}

#[test]
fn bucket_policy_naming_the_user_is_not_limited_by_the_boundary() {
    let boundary = policy(
        "nothing",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
    );
    let direct = bucket(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{USER}"}},"Action":"s3:GetObject","Resource":"*"}}]}}"#
    ));
    let policies = Policies {
        identity: &[],
        resource: Some(&direct),
        boundary: Some(&boundary),
    };
    assert!(evaluate(&request("s3:GetObject", OBJECT), &policies).is_allowed());

    let anyone = bucket(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let policies = Policies {
        identity: &[],
        resource: Some(&anyone),
        boundary: Some(&boundary),
    };
    let decision = evaluate(&request("s3:GetObject", OBJECT), &policies);
    assert_eq!(decision.verdict, Verdict::ImplicitDeny);
    assert_eq!(
        decision.blocked_by_boundary.as_ref().unwrap().name,
        "nothing"
    );
    // AWS does not say whether the boundary limits an Allow to "*": s3doctor's reading is
    // "limited", and the decision says it is a reading, not a firm verdict.
    assert!(decision.statements.is_empty());
    let readings = decision.readings();
    assert_eq!(readings.len(), 1);
    assert_eq!(readings[0].0.effect, Some(Effect::Allow));
    assert_eq!(readings[0].0.policy_kind, Some(PolicyKind::BucketPolicy));
    assert!(
        readings[0].1.contains("Principal \"*\""),
        "{}",
        readings[0].1
    );
    assert!(
        decision.summary().starts_with(
            "the permissions boundary nothing does not allow it; depends on uncertain: AWS \
             does not document"
        ),
        "{}",
        decision.summary()
    );
    check_consistent(&decision).unwrap();
}

/// "How AWS enforcement code logic evaluates requests to allow or deny access" (Policy
/// evaluation logic): "Resource-based policies that grant permissions to an IAM role ARN are
/// limited by an implicit deny in a permissions boundary or session policy." — firm, no
/// reading. For "*" it is silent; with a boundary that allows, "*" allows either way.
#[test]
fn boundary_and_bucket_policy_allows_to_the_role_or_to_anyone() {
    let session = "arn:aws:sts::123456789012:assumed-role/app/s";
    let nothing = policy(
        "nothing",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#,
    );
    let s3 = policy(
        "s3",
        PolicyKind::PermissionsBoundary,
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let to_role = bucket(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/app"},"Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let to_anyone = bucket(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]}"#,
    );
    let judge = |resource: &NamedPolicy, boundary: &NamedPolicy| {
        evaluate(
            &Request::new(session, ACCOUNT, "s3:GetObject", OBJECT),
            &Policies {
                identity: &[],
                resource: Some(resource),
                boundary: Some(boundary),
            },
        )
    };
    let role_blocked = judge(&to_role, &nothing);
    assert_eq!(role_blocked.verdict, Verdict::ImplicitDeny);
    assert!(role_blocked.readings().is_empty());
    assert_eq!(role_blocked.statements.len(), 1);
    assert!(judge(&to_role, &s3).is_allowed());
    let anyone_allowed = judge(&to_anyone, &s3);
    assert!(anyone_allowed.is_allowed());
    assert!(anyone_allowed.readings().is_empty());
    assert_eq!(judge(&to_anyone, &nothing).readings().len(), 1);
    // Without a boundary, "*" allows firmly.
    let plain = evaluate(
        &Request::new(session, ACCOUNT, "s3:GetObject", OBJECT),
        &Policies {
            identity: &[],
            resource: Some(&to_anyone),
            boundary: None,
        },
    );
    assert!(plain.is_allowed() && plain.readings().is_empty());
}

#[test]
fn bucket_policy_alone_can_allow_in_the_same_account() {
    let resource = bucket(&format!(
        r#"{{"Statement":[{{"Sid":"App","Effect":"Allow","Principal":{{"AWS":["{USER}"]}},
           "Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::sselfie/*"}}]}}"#
    ));
    let policies = Policies {
        identity: &[],
        resource: Some(&resource),
        boundary: None,
    };
    let decision = evaluate(&request("s3:PutObject", OBJECT), &policies);
    assert!(decision.is_allowed());
    assert_eq!(
        decision.statements[0].in_policy(),
        "Sid App in the bucket policy of sselfie"
    );
}

#[test]
fn explicit_deny_lists_every_denying_statement_across_policies() {
    let identity = [
        inline(
            "a",
            r#"{"Statement":[{"Sid":"D1","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
        ),
        policy(
            "b",
            PolicyKind::GroupManaged {
                group: "devs".into(),
            },
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
               {"Sid":"D2","Effect":"Deny","Action":"s3:Put*","Resource":"*"}]}"#,
        ),
    ];
    let decision = identity_only(&identity, "s3:PutObject", OBJECT);
    assert_eq!(decision.verdict, Verdict::ExplicitDeny);
    let sids: Vec<_> = decision
        .statements
        .iter()
        .map(|s| s.sid.as_deref())
        .collect();
    assert_eq!(sids, [Some("D1"), Some("D2")]);
    assert_eq!(decision.statements[1].index, Some(1));
}

#[test]
fn policy_variables() {
    let identity = [inline(
        "home",
        r#"{"Version":"2012-10-17","Statement":[
          {"Sid":"Home","Effect":"Allow","Action":"s3:*",
           "Resource":"arn:aws:s3:::sselfie/home/${aws:username}/*"},
          {"Sid":"Literal","Effect":"Allow","Action":"s3:GetObject",
           "Resource":"arn:aws:s3:::sselfie/${*}${?}${$}"},
          {"Sid":"Tagged","Effect":"Allow","Action":"s3:GetObject",
           "Resource":"arn:aws:s3:::sselfie/team/${aws:PrincipalTag/team}/*"}
        ]}"#,
    )];
    let mine = identity_only(
        &identity,
        "s3:PutObject",
        "arn:aws:s3:::sselfie/home/sselfie/x",
    );
    assert!(mine.is_allowed());
    let theirs = identity_only(&identity, "s3:PutObject", "arn:aws:s3:::sselfie/home/bob/x");
    assert_eq!(theirs.verdict, Verdict::ImplicitDeny);
    assert!(identity_only(&identity, "s3:GetObject", "arn:aws:s3:::sselfie/*?$").is_allowed());
    assert!(!identity_only(&identity, "s3:GetObject", "arn:aws:s3:::sselfie/ab$").is_allowed());
    let team = identity_only(&identity, "s3:GetObject", "arn:aws:s3:::sselfie/team/red/x");
    assert_eq!(team.verdict, Verdict::ImplicitDeny);
    assert_eq!(
        team.conditional[0].conditions(),
        ["policy variable ${aws:PrincipalTag/team}"]
    );

    // A role has no aws:username: the pattern matches nothing.
    let role = Request::new(
        "arn:aws:sts::123456789012:assumed-role/app/s",
        ACCOUNT,
        "s3:PutObject",
        "arn:aws:s3:::sselfie/home/app/x",
    );
    let policies = Policies {
        identity: &identity,
        ..Policies::default()
    };
    assert_eq!(evaluate(&role, &policies).verdict, Verdict::ImplicitDeny);

    // Before 2012-10-17, ${…} is plain text.
    let old = [inline(
        "old",
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
           "Resource":"arn:aws:s3:::sselfie/${aws:username}"}]}"#,
    )];
    assert!(
        identity_only(&old, "s3:GetObject", "arn:aws:s3:::sselfie/${aws:username}").is_allowed()
    );
    assert!(!identity_only(&old, "s3:GetObject", "arn:aws:s3:::sselfie/sselfie").is_allowed());
}

#[test]
fn a_policy_aws_named_serialises_as_report_v1_always_did() {
    let named = StatementRef::policy("Deny", Some("arn:aws:iam::1:policy/Deny".into()));
    assert_eq!(
        serde_json::to_value(&named).unwrap(),
        serde_json::json!({"policy_name": "Deny", "policy_arn": "arn:aws:iam::1:policy/Deny",
                           "sid": null, "index": null})
    );
    assert_eq!(named.label(), "a statement of policy Deny");
    assert_eq!(named.in_policy(), "a statement in policy Deny");
}

#[test]
fn statement_label_prefers_sid_then_index() {
    let mut s = StatementRef {
        sid: Some("DenyDelete".into()),
        index: Some(1),
        ..StatementRef::policy("p", None)
    };
    assert_eq!(s.label(), "statement \"DenyDelete\" of policy p");
    assert_eq!(s.in_policy(), "Sid DenyDelete in policy p");
    s.sid = None;
    assert_eq!(s.label(), "statement #2 of policy p");
    let bucket = StatementRef {
        sid: Some("NoDeletes".into()),
        policy_kind: Some(PolicyKind::BucketPolicy),
        ..StatementRef::policy("bucket policy of b", None)
    };
    assert_eq!(
        bucket.label(),
        "statement \"NoDeletes\" of the bucket policy of b"
    );
    assert_eq!(
        bucket.in_policy(),
        "Sid NoDeletes in the bucket policy of b"
    );
    assert_eq!(s.in_policy(), "statement #2 in policy p");
    let key = StatementRef {
        sid: Some("Enable IAM User Permissions".into()),
        policy_kind: Some(PolicyKind::KeyPolicy),
        ..StatementRef::policy(
            "key policy of arn:aws:kms:eu-west-1:111122223333:key/k",
            None,
        )
    };
    assert_eq!(
        key.in_policy(),
        "Sid Enable IAM User Permissions in the key policy of arn:aws:kms:eu-west-1:111122223333:key/k"
    );
}

#[test]
fn decision_serialises() {
    let policies = [incident_2_user_policy()];
    let decision = identity_only(&policies, "s3:DeleteObject", OBJECT);
    let value = serde_json::to_value(&decision).unwrap();
    assert_eq!(value["verdict"], "explicit-deny");
    assert_eq!(value["statements"][0]["sid"], "DenyDelete");
    assert_eq!(value["statements"][0]["kind"], "inline");
    assert_eq!(value["statements"][0]["effect"], "Deny");
    let back: Decision = serde_json::from_value(value).unwrap();
    assert_eq!(back, decision);
}

#[test]
fn conditions_are_written_from_the_typed_dependencies_in_their_place() {
    let mut s = StatementRef {
        sid: Some("Vpc".into()),
        index: Some(0),
        policy_kind: Some(PolicyKind::BucketPolicy),
        effect: Some(Effect::Deny),
        ..StatementRef::policy("bucket policy of b", None)
    };
    s.depend(Dependency::PolicyVariable {
        variable: "aws:PrincipalTag/team".into(),
    });
    s.depend(Dependency::Reading {
        reading: condition::Reading::AnyonePastBoundary,
    });
    let text = serde_json::to_string(&s).unwrap();
    let keys: Vec<&str> = [
        "policy_name",
        "policy_arn",
        "kind",
        "sid",
        "index",
        "effect",
        "conditions",
        "depends_on",
    ]
    .into_iter()
    .filter(|k| text.contains(&format!("\"{k}\":")))
    .collect();
    assert_eq!(keys.len(), 8, "{text}");
    let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
    assert!(keys.windows(2).all(|w| at(w[0]) < at(w[1])), "{text}");
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["conditions"],
        serde_json::json!([
            "policy variable ${aws:PrincipalTag/team}",
            format!(
                "uncertain: {}",
                condition::Reading::AnyonePastBoundary.text()
            )
        ])
    );
    let back: StatementRef = serde_json::from_value(value).unwrap();
    assert_eq!(back, s);
}

#[test]
fn malformed_statements_do_not_apply() {
    let identity = [inline(
        "broken",
        r#"{"Statement":[{"Effect":"Deny","Resource":"*"},{"Effect":"Deny","Action":"*"}]}"#,
    )];
    assert_eq!(
        identity_only(&identity, "s3:GetObject", OBJECT).verdict,
        Verdict::ImplicitDeny
    );
    let resource = bucket(r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#);
    let policies = Policies {
        identity: &[],
        resource: Some(&resource),
        boundary: None,
    };
    assert_eq!(
        evaluate(&request("s3:GetObject", OBJECT), &policies).verdict,
        Verdict::ImplicitDeny
    );
}

// ---- property tests ----

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("s3:*".to_owned()),
        Just("s3:Get*".to_owned()),
        Just("s3:*Object".to_owned()),
        Just("s3:?utObject".to_owned()),
        Just("s3:PutObject".to_owned()),
        Just("arn:aws:s3:::sselfie/*".to_owned()),
        Just("arn:aws:s3:::sselfie/${aws:username}/*".to_owned()),
        any::<String>(),
    ]
}

fn patterns() -> impl Strategy<Value = Option<OneOrMany>> {
    prop::option::of(prop_oneof![
        pattern().prop_map(OneOrMany::One),
        prop::collection::vec(pattern(), 0..3).prop_map(OneOrMany::Many),
    ])
}

fn principal() -> impl Strategy<Value = Option<Principal>> {
    prop::option::of(prop_oneof![
        Just(Principal::Any),
        Just(Principal::aws("*")),
        Just(Principal::aws(USER)),
        Just(Principal::aws(ACCOUNT)),
        Just(Principal::aws("arn:aws:iam::123456789012:role/app")),
        any::<String>().prop_map(Principal::aws),
    ])
}

fn statement() -> impl Strategy<Value = Statement> {
    (
        prop::bool::ANY,
        (principal(), principal()),
        (patterns(), patterns(), patterns(), patterns()),
        prop::option::of(any::<String>()),
        prop::bool::ANY,
    )
        .prop_map(
            |(
                allow,
                (principal, not_principal),
                (action, not_action, resource, not_resource),
                sid,
                conditional,
            )| {
                let condition = conditional.then(|| {
                    let mut map = serde_json::Map::new();
                    map.insert(
                        "StringEquals".to_owned(),
                        serde_json::json!({"aws:SourceVpce": "vpce-1"}),
                    );
                    map
                });
                Statement {
                    sid,
                    principal,
                    not_principal,
                    action,
                    not_action,
                    resource,
                    not_resource,
                    condition,
                    ..Statement::new(if allow { Effect::Allow } else { Effect::Deny })
                }
            },
        )
}

fn named(kind: PolicyKind) -> impl Strategy<Value = NamedPolicy> {
    (prop::collection::vec(statement(), 0..4), prop::bool::ANY).prop_map(
        move |(statements, versioned)| {
            let mut document = PolicyDocument::new(statements);
            if !versioned {
                document.version = None;
            }
            NamedPolicy::new("p", None, kind.clone(), document)
        },
    )
}

fn request_strategy() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just(USER.to_owned()),
            Just("arn:aws:sts::123456789012:assumed-role/app/s".to_owned()),
            any::<String>(),
        ],
        prop_oneof![
            Just(ACCOUNT.to_owned()),
            Just(String::new()),
            any::<String>()
        ],
        prop_oneof![Just("s3:PutObject".to_owned()), any::<String>()],
        prop_oneof![Just(OBJECT.to_owned()), any::<String>()],
    )
        .prop_map(|(principal_arn, account, action, resource)| {
            Request::new(principal_arn, account, action, resource)
        })
}

fn policy_set() -> impl Strategy<Value = PolicySet> {
    (
        prop::collection::vec(named(PolicyKind::Managed), 0..3),
        prop::option::of(named(PolicyKind::BucketPolicy)),
        prop::option::of(named(PolicyKind::PermissionsBoundary)),
    )
}

fn deny_all() -> Statement {
    Statement {
        action: Some("*".into()),
        resource: Some("*".into()),
        ..Statement::new(Effect::Deny)
    }
}

proptest! {
    #[test]
    fn literal_pattern_matches_itself(text in "[^*?]*") {
        prop_assert!(wildcard_match(&text, &text, false));
        prop_assert!(wildcard_match(&text, &text, true));
    }

    #[test]
    fn actions_match_in_any_ascii_case(action in "[a-zA-Z0-9]{1,10}:[a-zA-Z0-9]{1,30}") {
        prop_assert!(action_matches(&action.to_ascii_uppercase(), &action));
        prop_assert!(action_matches(&action, &action.to_ascii_lowercase()));
        prop_assert!(!resource_matches(&action.to_ascii_uppercase(), &action)
            || action.to_ascii_uppercase() == action);
    }

    #[test]
    fn star_matches_everything(text in any::<String>()) {
        prop_assert!(wildcard_match("*", &text, false));
        prop_assert!(action_matches("*", &text));
        prop_assert!(resource_matches("*", &text));
        let prefix_star = format!("{}*", text);
        let longer = format!("{}tail", text);
        prop_assert!(wildcard_match(&prefix_star, &longer, false) || text.contains(['*', '?']));
    }

    #[test]
    fn question_marks_match_exactly_that_many_chars(text in any::<String>()) {
        let n = text.chars().count();
        prop_assert!(wildcard_match(&"?".repeat(n), &text, false));
        prop_assert!(!wildcard_match(&"?".repeat(n + 1), &text, false));
    }

    #[test]
    fn wildcard_match_never_panics(
        pattern in any::<String>(),
        text in any::<String>(),
        ignore_case in prop::bool::ANY,
    ) {
        let _ = wildcard_match(&pattern, &text, ignore_case);
    }

    #[test]
    fn deny_all_always_wins(
        set in policy_set(),
        request in request_strategy(),
        place in 0..4u8,
    ) {
        let (identity, resource, boundary) = add_deny_all(set, place);
        let decision = evaluate(&request, &policies(&identity, &resource, &boundary));
        prop_assert_eq!(decision.verdict, Verdict::ExplicitDeny);
        prop_assert!(decision.statements.iter().all(|s| s.effect == Some(Effect::Deny)));
        prop_assert!(!decision.statements.is_empty());
    }

    #[test]
    fn evaluation_never_panics(set in policy_set(), request in request_strategy()) {
        let (identity, resource, boundary) = set;
        let decision = evaluate(&request, &policies(&identity, &resource, &boundary));
        check_consistent(&decision)?;
    }

    #[test]
    fn evaluation_never_panics_on_arbitrary_strings(
        request in (any::<String>(), any::<String>(), any::<String>(), any::<String>()),
        patterns in (any::<String>(), any::<String>(), any::<String>()),
    ) {
        let (principal_arn, account, action, resource) = request;
        let request = Request::new(principal_arn, account, action, resource);
        let (identity, resource, boundary) = everything_set_to(patterns);
        let decision = evaluate(&request, &policies(&identity, &resource, &boundary));
        check_consistent(&decision)?;
    }

    #[test]
    fn without_any_deny_there_is_no_explicit_deny(
        set in policy_set(),
        request in request_strategy(),
    ) {
        let (identity, resource, boundary) = set;
        let identity: Vec<NamedPolicy> = identity.iter().map(allows_only).collect();
        let resource = resource.as_ref().map(allows_only);
        let boundary = boundary.as_ref().map(allows_only);
        let decision = evaluate(&request, &policies(&identity, &resource, &boundary));
        prop_assert_ne!(decision.verdict, Verdict::ExplicitDeny);
    }

    #[test]
    fn allow_all_without_deny_or_boundary_allows(request in request_strategy()) {
        let allow_all = Statement {
            effect: Effect::Allow,
            ..deny_all()
        };
        let identity = [single("all", PolicyKind::Managed, allow_all)];
        let decision = evaluate(&request, &policies(&identity, &None, &None));
        prop_assert_eq!(decision.verdict, Verdict::Allowed);
    }
}

type PolicySet = (Vec<NamedPolicy>, Option<NamedPolicy>, Option<NamedPolicy>);

fn policies<'a>(
    identity: &'a [NamedPolicy],
    resource: &'a Option<NamedPolicy>,
    boundary: &'a Option<NamedPolicy>,
) -> Policies<'a> {
    Policies {
        identity,
        resource: resource.as_ref(),
        boundary: boundary.as_ref(),
    }
}

fn single(name: &str, kind: PolicyKind, statement: Statement) -> NamedPolicy {
    NamedPolicy::new(name, None, kind, PolicyDocument::new(vec![statement]))
}

/// Puts a Deny `*` on `*` into a new identity policy (0), an existing one (1), the bucket
/// policy with `Principal: "*"` (2) or the boundary (3).
fn add_deny_all((mut identity, mut resource, mut boundary): PolicySet, place: u8) -> PolicySet {
    match place {
        0 => identity.push(single("deny-all", PolicyKind::Inline, deny_all())),
        1 => match identity.first_mut() {
            Some(first) => first.document.statement.push(deny_all()),
            None => identity.push(single("deny-all", PolicyKind::Inline, deny_all())),
        },
        2 => {
            let statement = Statement {
                principal: Some(Principal::Any),
                ..deny_all()
            };
            match resource.as_mut() {
                Some(policy) => policy.document.statement.insert(0, statement),
                None => resource = Some(single("bucket", PolicyKind::BucketPolicy, statement)),
            }
        }
        _ => match boundary.as_mut() {
            Some(policy) => policy.document.statement.push(deny_all()),
            None => {
                let kind = PolicyKind::PermissionsBoundary;
                boundary = Some(single("boundary", kind, deny_all()));
            }
        },
    }
    (identity, resource, boundary)
}

/// Every policy holds a Deny and an Allow with every element set to the given strings.
fn everything_set_to((action, resource, principal): (String, String, String)) -> PolicySet {
    let deny = Statement {
        principal: Some(Principal::aws(principal.clone())),
        action: Some(OneOrMany::One(action.clone())),
        not_action: Some(OneOrMany::One(action)),
        resource: Some(OneOrMany::One(resource.clone())),
        not_resource: Some(OneOrMany::One(resource)),
        ..Statement::new(Effect::Deny)
    };
    let allow = Statement {
        effect: Effect::Allow,
        principal: None,
        not_principal: Some(Principal::aws(principal)),
        ..deny.clone()
    };
    let document = PolicyDocument::new(vec![deny, allow]);
    let named = |kind| NamedPolicy::new("p", None, kind, document.clone());
    (
        vec![named(PolicyKind::Inline)],
        Some(named(PolicyKind::BucketPolicy)),
        Some(named(PolicyKind::PermissionsBoundary)),
    )
}

fn allows_only(policy: &NamedPolicy) -> NamedPolicy {
    let mut policy = policy.clone();
    policy
        .document
        .statement
        .retain(|s| s.effect == Effect::Allow);
    policy
}

/// The statements reported agree with the verdict.
fn check_consistent(decision: &Decision) -> Result<(), TestCaseError> {
    let _ = decision.summary();
    let effects_are = |effect| decision.statements.iter().all(|s| s.effect == Some(effect));
    match decision.verdict {
        Verdict::Allowed => {
            prop_assert!(!decision.statements.is_empty());
            prop_assert!(effects_are(Effect::Allow));
        }
        Verdict::ExplicitDeny => {
            prop_assert!(!decision.statements.is_empty());
            prop_assert!(effects_are(Effect::Deny));
        }
        Verdict::ImplicitDeny => prop_assert!(effects_are(Effect::Allow)),
    }
    prop_assert!(
        decision
            .statements
            .iter()
            .all(|s| s.conditions().is_empty())
    );
    prop_assert!(
        decision
            .conditional
            .iter()
            .all(|s| !s.conditions().is_empty())
    );
    Ok(())
}
