//! The reads of the app's own objects (`--key`), asked once per run and shared by the steps
//! that judge them (`app-object`, and `kms-key` for the object's own KMS key): the app's
//! HeadObject and one-byte GET, and, with `--admin-profile`, the admin's HeadObject, its
//! listing of the key (with the owner), the object's and the bucket's ACL and the bucket's
//! Object Ownership. Every call here reads;
//! none writes, changes an ACL or deletes. They go out as soon as the session exists (see
//! `early`), so they add no round trip in a row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use tokio::sync::OnceCell;

use super::CheckContext;
use crate::answers::{self, Failure};
use crate::operation::Operation;

/// What S3's answer says of an object: the headers that decide how it can be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: Option<i64>,
    pub storage_class: Option<String>,
    /// `AES256`, `aws:kms`, `aws:kms:dsse`; `None` when S3 named none.
    pub encryption: Option<String>,
    /// The KMS key of an SSE-KMS object (`x-amz-server-side-encryption-aws-kms-key-id`).
    pub kms_key: Option<String>,
    /// Stored with a customer-provided key (SSE-C).
    pub sse_c: bool,
    /// `x-amz-restore` of an archived object: a restore asked for, or its copy's expiry.
    pub restore: Option<String>,
}

impl ObjectMeta {
    fn of_head(out: &HeadObjectOutput) -> Self {
        ObjectMeta {
            size: out.content_length(),
            storage_class: out.storage_class().map(|c| c.as_str().to_owned()),
            encryption: out.server_side_encryption().map(|e| e.as_str().to_owned()),
            kms_key: out.ssekms_key_id().map(str::to_owned),
            sse_c: out.sse_customer_algorithm().is_some(),
            restore: out.restore().map(str::to_owned),
        }
    }

    fn of_get(out: &GetObjectOutput) -> Self {
        ObjectMeta {
            size: out.content_length(),
            storage_class: out.storage_class().map(|c| c.as_str().to_owned()),
            encryption: out.server_side_encryption().map(|e| e.as_str().to_owned()),
            kms_key: out.ssekms_key_id().map(str::to_owned),
            sse_c: out.sse_customer_algorithm().is_some(),
            restore: out.restore().map(str::to_owned),
        }
    }

    /// True for an object encrypted with a KMS key (SSE-KMS or DSSE-KMS).
    pub fn is_kms(&self) -> bool {
        self.encryption
            .as_deref()
            .is_some_and(|e| e.starts_with("aws:kms"))
    }

    /// `12 bytes, STANDARD, SSE-KMS key K`: what the detail line says of the object.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(size) = self.size {
            parts.push(format!("{size} byte{}", if size == 1 { "" } else { "s" }));
        }
        if let Some(class) = &self.storage_class {
            parts.push(class.clone());
        }
        match (&self.encryption, &self.kms_key) {
            (_, Some(key)) => parts.push(format!("encrypted with KMS key {key}")),
            (Some(e), None) => parts.push(format!("encrypted with {e}")),
            (None, None) if self.sse_c => parts.push("encrypted with SSE-C".to_owned()),
            (None, None) => {}
        }
        parts.join(", ")
    }
}

/// One read: what the answer said of the object, or the failure.
pub type Read = Result<ObjectMeta, Failure>;

/// The app's own reads of the object, with its keys.
#[derive(Clone, Debug)]
pub struct AppReads {
    pub head: Read,
    /// The GET of its first byte (`Range: bytes=0-0`).
    pub get: Read,
}

/// Who owns an object or a bucket, by S3's canonical user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub id: String,
    pub name: Option<String>,
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) if !name.is_empty() => write!(f, "{name} (canonical id {})", self.id),
            _ => write!(f, "canonical id {}", self.id),
        }
    }
}

/// An object's ACL: its owner, and each grant as `PERMISSION to grantee`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectAcl {
    pub owner: Option<Owner>,
    pub grants: Vec<String>,
}

/// The bucket's Object Ownership, as GetBucketOwnershipControls said it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// `BucketOwnerEnforced`: ACLs off, the bucket owner owns every object.
    Enforced,
    /// `BucketOwnerPreferred` or `ObjectWriter`: a writer may keep its objects.
    WriterMayOwn(String),
    /// Not configured, not readable, or not known to the server (Ceph RGW): objects keep their
    /// writer as owner, as under ObjectWriter.
    Unknown,
}

