//! The remedy on servers without IAM managed policies (Ceph RGW, R2, …; see `endpoint`): a
//! least-privilege statement pair in the bucket policy for the principal, in the server's own
//! ARN form. It is merged with the policy that is there (every other statement kept), applied
//! with `PutBucketPolicy` only through a `ConfirmedPlan` (the CLI's `--yes` or a typed
//! `y`), and `--undo` removes exactly the statements whose Sids s3doctor gave them. A policy
//! that could not be read is never taken for "no policy": the plan says so, the hand-over
//! asks for a merge, and nothing is written over it.

use serde_json::{Value, json};

use super::{ConfirmedPlan, ConfirmedUndo, RemedyError};
use crate::answers::codes::AwsCode;
use crate::answers::describe;
use crate::operation::Operation;
use crate::policy::{self, Access, GrantSids, Statement};

/// Sids of s3doctor's statements start with this, then the principal's name (letters and
/// digits only), then `Bucket` or `Objects`.
pub const SID_PREFIX: &str = "S3doctor";

/// The statements' Sids for a principal: `(bucket statement, object statement)`.
pub fn sids(principal_name: &str) -> (String, String) {
    let name: String = principal_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    (
        format!("{SID_PREFIX}{name}Bucket"),
        format!("{SID_PREFIX}{name}Objects"),
    )
}

/// What the app needs on `bucket`, for `principal_arn`: listing on the bucket, the access
/// level's object actions (only those that read, when `read_only`) on `bucket/*` (or
/// `bucket/PREFIX*`), from the policy generator ([`policy::bucket_grant`]).
pub fn statements(
    bucket: &str,
    principal_arn: &str,
    principal_name: &str,
    access: Access,
    read_only: bool,
    prefix: Option<&str>,
) -> Vec<Statement> {
    let (bucket_sid, object_sid) = sids(principal_name);
    let objects: Vec<&str> = access
        .object_actions()
        .iter()
        .copied()
        .filter(|a| !read_only || !crate::operation::action_writes(a))
        .collect();
    let sids = GrantSids {
        bucket: bucket_sid,
        objects: object_sid,
    };
    policy::bucket_grant(bucket, principal_arn, sids, access, &objects, prefix)
}

/// A bucket policy s3doctor cannot read, in one sentence.
fn unreadable(why: impl std::fmt::Display) -> RemedyError {
    RemedyError::BucketPolicy(format!(
        "the bucket policy is not JSON s3doctor can read ({why})"
    ))
}

fn statement_list(doc: &Value) -> Result<Vec<Value>, RemedyError> {
    match doc.get("Statement") {
        None => Ok(Vec::new()),
        Some(Value::Array(list)) => Ok(list.clone()),
        Some(one @ Value::Object(_)) => Ok(vec![one.clone()]),
        Some(_) => Err(RemedyError::BucketPolicy(
            "the bucket policy's Statement is neither a list nor an object".into(),
        )),
    }
}

fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// The policy with `ours` added: every existing statement kept as it is, except earlier
/// versions of ours (same Sid), which are replaced.
pub fn merge(current: Option<&str>, ours: &[Statement]) -> Result<String, RemedyError> {
    let mut doc: Value = match current {
        Some(text) => serde_json::from_str(text).map_err(unreadable)?,
        None => json!({"Version": "2012-10-17"}),
    };
    let ours_sids: Vec<&str> = ours.iter().filter_map(|s| s.sid.as_deref()).collect();
    let mut list: Vec<Value> = statement_list(&doc)?
        .into_iter()
        .filter(|s| !sid_of(s).is_some_and(|sid| ours_sids.contains(&sid)))
        .collect();
    for statement in ours {
        list.push(
            serde_json::to_value(statement)
                .map_err(|e| RemedyError::BucketPolicy(e.to_string()))?,
        );
    }
    let obj = doc.as_object_mut().ok_or_else(|| {
        RemedyError::BucketPolicy("the bucket policy is not a JSON object".into())
    })?;
    obj.entry("Version").or_insert_with(|| json!("2012-10-17"));
    obj.insert("Statement".into(), Value::Array(list));
    serde_json::to_string(&doc).map_err(|e| RemedyError::BucketPolicy(e.to_string()))
}

