//! Seeding an incident in the emulator with the admin's keys: tear down whatever carries
//! the incident's names, run its `seed` actions, write the app's .env into the demo's private
//! directory; later, run its `fix_steps` (the change a person would make). What was seeded is
//! kept in `DIR/NAME.state.json` (mode 600, beside the .env that holds the same secret), so
//! that a later process can apply the fix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule,
};
use serde::{Deserialize, Serialize};

use super::sandbox::Sandbox;
use super::{Action, Incident, fill};
use crate::aws::Session;
use crate::policy::Access;

/// An access key the seeding created; the secret stays in the private directory.
#[derive(Clone, Serialize, Deserialize)]
struct Key {
    id: String,
    secret: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", crate::aws::key_hint(&self.id))
    }
}

/// What a seeded incident looks like from outside: where the app's .env is, which bucket,
/// which access the app needs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Seeded {
    pub incident: String,
    pub names: BTreeMap<String, String>,
    pub env_file: PathBuf,
    pub bucket: String,
    pub access: Access,
    keys: BTreeMap<String, Vec<Key>>,
    /// The ARN of the role the app runs as (`[app] role`), once created.
    #[serde(default)]
    pub role_arn: Option<String>,
}

impl Seeded {
    fn state_path(dir: &Path, incident: &str) -> PathBuf {
        dir.join(format!("{incident}.state.json"))
    }

    /// Reads what an earlier `seed` in `dir` wrote.
    pub fn load(dir: &Path, incident: &str) -> Result<Seeded, String> {
        let path = Self::state_path(dir, incident);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{} was not seeded in {}: {e}", incident, dir.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn save(&self, dir: &Path) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        write_private(&Self::state_path(dir, &self.incident), &text)
    }
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A policy document on one line, checked to be JSON: the emulator checks the signature of
/// form-encoded IAM bodies differently from AWS when they hold line breaks.
fn compact(document: &str) -> Result<String, String> {
    let value: serde_json::Value =
        serde_json::from_str(document).map_err(|e| format!("policy document: {e}"))?;
    Ok(value.to_string())
}

/// The emulator admin's clients (only ever for a server on this machine: see `Sandbox`) and
/// account.
pub struct Seeder {
    sandbox: Sandbox,
    account: String,
    dir: PathBuf,
    /// The AWS profile holding the app's key, for servers where users are not created.
    app_profile: Option<String>,
}

/// An SDK error as one line: its chain of messages, never the SDK's debug dump (which
/// `DisplayErrorContext` appends).
fn sdk_err<E: std::error::Error + 'static>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {}", crate::aws::error_chain(&e))
}

impl Seeder {
    /// Connects with the admin's session, which must point at a server on this machine;
    /// `dir` is the demo's private directory.
    pub async fn new(admin: Session, dir: &Path) -> Result<Seeder, String> {
        let sandbox = Sandbox::new(admin)?;
        let who = sandbox
            .sts()
            .get_caller_identity()
            .send()
            .await
            .map_err(sdk_err("the admin keys do not work"))?;
        Ok(Seeder {
            account: who.account().unwrap_or("123456789012").to_owned(),
            sandbox,
            dir: dir.to_path_buf(),
            app_profile: None,
        })
    }

    /// Like `new`, for a server without STS and IAM (Ceph RGW): `admin` is the bucket owner,
    /// and the app's key comes from `app_profile`.
    pub fn without_iam(admin: Session, dir: &Path, app_profile: String) -> Result<Seeder, String> {
        Ok(Seeder {
            sandbox: Sandbox::new(admin)?,
            account: String::new(),
            dir: dir.to_path_buf(),
            app_profile: Some(app_profile),
        })
    }

    /// Seeds `incident` fresh: first removes anything left under its names.
    pub async fn seed(&self, incident: &Incident, suffix: &str) -> Result<Seeded, String> {
        let names = incident.names(suffix);
        self.teardown(incident, &names).await;
        let mut seeded = Seeded {
            incident: incident.name.clone(),
            bucket: names["bucket"].clone(),
            env_file: self.dir.join(format!("{}.env", incident.name)),
            names,
            access: incident.app.access,
            keys: BTreeMap::new(),
            role_arn: None,
        };
        for action in &incident.seed {
            self.act(incident, &mut seeded, action).await?;
        }
        seeded.save(&self.dir)?;
        Ok(seeded)
    }

