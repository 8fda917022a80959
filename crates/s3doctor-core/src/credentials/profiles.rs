//! The shared config and credentials files as the AWS SDKs read them (`AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`): which
//! profiles each file holds, and what a profile's credentials are made of — keys, a role on top
//! of another profile or a named source, web identity, SSO or a credential process — by
//! aws-config's own rules (`profile/credentials/repr.rs`: a `role_arn` chains profiles, static
//! keys win in every profile after the first, a self-referencing `source_profile` takes the
//! profile's own keys).

use std::path::{Path, PathBuf};

use aws_config::profile::{Profile, ProfileSet};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};

use crate::envfile::Secret;

/// One of the two files, as read.
#[derive(Clone, Debug)]
pub struct FileRead {
    pub path: PathBuf,
    /// The profiles it holds, in file order; `None` when the file is missing or unreadable.
    pub profiles: Option<Vec<String>>,
}

impl FileRead {
    /// `/home/me/.aws/config (profiles: default, ci)` or `… (missing)`.
    fn describe(&self) -> String {
        let what = match &self.profiles {
            None => "missing".to_owned(),
            Some(p) if p.is_empty() => "no profiles".to_owned(),
            Some(p) => format!("profiles: {}", p.join(", ")),
        };
        format!("{} ({what})", self.path.display())
    }
}

/// Both files, and the profiles merged as the SDK sees them.
#[derive(Clone, Debug)]
pub struct ProfileFiles {
    pub config: FileRead,
    pub credentials: FileRead,
    merged: Option<ProfileSet>,
}

/// The static keys of a profile (the secret and token never shown).
#[derive(Clone, Debug)]
pub struct ProfileKeys {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// What a chain of profiles starts from.
#[derive(Clone, Debug)]
pub enum Base {
    /// `aws_access_key_id` and `aws_secret_access_key` of `profile`.
    Keys { profile: String, keys: ProfileKeys },
    /// `credential_source = Environment | Ec2InstanceMetadata | EcsContainer`.
    Named { profile: String, source: String },
    /// `role_arn` + `web_identity_token_file`: AssumeRoleWithWebIdentity.
    WebIdentity {
        profile: String,
        role_arn: String,
        token_file: String,
        session_name: Option<String>,
    },
    /// `sso_session` or `sso_start_url`… : an IAM Identity Center session.
    Sso { profile: String },
    /// `credential_process`: a command prints the keys.
    Process { profile: String },
}

impl Base {
    /// The profile the base is defined in.
    pub fn profile(&self) -> &str {
        match self {
            Base::Keys { profile, .. }
            | Base::Named { profile, .. }
            | Base::WebIdentity { profile, .. }
            | Base::Sso { profile }
            | Base::Process { profile } => profile,
        }
    }

    /// In words: `keys of profile ci`, `SSO (profile dev)`, …
    pub fn describe(&self) -> String {
        match self {
            Base::Keys { profile, keys } => format!(
                "the keys of profile {profile} ({})",
                crate::aws::key_hint(&keys.access_key_id)
            ),
            Base::Named { profile, source } => {
                format!("credential_source {source} of profile {profile}")
            }
            Base::WebIdentity {
                profile, role_arn, ..
            } => format!("web identity for {role_arn} (profile {profile})"),
            Base::Sso { profile } => format!("SSO (profile {profile})"),
            Base::Process { profile } => format!("credential_process of profile {profile}"),
        }
    }
}

/// One `role_arn` of the chain, assumed with the credentials before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleHop {
    /// The profile that names the role.
    pub profile: String,
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    /// `mfa_serial`: the role wants an MFA code, which no SDK asks for without a prompt.
    pub mfa_serial: Option<String>,
}

/// A profile's credentials: a base, then the roles assumed on top of it, in order.
#[derive(Clone, Debug)]
pub struct ProfileChain {
    pub base: Base,
    pub roles: Vec<RoleHop>,
}

impl ProfileChain {
    /// `role arn:…:role/app (profile app) on top of the keys of profile ci (AKIA…)`.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for hop in self.roles.iter().rev() {
            text.push_str(&format!(
                "role {} (profile {}) on top of ",
                hop.role_arn, hop.profile
            ));
        }
        text.push_str(&self.base.describe());
        text
    }
}

/// Why a profile gives no chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// The profile is in neither file.
    Missing(String),
    /// It defines no credentials at all (only a region, say): the SDK goes on to the next
    /// provider.
    NoCredentials(String),
    /// It is configured in a way the SDK refuses (the words say how).
    Invalid(String),
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::Missing(p) => write!(f, "profile {p} is defined in neither file"),
            ChainError::NoCredentials(p) => write!(
                f,
                "profile {p} defines no credentials (no aws_access_key_id, role_arn, sso_*, \
                 credential_process or web_identity_token_file)"
            ),
            ChainError::Invalid(why) => f.write_str(why),
        }
    }
}

