//! The `kms-key` step (with `--admin-profile`): the bucket's default KMS key must itself allow
//! the principal — S3's permission is not enough. It reads the key (kms:DescribeKey) and its
//! key policy (kms:GetKeyPolicy) with the admin profile and evaluates, with the local
//! evaluator, the KMS actions the app needs: a key policy allows a principal it names, and
//! lets identity policies decide only when it enables them (an Allow for the account root).
//! Conditions (kms:ViaService, kms:CallerAccount, …) are reported, never guessed. An AWS
//! managed key (aws/s3) cannot be used from another account: that is named as the cause.

use super::policy_sources::{load_role, load_user};
use super::{CheckContext, CheckResult, StepOutcome};
use crate::arn::{Principal, PrincipalKind};
use crate::diagnose::FindingSpec;
use crate::diagnose::access_denied::DenySource;
use crate::finding::{Finding, FindingCode};
use crate::policy::evaluate::{self, Policies, Request, Verdict};
use crate::policy::{NamedPolicy, PolicyDocument, PolicyKind};
use crate::runbook::StepId;

/// The KMS actions the app needs on the bucket's key: uploads generate a data key; downloads
/// (and every part of a multipart upload) decrypt.
pub fn needed_actions(read_only: bool) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !read_only {
        out.push("kms:GenerateDataKey");
    }
    out.push("kms:Decrypt");
    out
}

/// What DescribeKey said about the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFacts {
    pub arn: String,
    pub account: String,
    /// `AWS` for an AWS managed key (aws/s3), `CUSTOMER` otherwise.
    pub manager: String,
    pub state: String,
}

/// Why the key refuses an action, or `None` when it allows it (conditions aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyVerdict {
    Allowed {
        how: String,
        conditions: Vec<String>,
    },
    Refused {
        why: String,
        source: DenySource,
        conditions: Vec<String>,
    },
}

/// An AWS managed key only serves principals of its own account (its key policy says so
/// with kms:CallerAccount): the cause, whatever else the policies say.
pub fn managed_key_across_accounts(key: &KeyFacts, caller_account: &str) -> Option<String> {
    (key.manager == "AWS" && key.account != caller_account).then(|| {
        format!(
            "the bucket encrypts with the AWS managed key aws/s3 of account {} ({}), and an AWS \
             managed key can only be used by principals of its own account: {caller_account} \
             can never use it, whatever the policies say. The bucket owner must switch the \
             bucket's default encryption to a customer managed key whose key policy allows \
             {caller_account} (or to SSE-S3)",
            key.account, key.arn
        )
    })
}

