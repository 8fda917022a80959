//! The `identity` step: sts:GetCallerIdentity, who the keys belong to, and whether that is
//! the principal the person expected. On a server without STS (Ceph RGW answers 405), the
//! principal is what the server says — the owner `ListBuckets` names, or `--expect-principal` —
//! marked unconfirmed, and the S3 steps decide whether the keys are good.

use super::{CheckContext, CheckResult, Fact, Identity, NotChecked, Status, StepOutcome};
use crate::answers::{Class, FindingSpec};
use crate::arn::{self, Principal, PrincipalKind};
use crate::endpoint::Capabilities;
use crate::finding::{Evidence, FindingCode};
use crate::runbook::StepId;

pub(super) async fn identity(cx: &CheckContext) -> CheckResult {
    cx.session()?;
    let caps = cx.capabilities().await;
    let answer = cx
        .caller()
        .await
        .ok_or_else(|| NotChecked::nothing("no credentials"))?;
    let mut outcome = match answer {
        Ok((arn_text, user_id)) => {
            let role = sessions_role(cx, &arn_text).await;
            confirmed(cx, arn_text, user_id, role)
        }
        Err(_) if caps.s3_only() => from_server(cx, &caps).await,
        Err(failure) => cx.failed(StepId::Identity, failure),
    };
    if cx.endpoint().is_some() {
        outcome.facts.push(Fact::Endpoint(caps));
    }
    Ok(outcome)
}

/// A session's role as IAM names it, with its path, which the session's ARN does not carry:
/// `Ok(None)` when there is nothing to learn (not a session, or the chain assumed the role
/// itself and so knows its ARN), `Err` with how GetRole failed. Read with `--admin-profile`
/// when given, else with the diagnosed keys, before any finding names the role.
async fn sessions_role(cx: &CheckContext, arn_text: &str) -> Result<Option<String>, String> {
    let Ok(p) = arn::parse_principal(arn_text) else {
        return Ok(None);
    };
    let assumed_here = cx.session.as_ref().and_then(|s| s.assumed.last());
    let known = assumed_here
        .and_then(|a| arn::parse_principal(&a.role_arn).ok())
        .is_some_and(|role| role.name == p.name && role.account == p.account);
    if p.kind != PrincipalKind::AssumedRole || known {
        return Ok(None);
    }
    let Some(session) = cx.reading_session().await else {
        return Ok(None);
    };
    crate::credentials::assume::role_arn_named(&session.clients.iam, &p.name).await
}

/// The principal as STS names it, and its role as IAM named it (see [`sessions_role`]).
fn confirmed(
    cx: &CheckContext,
    arn_text: String,
    user_id: Option<String>,
    role: Result<Option<String>, String>,
) -> StepOutcome {
    let principal = match arn::parse_principal(&arn_text) {
        Ok(p) => p,
        Err(e) => {
            return StepOutcome::warn(format!("unrecognised principal ARN {arn_text}: {e}"));
        }
    };
    let mut identity = Identity::new(principal, user_id, true);
    // A role the chain assumed itself is known with its path.
    if let Some(assumed) = cx.session.as_ref().and_then(|s| s.assumed.last()) {
        identity.learn_role_arn(&assumed.role_arn);
    }
    if let Ok(Some(arn)) = &role {
        identity.learn_role_arn(arn);
    }
    let p = &identity.principal;
    let mut detail = format!(
        "{} {} in account {} ({})",
        p.kind.as_str(),
        p.name,
        p.account,
        p.arn
    );
    if let Some(role) = identity.role_and_session() {
        detail.push_str(&format!(": {role}"));
    }
    if let Err(refused) = &role {
        detail.push_str(&format!(" (iam:GetRole could not name it: {refused})"));
    }
    if let Some(expected) = &cx.run.expect_principal
        && !p.matches(expected)
    {
        return unexpected(cx, identity, expected, detail);
    }
    StepOutcome::pass(detail).with_fact(Fact::Identity(identity))
}

/// The keys belong to someone else than `--expect-principal`.
fn unexpected(
    cx: &CheckContext,
    identity: Identity,
    expected: &str,
    detail: String,
) -> StepOutcome {
    let mut cx2 = cx.clone();
    cx2.identity = Some(identity.clone());
    let (operation, message) = if identity.confirmed {
        (
            "GetCallerIdentity",
            format!("Arn: {}", identity.principal.arn),
        )
    } else {
        (
            "ListBuckets",
            format!("Owner: {}", identity.user_id.as_deref().unwrap_or_default()),
        )
    };
    let finding = FindingSpec {
        code: FindingCode::UnexpectedPrincipal,
        step: StepId::Identity,
        facts: cx2.facts(None),
        source: None,
        statement: None,
        evidence: Some(Evidence {
            operation: operation.into(),
            http_status: Some(200),
            message: Some(message),
            ..Evidence::default()
        }),
    }
    .build();
    StepOutcome {
        status: Status::Fail,
        detail: format!("{detail}, not {expected}"),
        evidence: None,
        findings: vec![finding],
        facts: vec![Fact::Identity(identity)],
        blocking: false,
        ran: true,
    }
}