/// What the admin's listing of the key (ListObjectsV2, the key as prefix, FetchOwner) says:
/// a bucket operation, so it tells whose an object is even when only its owner may read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    Absent,
    /// The key is there, with its owner when S3 named one.
    Present(Option<Owner>),
}

/// What the admin profile read of the object and its bucket.
#[derive(Clone, Debug)]
pub struct AdminReads {
    pub head: Read,
    pub listed: Result<Listed, Failure>,
    /// The object's ACL: only its owner (or a grant of READ_ACP) may read it.
    pub acl: Result<ObjectAcl, Failure>,
    pub bucket_owner: Option<Owner>,
    pub ownership: Ownership,
}

impl AdminReads {
    /// The object's owner, as the listing (else its ACL) names it.
    pub fn owner(&self) -> Option<&Owner> {
        match &self.listed {
            Ok(Listed::Present(Some(owner))) => Some(owner),
            _ => self.acl.as_ref().ok()?.owner.as_ref(),
        }
    }

    /// True when the admin's reads show the key is not there (HeadObject 404, or a listing
    /// without it).
    pub fn absent(&self) -> bool {
        matches!(&self.head, Err(f) if f.class == crate::answers::Class::KeyNotFound)
            || matches!(self.listed, Ok(Listed::Absent))
    }

    /// The object's owner when it is not the bucket's owner, under an Object Ownership that
    /// lets writers keep their objects: then only the object's ACL grants access to it.
    pub fn other_owner(&self) -> Option<&Owner> {
        let owner = self.owner()?;
        let bucket_owner = self.bucket_owner.as_ref()?;
        (owner.id != bucket_owner.id && self.ownership != Ownership::Enforced).then_some(owner)
    }
}

/// The shared answers of one object, in one region.
#[derive(Default)]
struct Cells {
    app: OnceCell<AppReads>,
    admin: OnceCell<Option<AdminReads>>,
}

/// An object in one region: bucket, key, and the region asked (`None`: the session's).
type ObjectId = (String, String, Option<String>);

/// The reads of every `--key` object of one run, by bucket, key and region.
#[derive(Default)]
pub struct ObjectCache {
    cells: Mutex<HashMap<ObjectId, Arc<Cells>>>,
}

impl std::fmt::Debug for ObjectCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys: Vec<_> = cells.keys().collect();
        keys.sort();
        f.debug_struct("ObjectCache")
            .field("objects", &keys)
            .finish()
    }
}

impl ObjectCache {
    fn cells(&self, cx: &CheckContext, key: &str) -> Arc<Cells> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        let id = (
            cx.bucket().to_owned(),
            key.to_owned(),
            cx.state.use_region.clone(),
        );
        cells.entry(id).or_default().clone()
    }
}

/// Starts the reads of `cx`'s object now (the app's, and the admin's with `--admin-profile`),
/// for the steps that will take them; true when there was an object to read.
pub fn start(cx: &CheckContext) -> bool {
    let (Some(key), Some(_)) = (cx.key.clone(), cx.session.as_ref()) else {
        return false;
    };
    let cx = cx.clone();
    tokio::spawn(async move {
        let _ = futures::join!(app(&cx, &key), admin(&cx, &key));
    });
    true
}

/// The app's HeadObject, then its one-byte GET of `key` in `cx`'s bucket (on the connection
/// the HEAD used; none after a 404, which the GET could only repeat), once per run; `None`
/// without credentials. Two round trips from the session, within the three the bucket's own
/// steps stand in a row.
pub async fn app(cx: &CheckContext, key: &str) -> Option<AppReads> {
    let s3 = cx.s3().ok()?;
    let cells = cx.cache.objects.cells(cx, key);
    let reads = cells
        .app
        .get_or_init(|| async {
            let head = head(&s3, cx.bucket(), key).await;
            let get = match &head {
                Err(f) if f.class == crate::answers::Class::KeyNotFound => Err(f.clone()),
                _ => first_byte(&s3, cx, key).await,
            };
            AppReads { head, get }
        })
        .await;
    Some(reads.clone())
}

