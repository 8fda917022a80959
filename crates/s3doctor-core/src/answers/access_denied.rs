//! Parses AWS's detailed access-denied messages: who was denied what, how, and by which policy.

pub use crate::finding::DenySource;

/// Whether a `Deny` statement matched (explicit) or nothing allowed the action (implicit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyKind {
    /// "with an explicit deny in …": a `Deny` statement matched; adding an `Allow` will not help.
    Explicit,
    /// "because no … allows …": no statement allowed the action.
    Implicit,
}

impl DenyKind {
    /// `"explicit"` or `"implicit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Explicit => "explicit",
            Self::Implicit => "implicit",
        }
    }
}

/// What an access-denied message says. Every part is optional: a plain `Access Denied` gives
/// all `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessDenied {
    /// The text after `User:`, normally the caller's ARN (can be `anonymous`).
    pub principal: Option<String>,
    /// The denied action, e.g. `s3:PutObject`.
    pub action: Option<String>,
    /// The resource, quotes removed (an ARN, or IAM's `user NAME`); `None` for "this resource".
    pub resource: Option<String>,
    /// Explicit or implicit, when the message says.
    pub kind: Option<DenyKind>,
    /// The policy type, when the message has a deny clause (`Unknown` if the type is unnamed).
    pub source: Option<DenySource>,
    /// The ARN of the denying policy, which AWS appends for same-account/organization requests.
    pub policy_arn: Option<String>,
}

/// Policy-type phrases as AWS writes them (matched case-insensitively, longest first).
const SOURCES: [(&str, DenySource); 10] = [
    ("identity-based policy", DenySource::IdentityPolicy),
    ("resource-based policy", DenySource::BucketPolicy),
    ("service control policy", DenySource::Scp),
    ("resource control policy", DenySource::Rcp),
    ("permissions boundary", DenySource::PermissionsBoundary),
    ("permission boundary", DenySource::PermissionsBoundary),
    ("session policy", DenySource::SessionPolicy),
    ("vpc endpoint policy", DenySource::VpcEndpointPolicy),
    ("vpc-endpoint policy", DenySource::VpcEndpointPolicy),
    ("endpoint policy", DenySource::VpcEndpointPolicy),
];

const PERFORM: &str = "is not authorized to perform";
const EXPLICIT: &str = "with an explicit deny";
const IMPLICIT: &str = "because no ";

/// Extracts what it can from an access-denied message (an S3 error `Message`, an SDK error's
/// display text such as `An error occurred (AccessDenied) when calling …: User: …`, or a
/// CloudTrail `errorMessage`). Never fails: parts it cannot find stay `None`.
///
/// AWS documents the shape `User: USER is not authorized to perform: ACTION on resource: RESOURCE
/// because CONTEXT`, where CONTEXT is `with an explicit deny in a TYPE` (optionally followed by
/// `: POLICY-ARN`) or `because no TYPE allows the ACTION action`. The resource part may be
/// missing, quoted, or `this resource`; messages may be wrapped over several lines (whitespace
/// is collapsed). Cross-account requests, directory buckets and some services return only
/// `Access Denied`, which parses to all `None`. Other reasons, such as S3 Block Public Access
/// ("because public ACLs are prevented by …"), leave `kind` and `source` `None`.
pub fn parse(message: &str) -> AccessDenied {
    let text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` index `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = AccessDenied::default();

    let perform_at = lower.find(PERFORM);
    let head = lower.get(..perform_at.unwrap_or(text.len())).unwrap_or("");
    if let Some(user_at) = head.rfind("user:") {
        out.principal = text
            .get(user_at + "user:".len()..head.len())
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.contains(' '))
            .map(str::to_string);
    }

    let mut reason_from = 0;
    if let Some(at) = perform_at {
        reason_from = parse_action_and_resource(&text, &lower, at + PERFORM.len(), &mut out);
    }
    if let Some(at) = find_reason(&lower, reason_from) {
        parse_reason(&text, &lower, at, &mut out);
    }
    out
}

/// The authorization id of AWS's newer access-denied messages ("… or call the
/// GetRequestAuthorizationDetails API with the following authorization id: ID"), also found
/// at the end of the console link `…#/authorization-details/ID`. See
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html>.
pub fn authorization_id(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = ["authorization id:", "authorization-details/"]
        .iter()
        .find_map(|marker| lower.find(marker).map(|i| i + marker.len()))?;
    let id: String = message
        .get(at..)?
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (id.len() >= 8).then_some(id)
}

