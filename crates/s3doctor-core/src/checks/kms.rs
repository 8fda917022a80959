//! The `kms-key` step (with `--admin-profile`): the bucket's default KMS key, and the key of
//! each of the app's own objects (`--key`) that has another, must itself allow the principal —
//! S3's permission is not enough. It reads the key (kms:DescribeKey) and its
//! key policy (kms:GetKeyPolicy) with the admin profile and evaluates, with the local
//! evaluator, the KMS actions the app needs: a key policy allows a principal it names, and
//! lets identity policies decide only when it enables them (an Allow for the account root).
//! Conditions (kms:ViaService, kms:CallerAccount, …) are reported, never guessed. An AWS
//! managed key (aws/s3) cannot be used from another account: that is named as the cause.

use aws_sdk_s3::operation::get_bucket_encryption::{
    GetBucketEncryptionError, GetBucketEncryptionOutput,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::policy_sources::cached_identity_policies;
use super::{CheckContext, CheckResult, NotChecked, Status, StepOutcome};
use crate::answers::FindingSpec;
use crate::answers::access_denied::DenySource;
use crate::arn::Principal;
use crate::finding::{Finding, FindingCode};
use crate::operation::Operation;
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
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html#bucket-encryption-update-bucket-policy>
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
/// the key policy enables them (see [`through_iam`]).
pub fn judge(
    principal: &Principal,
    action: &str,
    key: &KeyFacts,
    key_policy: &NamedPolicy,
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
) -> KeyVerdict {
    let ask = KeyRequest {
        principal,
        action,
        key,
        key_policy,
    };
    let direct = ask.decide(&principal.arn, ask.key_only());
    let conditions = conditional(&direct);
    if direct.verdict == Verdict::ExplicitDeny {
        return KeyVerdict::Refused {
            why: format!("the key policy denies it: {}", direct.summary()),
            source: DenySource::Unknown,
            conditions,
        };
    }
    // The whole picture, identity policies included, for their Denies and Allows.
    let full = ask.decide(
        &principal.arn,
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
    through_iam(&ask, identity, boundary, conditions)
}

/// One KMS action on one key, asked of its key policy (and maybe identity policies).
struct KeyRequest<'a> {
    principal: &'a Principal,
    action: &'a str,
    key: &'a KeyFacts,
    key_policy: &'a NamedPolicy,
}

impl KeyRequest<'_> {
    /// The key policy alone.
    fn key_only(&self) -> Policies<'_> {
        Policies {
            identity: &[],
            resource: Some(self.key_policy),
            boundary: None,
        }
    }

    /// The decision for `principal_arn` (of the principal's account) under `policies`.
    fn decide(&self, principal_arn: &str, policies: Policies<'_>) -> evaluate::Decision {
        evaluate::evaluate(
            &Request::new(
                principal_arn,
                self.principal.account.clone(),
                self.action,
                self.key.arn.clone(),
            ),
            &policies,
        )
    }
}

/// The conditional statements of a decision, one `conditions (statement)` each.
fn conditional(d: &evaluate::Decision) -> Vec<String> {
    d.conditional
        .iter()
        .map(|s| format!("{} ({})", s.conditions().join(", "), s.in_policy()))
        .collect()
}