/// How many statements a bucket policy has.
pub fn count(current: &str) -> Result<usize, RemedyError> {
    let doc: Value = serde_json::from_str(current).map_err(unreadable)?;
    Ok(statement_list(&doc)?.len())
}

/// The policy without the statements named `sids`, and how many were removed; `None` when
/// no statement is left (then the policy is deleted rather than emptied).
pub fn remove(current: &str, sids: &[&str]) -> Result<(Option<String>, usize), RemedyError> {
    let mut doc: Value = serde_json::from_str(current).map_err(unreadable)?;
    let list = statement_list(&doc)?;
    let before = list.len();
    let kept: Vec<Value> = list
        .into_iter()
        .filter(|s| !sid_of(s).is_some_and(|sid| sids.contains(&sid)))
        .collect();
    let removed = before - kept.len();
    if kept.is_empty() {
        return Ok((None, removed));
    }
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("Statement".into(), Value::Array(kept));
    }
    Ok((
        Some(serde_json::to_string(&doc).map_err(|e| RemedyError::BucketPolicy(e.to_string()))?),
        removed,
    ))
}

/// The bucket's policy text, `None` when it has none.
pub async fn read(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<String>, RemedyError> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(out.policy().map(str::to_owned)),
        Err(e) if AwsCode::NoSuchBucketPolicy.answered(&e) => Ok(None),
        Err(e) => Err(RemedyError::Call(describe(Operation::GetBucketPolicy, &e))),
    }
}

/// What s3doctor knows of a bucket's policy when the plan is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Current {
    /// Read: it has this many statements, all kept.
    Statements(usize),
    /// Read: the bucket has no policy.
    NoPolicy,
    /// Not read (refused, no keys, not JSON s3doctor can read): why. It may hold statements
    /// that must stay, a Deny among them.
    Unread(String),
}

/// The bucket's policy as a plan reads it with `s3`.
pub async fn current(s3: &aws_sdk_s3::Client, bucket: &str) -> Current {
    let text = match read(s3, bucket).await {
        Ok(None) => return Current::NoPolicy,
        Ok(Some(text)) => text,
        Err(why) => return Current::Unread(why.to_string()),
    };
    match count(&text) {
        Ok(n) => Current::Statements(n),
        Err(why) => Current::Unread(why.to_string()),
    }
}

/// One bucket's change, as shown before anything is written.
#[derive(Clone, Debug)]
pub struct BucketPlan {
    pub bucket: String,
    pub principal_arn: String,
    /// s3doctor's statements (with their Sids).
    pub statements: Vec<Statement>,
    /// The bucket policy as it was read for the plan.
    pub current: Current,
}

impl BucketPlan {
    /// The Sids of s3doctor's statements.
    fn sids(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.sid.as_deref())
            .collect()
    }

    /// The call, as the plan screen lists it.
    pub fn call_line(&self) -> String {
        let sids: Vec<&str> = self.sids();
        let adds = format!(
            "s3:PutBucketPolicy {} (adds {} for {}",
            self.bucket,
            sids.join(", "),
            self.principal_arn
        );
        match &self.current {
            Current::Statements(n) => format!("{adds}; the {n} statement(s) there are kept)"),
            Current::NoPolicy => format!("{adds}; the bucket has no policy yet)"),
            Current::Unread(why) => format!(
                "{adds}), not made: the current policy could not be read ({why}), and a write \
                 without it could drop the statements it holds"
            ),
        }
    }
}

/// Merges and writes. The policy is read again right before writing, so a statement added
/// in the meantime is kept too. Returns what changed, in one line. Only a bucket of the
/// confirmed plan can be written: no write without a confirmation.
pub(super) async fn apply(
    confirmed: &ConfirmedPlan,
    bucket: &str,
    s3: &aws_sdk_s3::Client,
) -> Result<String, RemedyError> {
    let Some(plan) = confirmed
        .plan()
        .bucket_policies
        .iter()
        .find(|p| p.bucket == bucket)
    else {
        return Err(RemedyError::Call(format!(
            "{bucket} is not in the confirmed plan; nothing was written"
        )));
    };
    if let Current::Unread(why) = &plan.current {
        return Err(RemedyError::BucketPolicy(format!(
            "the bucket policy of {bucket} was not read for the plan ({why}); s3doctor does not \
             write a bucket policy it has not read, so nothing was written"
        )));
    }
    let current = read(s3, &plan.bucket).await?;
    let merged = merge(current.as_deref(), &plan.statements)?;
    s3.put_bucket_policy()
        .bucket(&plan.bucket)
        .policy(merged)
        .send()
        .await
        .map_err(|e| RemedyError::Call(describe(Operation::PutBucketPolicy, &e)))?;
    let sids: Vec<&str> = plan.sids();
    Ok(format!(
        "bucket policy of {}: added statements {} for {}",
        plan.bucket,
        sids.join(", "),
        plan.principal_arn
    ))
}

