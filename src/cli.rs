//! The command line: clap definitions, and validation that turns bad input into one line
//! on standard error and exit code 2.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::checks::{DEFAULT_PREFIX, RunSettings};
use crate::policy::{Access, AppNetwork};
use crate::{aws, bucket_name, envfile};

/// Input that cannot be used (one line, exit code 2): defined with the exit codes.
pub use crate::exit::BadInput;

/// Diagnose and fix "uploads to S3 return 403", step by step.
#[derive(Debug, Parser)]
#[command(
    name = "s3doctor",
    version,
    about,
    long_about = None,
    after_help = "Examples:\n  \
        s3doctor why \"$(pbpaste)\"                          the app's error, read offline: cause and next check\n  \
        s3doctor --bucket my-bucket                        the wizard, with your AWS profile\n  \
        s3doctor --env-file /srv/app/.env                  exactly the keys and bucket the app uses\n  \
        s3doctor check -b my-bucket --format markdown      a write-up for the ticket\n  \
        s3doctor fix -b my-bucket --admin-profile admin    attach the least-privilege policy, then verify\n\n\
        Exit codes: 0 no problem, 1 problems found, 2 bad input, 3 internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
    /// Run every step as soon as the wizard opens.
    #[arg(long, global = true)]
    pub auto: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checklist headless and print the report on standard output.
    Check {
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the least-privilege policy JSON for the buckets and access level.
    Policy,
    /// Attach the least-privilege policy and verify that it worked (needs --yes headless).
    Fix {
        /// Apply without asking (required when not interactive).
        #[arg(long)]
        yes: bool,
        /// Name of the managed policy to create or update.
        #[arg(long)]
        policy_name: Option<String>,
        /// Detach what s3doctor attached, instead of fixing.
        #[arg(long)]
        undo: bool,
        /// Write the fix as Markdown for whoever owns IAM, and change nothing.
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// How long to keep re-checking after the change (IAM is eventually consistent).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        verify_timeout: u64,
    },
    /// What a finding code means, how s3doctor detects it, the usual causes and the fix.
    Explain {
        /// A finding code, e.g. permission.missing (without one: the list of codes).
        code: Option<String>,
    },
    /// Print shell completions for bash, zsh, fish or powershell.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `s3doctor man > s3doctor.1`.
    Man,
    /// The incident gallery of scripts/demo.sh, against the local emulator.
    #[command(hide = true)]
    Demo(DemoOptions),
    /// Read the app's error (an SDK's or the AWS CLI's message, a stack trace, an XML error
    /// body, a CloudTrail event) offline: what was refused, the cause and how it is known,
    /// and the live check to run. Nothing is sent.
    Why {
        /// The error text; `-` (or a pipe) reads standard input.
        text: Option<String>,
        /// Read the text from a file.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Diagnose a presigned URL (SigV4 or SigV2): expiry, region, signer, method, signed
    /// headers, session. Only the URL's own server is asked (and AWS's STS for a URL on AWS);
    /// the URL itself is sent only with --try (GET URLs only, one byte).
    Url {
        /// The presigned URL (quote it: it contains `&`).
        url: String,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Send a GET URL once with `Range: bytes=0-0` to see S3's answer (never a PUT URL).
        #[arg(long = "try")]
        try_get: bool,
        /// The URL's method, when it does not say (no `x-id` parameter).
        #[arg(long, value_parser = ["GET", "PUT", "HEAD", "DELETE", "POST", "get", "put", "head", "delete", "post"])]
        method: Option<String>,
        /// Send nothing: neither the bucket's region (unsigned HeadBucket) nor the signer's
        /// account (sts:GetAccessKeyInfo) is looked up, and --try is not sent.
        #[arg(long)]
        offline: bool,
    },
}

/// What `demo` was asked to do: its flags, read by clap straight into the options the
/// demo runs with.
#[derive(Clone, Debug, Default, Args)]
pub struct DemoOptions {
    /// Jump straight to this incident (see --list).
    #[arg(long, value_name = "NAME")]
    pub incident: Option<String>,
    /// Print the incidents and exit.
    #[arg(long)]
    pub list: bool,
    /// The demo's private directory: the apps' .env files and the seeding state.
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// Seed --incident fresh and print where its .env is, as JSON (no terminal).
    #[arg(long)]
    pub seed: bool,
    /// Make --incident's fix, the change a person makes (after --seed, same --workdir).
    #[arg(long)]
    pub apply_fix: bool,
    /// Appended to every name the incident creates (tests seed side by side).
    #[arg(long, default_value = "", value_name = "TEXT")]
    pub suffix: String,
    /// Ceph RGW for the incidents that run there (with the two profiles below).
    #[arg(long, value_name = "URL")]
    pub rgw_endpoint: Option<String>,
    /// The profile of the RGW bucket owner (the demo's admin on RGW).
    #[arg(long, value_name = "PROFILE")]
    pub rgw_owner_profile: Option<String>,
    /// The profile holding the RGW app user's key.
    #[arg(long, value_name = "PROFILE")]
    pub rgw_app_profile: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// `--vpce-type`: what an Allow naming the account means through the endpoint (every user
/// and role through an interface endpoint, the root user only through a gateway endpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VpceType {
    Interface,
    Gateway,
}

impl From<VpceType> for crate::checks::vpc_endpoint::Kind {
    fn from(t: VpceType) -> Self {
        match t {
            VpceType::Interface => Self::Interface,
            VpceType::Gateway => Self::Gateway,
        }
    }
}

/// Options every command shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Bucket to check (repeat, or separate with commas).
    #[arg(long = "bucket", short = 'b', global = true, value_delimiter = ',')]
    pub buckets: Vec<String>,
    /// AWS profile for the app's credentials (wins over keys in the environment, as in the
    /// AWS CLI; AWS_PROFILE from the environment keeps the SDK's order instead).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Check as this IAM role (the app's ECS, EKS or Lambda role): assumed with the
    /// credentials that resolve (your own), then every step runs as the role.
    #[arg(long, global = true, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for (with --role-arn).
    #[arg(long, global = true, value_name = "ID")]
    pub external_id: Option<String>,
    /// The session name for --role-arn (default: s3doctor).
    #[arg(long, global = true, value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// Region the app is configured for.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Custom endpoint (S3-compatible storage, a local emulator); path-style addressing.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// The app's dotenv file (AWS_* and S3_* names are recognised).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Access the app needs.
    #[arg(long, global = true, value_enum, default_value_t = Access::ReadWrite)]
    pub access: Access,
    /// Key prefix for probe objects; when given, the policy is scoped to it too.
    #[arg(long, global = true)]
    pub prefix: Option<String>,
    /// Never write: skip the upload, ACL and delete probes.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// The user or role (name or ARN) the keys should belong to.
    #[arg(long, global = true, value_name = "NAME|ARN")]
    pub expect_principal: Option<String>,
    /// The app uploads large files in parts: probe a multipart upload too (always done when
    /// the bucket encrypts with KMS).
    #[arg(long, global = true)]
    pub multipart: bool,
    /// The canned ACL the app sends with its uploads (private, public-read, bucket-owner-full-control and the rest):
    /// the upload probe sends it too.
    #[arg(long, global = true, value_name = "CANNED_ACL", value_parser = CANNED_ACLS)]
    pub acl: Option<String>,
    /// The web origin the app's browser uploads come from (https://app.example.com): check
    /// the bucket's CORS rules with a real preflight.
    #[arg(long, global = true, value_name = "URL")]
    pub origin: Option<String>,
    /// The app's own object (its key in the bucket) that fails: read it, never write it, and
    /// say why it cannot be read (repeat for several).
    #[arg(long = "key", global = true, value_name = "KEY")]
    pub keys: Vec<String>,
    /// The address the app's requests come from (its public IP, or its private one with
    /// --vpc/--vpce): conditions on aws:SourceIp / aws:VpcSourceIp are judged for it.
    #[arg(long, global = true, value_name = "IP")]
    pub source_ip: Option<String>,
    /// The VPC the app runs in, reaching S3 through a VPC endpoint (aws:SourceVpc).
    #[arg(long, global = true, value_name = "ID")]
    pub vpc: Option<String>,
    /// The VPC endpoint the app's requests go through (aws:SourceVpce).
    #[arg(long, global = true, value_name = "ID")]
    pub vpce: Option<String>,
    /// The VPC endpoint's policy as a JSON file (instead of reading it with
    /// ec2:DescribeVpcEndpoints and --admin-profile); goes with --vpce.
    #[arg(long, global = true, value_name = "FILE")]
    pub vpce_policy: Option<PathBuf>,
    /// The VPC endpoint's type, for --vpce-policy (EC2 says it when it is read); goes with --vpce.
    #[arg(long, global = true, value_name = "TYPE")]
    pub vpce_type: Option<VpceType>,
    /// Profile allowed to read and change IAM (for the policies and the fix).
    #[arg(long, global = true, value_name = "PROFILE")]
    pub admin_profile: Option<String>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Timeout of each AWS call, in seconds.
    #[arg(long, global = true, default_value_t = 10, value_name = "SECS")]
    pub timeout: u64,
    /// Debug log of every AWS call (no secrets) to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// A file that `flag` can write: not a directory, in a directory that exists. Said before
/// the run, not after it with the report lost.
pub fn writable_file(flag: &str, path: &std::path::Path) -> Result<(), BadInput> {
    if path.is_dir() {
        return Err(BadInput(format!(
            "{flag} {} is a directory: give a file name",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(BadInput(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// The canned ACLs S3 knows (what `--acl` accepts).
pub const CANNED_ACLS: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

/// `https://host[:port]` or `http://host[:port]`, as a browser sends it in `Origin` (no path).
fn valid_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}

/// A name the SDK can sign for and put in a host name: one DNS label (`us-east-1`, and the
/// names S3-compatible servers use, such as `default` or `auto`). Anything else fails every
/// call with an endpoint-construction error, not an answer from AWS.
fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The region flag, or else the env file's, is one a request can be signed for.
fn check_region(flag: Option<&str>, env_file: Option<&envfile::EnvFile>) -> Result<(), BadInput> {
    if let Some(r) = flag {
        if !valid_region(r) {
            return Err(BadInput(format!(
                "--region {r:?} is not a region name (like us-east-1)"
            )));
        }
        return Ok(());
    }
    let Some(env) = env_file else { return Ok(()) };
    match &env.region {
        Some(r) if !valid_region(r) => {
            let var = env
                .used
                .iter()
                .find(|u| u.purpose == "region")
                .map_or("the region", |u| u.name.as_str());
            Err(BadInput(format!(
                "env file {} sets {var} to {r:?}, which is not a region name (like us-east-1): \
                 the app's calls cannot be signed with it either",
                env.path.display()
            )))
        }
        _ => Ok(()),
    }
}

/// An AWS resource id: `prefix` and 8 to 17 letters or digits (`vpc-0a1b2c3d`,
/// `vpce-0a1b2c3d4e5f67890`; AWS's are 8 or 17 hex digits).
fn valid_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|rest| {
        (8..=17).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// `--key KEY`: a key S3 can hold (see `object_key`).
fn check_key(key: &str) -> Result<(), BadInput> {
    crate::object_key::validate(key).map_err(|why| BadInput(format!("--key {why}")))
}

/// The validated configuration of a run.
#[derive(Debug)]
pub struct Config {
    pub settings: aws::Settings,
    pub run: RunSettings,
    pub admin: Option<aws::Settings>,
}

impl Common {
    /// Checks the input and builds the settings: bucket names by S3's rules, a readable
    /// env file, a sane timeout and prefix.
    pub fn config(&self) -> Result<Config, BadInput> {
        let env_file = match &self.env_file {
            Some(path) => Some(envfile::load(path).map_err(|e| BadInput(e.to_string()))?),
            None => None,
        };
        let buckets = self.buckets(env_file.as_ref())?;
        self.check_flags()?;
        check_region(self.region.as_deref(), env_file.as_ref())?;
        let role = self.role_to_assume()?;
        // `--profile` on the command line wins over keys in the environment (the AWS CLI's
        // rule); AWS_PROFILE from the environment keeps the SDK's order.
        let (profile, profile_only) = match &self.profile {
            Some(p) => (Some(p.clone()), true),
            None => (
                std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()),
                false,
            ),
        };
        let settings = aws::Settings {
            profile,
            region: self.region.clone(),
            endpoint: self
                .endpoint_url
                .clone()
                .or_else(|| env_file.as_ref().and_then(|e| e.endpoint.clone())),
            env_file,
            profile_only,
            role,
            timeout: Duration::from_secs(self.timeout),
            http: aws::HttpPool::default(),
        };
        let admin = self
            .admin_profile
            .as_deref()
            .map(|p| settings.with_profile(p));
        let mut run = self.run_settings(buckets);
        run.vpce_policy = self.vpce_policy_file()?;
        Ok(Config {
            settings,
            run,
            admin,
        })
    }

    /// `--role-arn` with its options: an IAM role ARN, a session name STS accepts; the options
    /// alone are bad input.
    fn role_to_assume(&self) -> Result<Option<aws::RoleToAssume>, BadInput> {
        let Some(arn) = &self.role_arn else {
            return match (&self.external_id, &self.role_session_name) {
                (None, None) => Ok(None),
                (Some(_), _) => Err(BadInput("--external-id goes with --role-arn".into())),
                (_, Some(_)) => Err(BadInput("--role-session-name goes with --role-arn".into())),
            };
        };
        let arn = arn.trim();
        match crate::arn::parse_principal(arn) {
            Ok(p) if p.kind == crate::arn::PrincipalKind::Role => {}
            _ => {
                return Err(BadInput(format!(
                    "--role-arn {arn:?} is not an IAM role ARN (like arn:aws:iam::123456789012:role/app)"
                )));
            }
        }
        let session_name = self
            .role_session_name
            .clone()
            .unwrap_or_else(|| aws::ROLE_SESSION_NAME.to_owned());
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        if !(2..=64).contains(&session_name.len()) || !session_name.chars().all(allowed) {
            return Err(BadInput(format!(
                "--role-session-name {session_name:?} must be 2 to 64 letters, digits or _+=,.@-"
            )));
        }
        if let Some(id) = &self.external_id
            && !(2..=1224).contains(&id.len())
        {
            return Err(BadInput(
                "--external-id must be 2 to 1224 characters (STS's limits)".into(),
            ));
        }
        Ok(Some(aws::RoleToAssume {
            role_arn: arn.to_owned(),
            external_id: self.external_id.clone(),
            session_name,
        }))
    }

    /// `--bucket` (or else the env file's buckets), valid by S3's rules, each once.
    fn buckets(&self, env_file: Option<&envfile::EnvFile>) -> Result<Vec<String>, BadInput> {
        let from_flags = self
            .buckets
            .iter()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty());
        let from_env = env_file.iter().flat_map(|e| e.buckets.iter().cloned());
        let candidates: Vec<String> = if self.buckets.is_empty() {
            from_env.collect()
        } else {
            from_flags.collect()
        };
        let mut buckets: Vec<String> = Vec::new();
        for b in candidates {
            bucket_name::check(&b).map_err(|e| BadInput(e.to_string()))?;
            if !buckets.contains(&b) {
                buckets.push(b);
            }
        }
        Ok(buckets)
    }

    /// A sane timeout, a usable prefix, an http(s) endpoint and a web origin.
    fn check_flags(&self) -> Result<(), BadInput> {
        if self.timeout == 0 || self.timeout > 600 {
            return Err(BadInput(format!(
                "--timeout must be between 1 and 600 seconds, not {}",
                self.timeout
            )));
        }
        if let Some(p) = &self.prefix
            && (p.len() > 512
                || p.starts_with('/')
                || p.contains("..")
                || p.chars().any(char::is_control))
        {
            return Err(BadInput(format!(
                "--prefix {p:?} is not a usable key prefix"
            )));
        }
        if let Some(endpoint) = &self.endpoint_url
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(BadInput(format!(
                "--endpoint-url {endpoint:?} must start with http:// or https://"
            )));
        }
        if let Some(origin) = &self.origin
            && !valid_origin(origin)
        {
            return Err(BadInput(format!(
                "--origin {origin:?} is not a web origin: give scheme, host and optional port, \
                 like https://app.example.com"
            )));
        }
        if let Some(who) = &self.expect_principal
            && who.trim().is_empty()
        {
            return Err(BadInput(
                "--expect-principal needs a user or role name or ARN (it was empty)".into(),
            ));
        }
        for key in &self.keys {
            check_key(key)?;
        }
        self.app_network()?;
        if let Some(path) = &self.output {
            writable_file("--output", path)?;
        }
        if let Some(path) = &self.log {
            writable_file("--log", path)?;
        }
        Ok(())
    }

    /// `--source-ip`, `--vpc`, `--vpce`: an IP address, and the ids as AWS spells them
    /// (`vpc-` or `vpce-` and hex digits); `--vpce-type` only with `--vpce`.
    fn app_network(&self) -> Result<AppNetwork, BadInput> {
        if self.vpce_type.is_some() && self.vpce.is_none() {
            return Err(BadInput(
                "--vpce-type goes with --vpce (the endpoint it describes)".into(),
            ));
        }
        let source_ip = match &self.source_ip {
            Some(ip) => Some(ip.trim().parse::<std::net::IpAddr>().map_err(|_| {
                BadInput(format!(
                    "--source-ip {ip:?} is not an IP address (like 203.0.113.7 or 10.0.1.25)"
                ))
            })?),
            None => None,
        };
        let id = |flag: &str, prefix: &str, value: &Option<String>| match value {
            Some(v) if !valid_id(v.trim(), prefix) => Err(BadInput(format!(
                "--{flag} {v:?} is not a {flag} id (like {prefix}0a1b2c3d4e5f67890)"
            ))),
            Some(v) => Ok(Some(v.trim().to_owned())),
            None => Ok(None),
        };
        Ok(AppNetwork {
            source_ip,
            vpc: id("vpc", "vpc-", &self.vpc)?,
            vpce: id("vpce", "vpce-", &self.vpce)?,
        })
    }

    /// `--vpce-policy FILE`: a readable policy document, with `--vpce`.
    fn vpce_policy_file(
        &self,
    ) -> Result<Option<crate::checks::vpc_endpoint::PolicyFile>, BadInput> {
        let Some(path) = &self.vpce_policy else {
            return Ok(None);
        };
        let Some(vpce) = &self.vpce else {
            return Err(BadInput(
                "--vpce-policy goes with --vpce (the endpoint it belongs to)".into(),
            ));
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            BadInput(format!(
                "--vpce-policy {}: cannot be read ({e})",
                path.display()
            ))
        })?;
        let document = crate::policy::PolicyDocument::parse(text.trim()).map_err(|e| {
            BadInput(format!(
                "--vpce-policy {}: not a policy document ({e})",
                path.display()
            ))
        })?;
        Ok(Some(crate::checks::vpc_endpoint::PolicyFile {
            path: path.clone(),
            policy: crate::checks::vpc_endpoint::named(vpce.trim(), document),
        }))
    }

    /// What the run checks, from the flags.
    fn run_settings(&self, buckets: Vec<String>) -> RunSettings {
        // An upload that sets an ACL needs s3:PutObjectAcl too: what `full` grants.
        let access = if self.acl.is_some() && self.access == Access::ReadWrite {
            Access::Full
        } else {
            self.access
        };
        RunSettings {
            buckets,
            access,
            prefix: self
                .prefix
                .clone()
                .unwrap_or_else(|| DEFAULT_PREFIX.to_owned()),
            prefix_scoped: self.prefix.is_some(),
            // An app that only reads needs no write probes.
            read_only: self.read_only || self.access == Access::Read,
            expect_principal: self.expect_principal.clone(),
            multipart: self.multipart,
            acl: self.acl.clone(),
            origin: self.origin.clone(),
            keys: self.keys.iter().fold(Vec::new(), |mut keys, k| {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
                keys
            }),
            // Checked by `check_flags` before.
            network: self.app_network().unwrap_or_default(),
            vpce_policy: None,
            vpce_type: self.vpce_type.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("s3doctor").chain(args.iter().copied()))
    }

    #[test]
    fn buckets_repeat_and_split_on_commas() {
        let cli = parse(&["check", "--bucket", "a-1,b-2", "-b", "c-3"]).unwrap();
        let cfg = cli.common.config().unwrap();
        assert_eq!(cfg.run.buckets, ["a-1", "b-2", "c-3"]);
    }

    #[test]
    fn invalid_bucket_name_is_bad_input() {
        let cli = parse(&["check", "--bucket", "My_Bucket"]).unwrap();
        let err = cli.common.config().unwrap_err().to_string();
        assert!(
            err.starts_with("invalid bucket name \"My_Bucket\""),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn unknown_flag_is_a_usage_error_with_exit_code_2() {
        let err = parse(&["check", "--bukket", "x"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn a_region_that_cannot_be_signed_for_is_bad_input() {
        for ok in ["us-east-1", "cn-north-1", "default", "auto"] {
            assert!(valid_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us east 1",
            "eu-west-1 ",
            "-x",
            "us_east_1",
            "eu-west-1/",
        ] {
            let flag = format!("--region={bad}");
            let cli = parse(&["check", "--bucket", "abc", &flag]).unwrap();
            let err = cli.common.config().unwrap_err().to_string();
            assert!(err.starts_with("--region "), "{bad:?}: {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join("app.env");
        std::fs::write(&env, "S3_BUCKET=abc\nS3_REGION=\"eu-west-1 \"\n").unwrap();
        let env = env.to_str().unwrap();
        let cli = parse(&["check", "--env-file", env]).unwrap();
        let err = cli.common.config().unwrap_err().to_string();
        assert!(err.contains("sets S3_REGION to \"eu-west-1 \""), "{err}");
        // --region overrides the file's region, so that one does not matter then.
        let cli = parse(&["check", "--env-file", env, "--region", "eu-west-1"]).unwrap();
        assert!(cli.common.config().is_ok());
    }

    #[test]
    fn unreadable_env_file_is_bad_input() {
        let cli = parse(&["check", "--env-file", "/nonexistent/.env"]).unwrap();
        let err = cli.common.config().unwrap_err().to_string();
        assert!(err.contains("/nonexistent/.env"), "{err}");
    }

    #[test]
    fn keys_repeat_once_each_and_bad_ones_are_bad_input() {
        let cli = parse(&[
            "check", "-b", "abc", "--key", "a/b.pdf", "--key", "c d", "--key", "a/b.pdf",
        ])
        .unwrap();
        assert_eq!(cli.common.config().unwrap().run.keys, ["a/b.pdf", "c d"]);
        for bad in ["", "line\nbreak", &"k".repeat(1025)] {
            let cli = parse(&["check", "-b", "abc", "--key", bad]).unwrap();
            let err = cli.common.config().unwrap_err().to_string();
            assert!(err.starts_with("--key "), "{bad:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn prefix_given_scopes_the_policy() {
        let cli = parse(&["policy", "--bucket", "abc", "--prefix", "uploads/"]).unwrap();
        let cfg = cli.common.config().unwrap();
        assert!(cfg.run.prefix_scoped);
        assert_eq!(cfg.run.prefix, "uploads/");
        let cli = parse(&["policy", "--bucket", "abc"]).unwrap();
        assert!(!cli.common.config().unwrap().run.prefix_scoped);
    }
}