/// When the key policy does not name the principal: it enables IAM policies when it allows
/// the caller's account root, and then the identity policies decide.
fn through_iam(
    ask: &KeyRequest<'_>,
    identity: &[NamedPolicy],
    boundary: Option<&NamedPolicy>,
    mut conditions: Vec<String>,
) -> KeyVerdict {
    let (principal, key) = (ask.principal, ask.key);
    let who = &principal.arn;
    let root = crate::arn::account_root_arn(&principal.partition, &principal.account);
    let delegation = ask.decide(&root, ask.key_only());
    conditions.extend(conditional(&delegation));
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
    let with_identity = ask.decide(
        who,
        Policies {
            identity,
            resource: None,
            boundary,
        },
    );
    conditions.extend(conditional(&with_identity));
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
async fn bucket_key(
    cx: &CheckContext,
    s3: &aws_sdk_s3::Client,
) -> Result<Option<String>, EncryptionUnread> {
    let out = match s3.get_bucket_encryption().bucket(cx.bucket()).send().await {
        Ok(out) if out.server_side_encryption_configuration().is_none() => {
            return Err(EncryptionUnread::Unsupported);
        }
        Ok(out) => out,
        // No default encryption configured (AWS encrypts with SSE-S3 then).
        Err(e) if no_default_encryption(&e) => return Ok(None),
        Err(e) if super::unsupported::answered_200(&e) => {
            return Err(EncryptionUnread::Unsupported);
        }
        Err(e) => {
            return Err(EncryptionUnread::Refused(crate::answers::describe(
                Operation::GetBucketEncryption,
                &e,
            )));
        }
    };
    Ok(default_kms_key(&out, "alias/aws/s3").map(str::to_owned))
}

/// The skip of a server that does not implement GetBucketEncryption, with its
/// `endpoint.unsupported` warning.
fn unsupported_encryption(cx: &CheckContext) -> StepOutcome {
    let mut skip = StepOutcome::skip(format!(
        "the bucket's default encryption is unknown: {} does not implement GetBucketEncryption \
         (it answered 200 without its document)",
        cx.server.who()
    ));
    skip.findings.push(super::unsupported::finding(
        cx,
        StepId::KmsKey,
        Operation::GetBucketEncryption,
    ));
    skip
}

/// Why the bucket's default encryption is not known.
#[derive(Debug)]
enum EncryptionUnread {
    /// The server does not implement GetBucketEncryption (a 200 without its document).
    Unsupported,
    /// The call failed; its answer in one line.
    Refused(String),
}

/// The KMS key a bucket's default encryption names, or `unnamed` (the caller's name for the
/// AWS managed key) when its KMS rule names none; `None` when no rule encrypts with KMS.
pub(super) fn default_kms_key<'a>(
    out: &'a GetBucketEncryptionOutput,
    unnamed: &'a str,
) -> Option<&'a str> {
    out.server_side_encryption_configuration()
        .map(|c| c.rules())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.apply_server_side_encryption_by_default())
        .find(|d| d.sse_algorithm().as_str().starts_with("aws:kms"))
        .map(|d| d.kms_master_key_id().unwrap_or(unnamed))
}

/// GetBucketEncryption's answer for a bucket with no default encryption configured (AWS
/// encrypts with SSE-S3 then).
pub(super) fn no_default_encryption(
    err: &SdkError<GetBucketEncryptionError, HttpResponse>,
) -> bool {
    crate::answers::codes::AwsCode::NoEncryptionConfiguration.answered(err)
}

/// A `permission.kms` finding for one action on `key`, about the bucket's default key, or
/// about the app's own `object` (`--key`) when it is that object's key.
fn kms_finding(
    cx: &CheckContext,
    target: &Target,
    action: &str,
    key: &str,
    why: &str,
    source: DenySource,
) -> Finding {
    let mut f = FindingSpec {
        code: FindingCode::Kms,
        step: StepId::KmsKey,
        facts: crate::answers::Facts {
            object: target.object.as_deref(),
            kms_key: Some(key),
            ..cx.facts(Some(action))
        },
        source: (source != DenySource::Unknown).then_some(source),
        statement: None,
        evidence: None,
    }
    .build();
    f.summary = format!("{} The key: {why}.", f.summary);
    f
}

/// One KMS key to judge: the bucket's default key, or the key an app's object (`--key`) is
/// encrypted with, which may be another.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    key_id: String,
    /// The app's object it encrypts; `None` for the bucket's default key.
    object: Option<String>,
}

impl Target {
    /// The KMS actions the app needs of it: reading an object decrypts only.
    fn actions(&self, read_only: bool) -> Vec<&'static str> {
        match self.object {
            Some(_) => vec!["kms:Decrypt"],
            None => needed_actions(read_only),
        }
    }
}