/// What the admin profile reads of `key` and its bucket, at once, once per run; `None`
/// without `--admin-profile` (or when its keys cannot be used).
pub async fn admin(cx: &CheckContext, key: &str) -> Option<AdminReads> {
    let cells = cx.cache.objects.cells(cx, key);
    cells
        .admin
        .get_or_init(|| async {
            let Some(Ok(session)) = cx.admin_session().await else {
                return None;
            };
            let s3 = cx.s3_with(&session);
            let bucket = cx.bucket();
            let (head, listed, acl, bucket_owner, ownership) = futures::join!(
                head(&s3, bucket, key),
                listed(&s3, bucket, key),
                object_acl(&s3, bucket, key),
                bucket_owner(&s3, bucket),
                ownership(&s3, bucket),
            );
            Some(AdminReads {
                head,
                listed,
                acl,
                bucket_owner,
                ownership,
            })
        })
        .await
        .clone()
}

async fn head(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Read {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(out) => Ok(ObjectMeta::of_head(&out)),
        Err(err) => Err(answers::failure(Operation::HeadObject, &err)),
    }
}

/// The GET of the object's first byte (`Range: bytes=0-0`): the body is one byte at most.
async fn first_byte(s3: &aws_sdk_s3::Client, cx: &CheckContext, key: &str) -> Read {
    let answer = s3
        .get_object()
        .bucket(cx.bucket())
        .key(key)
        .range("bytes=0-0")
        .send()
        .await;
    match answer {
        Ok(out) => {
            let meta = ObjectMeta::of_get(&out);
            // The byte is read and dropped: only whether it came matters.
            let _ = out.body.collect().await;
            Ok(meta)
        }
        Err(err) => Err(answers::failure(Operation::GetObject, &err)),
    }
}

async fn listed(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Listed, Failure> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(key)
        .max_keys(1)
        .fetch_owner(true)
        .send()
        .await
        .map_err(|err| answers::failure(Operation::ListObjectsV2, &err))?;
    Ok(match out.contents().first() {
        Some(o) if o.key() == Some(key) => Listed::Present(o.owner().and_then(owner)),
        _ => Listed::Absent,
    })
}

async fn object_acl(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<ObjectAcl, Failure> {
    let out = s3
        .get_object_acl()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|err| answers::failure(Operation::GetObjectAcl, &err))?;
    Ok(ObjectAcl {
        owner: out.owner().and_then(owner),
        grants: out.grants().iter().filter_map(grant_words).collect(),
    })
}

async fn bucket_owner(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Owner> {
    let out = s3.get_bucket_acl().bucket(bucket).send().await.ok()?;
    out.owner().and_then(owner)
}

async fn ownership(s3: &aws_sdk_s3::Client, bucket: &str) -> Ownership {
    let Ok(out) = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
    else {
        return Ownership::Unknown;
    };
    let rule = out
        .ownership_controls()
        .and_then(|c| c.rules().first())
        .map(|r| r.object_ownership().as_str().to_owned());
    match rule.as_deref() {
        Some("BucketOwnerEnforced") => Ownership::Enforced,
        Some(other) => Ownership::WriterMayOwn(other.to_owned()),
        None => Ownership::Unknown,
    }
}

fn owner(o: &aws_sdk_s3::types::Owner) -> Option<Owner> {
    Some(Owner {
        id: o.id()?.to_owned(),
        name: o.display_name().map(str::to_owned),
    })
}

/// `READ to AllUsers (everyone)`, `FULL_CONTROL to canonical id …`.
fn grant_words(g: &aws_sdk_s3::types::Grant) -> Option<String> {
    let grantee = g.grantee()?;
    let permission = g.permission().map_or("?", |p| p.as_str());
    let who = match (grantee.uri(), grantee.id(), grantee.email_address()) {
        (Some(uri), _, _) if uri.ends_with("/AllUsers") => "AllUsers (everyone)".to_owned(),
        (Some(uri), _, _) if uri.ends_with("/AuthenticatedUsers") => {
            "AuthenticatedUsers (any AWS account)".to_owned()
        }
        (Some(uri), _, _) => uri.to_owned(),
        (None, Some(id), _) => Owner {
            id: id.to_owned(),
            name: grantee.display_name().map(str::to_owned),
        }
        .to_string(),
        (None, None, Some(email)) => email.to_owned(),
        (None, None, None) => return None,
    };
    Some(format!("{permission} to {who}"))
}
