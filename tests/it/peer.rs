//! The test peer: admin clients for the emulator that `scripts/test.sh` started, helpers that
//! seed users, roles, buckets and objects with unique names, and a runner for the real binary
//! in a clean environment (no `~/.aws`, no instance metadata, nothing of the developer's).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};

pub const ACCOUNT: &str = "123456789012";
/// A run that takes longer than this is a hang, not a slow run.
const HANG_GUARD: Duration = Duration::from_secs(90);

/// Keys of a seeded principal. The secret is only ever handed to the binary.
#[derive(Clone, Debug)]
pub struct Keys {
    pub name: String,
    pub id: String,
    pub secret: String,
    pub token: Option<String>,
}

pub struct Peer {
    pub url: String,
    pub admin: Keys,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test.sh, which starts the emulator")
    })
}

/// A short unique name, valid as a bucket name and as an IAM name.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("s3d-{prefix}-{}", &id[..10])
}

impl Peer {
    pub fn get() -> Peer {
        let url = var("S3DOCTOR_PEER_URL");
        let admin = Keys {
            name: "s3doctor-admin".into(),
            id: var("S3DOCTOR_PEER_ADMIN_KEY_ID"),
            secret: var("S3DOCTOR_PEER_ADMIN_SECRET"),
            token: None,
        };
        let creds = Credentials::new(&admin.id, &admin.secret, None, None, "test-admin");
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&url)
                .credentials_provider(creds.clone())
                .build(),
        );
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&url)
                .credentials_provider(creds)
                .build(),
        );
        Peer {
            url,
            admin,
            iam,
            sts,
        }
    }

    /// An STS client signing with `keys` (to assume a role as someone else than the admin).
    pub fn sts_as(&self, keys: &Keys) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&self.url)
                .credentials_provider(Credentials::new(
                    &keys.id,
                    &keys.secret,
                    keys.token.clone(),
                    None,
                    "test",
                ))
                .build(),
        )
    }

    /// An S3 client with the admin keys, signing for `region`.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        s3_client(&self.url, &self.admin, region)
    }

    /// A new bucket in `region`.
    pub async fn bucket(&self, region: &str) -> String {
        let name = unique("b");
        let mut req = self.s3(region).create_bucket().bucket(&name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(region.into())
                    .build(),
            );
        }
        req.send().await.expect("create bucket");
        name
    }

    pub async fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        self.s3("us-east-1")
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .expect("put object");
    }

    pub async fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        let out = self
            .s3("us-east-1")
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("get object");
        out.body.collect().await.expect("body").to_vec()
    }

    /// Every key in the bucket, sorted.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        sorted_keys(&self.s3("us-east-1"), bucket).await
    }

    /// A new IAM user with one access key and, when given, one inline policy.
    pub async fn user(&self, inline: Option<Value>) -> Keys {
        let name = unique("u");
        self.iam
            .create_user()
            .user_name(&name)
            .send()
            .await
            .expect("create user");
        if let Some(doc) = inline {
            self.iam
                .put_user_policy()
                .user_name(&name)
                .policy_name("app")
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("put user policy");
        }
        let key = self
            .iam
            .create_access_key()
            .user_name(&name)
            .send()
            .await
            .expect("create access key");
        let key = key.access_key().expect("access key");
        Keys {
            name,
            id: key.access_key_id().to_owned(),
            secret: key.secret_access_key().to_owned(),
            token: None,
        }
    }

    /// A new role (trusting the account) with an optional inline policy, and a session of it.
    pub async fn role_session(&self, inline: Option<Value>) -> Keys {
        self.role_session_bounded(unique("r"), inline, None).await
    }

    /// `role_session` for a role named `name` with an optional permissions boundary (a managed
    /// policy's ARN). The session is named `worker`.
    pub async fn role_session_bounded(
        &self,
        name: String,
        inline: Option<Value>,
        boundary_arn: Option<String>,
    ) -> Keys {
        // moto matches the trust policy's principal literally (no `:root` expansion), so the
        // admin user that assumes the role is named.
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/{}", self.admin.name)},
            "Action": "sts:AssumeRole"}]});
        self.iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(trust.to_string())
            .set_permissions_boundary(boundary_arn)
            .send()
            .await
            .expect("create role");
        if let Some(doc) = inline {
            self.iam
                .put_role_policy()
                .role_name(&name)
                .policy_name("app")
                .policy_document(doc.to_string())
                .send()
                .await
                .expect("put role policy");
        }
        let out = self
            .sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/{name}"))
            .role_session_name("worker")
            .send()
            .await
            .expect("assume role");
        let c = out.credentials().expect("credentials");
        Keys {
            name,
            id: c.access_key_id().to_owned(),
            secret: c.secret_access_key().to_owned(),
            token: Some(c.session_token().to_owned()),
        }
    }

    /// The names of the managed policies attached to a user.
    pub async fn attached_to_user(&self, user: &str) -> Vec<String> {
        let out = self
            .iam
            .list_attached_user_policies()
            .user_name(user)
            .send()
            .await
            .expect("list attached user policies");
        out.attached_policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect()
    }

    /// The version ids of a managed policy, and which one is the default.
    pub async fn versions(&self, policy_arn: &str) -> (Vec<String>, String) {
        let out = self
            .iam
            .list_policy_versions()
            .policy_arn(policy_arn)
            .send()
            .await
            .expect("list policy versions");
        let mut ids = Vec::new();
        let mut default = String::new();
        for v in out.versions() {
            let id = v.version_id().unwrap_or_default().to_owned();
            if v.is_default_version() {
                default = id.clone();
            }
            ids.push(id);
        }
        (ids, default)
    }
}