impl ProfileFiles {
    /// Reads both files where `env` says they are (nothing is written, nothing is sent).
    pub async fn load(env: &Env) -> ProfileFiles {
        let fs = Fs::real();
        let home = env.get("HOME").ok();
        let config_path = path_of(env, "AWS_CONFIG_FILE", "config", home.as_deref());
        let credentials_path = path_of(
            env,
            "AWS_SHARED_CREDENTIALS_FILE",
            "credentials",
            home.as_deref(),
        );
        let config = read_one(&fs, env, EnvConfigFileKind::Config, &config_path).await;
        let credentials =
            read_one(&fs, env, EnvConfigFileKind::Credentials, &credentials_path).await;
        // The builder refuses an empty set: with neither file there are no profiles.
        let mut files = EnvConfigFiles::builder();
        if config.1.is_some() {
            files = files.with_file(EnvConfigFileKind::Config, &config_path);
        }
        if credentials.1.is_some() {
            files = files.with_file(EnvConfigFileKind::Credentials, &credentials_path);
        }
        let merged = match (&config.1, &credentials.1) {
            (None, None) => None,
            _ => aws_config::profile::load(&fs, env, &files.build(), None)
                .await
                .ok(),
        };
        ProfileFiles {
            config: FileRead {
                path: config_path,
                profiles: config.1,
            },
            credentials: FileRead {
                path: credentials_path,
                profiles: credentials.1,
            },
            merged,
        }
    }

    /// True when either file defines `name`.
    pub fn has(&self, name: &str) -> bool {
        self.profile(name).is_some()
    }

    fn profile(&self, name: &str) -> Option<&Profile> {
        self.merged.as_ref()?.get_profile(name)
    }

    /// A property of a profile (`region`, `role_arn`, …).
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        self.profile(profile)?.get(key)
    }

    /// One line for a profile found in neither file: the files read and the profiles they hold.
    pub fn not_found(&self, name: &str, named_by: &str) -> String {
        format!(
            "profile {name} ({named_by}) is not defined in {} nor in {}",
            self.config.describe(),
            self.credentials.describe()
        )
    }

    /// The chain of profile `name`, by the SDK's rules.
    pub fn chain(&self, name: &str) -> Result<ProfileChain, ChainError> {
        let Some(set) = &self.merged else {
            return Err(ChainError::Missing(name.to_owned()));
        };
        let mut current = name.to_owned();
        let mut visited: Vec<String> = Vec::new();
        let mut roles = Vec::new();
        loop {
            let profile = set.get_profile(&current).ok_or_else(|| match visited.last() {
                None => ChainError::Missing(current.clone()),
                Some(from) => ChainError::Invalid(format!(
                    "profile {from} names source_profile {current}, which is defined in neither file"
                )),
            })?;
            if visited.contains(&current) {
                return Err(ChainError::Invalid(format!(
                    "profiles {} and {current} name each other as source_profile (a loop)",
                    visited.join(", ")
                )));
            }
            visited.push(current.clone());
            // After the first profile, static keys win over anything else in it.
            if visited.len() > 1
                && let Some(keys) = static_keys(profile)?
            {
                return Ok(ProfileChain {
                    base: Base::Keys {
                        profile: current,
                        keys,
                    },
                    roles: reversed(roles),
                });
            }
            match next_profile(profile)? {
                Next::Base => {
                    let base = base_of(profile).map_err(|e| match (e, visited.len()) {
                        (ChainError::NoCredentials(p), n) if n > 1 => ChainError::Invalid(format!(
                            "source profile {p} defines no credentials"
                        )),
                        (e, _) => e,
                    })?;
                    return Ok(ProfileChain {
                        base,
                        roles: reversed(roles),
                    });
                }
                Next::Role(hop, next) => {
                    roles.push(hop);
                    match next {
                        Some(name) => current = name,
                        None => {
                            let base = base_of(profile)?;
                            return Ok(ProfileChain {
                                base,
                                roles: reversed(roles),
                            });
                        }
                    }
                }
            }
        }
    }
}

fn reversed(mut roles: Vec<RoleHop>) -> Vec<RoleHop> {
    roles.reverse();
    roles
}

/// Where a profile leads: to its own base, or to a role on top of another profile (`Some`) or
/// of its own base (`None`: a self-reference or a `credential_source`).
enum Next {
    Base,
    Role(RoleHop, Option<String>),
}