/// The hand-over for whoever owns the buckets, with the commands for that server: the
/// statements to add and how to merge them into the policy that is there, never a policy to
/// put in its place.
pub fn export(
    plans: &[BucketPlan],
    endpoint: Option<&str>,
    rerun_flags: &str,
    server: &str,
) -> String {
    let mut md = format!(
        "# Fix S3 access on {server}\n\n{server} has no IAM managed policies: access is granted with statements in the bucket policy, written with the bucket owner's keys. Merge: keep every statement that is already there.\n\n"
    );
    for plan in plans {
        md.push_str(&export_bucket(plan, endpoint));
    }
    md.push_str("## Verify\n\n```bash\n");
    for plan in plans {
        md.push_str(&format!(
            "s3doctor check --bucket {}{rerun_flags}\n",
            plan.bucket
        ));
    }
    md.push_str("```\n");
    md
}

/// One bucket's section of the hand-over.
fn export_bucket(plan: &BucketPlan, endpoint: Option<&str>) -> String {
    let flag = crate::aws::endpoint_flag(endpoint);
    let b = &plan.bucket;
    let statements = serde_json::to_string_pretty(&plan.statements).unwrap_or_default();
    let now = match &plan.current {
        Current::Statements(n) => {
            format!("Its policy had {n} statement(s) when s3doctor read it: keep them all.")
        }
        Current::NoPolicy => "It had no policy when s3doctor read it.".to_owned(),
        Current::Unread(why) => format!(
            "**s3doctor could not read its current policy** ({why}), so it does not know what is \
             there: it may hold statements that must stay, a Deny among them. Do not put these \
             statements in its place: merge them into it."
        ),
    };
    format!(
        "## Bucket {b}\n\n{now} Add these statements (for {who}) to the `Statement` list of the bucket's policy:\n\n```json\n{statements}\n```\n\nWith the bucket owner's keys:\n\n```bash\naws s3api get-bucket-policy --bucket {b}{flag} --query Policy --output text > {b}-policy.json   # only if this answers NoSuchBucketPolicy: start from {{\"Version\": \"2012-10-17\", \"Statement\": []}}\n# add the statements above to the Statement list of {b}-policy.json, keeping every other one, then:\naws s3api put-bucket-policy --bucket {b} --policy file://{b}-policy.json{flag}\n```\n\n",
        who = plan.principal_arn,
    )
}

