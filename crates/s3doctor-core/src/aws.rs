//! The one place that builds AWS configuration and clients: profile, region, endpoint,
//! timeouts and retries, the connection pool, and the session made from credentials that
//! resolved (`credentials` resolves them, through [`chain_sts`] for its own STS calls).

mod call_log;
pub mod ec2_query;
mod silence;
mod unanswered;
mod unsigned;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::meta::region::ProvideRegion;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::region::Region;
use aws_types::sdk_config::SharedAsyncSleep;

use crate::envfile::EnvFile;
use crate::finding::Unreachable;
use call_log::CallLog;
use silence::Silence;
pub use silence::{NOT_ASKED, TIMED_OUT};
pub use unanswered::Unanswered;
pub use unsigned::NoAnswer;

/// An error and its sources, each as it displays itself, joined by ": " (what the SDK's
/// `DisplayErrorContext` writes, without its closing debug dump of the whole error, which
/// would put Rust type names into a ticket).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// True when the operating system refused the connection (nothing listens at that address
/// and port), told by the `std::io::Error` in the error's sources.
fn refused_connection(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// How a call got no answer, read from the transport's error (`timed_out`: the SDK or the
/// timer said so): the one reading that the `--log` line, the evidence and the findings all
/// use. A refused connection is told by its `std::io::Error`; DNS and TLS only by the
/// connector's words, which is all hyper gives. [`NOT_ASKED`] reads as a timeout.
pub fn unreachable(err: &(dyn std::error::Error + 'static), timed_out: bool) -> Unreachable {
    let chain = error_chain(err).to_ascii_lowercase();
    if timed_out || chain.contains("timed out") || chain.contains("timeout") {
        Unreachable::TimedOut
    } else if refused_connection(err) {
        Unreachable::Refused
    } else if chain.contains("dns error") || chain.contains("failed to lookup address") {
        Unreachable::Dns
    } else if chain.contains("tls") || chain.contains("certificate") {
        Unreachable::Tls
    } else if chain.contains("connection") || chain.contains("io error") {
        Unreachable::Connection
    } else {
        Unreachable::Other
    }
}

/// The region used for the first calls when nothing configures one; the bucket-region step
/// then says that the app must set a region.
pub const FALLBACK_REGION: &str = "us-east-1";

/// How to reach AWS, as the person configured it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub env_file: Option<EnvFile>,
    /// Take the keys from `profile` only, ignoring `AWS_ACCESS_KEY_ID` and the rest of the
    /// default chain: set when `--profile` is on the command line (the AWS CLI's rule: the
    /// profile named there wins over keys in the environment), and for `--admin-profile`,
    /// where the environment's keys are usually the diagnosed ones. `AWS_PROFILE` from the
    /// environment leaves it unset: the SDK's order then puts the environment's keys first.
    pub profile_only: bool,
    /// `--role-arn`: check as this role, assumed with the credentials that resolved.
    pub role: Option<RoleToAssume>,
    /// Per-attempt timeout of every AWS call.
    pub timeout: Duration,
    /// The HTTP client every AWS client built from these settings (or a clone of them, such
    /// as `with_profile`'s) uses.
    pub http: HttpPool,
}

/// `--role-arn ARN` (with `--external-id`, `--role-session-name`): the role to check as, assumed
/// with the credentials the chain resolved (the engineer's own), one AssumeRole before the
/// checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleToAssume {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
}

/// The session name `--role-arn` uses unless `--role-session-name` gives one: what CloudTrail
/// shows for s3doctor's calls as the role.
pub const ROLE_SESSION_NAME: &str = "s3doctor";

/// `word` as one word of a POSIX shell command line: as it is when it is plain, else in
/// single quotes (a `'` inside becomes `'\''`).
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// ` --endpoint-url URL` for a command s3doctor prints (the URL quoted for a shell when it
/// must be), or nothing for AWS itself.
pub fn endpoint_flag(endpoint: Option<&str>) -> String {
    endpoint
        .map(|e| format!(" --endpoint-url {}", shell_word(e)))
        .unwrap_or_default()
}