fn next_profile(profile: &Profile) -> Result<Next, ChainError> {
    // Web identity is a base of its own, not a chained role.
    let Some(role_arn) = profile
        .get("role_arn")
        .filter(|_| profile.get("web_identity_token_file").is_none())
    else {
        return Ok(Next::Base);
    };
    let hop = RoleHop {
        profile: profile.name().to_owned(),
        role_arn: role_arn.to_owned(),
        external_id: profile.get("external_id").map(str::to_owned),
        session_name: profile.get("role_session_name").map(str::to_owned),
        mfa_serial: profile.get("mfa_serial").map(str::to_owned),
    };
    let name = profile.name();
    match (
        profile.get("source_profile"),
        profile.get("credential_source"),
    ) {
        (Some(_), Some(_)) => Err(ChainError::Invalid(format!(
            "profile {name} sets both source_profile and credential_source (only one may be set)"
        ))),
        (None, None) => Err(ChainError::Invalid(format!(
            "profile {name} sets role_arn but neither source_profile nor credential_source"
        ))),
        (Some(source), None) if source == name => Ok(Next::Role(hop, None)),
        (Some(source), None) => Ok(Next::Role(hop, Some(source.to_owned()))),
        (None, Some(_)) => Ok(Next::Role(hop, None)),
    }
}

/// A profile's own credentials, in the SDK's order: a named source, web identity, SSO, a
/// credential process, static keys.
fn base_of(profile: &Profile) -> Result<Base, ChainError> {
    let name = profile.name().to_owned();
    if let Some(source) = profile.get("credential_source") {
        return Ok(Base::Named {
            profile: name,
            source: source.to_owned(),
        });
    }
    match (
        profile.get("role_arn"),
        profile.get("web_identity_token_file"),
    ) {
        (Some(role_arn), Some(token_file)) => {
            return Ok(Base::WebIdentity {
                role_arn: role_arn.to_owned(),
                token_file: token_file.to_owned(),
                session_name: profile.get("role_session_name").map(str::to_owned),
                profile: name,
            });
        }
        (None, Some(_)) => {
            return Err(ChainError::Invalid(format!(
                "profile {name} sets web_identity_token_file but not role_arn"
            )));
        }
        _ => {}
    }
    if [
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    ]
    .iter()
    .any(|k| profile.get(k).is_some())
    {
        return Ok(Base::Sso { profile: name });
    }
    if profile.get("credential_process").is_some() {
        return Ok(Base::Process { profile: name });
    }
    match static_keys(profile)? {
        Some(keys) => Ok(Base::Keys {
            profile: name,
            keys,
        }),
        None => Err(ChainError::NoCredentials(name)),
    }
}

/// The profile's static keys; an error when only one half is set.
fn static_keys(profile: &Profile) -> Result<Option<ProfileKeys>, ChainError> {
    let name = profile.name();
    let id = profile.get("aws_access_key_id").filter(|v| !v.is_empty());
    let secret = profile
        .get("aws_secret_access_key")
        .filter(|v| !v.is_empty());
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(ProfileKeys {
            access_key_id: id.to_owned(),
            secret_access_key: Secret::new(secret),
            session_token: profile.get("aws_session_token").map(Secret::new),
        })),
        (Some(_), None) => Err(ChainError::Invalid(format!(
            "profile {name} sets aws_access_key_id but not aws_secret_access_key"
        ))),
        (None, Some(_)) => Err(ChainError::Invalid(format!(
            "profile {name} sets aws_secret_access_key but not aws_access_key_id"
        ))),
        (None, None) => Ok(None),
    }
}

/// `AWS_CONFIG_FILE` (or `AWS_SHARED_CREDENTIALS_FILE`) as set, else `~/.aws/NAME`; a leading
/// `~` is the home directory, as the SDK expands it.
fn path_of(env: &Env, var: &str, name: &str, home: Option<&str>) -> PathBuf {
    let home = home.map(Path::new);
    match env.get(var) {
        Ok(p) if p == "~" || p.starts_with("~/") => match home {
            Some(h) => h.join(p.trim_start_matches('~').trim_start_matches('/')),
            None => PathBuf::from(p),
        },
        Ok(p) => PathBuf::from(p),
        Err(_) => home
            .map(|h| h.join(".aws").join(name))
            .unwrap_or_else(|| PathBuf::from(format!("~/.aws/{name}"))),
    }
}

/// One file alone: its profiles, or `None` when it cannot be read.
async fn read_one(
    fs: &Fs,
    env: &Env,
    kind: EnvConfigFileKind,
    path: &Path,
) -> (PathBuf, Option<Vec<String>>) {
    let files = EnvConfigFiles::builder().with_file(kind, path).build();
    let profiles = aws_config::profile::load(fs, env, &files, None)
        .await
        .ok()
        .map(|set| set.profiles().map(str::to_owned).collect::<Vec<_>>());
    (path.to_path_buf(), profiles.map(sorted_as_read))
}