    /// Makes the change a person would make to fix the incident.
    pub async fn fix(&self, incident: &Incident, seeded: &mut Seeded) -> Result<(), String> {
        for action in &incident.fix_steps {
            self.act(incident, seeded, action).await?;
        }
        seeded.save(&self.dir)
    }

    fn vars(&self, seeded: &Seeded) -> BTreeMap<String, String> {
        let mut vars = seeded.names.clone();
        vars.insert("account".to_owned(), self.account.clone());
        vars
    }

    /// Runs one seed or fix action with the admin's clients.
    async fn act(
        &self,
        incident: &Incident,
        seeded: &mut Seeded,
        action: &Action,
    ) -> Result<(), String> {
        let vars = self.vars(seeded);
        let f = |s: &str| fill(s, &vars);
        let s3 = &self.sandbox.s3();
        let iam = &self.sandbox.iam();
        match action {
            Action::CreateBucket { bucket, region } => {
                self.create_bucket(&f(bucket), region.as_deref()).await?;
            }
            Action::PutObject { bucket, key } => self.put_object(&f(bucket), &f(key)).await?,
            Action::CreateUser { user } => {
                iam.create_user()
                    .user_name(f(user))
                    .send()
                    .await
                    .map_err(sdk_err("CreateUser"))?;
            }
            Action::CreateKey { user } => self.create_key(seeded, &f(user)).await?,
            Action::DeleteKey { user } => self.delete_key(seeded, &f(user)).await?,
            Action::PutUserPolicy {
                user,
                name,
                document,
            } => {
                let document = compact(&f(document))?;
                self.put_user_policy(&f(user), &f(name), document).await?;
            }
            Action::PutBucketPolicy { bucket, document } => {
                let document = compact(&f(document))?;
                self.put_bucket_policy(&f(bucket), document).await?;
            }
            Action::CreateRole { role, trust, path } => {
                let arn = self
                    .create_role(&f(role), compact(&f(trust))?, path.as_deref())
                    .await?;
                let app_role = incident.app.role.as_deref().map(|r| f(&format!("{{{r}}}")));
                if app_role.as_deref() == Some(f(role).as_str()) {
                    seeded.role_arn = Some(arn);
                }
            }
            Action::PutRolePolicy {
                role,
                name,
                document,
            } => {
                let document = compact(&f(document))?;
                self.put_role_policy(&f(role), &f(name), document).await?;
            }
            Action::DeleteBucketPolicy { bucket } => {
                s3.delete_bucket_policy()
                    .bucket(f(bucket))
                    .send()
                    .await
                    .map_err(sdk_err("DeleteBucketPolicy"))?;
            }
            Action::PutOwnership { bucket, ownership } => {
                self.put_ownership(&f(bucket), ownership).await?;
            }
            Action::WriteEnv {
                region,
                wrong_secret,
            } => write_env(incident, seeded, region.as_deref(), *wrong_secret)?,
            Action::SetAccess { access } => seeded.access = *access,
            Action::AppProfileKey { user } => {
                let key = self.app_profile_key().await?;
                seeded.keys.entry(f(user)).or_default().push(key);
            }
        }
        Ok(())
    }

    async fn put_object(&self, bucket: &str, key: &str) -> Result<(), String> {
        self.sandbox
            .s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(b"seeded by the s3doctor demo".to_vec().into())
            .send()
            .await
            .map_err(sdk_err("PutObject"))?;
        Ok(())
    }