/// `kms-key` (with `--admin-profile`): the bucket's default KMS key and the keys of the app's
/// own objects (`--key`), each described and its key policy read with the admin profile,
/// judged with the principal's identity policies for each KMS action the app needs of it.
pub(super) async fn kms_key(cx: &CheckContext) -> CheckResult {
    let admin = admin_session(cx).await?;
    let identity = cx
        .identity
        .as_ref()
        .ok_or_else(|| NotChecked::nothing("the principal is unknown"))?;
    let principal = &identity.principal;
    let mut targets = Vec::new();
    let default = bucket_key(cx, &cx.s3_with(&admin)).await;
    if let Ok(Some(key_id)) = &default {
        targets.push(Target {
            key_id: key_id.clone(),
            object: None,
        });
    }
    targets.extend(object_keys(cx, targets.first()).await);
    if targets.is_empty() {
        return match default {
            Err(EncryptionUnread::Unsupported) => Ok(unsupported_encryption(cx)),
            Err(EncryptionUnread::Refused(why)) => Err(NotChecked::Nothing(format!(
                "the bucket's default encryption could not be read: {why}"
            ))),
            Ok(_) if cx.run.keys.is_empty() => Err(NotChecked::nothing(
                "the bucket does not encrypt with a KMS key",
            )),
            Ok(_) => Err(NotChecked::nothing(
                "neither the bucket nor the app's objects are encrypted with a KMS key",
            )),
        };
    }
    let judged = futures::future::join_all(
        targets
            .iter()
            .map(|t| judge_target(cx, &admin, principal, t)),
    )
    .await;
    // A key that could not be judged is its skip among the others' verdicts.
    Ok(merge(
        judged
            .into_iter()
            .map(|j| j.unwrap_or_else(StepOutcome::from)),
    ))
}

/// The KMS keys of the app's own objects (`--key`), as their HeadObject named them (the
/// app's, else the admin's), each once and none that is the bucket's default key.
async fn object_keys(cx: &CheckContext, default: Option<&Target>) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for object in &cx.run.keys {
        let app = super::object_reads::app(cx, object).await;
        let mut meta = app.and_then(|r| r.head.ok().or(r.get.ok()));
        if meta.is_none() {
            let admin = super::object_reads::admin(cx, object).await;
            meta = admin.and_then(|a| a.head.ok());
        }
        let Some(key_id) = meta.and_then(|m| m.kms_key) else {
            continue;
        };
        let known = out
            .iter()
            .chain(default)
            .any(|t| same_key(&t.key_id, &key_id));
        if !known {
            out.push(Target {
                key_id,
                object: Some(object.clone()),
            });
        }
    }
    out
}

/// The same key named twice: the same ARN, or a bare key id and the ARN that ends with it.
fn same_key(a: &str, b: &str) -> bool {
    a == b || a.ends_with(&format!("/{b}")) || b.ends_with(&format!("/{a}"))
}

/// One key judged: described, refused outright when no policy can make it usable, else its
/// key policy with the principal's identity policies, for each action the app needs of it.
/// `Err` when the key or its policy could not be read.
async fn judge_target(
    cx: &CheckContext,
    admin: &crate::aws::Session,
    principal: &Principal,
    target: &Target,
) -> CheckResult {
    let kms = admin
        .clients
        .kms_in(key_region(cx, &target.key_id).as_deref());
    let key = describe_key(&kms, &target.key_id).await?;
    let actions = target.actions(cx.run.read_only);
    if let Some(refused) = unusable(cx, target, &key, principal, &actions) {
        return Ok(refused);
    }
    let key_policy = read_key_policy(&kms, &key).await?;
    // The principal's identity policies, shared with identity-policies (read once per run).
    let loaded = cached_identity_policies(cx, &admin.clients.iam, principal).await;
    let (identity_policies, boundary) = loaded.unwrap_or_default();
    let judged = actions.iter().map(|action| {
        let verdict = judge(
            principal,
            action,
            &key,
            &key_policy,
            &identity_policies,
            boundary.as_ref(),
        );
        (*action, verdict)
    });
    Ok(outcome(cx, target, &key, judged))
}

/// Several keys' outcomes as the step's one: the worst status, every detail, every finding.
fn merge(outcomes: impl IntoIterator<Item = StepOutcome>) -> StepOutcome {
    let rank = |s: Status| match s {
        Status::Fail => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        Status::Skip => 0,
    };
    let mut iter = outcomes.into_iter();
    let Some(mut merged) = iter.next() else {
        return StepOutcome::skip("no KMS key to judge");
    };
    for o in iter {
        if rank(o.status) > rank(merged.status) {
            merged.status = o.status;
        }
        merged.detail = format!("{}; {}", merged.detail, o.detail);
        merged.findings.extend(o.findings);
    }
    merged
}

/// The admin profile's session, or a skip: the key policy is read with it.
async fn admin_session(
    cx: &CheckContext,
) -> Result<std::sync::Arc<crate::aws::Session>, NotChecked> {
    match cx.admin_session().await {
        Some(Ok(a)) => Ok(a),
        Some(Err(why)) => Err(NotChecked::Nothing(format!(
            "the admin profile has no usable credentials: {why}"
        ))),
        None => Err(NotChecked::nothing(
            "reading the KMS key policy needs --admin-profile PROFILE",
        )),
    }
}