/// The SDK keeps profiles in a map: sorted, so that a message reads the same every time.
fn sorted_as_read(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn files(config: &str, credentials: &str) -> (tempfile::TempDir, ProfileFiles) {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("config");
        let k = dir.path().join("credentials");
        std::fs::write(&c, config).unwrap();
        std::fs::write(&k, credentials).unwrap();
        let env = Env::from_slice(&[
            ("AWS_CONFIG_FILE", c.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", k.to_str().unwrap()),
        ]);
        let files = ProfileFiles::load(&env).await;
        (dir, files)
    }

    #[tokio::test]
    async fn a_missing_profile_names_both_files_and_what_they_hold() {
        let (_dir, f) = files(
            "[profile dev]\nregion = eu-west-1\n",
            "[ci]\naws_access_key_id = AKIA0000000000000001\naws_secret_access_key = s\n",
        )
        .await;
        assert!(f.has("dev") && f.has("ci") && !f.has("prod"));
        let line = f.not_found("prod", "--profile");
        assert!(
            line.starts_with("profile prod (--profile) is not defined in "),
            "{line}"
        );
        assert!(line.contains("config (profiles: dev)"), "{line}");
        assert!(line.contains("credentials (profiles: ci)"), "{line}");
        assert!(!line.contains('\n'));
        let env = Env::from_slice(&[("AWS_CONFIG_FILE", "/nonexistent/config"), ("HOME", "/h")]);
        let none = ProfileFiles::load(&env).await;
        let line = none.not_found("x", "AWS_PROFILE");
        assert!(line.contains("/nonexistent/config (missing)"), "{line}");
        assert!(line.contains("/h/.aws/credentials (missing)"), "{line}");
    }

    #[tokio::test]
    async fn chains_follow_the_sdks_rules() {
        let config = "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = ci\nexternal_id = x1\n\
            [profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = app\n\
            [profile env]\nrole_arn = arn:aws:iam::123456789012:role/app\ncredential_source = Environment\n\
            [profile self]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = self\naws_access_key_id = AKIA0000000000000002\naws_secret_access_key = s\n\
            [profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/app\nweb_identity_token_file = /t\n\
            [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
            [profile proc]\ncredential_process = /bin/get-keys\n\
            [profile bare]\nregion = us-east-1\n\
            [profile loop1]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop2\n\
            [profile loop2]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop1\n\
            [profile half]\naws_access_key_id = AKIA0000000000000003\n\
            [profile orphan]\nrole_arn = arn:aws:iam::1:role/a\n";
        let creds = "[ci]\naws_access_key_id = AKIA0000000000000001\naws_secret_access_key = s\n";
        let (_dir, f) = files(config, creds).await;

        let app = f.chain("app").unwrap();
        assert!(matches!(&app.base, Base::Keys { profile, .. } if profile == "ci"));
        assert_eq!(app.roles.len(), 1);
        assert_eq!(app.roles[0].external_id.as_deref(), Some("x1"));

        let deploy = f.chain("deploy").unwrap();
        let arns: Vec<&str> = deploy.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:iam::123456789012:role/app",
                "arn:aws:iam::123456789012:role/deploy"
            ]
        );
        assert!(deploy.describe().starts_with("role arn:aws:iam::123456789012:role/deploy (profile deploy) on top of role arn:aws:iam::123456789012:role/app"), "{}", deploy.describe());

        let env = f.chain("env").unwrap();
        assert!(matches!(&env.base, Base::Named { source, .. } if source == "Environment"));
        assert_eq!(env.roles.len(), 1);
        let own = f.chain("self").unwrap();
        assert!(matches!(&own.base, Base::Keys { profile, .. } if profile == "self"));
        assert_eq!(own.roles.len(), 1);
        let irsa = f.chain("irsa").unwrap();
        assert!(matches!(irsa.base, Base::WebIdentity { .. }) && irsa.roles.is_empty());
        assert!(matches!(f.chain("sso").unwrap().base, Base::Sso { .. }));
        assert!(matches!(
            f.chain("proc").unwrap().base,
            Base::Process { .. }
        ));
        assert_eq!(
            f.chain("bare").unwrap_err(),
            ChainError::NoCredentials("bare".into())
        );
        assert_eq!(
            f.chain("nope").unwrap_err(),
            ChainError::Missing("nope".into())
        );
        for bad in ["loop1", "half", "orphan"] {
            assert!(matches!(f.chain(bad), Err(ChainError::Invalid(_))), "{bad}");
        }
    }
}