    async fn put_user_policy(
        &self,
        user: &str,
        name: &str,
        document: String,
    ) -> Result<(), String> {
        self.sandbox
            .iam()
            .put_user_policy()
            .user_name(user)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_err("PutUserPolicy"))?;
        Ok(())
    }

    /// A role with this trust policy; its ARN.
    async fn create_role(
        &self,
        role: &str,
        trust: String,
        path: Option<&str>,
    ) -> Result<String, String> {
        let out = self
            .sandbox
            .iam()
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .set_path(path.map(str::to_owned))
            .send()
            .await
            .map_err(sdk_err("CreateRole"))?;
        Ok(out.role().map(|r| r.arn().to_owned()).unwrap_or_default())
    }

    async fn put_role_policy(
        &self,
        role: &str,
        name: &str,
        document: String,
    ) -> Result<(), String> {
        self.sandbox
            .iam()
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(sdk_err("PutRolePolicy"))?;
        Ok(())
    }

    async fn put_bucket_policy(&self, bucket: &str, document: String) -> Result<(), String> {
        self.sandbox
            .s3()
            .put_bucket_policy()
            .bucket(bucket)
            .policy(document)
            .send()
            .await
            .map_err(sdk_err("PutBucketPolicy"))?;
        Ok(())
    }

    async fn create_bucket(&self, bucket: &str, region: Option<&str>) -> Result<(), String> {
        let region = region.unwrap_or("us-east-1");
        let mut req = self.sandbox.s3_in(region).create_bucket().bucket(bucket);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        req.send().await.map_err(sdk_err("CreateBucket"))?;
        Ok(())
    }

    async fn create_key(&self, seeded: &mut Seeded, user: &str) -> Result<(), String> {
        let out = self
            .sandbox
            .iam()
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(sdk_err("CreateAccessKey"))?;
        let key = out.access_key().ok_or("CreateAccessKey returned no key")?;
        seeded.keys.entry(user.to_owned()).or_default().push(Key {
            id: key.access_key_id().to_owned(),
            secret: key.secret_access_key().to_owned(),
        });
        Ok(())
    }

    /// Deletes the user's newest key (a rotated key: the app's .env still holds it).
    async fn delete_key(&self, seeded: &Seeded, user: &str) -> Result<(), String> {
        let id = seeded
            .keys
            .get(user)
            .and_then(|k| k.last())
            .map(|k| k.id.clone())
            .ok_or_else(|| format!("delete-key: {user} has no key yet"))?;
        self.sandbox
            .iam()
            .delete_access_key()
            .user_name(user)
            .access_key_id(id)
            .send()
            .await
            .map_err(sdk_err("DeleteAccessKey"))?;
        Ok(())
    }

    async fn put_ownership(&self, bucket: &str, ownership: &str) -> Result<(), String> {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::from(ownership))
            .build()
            .map_err(sdk_err("ownership rule"))?;
        let controls = OwnershipControls::builder()
            .rules(rule)
            .build()
            .map_err(sdk_err("ownership controls"))?;
        self.sandbox
            .s3()
            .put_bucket_ownership_controls()
            .bucket(bucket)
            .ownership_controls(controls)
            .send()
            .await
            .map_err(sdk_err("PutBucketOwnershipControls"))?;
        Ok(())
    }

    /// The app's key from the profile the demo was given (servers where users are not
    /// created).
    async fn app_profile_key(&self) -> Result<Key, String> {
        use aws_credential_types::provider::ProvideCredentials;
        let profile = self
            .app_profile
            .as_deref()
            .ok_or("app-profile-key: the demo was given no profile for the app")?;
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        let creds = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            provider.provide_credentials(),
        )
        .await
        .map_err(|_| format!("reading the profile {profile} timed out"))?
        .map_err(|e| format!("the profile {profile} has no usable keys: {e}"))?;
        Ok(Key {
            id: creds.access_key_id().to_owned(),
            secret: creds.secret_access_key().to_owned(),
        })
    }

    /// Removes the users and buckets that carry the incident's names, with all they hold
    /// (the demo created them). Missing ones are fine.
    pub async fn teardown(&self, incident: &Incident, names: &BTreeMap<String, String>) {
        let mut users = Vec::new();
        let mut buckets = Vec::new();
        let mut roles = Vec::new();
        for action in &incident.seed {
            match action {
                Action::CreateUser { user } => users.push(fill(user, names)),
                Action::CreateBucket { bucket, .. } => buckets.push(fill(bucket, names)),
                Action::CreateRole { role, .. } => roles.push(fill(role, names)),
                _ => {}
            }
        }
        for role in roles {
            self.remove_role(&role).await;
        }
        for user in users {
            self.remove_user(&user).await;
        }
        for bucket in buckets {
            self.remove_bucket(&bucket).await;
        }
    }

    /// Deletes a user the demo created: its keys, inline and attached policies, then the user.
    async fn remove_user(&self, user: &str) {
        let iam = &self.sandbox.iam();
        if let Ok(out) = iam.list_access_keys().user_name(user).send().await {
            for k in out.access_key_metadata() {
                if let Some(id) = k.access_key_id() {
                    let _ = iam
                        .delete_access_key()
                        .user_name(user)
                        .access_key_id(id)
                        .send()
                        .await;
                }
            }
        }
        if let Ok(out) = iam.list_user_policies().user_name(user).send().await {
            for name in out.policy_names() {
                let _ = iam
                    .delete_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .send()
                    .await;
            }
        }
        if let Ok(out) = iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
        {
            for p in out.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    let _ = iam
                        .detach_user_policy()
                        .user_name(user)
                        .policy_arn(arn)
                        .send()
                        .await;
                }
            }
        }
        let _ = iam.delete_user().user_name(user).send().await;
    }

    /// Deletes a role the demo created: its inline and attached policies, then the role.
    async fn remove_role(&self, role: &str) {
        let iam = &self.sandbox.iam();
        if let Ok(out) = iam.list_role_policies().role_name(role).send().await {
            for name in out.policy_names() {
                let _ = iam
                    .delete_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await;
            }
        }
        if let Ok(out) = iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
        {
            for p in out.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    let _ = iam
                        .detach_role_policy()
                        .role_name(role)
                        .policy_arn(arn)
                        .send()
                        .await;
                }
            }
        }
        let _ = iam.delete_role().role_name(role).send().await;
    }

    /// Deletes a bucket the demo created: its policy, unfinished uploads and objects, then
    /// the bucket.
    async fn remove_bucket(&self, bucket: &str) {
        let s3 = &self.sandbox.s3();
        let _ = s3.delete_bucket_policy().bucket(bucket).send().await;
        if let Ok(out) = s3.list_multipart_uploads().bucket(bucket).send().await {
            for u in out.uploads() {
                if let (Some(key), Some(id)) = (u.key(), u.upload_id()) {
                    let _ = s3
                        .abort_multipart_upload()
                        .bucket(bucket)
                        .key(key)
                        .upload_id(id)
                        .send()
                        .await;
                }
            }
        }
        if let Ok(out) = s3.list_objects_v2().bucket(bucket).send().await {
            for o in out.contents() {
                if let Some(key) = o.key() {
                    let _ = s3.delete_object().bucket(bucket).key(key).send().await;
                }
            }
        }
        let _ = s3.delete_bucket().bucket(bucket).send().await;
    }
}

/// Writes the app's .env with the user's newest key (and, for the wrong-secret incident, the
/// secret one character off).
fn write_env(
    incident: &Incident,
    seeded: &Seeded,
    region: Option<&str>,
    wrong_secret: bool,
) -> Result<(), String> {
    let user = &seeded.names["user"];
    let key = seeded
        .keys
        .get(user)
        .and_then(|k| k.last())
        .ok_or_else(|| format!("write-env: {user} has no key yet"))?;
    let mut secret = key.secret.clone();
    if wrong_secret {
        // The same length, one character off: a copy-and-paste slip.
        let last = secret.pop().unwrap_or('A');
        secret.push(if last == 'x' { 'y' } else { 'x' });
    }
    let text = format!(
        "# The app's settings for the demo incident {name}\n\
         S3_ACCESS_KEY={id}\nS3_SECRET_KEY={secret}\nS3_REGION={region}\nS3_BUCKET={bucket}\n",
        name = incident.name,
        id = key.id,
        region = region.unwrap_or(&incident.app.region),
        bucket = seeded.bucket,
    );
    write_private(&seeded.env_file, &text)
}