/// One HTTP client shared by clones: one connection pool and one TLS configuration (one set
/// of resumable TLS sessions) for S3, STS, IAM, KMS, the S3 clients of other regions and the
/// CORS preflight, instead of one each. Without it the SDK builds a new HTTP client for every
/// `Client::from_conf`, so each client opens its own connections, and each TLS handshake.
///
/// It is the SDK's own HTTP client (`aws_smithy_http_client`'s, which builds a connector per
/// connect/read timeout pair and keeps it), with the connectors kept here so that a request
/// the SDK has no operation for (the preflight's `OPTIONS`) can take the same connector as the
/// run's clients: [`Settings::send_unsigned`].
#[derive(Clone, Debug, Default)]
pub struct HttpPool(Arc<Mutex<HashMap<ConnectorKey, SharedHttpConnector>>>);

/// The timeouts a connector is built with (the SDK's own cache key).
type ConnectorKey = (Option<Duration>, Option<Duration>);

impl HttpPool {
    /// The connector for these timeouts: built on first use, then shared.
    fn connector(
        &self,
        settings: &HttpConnectorSettings,
        sleep: Option<SharedAsyncSleep>,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.0.lock().unwrap_or_else(|e| e.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| SharedHttpConnector::new(https_connector(settings, sleep)))
            .clone()
    }
}

impl HttpClient for HttpPool {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connector(settings, components.sleep_impl())
    }

    /// What the SDK's own client says of itself (it goes into the user agent).
    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some("1.x".into())))
    }
}

/// The SDK's own default HTTPS connector (`aws_smithy_runtime`'s, for the current behavior
/// version): hyper 1 with rustls on aws-lc, proxies from the environment (`HTTPS_PROXY`,
/// `NO_PROXY`), with these timeouts (no sleep: the tokio one).
fn https_connector(
    settings: &HttpConnectorSettings,
    sleep: Option<SharedAsyncSleep>,
) -> aws_smithy_http_client::Connector {
    let mut connector = aws_smithy_http_client::ConnectorBuilder::default().tls_provider(
        tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc),
    );
    connector.set_connector_settings(Some(settings.clone()));
    connector.set_sleep_impl(sleep);
    connector.set_proxy_config(Some(ProxyConfig::from_env()));
    connector.build()
}

impl Settings {
    /// The same settings with another profile (and no env-file keys): for `--admin-profile`.
    pub fn with_profile(&self, profile: &str) -> Settings {
        Settings {
            profile: Some(profile.to_owned()),
            profile_only: true,
            role: None,
            env_file: self.env_file.as_ref().map(|e| EnvFile {
                access_key_id: None,
                secret_access_key: None,
                session_token: None,
                ..e.clone()
            }),
            ..self.clone()
        }
    }

    /// The region given for the app (`--region`, else its env file's), before any credentials
    /// resolve: what the report and the wizard show when no session could be made.
    pub fn configured_region(&self) -> Option<String> {
        self.region
            .clone()
            .or_else(|| self.env_file.as_ref().and_then(|e| e.region.clone()))
    }

    /// The flags that point another s3doctor run at the same keys and server as this one
    /// (`--env-file`, `--profile` when given as a flag, `--role-arn` and its options,
    /// `--endpoint-url`, as given), each with a leading space, for
    /// the commands s3doctor prints (verify, undo). Without them a printed command runs with
    /// whatever keys the reader's shell has, often an administrator's, for whom every check
    /// passes.
    pub fn target_flags(&self) -> String {
        let mut flags = String::new();
        if let Some(env) = &self.env_file {
            flags.push_str(" --env-file ");
            flags.push_str(&shell_word(&env.path.display().to_string()));
        }
        if let Some(p) = self.profile.as_ref().filter(|_| self.profile_only) {
            flags.push_str(" --profile ");
            flags.push_str(&shell_word(p));
        }
        if let Some(role) = &self.role {
            flags.push_str(" --role-arn ");
            flags.push_str(&shell_word(&role.role_arn));
            if let Some(id) = &role.external_id {
                flags.push_str(" --external-id ");
                flags.push_str(&shell_word(id));
            }
            if role.session_name != ROLE_SESSION_NAME {
                flags.push_str(" --role-session-name ");
                flags.push_str(&shell_word(&role.session_name));
            }
        }
        flags.push_str(&endpoint_flag(self.endpoint.as_deref()));
        flags
    }