/// No STS: the principal is the owner `ListBuckets` names (RGW: the user id, `TENANT$NAME`
/// for a tenant's user), else `--expect-principal`; unconfirmed either way. A refused key
/// (InvalidAccessKeyId, SignatureDoesNotMatch) is still the credential finding it is.
async fn from_server(cx: &CheckContext, caps: &Capabilities) -> StepOutcome {
    let server = caps.kind.label();
    let no_sts = format!(
        "unconfirmed: {server} has no STS ({})",
        caps.sts_answer
            .as_ref()
            .map(Evidence::one_line)
            .unwrap_or_else(|| "GetCallerIdentity is not answered".into())
    );
    let owner = match cx.list_buckets().await {
        Some(Ok(owner)) => owner,
        Some(Err(failure)) => match failure.class {
            Class::AccessDenied(_) => None,
            _ => return cx.failed(StepId::Identity, failure),
        },
        None => return StepOutcome::skip("no credentials"),
    };
    let (principal, how) = match (&owner, &cx.run.expect_principal) {
        (Some(id), _) => (
            server_principal(id),
            format!("as {server} names the owner of these keys (ListBuckets)"),
        ),
        (None, Some(expected)) => (
            principal_from_text(expected),
            "as --expect-principal says (the server does not say)".to_owned(),
        ),
        (None, None) => {
            return StepOutcome::warn(format!(
                "the principal is unknown: {no_sts} and ListBuckets does not name an owner; \
                 --expect-principal NAME says whose keys these should be"
            ));
        }
    };
    let identity = Identity::new(principal, owner, false);
    let p = &identity.principal;
    let detail = format!(
        "{} {} ({}), {how}; {no_sts}; the S3 steps show whether the keys work",
        p.kind.as_str(),
        p.name,
        p.arn
    );
    if let Some(expected) = &cx.run.expect_principal
        && !server_matches(&identity, expected)
    {
        return unexpected(cx, identity, expected, detail);
    }
    StepOutcome::pass(detail).with_fact(Fact::Identity(identity))
}

/// A user as RGW names it in bucket policies: `arn:aws:iam:::user/NAME`, or
/// `arn:aws:iam::TENANT:user/NAME` for the id `TENANT$NAME`.
pub fn server_principal(owner_id: &str) -> Principal {
    let (tenant, name) = owner_id.split_once('$').unwrap_or(("", owner_id));
    Principal {
        arn: format!("arn:aws:iam::{tenant}:user/{name}"),
        partition: "aws".into(),
        account: tenant.into(),
        kind: PrincipalKind::User,
        name: name.into(),
        path: None,
        session: None,
    }
}

/// `--expect-principal` as a principal: an ARN as written (RGW's have a tenant or nothing
/// where AWS has an account id), or a bare user name (`TENANT$NAME` too).
fn principal_from_text(text: &str) -> Principal {
    let text = text.trim();
    if let Ok(p) = arn::parse_principal(text) {
        return p;
    }
    if let Some(rest) = text.strip_prefix("arn:aws:iam::")
        && let Some((tenant, name)) = rest.split_once(":user/")
    {
        return server_principal(&if tenant.is_empty() {
            name.to_owned()
        } else {
            format!("{tenant}${name}")
        });
    }
    server_principal(text)
}

fn server_matches(identity: &Identity, expected: &str) -> bool {
    let expected = expected.trim();
    let p = &identity.principal;
    expected == p.arn
        || expected == p.name
        || identity.user_id.as_deref() == Some(expected)
        || principal_from_text(expected).arn == p.arn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgw_user_ids_become_the_arns_its_bucket_policies_use() {
        assert_eq!(server_principal("app").arn, "arn:aws:iam:::user/app");
        let t = server_principal("acme$app");
        assert_eq!(t.arn, "arn:aws:iam::acme:user/app");
        assert_eq!((t.account.as_str(), t.name.as_str()), ("acme", "app"));
        assert_eq!(
            principal_from_text("arn:aws:iam::acme:user/app").arn,
            "arn:aws:iam::acme:user/app"
        );
        assert_eq!(principal_from_text("app").arn, "arn:aws:iam:::user/app");
    }
}