/// The key lives in the bucket's region (or the one its ARN names).
fn key_region(cx: &CheckContext, key_id: &str) -> Option<String> {
    key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').nth(2))
        .map(str::to_owned)
        .or_else(|| cx.state.use_region.clone())
        .or_else(|| cx.state.bucket_region.clone())
}

/// What `DescribeKey` says of the key, or why it could not be asked.
async fn describe_key(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<KeyFacts, NotChecked> {
    let described = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| {
            NotChecked::Nothing(format!(
                "the key {key_id} could not be described: {}",
                crate::answers::describe(Operation::DescribeKey, &e)
            ))
        })?;
    let meta = described
        .key_metadata()
        .ok_or_else(|| NotChecked::nothing("DescribeKey answered without key metadata"))?;
    Ok(KeyFacts {
        arn: meta.arn().unwrap_or(key_id).to_owned(),
        account: meta.aws_account_id().unwrap_or_default().to_owned(),
        manager: meta
            .key_manager()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
        state: meta
            .key_state()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
    })
}

/// A key no policy can make usable for the principal: another account's AWS managed key, or
/// a key that is not Enabled. The failed outcome, one finding per action.
fn unusable(
    cx: &CheckContext,
    target: &Target,
    key: &KeyFacts,
    principal: &Principal,
    actions: &[&str],
) -> Option<StepOutcome> {
    let (detail, why) = match managed_key_across_accounts(key, &principal.account) {
        Some(why) => (format!("{why}."), why),
        None if key.state != "Enabled" => {
            let why = format!(
                "the key is {} (only an Enabled key encrypts and decrypts)",
                key.state
            );
            (format!("key {}: {why}", key.arn), why)
        }
        None => return None,
    };
    let mut o = StepOutcome::failed(detail);
    o.findings = actions
        .iter()
        .map(|a| kms_finding(cx, target, a, &key.arn, &why, DenySource::Unknown))
        .collect();
    Some(o)
}

/// The key's `default` key policy, or why it could not be read.
async fn read_key_policy(
    kms: &aws_sdk_kms::Client,
    key: &KeyFacts,
) -> Result<NamedPolicy, NotChecked> {
    let policy_text = kms
        .get_key_policy()
        .key_id(&key.arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| {
            NotChecked::Nothing(format!(
                "the key policy of {} could not be read: {}",
                key.arn,
                crate::answers::describe(Operation::GetKeyPolicy, &e)
            ))
        })?
        .policy()
        .unwrap_or_default()
        .to_owned();
    let document: PolicyDocument = policy_text.parse().map_err(|e| {
        NotChecked::Nothing(format!(
            "the key policy of {} is not readable: {e}",
            key.arn
        ))
    })?;
    Ok(NamedPolicy {
        name: format!("key policy of {}", key.arn),
        arn: None,
        kind: PolicyKind::KeyPolicy,
        document,
    })
}

/// The step's outcome from each action's verdict: a note per action, a finding per refusal,
/// and the conditions the verdicts depend on.
fn outcome<'a>(
    cx: &CheckContext,
    target: &Target,
    key: &KeyFacts,
    judged: impl Iterator<Item = (&'a str, KeyVerdict)>,
) -> StepOutcome {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut conditions = Vec::new();
    for (action, verdict) in judged {
        match verdict {
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
                findings.push(kms_finding(cx, target, action, &key.arn, &why, source));
                conditions.extend(c);
            }
        }
    }
    conditions.dedup();
    let whose = match &target.object {
        Some(object) => format!(", the key of {object}"),
        None => String::new(),
    };
    let mut detail = format!(
        "key {} ({} managed{whose}): {}",
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
    o
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
        let kp = named(PolicyKind::KeyPolicy, DELEGATING);
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
            PolicyKind::KeyPolicy,
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
        let mut kp = named(
            PolicyKind::KeyPolicy,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/app"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}"#,
        );
        kp.name = format!("key policy of {}", k.arn);
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
        // Named as the evaluator's sentences name statements (counted from 1), the key policy
        // by what it is, as read_key_policy names it.
        assert_eq!(
            conditions,
            &[format!(
                "StringEquals kms:ViaService (statement #1 in the key policy of {})",
                k.arn
            )]
        );
    }
}
