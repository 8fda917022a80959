//! Whether the server accepted the diagnosed keys, asked once per run and shared by every step:
//! `sts:GetCallerIdentity` where STS answers, else `ListBuckets` (a server without STS, such as
//! Ceph RGW, still checks the signature there: a wrong secret is `SignatureDoesNotMatch`, an
//! unknown key `InvalidAccessKeyId`, and a refusal for lack of permission proves the keys
//! good). An answer without a body (HEAD's 400 and 403) cannot tell a refused key from a
//! missing bucket or another region; this can.

use super::CheckContext;
use crate::answers::{self, Class, Failure};
use crate::finding::FindingCode;
use crate::operation::Operation;

/// What the server said about the keys themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeysVerdict {
    /// The server verified the signature (it answered, or refused for lack of permission).
    Accepted,
    /// The server refused the keys: unknown key id, wrong secret, expired or invalid token,
    /// clock skew (the code says which).
    Refused(FindingCode),
    /// No answer said (no credentials, no network, an answer of another kind).
    Unknown,
}

/// The owner `ListBuckets` names (RGW: the user id), or the failure; asked once per run.
pub type ListBucketsAnswer = Result<Option<String>, Failure>;

impl CheckContext {
    /// Whether the server accepted these keys: STS's answer where STS answers, else the answer
    /// to `ListBuckets`.
    pub async fn keys_verdict(&self) -> KeysVerdict {
        if self.session.is_none() {
            return KeysVerdict::Unknown;
        }
        if !self.capabilities().await.s3_only() {
            return match self.caller().await {
                Some(Ok(_)) => KeysVerdict::Accepted,
                Some(Err(failure)) => verdict_of(&failure),
                None => KeysVerdict::Unknown,
            };
        }
        match self.list_buckets().await {
            Some(Ok(_)) => KeysVerdict::Accepted,
            Some(Err(failure)) => verdict_of(&failure),
            None => KeysVerdict::Unknown,
        }
    }

    /// `ListBuckets` with the diagnosed keys, asked once per run (the identity step on a
    /// server without STS reads the owner from it).
    pub(super) async fn list_buckets(&self) -> Option<ListBucketsAnswer> {
        let session = self.session.as_ref()?;
        let answer = self
            .cache
            .list_buckets
            .get_or_init(|| async {
                match session.clients.s3.list_buckets().send().await {
                    Ok(out) => Ok(out.owner().and_then(|o| o.id()).map(str::to_owned)),
                    Err(err) => Err(answers::failure(Operation::ListBuckets, &err)),
                }
            })
            .await;
        Some(answer.clone())
    }
}

/// A refusal of the keys, an access denial (the signature was good), or neither.
fn verdict_of(failure: &Failure) -> KeysVerdict {
    match &failure.class {
        Class::Credentials(code) => KeysVerdict::Refused(*code),
        Class::AccessDenied(_) => KeysVerdict::Accepted,
        _ => KeysVerdict::Unknown,
    }
}