pub fn s3_client(url: &str, keys: &Keys, region: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(url)
            .force_path_style(true)
            .credentials_provider(Credentials::new(
                &keys.id,
                &keys.secret,
                keys.token.clone(),
                None,
                "test",
            ))
            .build(),
    )
}

/// Writes an app's dotenv file with these keys (region us-east-1) into `dir`.
pub fn write_env_file(dir: &std::path::Path, keys: &Keys) -> PathBuf {
    let path = dir.join("app.env");
    let mut text = format!(
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nAWS_REGION=us-east-1\n",
        keys.id, keys.secret
    );
    if let Some(t) = &keys.token {
        text.push_str(&format!("AWS_SESSION_TOKEN={t}\n"));
    }
    std::fs::write(&path, text).expect("env file");
    path
}

/// `keys` as the shared-credentials profile `admin`, in `dir/credentials`.
pub fn write_admin_profile(dir: &std::path::Path, keys: &Keys) -> PathBuf {
    let path = dir.join("credentials");
    std::fs::write(
        &path,
        format!(
            "[admin]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.id, keys.secret
        ),
    )
    .expect("credentials");
    path
}

/// Incident 2's user policy: everything on `bucket`, and a Deny (Sid DenyDelete) on deleting
/// its objects.
pub fn incident_2_policy(bucket: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "TrainingData", "Effect": "Allow", "Action": "s3:*",
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]},
        {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:DeleteObject",
         "Resource": format!("arn:aws:s3:::{bucket}/*")}]})
}

/// Full access to the buckets' objects and listing: what a healthy app has.
pub fn s3_allow(buckets: &[&str], actions: &[&str]) -> Value {
    let mut resources = Vec::new();
    for b in buckets {
        resources.push(format!("arn:aws:s3:::{b}"));
        resources.push(format!("arn:aws:s3:::{b}/*"));
    }
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "App", "Effect": "Allow", "Action": actions, "Resource": resources}
    ]})
}

pub const READ_WRITE: &[&str] = &[
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
];

/// The actions `--multipart` needs: upload, download, delete and the multipart clean-up.
pub const MULTIPART: &[&str] = &[
    "s3:ListBucket",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
];

/// Every key in the bucket, sorted, as `s3` lists it.
pub async fn sorted_keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list objects");
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    keys
}

/// What a run of the binary printed, and how it ended.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The run's HOME, kept so that files it wrote can be read.
    pub home: tempfile::TempDir,
}