/// What to do with the authorization id of AWS's newer access-denied messages. AWS documents
/// "at least 24 hours" and the feature as a preview:
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied-authorization-id.html>,
/// <https://docs.aws.amazon.com/iam-toolbox/latest/APIReference/API_GetRequestAuthorizationDetails.html>
pub fn authorization_hint(id: &str) -> String {
    format!(
        "AWS keeps the full evaluation of this denial for at least 24 hours (Access Troubleshooter, in preview): the link in AWS's message, or `aws iam-toolbox get-request-authorization-details --authorization-id {id}` (needs iam:GetRequestAuthorizationDetails), names the policies and statements that decided"
    )
}

/// Offset of `suffix` (a suffix of `whole`) inside `whole`.
fn offset(whole: &str, suffix: &str) -> usize {
    whole.len().saturating_sub(suffix.len())
}

/// Reads `: ACTION [on resource: RESOURCE]` from `from` on; returns where the reason may start.
fn parse_action_and_resource(
    text: &str,
    lower: &str,
    from: usize,
    out: &mut AccessDenied,
) -> usize {
    let after = text.get(from..).unwrap_or("").trim_start();
    let after = after.strip_prefix(':').unwrap_or(after).trim_start();
    let token = after.split(' ').next().unwrap_or("");
    out.action = clean_action(token);
    let action_end = offset(text, after) + token.len();

    let rest = text.get(action_end..).unwrap_or("").trim_start();
    let Some(value) = rest.strip_prefix("on resource") else {
        return action_end;
    };
    let value = value.trim_start();
    let value = value.strip_prefix(':').unwrap_or(value).trim_start();
    let value_at = offset(text, value);

    if let Some(inner) = value.strip_prefix('"') {
        let inner_at = offset(text, inner);
        let inner_lower = lower.get(inner_at..).unwrap_or("");
        if let Some(close) = closing_quote(inner_lower) {
            out.resource = non_empty(inner.get(..close).unwrap_or(""));
            return inner_at + close + 1;
        }
        // No closing quote (a truncated message): read it like an unquoted resource.
        let end = find_reason(lower, inner_at).unwrap_or(text.len());
        out.resource = non_empty(text.get(inner_at..end).unwrap_or(""));
        return inner_at;
    }
    let end = find_reason(lower, value_at).unwrap_or(text.len());
    let resource = text
        .get(value_at..end)
        .unwrap_or("")
        .trim_end_matches(['.', ',', ' ']);
    out.resource = non_empty(resource);
    value_at
}