/// Judges one KMS action for the principal: the key policy, and the identity policies when
/// the key policy enables them.
pub fn judge(
    principal: &Principal,
    action: &str,
    key: &KeyFacts,
    key_policy: &NamedPolicy,
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
) -> KeyVerdict {
    let account = principal.account.clone();
    let who = principal.arn.clone();
    let on_key = |principal_arn: &str, policies: Policies<'_>| {
        evaluate::evaluate(
            &Request::new(principal_arn, account.clone(), action, key.arn.clone()),
            &policies,
        )
    };
    let key_only = Policies {
        identity: &[],
        resource: Some(key_policy),
        boundary: None,
    };
    let cond_text = |d: &evaluate::Decision| -> Vec<String> {
        d.conditional
            .iter()
            .map(|s| format!("{} ({})", s.conditions.join(", "), s.in_policy()))
            .collect()
    };
    let direct = on_key(&who, key_only);
    let mut conditions = cond_text(&direct);
    if direct.verdict == Verdict::ExplicitDeny {
        return KeyVerdict::Refused {
            why: format!("the key policy denies it: {}", direct.summary()),
            source: DenySource::Unknown,
            conditions,
        };
    }
    // The whole picture, identity policies included, for their Denies and Allows.
    let full = on_key(
        &who,
        Policies {
            identity,
            resource: Some(key_policy),
            boundary,
        },
    );
    if full.verdict == Verdict::ExplicitDeny {
        return KeyVerdict::Refused {
            why: format!("explicitly denied: {}", full.summary()),
            source: DenySource::IdentityPolicy,
            conditions,
        };
    }
    if direct.verdict == Verdict::Allowed {
        return KeyVerdict::Allowed {
            how: format!("the key policy names it: {}", direct.summary()),
            conditions,
        };
    }
    // The key policy enables IAM policies when it allows the caller's account root.
    let root = crate::arn::account_root_arn(&principal.partition, &principal.account);
    let delegation = on_key(&root, key_only);
    conditions.extend(cond_text(&delegation));
    if delegation.verdict != Verdict::Allowed {
        let hint = if key.account != principal.account {
            format!(
                "the key belongs to account {} and its key policy names neither {who} nor \
                 account {}",
                key.account, principal.account
            )
        } else {
            format!(
                "the key policy neither names {who} nor enables IAM policies (no Allow for \
                 {root}), so no identity policy can grant it"
            )
        };
        return KeyVerdict::Refused {
            why: hint,
            source: DenySource::Unknown,
            conditions,
        };
    }
    let with_identity = on_key(
        &who,
        Policies {
            identity,
            resource: None,
            boundary,
        },
    );
    conditions.extend(cond_text(&with_identity));
    if with_identity.verdict == Verdict::Allowed {
        KeyVerdict::Allowed {
            how: format!(
                "the key policy enables IAM policies, and {}",
                with_identity.summary()
            ),
            conditions,
        }
    } else {
        KeyVerdict::Refused {
            why: format!(
                "the key policy enables IAM policies, but none of {who}'s allows it ({})",
                with_identity.summary()
            ),
            source: DenySource::IdentityPolicy,
            conditions,
        }
    }
}

/// The bucket's default KMS key, read with the admin profile: `None` when the bucket does
/// not encrypt with KMS. An unnamed key is the AWS managed key `alias/aws/s3`.
async fn bucket_key(cx: &CheckContext, s3: &aws_sdk_s3::Client) -> Result<Option<String>, String> {
    let out = match s3.get_bucket_encryption().bucket(cx.bucket()).send().await {
        Ok(out) => out,
        // No default encryption configured (AWS encrypts with SSE-S3 then).
        Err(e)
            if crate::diagnose::error_code(&e).as_deref()
                == Some("ServerSideEncryptionConfigurationNotFoundError") =>
        {
            return Ok(None);
        }
        Err(e) => return Err(crate::diagnose::describe("GetBucketEncryption", &e)),
    };
    Ok(out
        .server_side_encryption_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.apply_server_side_encryption_by_default())
        .find(|d| d.sse_algorithm().as_str().starts_with("aws:kms"))
        .map(|d| d.kms_master_key_id().unwrap_or("alias/aws/s3").to_owned()))
}

fn kms_finding(
    cx: &CheckContext,
    action: &str,
    key: &str,
    why: &str,
    source: DenySource,
) -> Finding {
    let mut f = FindingSpec {
        code: FindingCode::Kms,
        step: StepId::KmsKey,
        facts: cx.facts(Some(action)),
        source: (source != DenySource::Unknown).then_some(source),
        statement: None,
        evidence: None,
    }
    .build();
    f.summary = format!("{} Key {key}: {why}.", f.summary);
    f
}