    /// The per-attempt timeout in effect: `--timeout`, 10 s when unset.
    pub fn attempt_timeout(&self) -> Duration {
        if self.timeout.is_zero() {
            Duration::from_secs(10)
        } else {
            self.timeout
        }
    }

    /// Sends a request no SDK operation makes (the CORS preflight's unsigned `OPTIONS`) on
    /// the run's connector within the attempt timeout, with a line in the call log as
    /// `service`'s `operation`, and under the silence of `clients` (the run's, when it has
    /// keys): a host that let a call time out is not asked.
    pub async fn send_unsigned(
        &self,
        clients: Option<&Clients>,
        call: (&str, &str),
        req: HttpRequest,
    ) -> Result<HttpResponse, NoAnswer> {
        let connector = self.http_connector();
        let silence = clients.map(|c| &c.silence);
        unsigned::send(&connector, silence, call, req, self.attempt_timeout()).await
    }

    /// The connector the run's AWS clients send with (same pool, same timeouts), for a
    /// request no SDK operation makes: the CORS preflight's unsigned `OPTIONS`.
    fn http_connector(&self) -> SharedHttpConnector {
        // As the SDK's orchestrator makes the settings for each call.
        let t = self.timeouts();
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(t.connect_timeout());
        settings.set_read_timeout(t.read_timeout());
        self.http.connector(&settings.build(), None)
    }

    fn timeouts(&self) -> TimeoutConfig {
        let t = self.attempt_timeout();
        TimeoutConfig::builder()
            .connect_timeout(t.min(Duration::from_secs(3)))
            .read_timeout(t)
            .operation_attempt_timeout(t)
            .operation_timeout(t * 3)
            .build()
    }
}

/// The clients every check uses, built from one `SdkConfig`.
#[derive(Clone, Debug)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    sdk: SdkConfig,
    path_style: bool,
    /// Hosts that let a call time out: later calls to them fail at once.
    silence: Silence,
    /// The S3 clients of other regions and the KMS clients, each built once per session.
    s3_by_region: Arc<Mutex<HashMap<String, aws_sdk_s3::Client>>>,
    kms_by_region: Arc<Mutex<HashMap<Option<String>, aws_sdk_kms::Client>>>,
}

impl Clients {
    /// S3 with path-style addressing when a custom endpoint is set (emulators, MinIO).
    pub fn from_sdk_config(sdk: &SdkConfig) -> Self {
        let path_style = sdk.endpoint_url().is_some();
        let silence = Silence::default();
        for service in ["S3", "STS", "IAM"] {
            built(service, sdk.region());
        }
        let s3 = s3_config(aws_sdk_s3::config::Builder::from(sdk), path_style)
            .interceptor(silence.clone())
            .build();
        let sts = aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(CallLog)
            .interceptor(silence.clone())
            .build();
        let iam = aws_sdk_iam::config::Builder::from(sdk)
            .interceptor(CallLog)
            .interceptor(silence.clone())
            .build();
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            sts: aws_sdk_sts::Client::from_conf(sts),
            iam: aws_sdk_iam::Client::from_conf(iam),
            sdk: sdk.clone(),
            path_style,
            silence,
            s3_by_region: Arc::default(),
            kms_by_region: Arc::default(),
        }
    }

    /// The session's credentials, for a request no SDK client makes (EC2's
    /// DescribeVpcEndpoints, signed by `ec2_query`).
    pub fn credentials_provider(
        &self,
    ) -> Option<aws_credential_types::provider::SharedCredentialsProvider> {
        self.sdk.credentials_provider()
    }

    /// The endpoint every client of the session is pointed at, when one is set (from
    /// `--endpoint-url`, the environment or the profile); `None` on AWS's own endpoints.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.sdk.endpoint_url()
    }

    /// An S3 client for another region (after a wrong-region finding, to keep checking),
    /// built on first use and kept for the session's later calls there.
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let mut clients = self.s3_by_region.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.to_owned())
            .or_insert_with(|| {
                let region = Region::new(region.to_owned());
                built("S3", Some(&region));
                let conf = s3_config(
                    aws_sdk_s3::config::Builder::from(&self.sdk).region(region),
                    self.path_style,
                )
                .interceptor(self.silence.clone())
                .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .clone()
    }

    /// A KMS client (in `region` when given: a key lives in one region), built when first
    /// needed and kept for the session.
    pub fn kms_in(&self, region: Option<&str>) -> aws_sdk_kms::Client {
        let mut clients = self.kms_by_region.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(region.map(str::to_owned))
            .or_insert_with(|| {
                let mut conf = aws_sdk_kms::config::Builder::from(&self.sdk).interceptor(CallLog);
                if let Some(r) = region {
                    conf = conf.region(Region::new(r.to_owned()));
                }
                let conf = conf.build();
                built("KMS", conf.region());
                aws_sdk_kms::Client::from_conf(conf)
            })
            .clone()
    }

    /// The region the clients sign for.
    pub fn region(&self) -> Option<&str> {
        self.sdk.region().map(Region::as_ref)
    }
}