/// Removes s3doctor's statements for `principal_name` from the bucket policy, and nothing else.
pub async fn undo(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    principal_name: &str,
    _confirmed: &ConfirmedUndo,
) -> Result<String, RemedyError> {
    let (a, b) = sids(principal_name);
    let Some(current) = read(s3, bucket).await? else {
        return Ok(format!("{bucket} has no bucket policy: nothing to undo"));
    };
    let (rest, removed) = remove(&current, &[a.as_str(), b.as_str()])?;
    if removed == 0 {
        return Ok(format!(
            "the bucket policy of {bucket} has no statement {a} or {b}: nothing to undo"
        ));
    }
    match rest {
        Some(policy) => {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(policy)
                .send()
                .await
                .map_err(|e| RemedyError::Call(describe(Operation::PutBucketPolicy, &e)))?;
            Ok(format!(
                "removed {removed} statement(s) ({a}, {b}) from the bucket policy of {bucket}; the others are kept"
            ))
        }
        None => {
            s3.delete_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| RemedyError::Call(describe(Operation::DeleteBucketPolicy, &e)))?;
            Ok(format!(
                "removed {removed} statement(s) ({a}, {b}) from the bucket policy of {bucket}, which had no other: the policy is deleted"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(statements: Vec<Statement>) -> Value {
        serde_json::to_value(statements).unwrap()
    }

    fn ours() -> Vec<Statement> {
        statements(
            "media",
            "arn:aws:iam:::user/app-1",
            "app-1",
            Access::ReadWrite,
            false,
            None,
        )
    }

    #[test]
    fn the_resources_follow_the_principals_partition() {
        let cn = values(statements(
            "media",
            "arn:aws-cn:iam::123456789012:user/app",
            "app",
            Access::Read,
            true,
            None,
        ));
        assert_eq!(cn[0]["Resource"], json!(["arn:aws-cn:s3:::media"]));
        assert_eq!(cn[1]["Resource"], json!(["arn:aws-cn:s3:::media/*"]));
    }

    #[test]
    fn statements_are_least_privilege_in_the_servers_arn_form() {
        let s = values(ours());
        assert_eq!(s[0]["Sid"], "S3doctorapp1Bucket");
        assert_eq!(s[0]["Principal"]["AWS"][0], "arn:aws:iam:::user/app-1");
        assert_eq!(s[0]["Resource"][0], "arn:aws:s3:::media");
        assert_eq!(
            s[0]["Action"],
            json!(["s3:ListBucket", "s3:GetBucketLocation"])
        );
        assert_eq!(s[1]["Resource"][0], "arn:aws:s3:::media/*");
        assert_eq!(
            s[1]["Action"],
            json!(["s3:PutObject", "s3:GetObject", "s3:DeleteObject"])
        );
        let ro = values(statements(
            "m",
            "a",
            "n",
            Access::ReadWrite,
            true,
            Some("in/"),
        ));
        assert_eq!(ro[1]["Action"], json!(["s3:GetObject"]));
        assert_eq!(ro[1]["Resource"][0], "arn:aws:s3:::m/in/*");
    }

    #[test]
    fn the_typed_statements_are_written_as_they_always_were() {
        let written = json!([
            {"Sid": "S3doctorapp1Bucket", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam:::user/app-1"]},
             "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": ["arn:aws:s3:::media"]},
            {"Sid": "S3doctorapp1Objects", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam:::user/app-1"]},
             "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
             "Resource": ["arn:aws:s3:::media/*"]}
        ]);
        assert_eq!(
            serde_json::to_string_pretty(&ours()).unwrap(),
            serde_json::to_string_pretty(&written).unwrap()
        );
        let merged = merge(None, &ours()).unwrap();
        assert_eq!(
            merged,
            json!({"Version": "2012-10-17", "Statement": written}).to_string()
        );
    }

    #[test]
    fn merge_keeps_every_other_statement_and_replaces_only_its_own() {
        let current = json!({"Version": "2012-10-17", "Id": "keep-me", "Statement": [
            {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::media/*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam:::user/x"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"},
            {"Sid": "S3doctorapp1Objects", "Effect": "Allow", "Principal": {"AWS": ["old"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"}
        ]})
        .to_string();
        let merged: Value = serde_json::from_str(&merge(Some(&current), &ours()).unwrap()).unwrap();
        assert_eq!(merged["Id"], "keep-me");
        let list = merged["Statement"].as_array().unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(list[0]["Sid"], "NoDeletes");
        assert_eq!(list[1]["Principal"]["AWS"][0], "arn:aws:iam:::user/x");
        assert_eq!(list[3]["Sid"], "S3doctorapp1Objects");
        assert_eq!(list[3]["Principal"]["AWS"][0], "arn:aws:iam:::user/app-1");
        // No policy yet: ours alone, with a Version.
        let fresh: Value = serde_json::from_str(&merge(None, &ours()).unwrap()).unwrap();
        assert_eq!(fresh["Version"], "2012-10-17");
        assert_eq!(fresh["Statement"].as_array().unwrap().len(), 2);
        // A single statement object is kept too.
        let single = json!({"Version": "2012-10-17", "Statement": {"Sid": "One", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"}}).to_string();
        let merged: Value = serde_json::from_str(&merge(Some(&single), &ours()).unwrap()).unwrap();
        assert_eq!(merged["Statement"][0]["Sid"], "One");
        assert!(merge(Some("not json"), &ours()).is_err());
    }

    #[test]
    fn remove_takes_out_exactly_its_own_statements() {
        let current = merge(
            Some(&json!({"Version": "2012-10-17", "Statement": [{"Sid": "Keep", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"}]}).to_string()),
            &ours(),
        )
        .unwrap();
        let (rest, removed) =
            remove(&current, &["S3doctorapp1Bucket", "S3doctorapp1Objects"]).unwrap();
        assert_eq!(removed, 2);
        let rest: Value = serde_json::from_str(&rest.unwrap()).unwrap();
        assert_eq!(rest["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(rest["Statement"][0]["Sid"], "Keep");
        let only_ours = merge(None, &ours()).unwrap();
        let (rest, removed) =
            remove(&only_ours, &["S3doctorapp1Bucket", "S3doctorapp1Objects"]).unwrap();
        assert_eq!((rest, removed), (None, 2));
    }

    fn plan(current: Current) -> BucketPlan {
        BucketPlan {
            bucket: "media".into(),
            principal_arn: "arn:aws:iam:::user/app-1".into(),
            statements: ours(),
            current,
        }
    }

    #[test]
    fn a_policy_that_was_not_read_is_never_no_policy() {
        let refused = plan(Current::Unread(
            "GetBucketPolicy -> 403 AccessDenied".into(),
        ));
        let line = refused.call_line();
        assert!(
            line.contains("not made: the current policy could not be read (GetBucketPolicy -> 403 AccessDenied)"),
            "{line}"
        );
        assert!(!line.contains("statement(s) there are kept"), "{line}");
        let md = export(&[refused], None, "", "Ceph RGW");
        assert!(md.contains("**s3doctor could not read its current policy** (GetBucketPolicy -> 403 AccessDenied)"), "{md}");
        assert!(
            md.contains("Do not put these statements in its place: merge them into it."),
            "{md}"
        );
        assert!(
            !md.contains("no policy yet") && !md.contains("had no policy"),
            "{md}"
        );
        // Only the statements to add are handed over, never a whole policy to put.
        assert!(md.contains("\"Sid\": \"S3doctorapp1Objects\""), "{md}");
        assert!(!md.contains("\"Version\": \"2012-10-17\",\n"), "{md}");
        // What was read is said as read.
        assert!(
            plan(Current::Statements(3))
                .call_line()
                .ends_with("; the 3 statement(s) there are kept)")
        );
        assert!(
            plan(Current::NoPolicy)
                .call_line()
                .ends_with("; the bucket has no policy yet)")
        );
        let md = export(&[plan(Current::NoPolicy)], None, "", "Ceph RGW");
        assert!(
            md.contains("It had no policy when s3doctor read it."),
            "{md}"
        );
    }

    #[tokio::test]
    async fn a_confirmed_plan_never_writes_a_policy_it_has_not_read() {
        use aws_smithy_mocks::{RuleMode, mock, mock_client};
        let get = mock!(aws_sdk_s3::Client::get_bucket_policy).then_output(|| {
            aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput::builder()
                .policy("{\"Version\": \"2012-10-17\", \"Statement\": []}")
                .build()
        });
        let put = mock!(aws_sdk_s3::Client::put_bucket_policy).then_output(|| {
            aws_sdk_s3::operation::put_bucket_policy::PutBucketPolicyOutput::builder().build()
        });
        let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&get, &put]);
        let mut unread =
            crate::remedy::plan::plan_for_tests("arn:aws:iam::123456789012:user/app").await;
        unread.bucket_policies = vec![plan(Current::Unread(
            "GetBucketPolicy -> 403 AccessDenied".into(),
        ))];
        let err = apply(&unread.confirm(), "media", &s3)
            .await
            .expect_err("refused");
        assert!(
            err.to_string()
                .contains("does not write a bucket policy it has not read"),
            "{err}"
        );
        assert_eq!((get.num_calls(), put.num_calls()), (0, 0));
        // The same plan, read: written (merged with what is there now).
        let mut read =
            crate::remedy::plan::plan_for_tests("arn:aws:iam::123456789012:user/app").await;
        read.bucket_policies = vec![plan(Current::NoPolicy)];
        apply(&read.confirm(), "media", &s3).await.expect("written");
        assert_eq!((get.num_calls(), put.num_calls()), (1, 1));
    }
}