pub(super) async fn kms_key(cx: &CheckContext) -> CheckResult {
    let admin = match cx.admin_session().await {
        Some(Ok(a)) => a,
        Some(Err(why)) => {
            return Err(StepOutcome::skip(format!(
                "the admin profile has no usable credentials: {why}"
            )));
        }
        None => {
            return Err(StepOutcome::skip(
                "reading the KMS key policy needs --admin-profile PROFILE",
            ));
        }
    };
    let identity = cx
        .identity
        .as_ref()
        .ok_or_else(|| StepOutcome::skip("the principal is unknown"))?;
    let principal = &identity.principal;
    let s3 = cx.s3_with(&admin);
    let key_id = match bucket_key(cx, &s3).await {
        Ok(Some(k)) => k,
        Ok(None) => {
            return Err(StepOutcome::skip(
                "the bucket does not encrypt with a KMS key",
            ));
        }
        Err(why) => {
            return Err(StepOutcome::skip(format!(
                "the bucket's default encryption could not be read: {why}"
            )));
        }
    };
    // The key lives in the bucket's region (or the one its ARN names).
    let region = key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .map(str::to_owned)
        .or_else(|| cx.state.use_region.clone())
        .or_else(|| cx.state.bucket_region.clone());
    let kms = admin.clients.kms_in(region.as_deref());
    let described = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .map_err(|e| {
            StepOutcome::skip(format!(
                "the key {key_id} could not be described: {}",
                crate::diagnose::describe("DescribeKey", &e)
            ))
        })?;
    let Some(meta) = described.key_metadata() else {
        return Err(StepOutcome::skip(
            "DescribeKey answered without key metadata",
        ));
    };
    let key = KeyFacts {
        arn: meta.arn().unwrap_or(&key_id).to_owned(),
        account: meta.aws_account_id().unwrap_or_default().to_owned(),
        manager: meta
            .key_manager()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        state: meta
            .key_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    };
    let actions = needed_actions(cx.run.read_only);
    if let Some(why) = managed_key_across_accounts(&key, &principal.account) {
        let mut o = StepOutcome::failed(format!("{why}."));
        o.findings = actions
            .iter()
            .map(|a| kms_finding(cx, a, &key.arn, &why, DenySource::Unknown))
            .collect();
        return Ok(o);
    }
    if key.state != "Enabled" {
        let why = format!(
            "the key is {} (only an Enabled key encrypts and decrypts)",
            key.state
        );
        let mut o = StepOutcome::failed(format!("key {}: {why}", key.arn));
        o.findings = actions
            .iter()
            .map(|a| kms_finding(cx, a, &key.arn, &why, DenySource::Unknown))
            .collect();
        return Ok(o);
    }
    let policy_text = kms
        .get_key_policy()
        .key_id(&key.arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| {
            StepOutcome::skip(format!(
                "the key policy of {} could not be read: {}",
                key.arn,
                crate::diagnose::describe("GetKeyPolicy", &e)
            ))
        })?
        .policy()
        .unwrap_or_default()
        .to_owned();
    let document: PolicyDocument = policy_text.parse().map_err(|e| {
        StepOutcome::skip(format!(
            "the key policy of {} is not readable: {e}",
            key.arn
        ))
    })?;
    let key_policy = NamedPolicy {
        name: format!("key policy of {}", key.arn),
        arn: None,
        kind: PolicyKind::BucketPolicy,
        document,
    };
    // The principal's identity policies, shared with identity-policies (read once per run).
    let iam = &admin.clients.iam;
    let loaded = cx
        .cache
        .identity_policies
        .get_or_init(|| async {
            match principal.kind {
                PrincipalKind::User => load_user(iam, &principal.name).await,
                _ => load_role(iam, &principal.name).await,
            }
        })
        .await
        .clone();
    let (identity_policies, boundary) = loaded.unwrap_or_default();
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut conditions = Vec::new();
    for action in &actions {
        match judge(
            principal,
            action,
            &key,
            &key_policy,
            &identity_policies,
            boundary.as_ref(),
        ) {
            KeyVerdict::Allowed { how, conditions: c } => {
                notes.push(format!("{action} allowed ({how})"));
                conditions.extend(c);
            }
            KeyVerdict::Refused {
                why,
                source,
                conditions: c,
            } => {
                notes.push(format!("{action} refused: {why}"));
                findings.push(kms_finding(cx, action, &key.arn, &why, source));
                conditions.extend(c);
            }
        }
    }
    conditions.dedup();
    let mut detail = format!(
        "key {} ({} managed): {}",
        key.arn,
        key.manager.to_lowercase(),
        notes.join("; ")
    );
    if !conditions.is_empty() {
        detail.push_str(&format!(
            "; depends on conditions s3doctor does not evaluate: {}",
            conditions.join("; ")
        ));
    }
    let mut o = if findings.is_empty() {
        StepOutcome::pass(detail)
    } else {
        StepOutcome::failed(detail)
    };
    o.findings = findings;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(arn: &str) -> Principal {
        crate::arn::parse_principal(arn).expect("arn")
    }

    fn key(manager: &str, account: &str) -> KeyFacts {
        KeyFacts {
            arn: format!(
                "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
            account: account.into(),
            manager: manager.into(),
            state: "Enabled".into(),
        }
    }

    fn named(kind: PolicyKind, json: &str) -> NamedPolicy {
        NamedPolicy {
            name: "p".into(),
            arn: None,
            kind,
            document: json.parse().expect("policy"),
        }
    }

    const APP: &str = "arn:aws:iam::111122223333:user/app";

    #[test]
    fn an_aws_managed_key_of_another_account_is_the_cause() {
        let why = managed_key_across_accounts(&key("AWS", "444455556666"), "111122223333")
            .expect("named");
        assert!(
            why.contains("aws/s3") && why.contains("444455556666"),
            "{why}"
        );
        assert!(managed_key_across_accounts(&key("AWS", "111122223333"), "111122223333").is_none());
        assert!(
            managed_key_across_accounts(&key("CUSTOMER", "444455556666"), "111122223333").is_none()
        );
    }

    /// The default key policy: "Enable IAM User Permissions" for the account root.
    const DELEGATING: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

    #[test]
    fn a_delegating_key_policy_lets_the_identity_policy_decide() {
        let p = principal(APP);
        let k = key("CUSTOMER", "111122223333");
        let kp = named(PolicyKind::BucketPolicy, DELEGATING);
        let none: Vec<NamedPolicy> = Vec::new();
        assert!(matches!(
            judge(&p, "kms:Decrypt", &k, &kp, &none, None),
            KeyVerdict::Refused {
                source: DenySource::IdentityPolicy,
                ..
            }
        ));
        let allows = vec![named(
            PolicyKind::Inline,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":"*"}]}"#,
        )];
        assert!(matches!(
            judge(&p, "kms:Decrypt", &k, &kp, &allows, None),
            KeyVerdict::Allowed { .. }
        ));
    }

    #[test]
    fn a_key_policy_that_names_neither_the_principal_nor_the_account_cannot_be_fixed_by_iam() {
        let p = principal(APP);
        let k = key("CUSTOMER", "111122223333");
        let kp = named(
            PolicyKind::BucketPolicy,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        let allows = vec![named(
            PolicyKind::Inline,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#,
        )];
        match judge(&p, "kms:GenerateDataKey", &k, &kp, &allows, None) {
            KeyVerdict::Refused { why, .. } => {
                assert!(why.contains("neither names"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_condition_on_the_grant_is_reported_not_guessed() {
        let p = principal(APP);
        let k = key("CUSTOMER", "111122223333");
        let kp = named(
            PolicyKind::BucketPolicy,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/app"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}"#,
        );
        let none: Vec<NamedPolicy> = Vec::new();
        let verdict = judge(&p, "kms:Decrypt", &k, &kp, &none, None);
        let conditions = match &verdict {
            KeyVerdict::Allowed { conditions, .. } | KeyVerdict::Refused { conditions, .. } => {
                conditions
            }
        };
        assert!(
            conditions.iter().any(|c| c.contains("kms:ViaService")),
            "{verdict:?}"
        );
        // Named as the evaluator's sentences name statements (counted from 1).
        assert_eq!(
            conditions,
            &["StringEquals kms:ViaService (statement #1 in policy p)"]
        );
    }
}