/// The debug log's line for each AWS client built (`--log`): a run should build each once.
fn built(service: &str, region: Option<&Region>) {
    tracing::debug!(
        target: "s3doctor::aws",
        service,
        region = region.map(Region::as_ref).unwrap_or("none"),
        "AWS client built"
    );
}

/// S3's habits for custom endpoints (S3-compatible servers): path-style addressing, since
/// their DNS rarely has a name per bucket, and checksums only when an operation requires one.
/// Since early 2025 the SDK adds CRC32 checksum headers (and `aws-chunked` bodies) to every
/// upload by default and validates response checksums; servers that predate this reject such
/// uploads or answer without them, which would read as a failed upload that the app (on an
/// older SDK) never sees. AWS itself keeps the SDK's defaults.
fn s3_config(builder: aws_sdk_s3::config::Builder, custom: bool) -> aws_sdk_s3::config::Builder {
    let builder = builder.force_path_style(custom).interceptor(CallLog);
    if custom {
        builder
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
            )
            .response_checksum_validation(
                aws_sdk_s3::config::ResponseChecksumValidation::WhenRequired,
            )
    } else {
        builder
    }
}

/// A session whose credentials resolved: the clients plus what to show about it.
#[derive(Clone, Debug)]
pub struct Session {
    pub clients: Clients,
    /// The configured region, or `None` when nothing set one.
    pub region: Option<String>,
    pub region_source: Option<String>,
    pub credential_source: String,
    /// The key id shortened for display (`AKIA…WXYZ`); never the secret.
    pub key_id_hint: String,
    pub expiry: Option<SystemTime>,
    /// The keys came with a session token (temporary credentials: a role's session, SSO,
    /// `aws sts get-session-token`), so a refused key id may be the token's fault.
    pub temporary: bool,
    /// The roles assumed on the way to these credentials, in order (a role profile's
    /// `role_arn`s, then `--role-arn`): who assumed which role.
    pub assumed: Vec<AssumedRole>,
}

/// One role the credential chain assumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRole {
    pub role_arn: String,
    pub session_name: String,
    /// Who asked: the credentials it was assumed with, in words (`the keys of profile ci
    /// (AKIA…1234)`, or the previous role's session).
    pub by: String,
    /// What named the role: `profile app`, `--role-arn`, `AWS_ROLE_ARN`.
    pub via: String,
    /// The session's ARN as STS answered it (`arn:aws:sts::…:assumed-role/app/s3doctor`).
    pub session_arn: Option<String>,
    /// The ARN the role was first asked by, when STS refused it and IAM's GetRole named the
    /// role's real ARN (with the path the asked one lacked).
    pub asked_as: Option<String>,
}

impl AssumedRole {
    /// `the keys of profile ci (AKIA…1234) assumed arn:…:role/app (session s3doctor, --role-arn)`.
    pub fn describe(&self) -> String {
        let mut said = format!(
            "{} assumed {} (session {}, {})",
            self.by, self.role_arn, self.session_name, self.via
        );
        if let Some(asked) = &self.asked_as {
            said.push_str(&format!(
                "; STS refused {asked}, which lacks the role's path: iam:GetRole named the role's ARN"
            ));
        }
        said
    }
}

/// An instance metadata client that gives up quickly: off EC2 nothing answers there.
pub fn fast_imds() -> imds::Client {
    imds::Client::builder()
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_secs(1))
        .max_attempts(1)
        .build()
}