/// The quote that ends a quoted resource: one followed by the end or by a reason clause.
/// S3 keys may contain quotes and spaces, so the first quote is not always the end.
fn closing_quote(inner_lower: &str) -> Option<usize> {
    let ends_here = |after: &str| {
        let after = after.trim_start_matches(['.', ' ']);
        after.is_empty() || after.starts_with(EXPLICIT) || after.starts_with(IMPLICIT)
    };
    inner_lower
        .match_indices('"')
        .map(|(i, _)| i)
        .find(|&i| ends_here(inner_lower.get(i + 1..).unwrap_or("")))
        .or_else(|| inner_lower.rfind('"'))
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Position of the first reason clause at or after `from`.
fn find_reason(lower: &str, from: usize) -> Option<usize> {
    let tail = lower.get(from..)?;
    let first = match (tail.find(EXPLICIT), tail.find(IMPLICIT)) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some(from + first)
}

/// Reads the reason clause starting at `at`: its kind, policy type, and any policy ARN.
fn parse_reason(text: &str, lower: &str, at: usize, out: &mut AccessDenied) {
    let clause = lower.get(at..).unwrap_or("");
    if let Some(rest) = clause.strip_prefix(EXPLICIT) {
        out.kind = Some(DenyKind::Explicit);
        let rest = rest.trim_start();
        let source = match rest.strip_prefix("in ") {
            Some(after_in) => match_source(strip_article(after_in.trim_start())),
            None => DenySource::Unknown,
        };
        out.source = Some(source);
    } else if let Some(rest) = clause.strip_prefix(IMPLICIT) {
        out.kind = Some(DenyKind::Implicit);
        out.source = Some(match_source(rest));
        // "… allows the s3:PutObject action": also gives the action when "perform" was missing.
        if out.action.is_none()
            && let Some(pos) = rest.find("allows the ")
        {
            let named_at = offset(lower, rest) + pos + "allows the ".len();
            let named = text.get(named_at..).unwrap_or("");
            out.action = clean_action(named.split(' ').next().unwrap_or(""));
        }
    }
    out.policy_arn = policy_arn_in(text.get(at..).unwrap_or(""));
}

fn strip_article(s: &str) -> &str {
    ["an ", "a ", "the "]
        .iter()
        .find_map(|a| s.strip_prefix(a))
        .unwrap_or(s)
}

/// The policy type named at the start of `lower`.
fn match_source(lower: &str) -> DenySource {
    SOURCES
        .iter()
        .find(|(phrase, _)| lower.starts_with(phrase))
        .map_or(DenySource::Unknown, |(_, source)| *source)
}

/// The `: arn:…` that AWS appends to a deny clause to name the policy.
fn policy_arn_in(clause: &str) -> Option<String> {
    let at = clause
        .find(": arn:")
        .map(|i| i + 2)
        .or_else(|| clause.find(":arn:").map(|i| i + 1))?;
    let token = clause.get(at..)?.split(' ').next().unwrap_or("");
    let token = token.trim_end_matches(['.', ',', ';', '"', '\'', ')']);
    (token.len() > "arn:".len()).then(|| token.to_string())
}

/// An action looks like `service:Name` (wildcards allowed).
fn clean_action(token: &str) -> Option<String> {
    let token = token.trim_end_matches(['.', ',', ';']);
    let valid = token.split_once(':').is_some_and(|(svc, name)| {
        !svc.is_empty()
            && !name.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'*' | b'-' | b'_' | b'?'))
    });
    valid.then(|| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const USER: &str = "arn:aws:iam::123456789012:user/Runpod";
    const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/App/i-0abc";

    fn s3(principal: &str, action: &str, resource: &str, reason: &str) -> String {
        format!(
            "User: {principal} is not authorized to perform: {action} on resource: \"{resource}\" {reason}"
        )
    }

    fn check(
        msg: &str,
        kind: Option<DenyKind>,
        source: Option<DenySource>,
        action: &str,
        resource: Option<&str>,
    ) -> AccessDenied {
        let got = parse(msg);
        assert_eq!(got.kind, kind, "{msg}");
        assert_eq!(got.source, source, "{msg}");
        assert_eq!(got.action.as_deref(), Some(action), "{msg}");
        assert_eq!(got.resource.as_deref(), resource, "{msg}");
        got
    }

    #[test]
    fn identity_policy_implicit() {
        let msg = s3(
            USER,
            "s3:PutObject",
            "arn:aws:s3:::clipizy-dev/a.txt",
            "because no identity-based policy allows the s3:PutObject action",
        );
        let got = check(
            &msg,
            Some(DenyKind::Implicit),
            Some(DenySource::IdentityPolicy),
            "s3:PutObject",
            Some("arn:aws:s3:::clipizy-dev/a.txt"),
        );
        assert_eq!(got.principal.as_deref(), Some(USER));
        assert_eq!(got.policy_arn, None);
    }

    #[test]
    fn resource_based_policy_is_bucket_policy() {
        for (reason, kind) in [
            (
                "because no resource-based policy allows the s3:GetObject action",
                DenyKind::Implicit,
            ),
            (
                "with an explicit deny in a resource-based policy",
                DenyKind::Explicit,
            ),
        ] {
            let msg = s3(USER, "s3:GetObject", "arn:aws:s3:::b/k", reason);
            check(
                &msg,
                Some(kind),
                Some(DenySource::BucketPolicy),
                "s3:GetObject",
                Some("arn:aws:s3:::b/k"),
            );
        }
    }

    #[test]
    fn identity_policy_explicit_with_and_without_policy_arn() {
        let msg = s3(
            ROLE,
            "s3:DeleteObject",
            "arn:aws:s3:::b/k",
            "with an explicit deny in an identity-based policy",
        );
        let got = check(
            &msg,
            Some(DenyKind::Explicit),
            Some(DenySource::IdentityPolicy),
            "s3:DeleteObject",
            Some("arn:aws:s3:::b/k"),
        );
        assert_eq!(got.principal.as_deref(), Some(ROLE));
        assert_eq!(got.policy_arn, None);

        let with_arn = format!("{msg}: arn:aws:iam::123456789012:policy/DenyDelete");
        let got = parse(&with_arn);
        assert_eq!(got.source, Some(DenySource::IdentityPolicy));
        assert_eq!(
            got.policy_arn.as_deref(),
            Some("arn:aws:iam::123456789012:policy/DenyDelete")
        );
        assert_eq!(got.resource.as_deref(), Some("arn:aws:s3:::b/k"));
    }

    #[test]
    fn every_policy_type_both_kinds() {
        let types = [
            ("service control policy", DenySource::Scp),
            ("resource control policy", DenySource::Rcp),
            ("permissions boundary", DenySource::PermissionsBoundary),
            ("session policy", DenySource::SessionPolicy),
            ("VPC endpoint policy", DenySource::VpcEndpointPolicy),
            ("identity-based policy", DenySource::IdentityPolicy),
            ("resource-based policy", DenySource::BucketPolicy),
        ];
        for (phrase, source) in types {
            let article = if phrase.starts_with('i') { "an" } else { "a" };
            let explicit = format!("with an explicit deny in {article} {phrase}");
            let implicit = format!("because no {phrase} allows the s3:PutObject action");
            for (reason, kind) in [
                (explicit, DenyKind::Explicit),
                (implicit, DenyKind::Implicit),
            ] {
                let msg = s3(USER, "s3:PutObject", "arn:aws:s3:::b/k", &reason);
                check(
                    &msg,
                    Some(kind),
                    Some(source),
                    "s3:PutObject",
                    Some("arn:aws:s3:::b/k"),
                );
                // Same message without the resource part, as in AWS's S3 examples.
                let msg =
                    format!("User: {USER} is not authorized to perform: s3:PutObject {reason}");
                check(&msg, Some(kind), Some(source), "s3:PutObject", None);
            }
        }
    }

    #[test]
    fn scp_with_organizations_policy_arn_and_sdk_prefix() {
        let msg = "An error occurred (AccessDenied) when calling the ListRoles operation: User: \
                   arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles \
                   on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service \
                   control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/\
                   service_control_policy/p-2kgnabcd";
        let got = check(
            msg,
            Some(DenyKind::Explicit),
            Some(DenySource::Scp),
            "iam:ListRoles",
            Some("arn:aws:iam::123456789012:role/*"),
        );
        assert_eq!(
            got.principal.as_deref(),
            Some("arn:aws:iam::123456789012:user/Matt")
        );
        assert_eq!(
            got.policy_arn.as_deref(),
            Some(
                "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd"
            )
        );
    }

    #[test]
    fn iam_flavour_with_unquoted_resource() {
        let msg = "User: arn:aws:iam::123456789012:user/Runpod is not authorized to perform: \
                   iam:ListAttachedUserPolicies on resource: user Runpod because no identity-based \
                   policy allows the iam:ListAttachedUserPolicies action";
        let got = check(
            msg,
            Some(DenyKind::Implicit),
            Some(DenySource::IdentityPolicy),
            "iam:ListAttachedUserPolicies",
            Some("user Runpod"),
        );
        assert_eq!(got.principal.as_deref(), Some(USER));
    }

    #[test]
    fn plain_messages() {
        assert_eq!(parse("Access Denied"), AccessDenied::default());
        assert_eq!(parse(""), AccessDenied::default());
        assert_eq!(
            parse("AccessDenied: Access Denied"),
            AccessDenied::default()
        );

        let msg = "User: arn:aws:iam::123456789012:user/Runpod is not authorized to perform: \
                   iam:GetUser on resource: arn:aws:iam::123456789012:user/Runpod";
        let got = check(
            msg,
            None,
            None,
            "iam:GetUser",
            Some("arn:aws:iam::123456789012:user/Runpod"),
        );
        assert_eq!(got.principal.as_deref(), Some(USER));
        assert_eq!(got.policy_arn, None);
    }

    #[test]
    fn wrapped_message_from_aws_docs() {
        let msg = "An error occurred (AccessDenied) when calling the GetObject operation:\n\
                   User: arn:aws:iam::777788889999:user/MaryMajor is not authorized to perform:\n\
                   s3:GetObject on resource: \"arn:aws:s3:::amzn-s3-demo-bucket1/object-name\" with\n\
                   an explicit deny in a resource control policy\n";
        let got = check(
            msg,
            Some(DenyKind::Explicit),
            Some(DenySource::Rcp),
            "s3:GetObject",
            Some("arn:aws:s3:::amzn-s3-demo-bucket1/object-name"),
        );
        assert_eq!(
            got.principal.as_deref(),
            Some("arn:aws:iam::777788889999:user/MaryMajor")
        );
    }

    #[test]
    fn this_resource_and_explicit_deny_without_type() {
        let msg = "User: arn:aws:sts::112233445566:assumed-role/R/abcde is not authorized to \
                   perform: kms:GenerateDataKey on this resource because no identity-based policy \
                   allows the kms:GenerateDataKey action";
        check(
            msg,
            Some(DenyKind::Implicit),
            Some(DenySource::IdentityPolicy),
            "kms:GenerateDataKey",
            None,
        );

        let msg = "User: arn:aws:iam::444455556666:user/ExampleUser is not authorized to perform: \
                   ec2:RunInstances on resource: arn:aws:ec2:us-east-1:444455556666:volume/* with \
                   an explicit deny";
        check(
            msg,
            Some(DenyKind::Explicit),
            Some(DenySource::Unknown),
            "ec2:RunInstances",
            Some("arn:aws:ec2:us-east-1:444455556666:volume/*"),
        );
    }

    #[test]
    fn unnamed_policy_types_are_unknown() {
        let msg = "User: arn:aws:iam::123:user/u is not authorized to perform: sts:AssumeRole on \
                   resource: arn:aws:iam::123:role/R because no role trust policy allows the \
                   sts:AssumeRole action";
        check(
            msg,
            Some(DenyKind::Implicit),
            Some(DenySource::Unknown),
            "sts:AssumeRole",
            Some("arn:aws:iam::123:role/R"),
        );
        let msg = "User: arn:aws:iam::123:user/u is not authorized to perform: sts:AssumeRole on \
                   resource: arn:aws:iam::123:role/R with an explicit deny in the role trust policy";
        check(
            msg,
            Some(DenyKind::Explicit),
            Some(DenySource::Unknown),
            "sts:AssumeRole",
            Some("arn:aws:iam::123:role/R"),
        );
    }

    #[test]
    fn s3_specific_reasons_have_no_policy_kind() {
        let msg = "User: arn:aws:iam::123456789012:user/MaryMajor is not authorized to perform: \
                   s3:CopyObject on resource: \"arn:aws:s3:::b/object-name\" because public ACLs \
                   are prevented by the BlockPublicAcls setting in S3 Block Public Access.";
        check(
            msg,
            None,
            None,
            "s3:CopyObject",
            Some("arn:aws:s3:::b/object-name"),
        );
    }

    #[test]
    fn message_without_principal_gets_action_from_reason() {
        let msg = "AccessDeniedException: User is not authorized to perform: dynamodb:DescribeTable \
                   because no VPC endpoint policy allows the dynamodb:DescribeTable action";
        let got = check(
            msg,
            Some(DenyKind::Implicit),
            Some(DenySource::VpcEndpointPolicy),
            "dynamodb:DescribeTable",
            None,
        );
        assert_eq!(got.principal, None);

        let got = parse("because no session policy allows the s3:PutObject action");
        assert_eq!(got.kind, Some(DenyKind::Implicit));
        assert_eq!(got.source, Some(DenySource::SessionPolicy));
        assert_eq!(got.action.as_deref(), Some("s3:PutObject"));
    }

    #[test]
    fn quoted_key_with_quotes_and_reason_words_inside() {
        let key = "arn:aws:s3:::b/say \"hi\"/because no one with an explicit deny.txt";
        let msg = s3(
            USER,
            "s3:PutObject",
            key,
            "because no identity-based policy allows the s3:PutObject action",
        );
        check(
            &msg,
            Some(DenyKind::Implicit),
            Some(DenySource::IdentityPolicy),
            "s3:PutObject",
            Some(key),
        );
    }

    #[test]
    fn truncated_quote() {
        let msg = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject on \
                   resource: \"arn:aws:s3:::b/k with an explicit deny in a session policy";
        check(
            msg,
            Some(DenyKind::Explicit),
            Some(DenySource::SessionPolicy),
            "s3:GetObject",
            Some("arn:aws:s3:::b/k"),
        );
    }

    #[test]
    fn policy_arn_after_unnamed_type_and_trailing_period() {
        let msg = "User: arn:aws:iam::1:user/u is not authorized to perform: s3:GetObject with an \
                   explicit deny in a permissions boundary: arn:aws:iam::1:policy/Boundary.";
        let got = parse(msg);
        assert_eq!(got.source, Some(DenySource::PermissionsBoundary));
        assert_eq!(
            got.policy_arn.as_deref(),
            Some("arn:aws:iam::1:policy/Boundary")
        );
        assert_eq!(got.resource, None);
    }

    #[test]
    fn anonymous_principal() {
        let msg = "User: anonymous is not authorized to perform: s3:GetObject on resource: \
                   \"arn:aws:s3:::b/k\" because no resource-based policy allows the s3:GetObject action";
        assert_eq!(parse(msg).principal.as_deref(), Some("anonymous"));
    }

    #[test]
    fn names_and_serde() {
        let all = [
            (DenySource::IdentityPolicy, "identity-policy"),
            (DenySource::BucketPolicy, "bucket-policy"),
            (DenySource::Scp, "scp"),
            (DenySource::Rcp, "rcp"),
            (DenySource::PermissionsBoundary, "permissions-boundary"),
            (DenySource::SessionPolicy, "session-policy"),
            (DenySource::VpcEndpointPolicy, "vpc-endpoint-policy"),
            (DenySource::Unknown, "unknown"),
        ];
        for (source, name) in all {
            assert_eq!(source.as_str(), name);
            assert_eq!(source.to_string(), name);
            assert!(!source.describe().is_empty());
            let de: DenySource =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(name))
                .unwrap();
            assert_eq!(de, source);
        }
        assert_eq!(DenyKind::Explicit.as_str(), "explicit");
        assert_eq!(DenyKind::Implicit.as_str(), "implicit");
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>()) {
            let _ = parse(&s);
        }

        #[test]
        fn never_panics_on_near_miss_messages(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("User: ".to_string()),
                    Just(" is not authorized to perform".to_string()),
                    Just(": ".to_string()),
                    Just(" on resource: ".to_string()),
                    Just("\"".to_string()),
                    Just(" with an explicit deny in a ".to_string()),
                    Just("because no ".to_string()),
                    Just(" allows the ".to_string()),
                    Just("session policy".to_string()),
                    Just(" action".to_string()),
                    Just("arn:".to_string()),
                    "[a-zA-Zé:/ ]{0,6}",
                ],
                0..14,
            )
        ) {
            let msg: String = parts.concat();
            let got = parse(&msg);
            if let Some(a) = got.action {
                prop_assert!(a.contains(':'));
            }
        }

        #[test]
        fn recovers_generated_messages(
            acct in "[0-9]{12}",
            name in "[A-Za-z0-9_+=,.@-]{1,20}",
            action in "s3:[A-Z][A-Za-z]{2,20}",
            key in "[a-z0-9/._-]{1,20}",
            idx in 0usize..7,
            explicit in any::<bool>(),
        ) {
            let (phrase, source) = SOURCES[idx];
            let principal = format!("arn:aws:iam::{acct}:user/{name}");
            let resource = format!("arn:aws:s3:::bucket/{key}");
            let reason = if explicit {
                format!("with an explicit deny in a {phrase}")
            } else {
                format!("because no {phrase} allows the {action} action")
            };
            let got = parse(&s3(&principal, &action, &resource, &reason));
            prop_assert_eq!(got.principal, Some(principal));
            prop_assert_eq!(got.action, Some(action));
            prop_assert_eq!(got.resource, Some(resource));
            prop_assert_eq!(got.source, Some(source));
            let kind = if explicit { DenyKind::Explicit } else { DenyKind::Implicit };
            prop_assert_eq!(got.kind, Some(kind));
        }
    }
}