impl Output {
    /// A file the run wrote into its HOME.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.home.path().join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}\nstderr:\n{}", self.stderr))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A run of the binary, built up like a command line.
pub struct Run {
    args: Vec<String>,
    env: Vec<(String, String)>,
    home: tempfile::TempDir,
    deadline: Duration,
}

impl Run {
    /// `s3doctor ARGS…` in a clean environment: a fresh HOME, no AWS config files, no metadata
    /// service, and the emulator's region.
    pub fn new(args: &[&str]) -> Run {
        let home = tempfile::tempdir().expect("temp home");
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
            home,
            deadline: HANG_GUARD,
        };
        let config = run.home.path().join("aws-config");
        let creds = run.home.path().join("aws-credentials");
        run.env("AWS_CONFIG_FILE", &config.display().to_string())
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds.display().to_string())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-east-1")
    }

    pub fn env(mut self, name: &str, value: &str) -> Run {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn unset(mut self, name: &str) -> Run {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// A tighter hang guard, for runs that must end within seconds.
    pub fn deadline(mut self, d: Duration) -> Run {
        self.deadline = d;
        self
    }

    pub fn arg(mut self, a: &str) -> Run {
        self.args.push(a.to_owned());
        self
    }

    /// Against the emulator, with these keys in the standard variables.
    pub fn keys(self, peer: &Peer, keys: &Keys) -> Run {
        let run = self
            .arg("--endpoint-url")
            .arg(&peer.url)
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret);
        match &keys.token {
            Some(t) => run.env("AWS_SESSION_TOKEN", t),
            None => run,
        }
    }

    /// Writes an AWS credentials file into the run's HOME with these profiles.
    pub fn profiles(self, profiles: &[(&str, &Keys)]) -> Run {
        let mut text = String::new();
        for (name, k) in profiles {
            text.push_str(&format!(
                "[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                k.id, k.secret
            ));
            if let Some(t) = &k.token {
                text.push_str(&format!("aws_session_token = {t}\n"));
            }
        }
        std::fs::write(self.home.path().join("aws-credentials"), text).expect("credentials file");
        self
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    pub async fn output(self) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_s3doctor"));
        cmd.args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("spawn s3doctor");
        let out = tokio::time::timeout(self.deadline, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("s3doctor {:?} hung for {:?}", self.args, self.deadline))
            .expect("wait for s3doctor");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            home: self.home,
        }
    }
}

/// The report's row of a step (for a bucket, or global).
pub fn step<'a>(report: &'a Value, step: &str, bucket: Option<&str>) -> &'a Value {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == step && s["bucket"].as_str() == bucket)
        .unwrap_or_else(|| panic!("no step {step} for {bucket:?} in {report:#}"))
}

/// The report's status of a step (for a bucket, or global).
pub fn status(report: &Value, id: &str, bucket: Option<&str>) -> String {
    step(report, id, bucket)["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// The detail text of a step (for a bucket, or global).
pub fn detail(report: &Value, id: &str, bucket: Option<&str>) -> String {
    step(report, id, bucket)["detail"]
        .as_str()
        .expect("detail")
        .to_owned()
}

/// The codes of the report's findings, in order.
pub fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect()
}

/// The finding with this code (and action, when given).
pub fn finding<'a>(report: &'a Value, code: &str, action: Option<&str>) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["code"] == code && action.is_none_or(|a| f["action"] == a))
        .unwrap_or_else(|| panic!("no finding {code} {action:?} in {report:#}"))
}

/// A loopback port that nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl Peer {
    /// The multipart uploads in progress in a bucket: (key, upload id).
    pub async fn uploads(&self, bucket: &str) -> Vec<(String, String)> {
        let out = self
            .s3("us-east-1")
            .list_multipart_uploads()
            .bucket(bucket)
            .send()
            .await
            .expect("list multipart uploads");
        out.uploads()
            .iter()
            .map(|u| {
                (
                    u.key().unwrap_or_default().to_owned(),
                    u.upload_id().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}