/// The region the app is configured for, and where that came from: `--region`, the env
/// file, the environment, the profile, instance metadata.
pub async fn resolve_region(settings: &Settings) -> (Option<String>, Option<String>) {
    if let Some(r) = &settings.region {
        return (Some(r.clone()), Some("--region".into()));
    }
    if let Some(env) = &settings.env_file
        && let Some(r) = &env.region
    {
        return (
            Some(r.clone()),
            Some(format!("env file {}", env.path.display())),
        );
    }
    if let Some(r) = EnvironmentVariableRegionProvider::new().region().await {
        return (Some(r.to_string()), Some("environment".into()));
    }
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(p) = &settings.profile {
        profile = profile.profile_name(p);
    }
    if let Some(r) = profile.build().region().await {
        return (Some(r.to_string()), Some("profile".into()));
    }
    if settings.endpoint.is_none()
        && let Some(r) = imds::region::ImdsRegionProvider::builder()
            .imds_client(fast_imds())
            .build()
            .region()
            .await
    {
        return (Some(r.to_string()), Some("instance metadata".into()));
    }
    (None, None)
}

/// The clients and what to show, for credentials that resolved (`credentials::connect` ends
/// here): `region` is [`resolve_region`]'s answer.
pub async fn session(
    settings: &Settings,
    region: (Option<String>, Option<String>),
    creds: Credentials,
    credential_source: String,
    assumed: Vec<AssumedRole>,
) -> Session {
    let key_id_hint = key_hint(creds.access_key_id());
    let expiry = creds.expiry();
    let temporary = creds.session_token().is_some();
    let sdk = loader(settings, region.0.as_deref())
        .http_client(settings.http.clone())
        .credentials_provider(creds)
        .load()
        .await;
    Session {
        clients: Clients::from_sdk_config(&sdk),
        region: region.0,
        region_source: region.1,
        credential_source,
        key_id_hint,
        expiry,
        temporary,
        assumed,
    }
}

/// An STS client for the credential chain's own calls (a role profile's AssumeRole, web
/// identity, `--role-arn`): to the run's endpoint (`--endpoint-url` reaches these too), with
/// its timeouts, connection pool and call log, signing with `creds` (`None`: unsigned, as
/// AssumeRoleWithWebIdentity is sent).
pub async fn chain_sts(
    settings: &Settings,
    region: Option<&str>,
    creds: Option<Credentials>,
) -> aws_sdk_sts::Client {
    let sdk = chain_config(settings, region, creds, "STS").await;
    let conf = aws_sdk_sts::config::Builder::from(&sdk)
        .interceptor(CallLog)
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// An IAM client for the chain's one IAM call (GetRole, to learn a refused role's path), set
/// up as [`chain_sts`]: the run's endpoint, timeouts and call log, signing with `creds`.
pub async fn chain_iam(
    settings: &Settings,
    region: Option<&str>,
    creds: Credentials,
) -> aws_sdk_iam::Client {
    let sdk = chain_config(settings, region, Some(creds), "IAM").await;
    let conf = aws_sdk_iam::config::Builder::from(&sdk)
        .interceptor(CallLog)
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

/// The configuration of the chain's own clients: the run's endpoint, timeouts and connection
/// pool, signing with `creds` (`None`: unsigned); logged as `service`'s client.
async fn chain_config(
    settings: &Settings,
    region: Option<&str>,
    creds: Option<Credentials>,
    service: &str,
) -> SdkConfig {
    let loader = loader(settings, region).http_client(settings.http.clone());
    let loader = match creds {
        Some(c) => loader.credentials_provider(c),
        None => loader.no_credentials(),
    };
    let sdk = loader.load().await;
    built(service, sdk.region());
    sdk
}

/// The SDK's configuration loader: region (the fallback when none is configured), timeouts,
/// retries, profile and endpoint; the credentials are added by the caller.
fn loader(settings: &Settings, region: Option<&str>) -> aws_config::ConfigLoader {
    let endpoint = settings
        .endpoint
        .clone()
        .or_else(|| settings.env_file.as_ref().and_then(|e| e.endpoint.clone()));
    let signing_region = region.unwrap_or(FALLBACK_REGION).to_owned();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(signing_region))
        .timeout_config(settings.timeouts())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(2)),
        );
    if let Some(p) = &settings.profile {
        loader = loader.profile_name(p);
    }
    if let Some(e) = &endpoint {
        loader = loader.endpoint_url(e);
    }
    loader
}

/// `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: enough to tell keys apart, not to use one.
pub fn key_hint(key_id: &str) -> String {
    let chars: Vec<char> = key_id.chars().collect();
    if chars.len() <= 8 {
        return "…".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hint_never_shows_the_middle() {
        assert_eq!(key_hint("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(key_hint("short"), "…");
    }

    #[test]
    fn shell_word_quotes_only_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_word("/srv/app/.env"), "/srv/app/.env");
        assert_eq!(shell_word("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(shell_word("/srv/my app/.env"), "'/srv/my app/.env'");
        assert_eq!(shell_word("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(shell_word(""), "''");
    }

    /// A loopback server that answers every request `403` with the CORS headers of a refused
    /// preflight; counts the requests.
    async fn refusing_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n @ 1..) = sock.read(&mut chunk).await {
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let answer = "HTTP/1.1 403 Forbidden\r\nx-amz-request-id: R1\r\n\
                                          content-length: 0\r\n\r\n";
                            if sock.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, seen)
    }

    /// The CORS preflight takes the very connector (pool, timeouts) the run's AWS clients send
    /// with: after an SDK call and the preflight the pool holds one connector, not two.
    #[tokio::test]
    async fn the_preflight_shares_the_clients_connector() {
        let (url, seen) = refusing_server().await;
        let settings = Settings {
            endpoint: Some(url.clone()),
            timeout: Duration::from_secs(5),
            ..Settings::default()
        };
        let connectors = |s: &Settings| s.http.0.lock().unwrap().len();
        let sdk = loader(&settings, Some("us-east-1"))
            .http_client(settings.http.clone())
            .credentials_provider(Credentials::new(
                "AKIA0000000000000000",
                "s",
                None,
                None,
                "t",
            ))
            .load()
            .await;
        let s3 = Clients::from_sdk_config(&sdk).s3;
        let head = s3.head_bucket().bucket("b").send().await;
        assert_eq!(
            head.unwrap_err().raw_response().unwrap().status().as_u16(),
            403
        );
        assert_eq!(connectors(&settings), 1);
        let answer = crate::checks::cors::preflight(
            &settings,
            None,
            &format!("{url}/b/k"),
            "https://app.example.com",
            "PUT",
            &["content-type".to_owned()],
        )
        .await
        .unwrap();
        assert_eq!(
            (answer.status, answer.request_id.as_deref()),
            (403, Some("R1"))
        );
        assert_eq!(
            connectors(&settings),
            1,
            "the preflight built its own connector"
        );
        assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    /// An error whose text is `text`, from a source like hyper's.
    #[derive(Debug)]
    struct Said(&'static str, Option<std::io::Error>);

    impl std::fmt::Display for Said {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Said {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_ref().map(|e| e as _)
        }
    }

    /// One reading of how a call got no answer, each kind with its words: a refusal by its
    /// io error, DNS and TLS by the connector's words, a timeout by the flag or the words
    /// (a call not asked after one is a timeout too).
    #[test]
    fn how_a_call_got_no_answer_is_read_once_with_its_words() {
        let io = |kind| Some(std::io::Error::from(kind));
        let cases = [
            (
                Said(
                    "client error (Connect)",
                    io(std::io::ErrorKind::ConnectionRefused),
                ),
                false,
                Unreachable::Refused,
                "connection refused",
            ),
            (
                Said("dns error: failed to lookup address information", None),
                false,
                Unreachable::Dns,
                "DNS lookup failed",
            ),
            (
                Said("invalid peer certificate: UnknownIssuer", None),
                false,
                Unreachable::Tls,
                "TLS failed",
            ),
            (
                Said("connection closed before message completed", None),
                false,
                Unreachable::Connection,
                "connection failed",
            ),
            (
                Said("client error (SendRequest)", None),
                true,
                Unreachable::TimedOut,
                "timed out",
            ),
            (
                Said(NOT_ASKED, None),
                false,
                Unreachable::TimedOut,
                "timed out",
            ),
            (
                Said("something else", None),
                false,
                Unreachable::Other,
                "no answer",
            ),
        ];
        for (err, timed_out, how, words) in cases {
            assert_eq!(unreachable(&err, timed_out), how, "{err}");
            assert_eq!(how.words(), words);
        }
    }

    /// A closed port: the preflight (sent past the SDK) reads the refusal as the SDK's calls
    /// do, so its finding and its log line say "connection refused" as theirs do.
    #[tokio::test]
    async fn a_refused_preflight_is_read_as_a_refused_sdk_call() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let (settings, clients) = settings_and_clients(&url).await;
        let head = clients
            .s3
            .head_bucket()
            .bucket("b")
            .send()
            .await
            .unwrap_err();
        let sdk = crate::answers::failure(crate::operation::Operation::HeadBucket, &head);
        assert_eq!(sdk.evidence.unreachable, Some(Unreachable::Refused));
        let answer = preflight_to(&settings, &clients, &format!("{url}/b/k")).await;
        assert_eq!(answer.unwrap_err().how, Unreachable::Refused);
    }

    /// A loopback endpoint that accepts connections and never answers (a black hole); counts
    /// the connections.
    async fn black_hole() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = seen.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(sock);
            }
        });
        (url, seen)
    }

    /// The run's settings and clients (a 1 s timeout) against `url`.
    async fn settings_and_clients(url: &str) -> (Settings, Clients) {
        let settings = Settings {
            endpoint: Some(url.to_owned()),
            timeout: Duration::from_secs(1),
            ..Settings::default()
        };
        let creds = Credentials::new("AKIA0000000000000000", "s", None, None, "t");
        let sdk = loader(&settings, Some("us-east-1"))
            .http_client(settings.http.clone())
            .credentials_provider(creds)
            .load()
            .await;
        let clients = Clients::from_sdk_config(&sdk);
        (settings, clients)
    }

    fn preflight_to<'a>(
        settings: &'a Settings,
        clients: &'a Clients,
        url: &'a str,
    ) -> impl std::future::Future<Output = Result<crate::checks::cors::Preflight, NoAnswer>> + 'a
    {
        crate::checks::cors::preflight(
            settings,
            Some(clients),
            url,
            "https://app.example.com",
            "PUT",
            &[],
        )
    }

    /// The preflight keeps the silence like the SDK's calls: after a call timed out it is not
    /// sent, and after it timed out the SDK's calls to that host are not sent.
    #[tokio::test]
    async fn the_preflight_keeps_the_silence_both_ways() {
        let connections = |seen: &Arc<std::sync::atomic::AtomicUsize>| {
            seen.load(std::sync::atomic::Ordering::SeqCst)
        };
        // An SDK call times out first: the preflight is not asked.
        let (url, seen) = black_hole().await;
        let (settings, clients) = settings_and_clients(&url).await;
        let head = clients.s3.head_bucket().bucket("b").send().await;
        assert!(head.is_err());
        let before = connections(&seen);
        assert!(before >= 1);
        let answer = preflight_to(&settings, &clients, &format!("{url}/b/k")).await;
        let not_asked = answer.unwrap_err();
        assert_eq!(not_asked.why, NOT_ASKED);
        assert_eq!(not_asked.how, crate::finding::Unreachable::TimedOut);
        assert_eq!(connections(&seen), before, "the preflight was sent");

        // The preflight times out first: the SDK's calls are not asked.
        let (url, seen) = black_hole().await;
        let (settings, clients) = settings_and_clients(&url).await;
        let answer = preflight_to(&settings, &clients, &format!("{url}/b/k")).await;
        let no_answer = answer.unwrap_err();
        assert_eq!(no_answer.how, crate::finding::Unreachable::TimedOut);
        let why = no_answer.why;
        assert_ne!(why, NOT_ASKED);
        // Said in the SDK's calls' words, so diagnose reads it as a timeout too.
        assert!(why.starts_with(TIMED_OUT), "{why}");
        assert!(NOT_ASKED.starts_with(TIMED_OUT));
        let before = connections(&seen);
        let head = clients.s3.head_bucket().bucket("b").send().await;
        let why = aws_smithy_types::error::display::DisplayErrorContext(head.unwrap_err());
        assert!(why.to_string().contains(NOT_ASKED), "{why}");
        assert_eq!(connections(&seen), before, "the SDK's call was sent");
    }
}
