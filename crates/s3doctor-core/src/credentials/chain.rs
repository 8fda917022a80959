//! Which credential provider the app's SDK picks, and why: the providers in the order the AWS
//! SDKs document — environment keys, the shared profile, web identity, the container endpoint,
//! instance metadata (AWS SDKs and Tools Reference Guide, "Understand the credential provider
//! chain": <https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html>) —
//! each with what the environment (or `--env-file`, laid over it) configures for it. The first
//! one configured supplies the keys; every later one that is configured too is shadowed. A
//! profile named on the command line (`--profile`) is the only provider, as in the AWS CLI.

use std::collections::HashMap;
use std::path::PathBuf;

use aws_types::os_shim_internal::Env;

use super::profiles::{Base, ChainError, ProfileChain, ProfileFiles};
use crate::aws::Settings;
use crate::envfile::Secret;

/// The page the order comes from, cited where it is explained.
pub const ORDER_SOURCE: &str =
    "https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html";

/// The order itself, in words.
pub const ORDER: &str =
    "environment keys, profile, web identity, container endpoint, instance metadata";

/// Where a variable was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Environment,
    EnvFile(PathBuf),
}

impl Origin {
    /// `the environment`, `env file app.env`.
    pub fn describe(&self) -> String {
        match self {
            Origin::Environment => "the environment".to_owned(),
            Origin::EnvFile(p) => format!("env file {}", p.display()),
        }
    }
}

/// The variables the chain reads: the process environment, with the `--env-file`'s (the app's
/// own) laid over it. Every value is kept as a [`Secret`]: some are.
#[derive(Clone, Debug, Default)]
pub struct Vars(HashMap<String, (Secret, Origin)>);

/// The variables that name the app's static keys.
const KEY_VARS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

impl Vars {
    /// The process environment, and the env file's keys, profile and chain variables over it.
    pub fn of(settings: &Settings) -> Vars {
        Self::from_process(std::env::vars(), settings)
    }

    fn from_process(process: impl Iterator<Item = (String, String)>, settings: &Settings) -> Vars {
        let mut map: HashMap<String, (Secret, Origin)> = process
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, (Secret::new(v), Origin::Environment)))
            .collect();
        if let Some(env) = &settings.env_file {
            let origin = Origin::EnvFile(env.path.clone());
            let mut set = |name: &str, value: &str| {
                map.insert(name.to_owned(), (Secret::new(value), origin.clone()));
            };
            if let (Some(id), Some(secret)) = (&env.access_key_id, &env.secret_access_key) {
                // The file's own pair replaces the environment's, token included.
                set("AWS_ACCESS_KEY_ID", id);
                set("AWS_SECRET_ACCESS_KEY", secret.expose());
                match &env.session_token {
                    Some(t) => set("AWS_SESSION_TOKEN", t.expose()),
                    None => {
                        map.remove("AWS_SESSION_TOKEN");
                    }
                }
            }
            let mut set = |name: &str, value: &str| {
                map.insert(name.to_owned(), (Secret::new(value), origin.clone()));
            };
            if let Some(p) = &env.profile {
                set("AWS_PROFILE", p);
            }
            for (name, value) in &env.chain {
                set(name, value);
            }
        }
        Vars(map)
    }

    /// A variable's value, when set (not blank).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|(v, _)| v.expose())
    }

    /// Where a variable was set.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.0.get(name).map(|(_, o)| o)
    }

    /// `AWS_ROLE_ARN (env file app.env)`.
    fn named(&self, name: &str) -> String {
        match self.origin(name) {
            Some(o) => format!("{name} ({})", o.describe()),
            None => name.to_owned(),
        }
    }

    /// The variables as aws-config's profile loader reads them (`AWS_CONFIG_FILE`, `HOME`…).
    pub fn env(&self) -> Env {
        Env::from(
            self.0
                .iter()
                .filter(|(k, _)| !KEY_VARS.contains(&k.as_str()))
                .map(|(k, (v, _))| (k.clone(), v.expose().to_owned()))
                .collect::<HashMap<_, _>>(),
        )
    }
}

/// How the profile was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileBy {
    /// `--profile` on the command line: the only provider.
    Flag,
    /// `AWS_PROFILE` (in the environment or the env file).
    Var(Origin),
    /// Nothing names one: the SDK reads `default`.
    Default,
}

impl ProfileBy {
    pub fn describe(&self) -> String {
        match self {
            ProfileBy::Flag => "--profile".to_owned(),
            ProfileBy::Var(o) => format!("AWS_PROFILE in {}", o.describe()),
            ProfileBy::Default => "the default profile".to_owned(),
        }
    }
}

/// A provider in the chain, with what configures it.
#[derive(Clone, Debug)]
pub enum Source {
    /// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    EnvKeys {
        key_id: String,
        secret: Secret,
        token: Option<Secret>,
        origin: Origin,
    },
    /// A profile of the shared files, and its chain (or why it has none).
    Profile {
        name: String,
        by: ProfileBy,
        chain: Result<ProfileChain, ChainError>,
    },
    /// `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (EKS IRSA).
    WebIdentity {
        role_arn: String,
        token_file: String,
        session_name: Option<String>,
        origin: Origin,
    },
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` / `…_RELATIVE_URI` (ECS task role, EKS Pod
    /// Identity).
    Container {
        var: &'static str,
        uri: String,
        origin: Origin,
    },
    /// Nothing else configured: the instance role, from instance metadata (EC2).
    Instance,
}

/// ECS's link-local credentials host, prefixed to `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
pub const ECS_HOST: &str = "http://169.254.170.2";

impl Source {
    /// True when this source supplies credentials (a profile without any falls through).
    fn loads(&self) -> bool {
        match self {
            Source::Profile { chain, by, .. } => match chain {
                Ok(_) | Err(ChainError::Invalid(_)) => true,
                // Named on the command line, it is the only provider: its absence is the answer.
                Err(_) => *by == ProfileBy::Flag,
            },
            _ => true,
        }
    }

    /// True for the roles a platform hands to the app (web identity, container), which static
    /// keys before them in the order shadow.
    pub fn is_platform_role(&self) -> bool {
        matches!(self, Source::WebIdentity { .. } | Source::Container { .. })
    }

    /// True for static keys: in the environment, or a profile's own.
    pub fn is_static_keys(&self) -> bool {
        match self {
            Source::EnvKeys { .. } => true,
            Source::Profile { chain: Ok(c), .. } => {
                c.roles.is_empty() && matches!(c.base, Base::Keys { .. })
            }
            _ => false,
        }
    }

    /// One line: the provider and what configures it.
    pub fn describe(&self, vars: &Vars) -> String {
        match self {
            Source::EnvKeys {
                key_id,
                origin,
                token,
                ..
            } => format!(
                "{} keys {} (AWS_ACCESS_KEY_ID in {})",
                if token.is_some() { "session" } else { "static" },
                crate::aws::key_hint(key_id),
                origin.describe()
            ),
            Source::Profile { name, by, chain } => match chain {
                Ok(c) => format!("profile {name} ({}): {}", by.describe(), c.describe()),
                Err(e) => format!("profile {name} ({}): {e}", by.describe()),
            },
            Source::WebIdentity {
                role_arn,
                token_file,
                ..
            } => format!(
                "web identity: role {role_arn} with the token in {token_file} ({} + {})",
                vars.named("AWS_ROLE_ARN"),
                vars.named("AWS_WEB_IDENTITY_TOKEN_FILE")
            ),
            Source::Container { var, uri, .. } => {
                format!(
                    "the container credentials endpoint {uri} ({})",
                    vars.named(var)
                )
            }
            Source::Instance => {
                "the instance role, from instance metadata (169.254.169.254)".to_owned()
            }
        }
    }

    /// Short, for the report's `credential_source`: `environment`, `profile app`, …
    pub fn short(&self) -> String {
        match self {
            Source::EnvKeys {
                origin: Origin::EnvFile(p),
                ..
            } => format!("env file {}", p.display()),
            Source::EnvKeys { .. } => "environment".to_owned(),
            Source::Profile { name, chain, .. } => match chain {
                Ok(ProfileChain {
                    base: Base::Sso { .. },
                    roles,
                }) if roles.is_empty() => format!("sso (profile {name})"),
                Ok(ProfileChain {
                    base: Base::Process { .. },
                    roles,
                }) if roles.is_empty() => format!("credential process (profile {name})"),
                _ => format!("profile {name}"),
            },
            Source::WebIdentity { .. } => "web identity".to_owned(),
            Source::Container { .. } => "container".to_owned(),
            Source::Instance => "instance metadata".to_owned(),
        }
    }
}

/// The chain as the app's SDK will walk it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub vars: Vars,
    pub files: ProfileFiles,
    /// Every provider that is configured, in the SDKs' order; instance metadata last when it
    /// is not switched off.
    pub sources: Vec<Source>,
    /// The one that supplies the keys (an index into `sources`).
    pub chosen: Option<usize>,
    /// Environment keys that `--profile` set aside.
    pub ignored_env_keys: Option<Origin>,
}

impl Plan {
    /// Reads the environment, the env file and the shared files; sends nothing.
    pub async fn read(settings: &Settings) -> Plan {
        Self::with_vars(settings, Vars::of(settings)).await
    }

    pub(crate) async fn with_vars(settings: &Settings, vars: Vars) -> Plan {
        let files = ProfileFiles::load(&vars.env()).await;
        let profile = profile_source(settings, &vars, &files);
        let env_keys = env_keys(&vars);
        let (sources, ignored_env_keys) = if settings.profile_only {
            let ignored = env_keys.map(|k| match k {
                Source::EnvKeys { origin, .. } => origin,
                _ => Origin::Environment,
            });
            (profile.into_iter().collect(), ignored)
        } else {
            let mut sources: Vec<Source> = env_keys.into_iter().collect();
            sources.extend(profile);
            sources.extend(web_identity(&vars));
            sources.extend(container_of(&vars));
            if !vars
                .get("AWS_EC2_METADATA_DISABLED")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                sources.push(Source::Instance);
            }
            (sources, None)
        };
        let chosen = sources.iter().position(Source::loads);
        Plan {
            vars,
            files,
            sources,
            chosen,
            ignored_env_keys,
        }
    }

    /// The provider that supplies the keys.
    pub fn chosen(&self) -> Option<&Source> {
        self.chosen.and_then(|i| self.sources.get(i))
    }

    /// The configured providers after the chosen one: set, and not used.
    pub fn shadowed(&self) -> impl Iterator<Item = &Source> {
        let from = self.chosen.map_or(self.sources.len(), |i| i + 1);
        self.sources
            .iter()
            .skip(from)
            .filter(|s| !matches!(s, Source::Instance))
    }

    /// A profile configured but skipped because something before it in the order won
    /// (`AWS_PROFILE` under environment keys).
    pub fn shadowed_profile(&self) -> Option<&Source> {
        self.shadowed().find(|s| {
            matches!(
                s,
                Source::Profile {
                    by: ProfileBy::Var(_),
                    ..
                }
            )
        })
    }

    /// The platform's role that static keys shadow: the trap of `credentials.role-shadowed`.
    pub fn shadowed_role(&self) -> Option<(&Source, &Source)> {
        let chosen = self.chosen().filter(|c| c.is_static_keys())?;
        let role = self.shadowed().find(|s| s.is_platform_role())?;
        Some((chosen, role))
    }

    /// The profile named by `AWS_PROFILE` (not `--profile`) when neither file defines it and
    /// the SDK would use it (no environment keys before it).
    pub fn missing_var_profile(&self) -> Option<(&str, &ProfileBy)> {
        self.sources.iter().find_map(|s| match s {
            Source::Profile {
                name,
                by: by @ ProfileBy::Var(_),
                chain: Err(ChainError::Missing(_)),
            } => Some((name.as_str(), by)),
            _ => None,
        })
    }
}

/// The profile the SDK reads: `--profile`, else `AWS_PROFILE` (the env file's over the
/// environment's), else `default` when either file defines it.
fn profile_source(settings: &Settings, vars: &Vars, files: &ProfileFiles) -> Option<Source> {
    let (name, by) = match (&settings.profile, settings.profile_only) {
        (Some(p), true) => (p.clone(), ProfileBy::Flag),
        _ => match vars.get("AWS_PROFILE") {
            Some(p) => (
                p.to_owned(),
                ProfileBy::Var(
                    vars.origin("AWS_PROFILE")
                        .cloned()
                        .unwrap_or(Origin::Environment),
                ),
            ),
            None if files.has("default") => ("default".to_owned(), ProfileBy::Default),
            None => return None,
        },
    };
    let chain = files.chain(&name);
    Some(Source::Profile { name, by, chain })
}

fn env_keys(vars: &Vars) -> Option<Source> {
    let key_id = vars.get("AWS_ACCESS_KEY_ID")?;
    let secret = vars.get("AWS_SECRET_ACCESS_KEY")?;
    Some(Source::EnvKeys {
        key_id: key_id.to_owned(),
        secret: Secret::new(secret),
        token: vars.get("AWS_SESSION_TOKEN").map(Secret::new),
        origin: vars
            .origin("AWS_ACCESS_KEY_ID")
            .cloned()
            .unwrap_or(Origin::Environment),
    })
}

fn web_identity(vars: &Vars) -> Option<Source> {
    let role_arn = vars.get("AWS_ROLE_ARN")?;
    let token_file = vars.get("AWS_WEB_IDENTITY_TOKEN_FILE")?;
    Some(Source::WebIdentity {
        role_arn: role_arn.to_owned(),
        token_file: token_file.to_owned(),
        session_name: vars.get("AWS_ROLE_SESSION_NAME").map(str::to_owned),
        origin: vars
            .origin("AWS_ROLE_ARN")
            .cloned()
            .unwrap_or(Origin::Environment),
    })
}

/// The container endpoint the variables name, if any.
pub(super) fn container_of(vars: &Vars) -> Option<Source> {
    let (var, uri) = match (
        vars.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
        vars.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
    ) {
        (Some(rel), _) => (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            format!("{ECS_HOST}{rel}"),
        ),
        (None, Some(full)) => ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full.to_owned()),
        (None, None) => return None,
    };
    Some(Source::Container {
        var,
        uri,
        origin: vars.origin(var).cloned().unwrap_or(Origin::Environment),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envfile;
    use std::path::Path;

    fn settings_with(env_file: Option<&str>) -> Settings {
        Settings {
            env_file: env_file.map(|t| envfile::parse_str(Path::new("app.env"), t).unwrap()),
            ..Settings::default()
        }
    }

    async fn plan(process: &[(&str, &str)], settings: &Settings) -> Plan {
        let mut process: Vec<(String, String)> = process
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        process.push(("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()));
        process.push((
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            "/nonexistent/creds".into(),
        ));
        let vars = Vars::from_process(process.into_iter(), settings);
        Plan::with_vars(settings, vars).await
    }

    #[tokio::test]
    async fn static_keys_in_the_env_file_shadow_the_pods_web_identity_role() {
        let settings = settings_with(Some(
            "AWS_ACCESS_KEY_ID=AKIA0000000000000001\nAWS_SECRET_ACCESS_KEY=s\n\
             AWS_ROLE_ARN=arn:aws:iam::123456789012:role/app\n\
             AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\n",
        ));
        let p = plan(&[], &settings).await;
        assert!(matches!(
            p.chosen(),
            Some(Source::EnvKeys {
                origin: Origin::EnvFile(_),
                ..
            })
        ));
        let (keys, role) = p.shadowed_role().expect("the trap");
        assert!(keys.describe(&p.vars).contains("AKIA…0001"));
        let role = role.describe(&p.vars);
        assert!(
            role.contains("role arn:aws:iam::123456789012:role/app"),
            "{role}"
        );
        assert!(role.contains("AWS_ROLE_ARN (env file app.env)"), "{role}");
    }

    #[tokio::test]
    async fn the_order_is_the_sdks() {
        let none = Settings::default();
        // Nothing configured: the instance role, unless metadata is switched off.
        let p = plan(&[], &none).await;
        assert!(matches!(p.chosen(), Some(Source::Instance)));
        let p = plan(&[("AWS_EC2_METADATA_DISABLED", "true")], &none).await;
        assert!(p.chosen().is_none());
        // Web identity before the container endpoint; keys of a token file are not keys.
        let p = plan(
            &[
                (
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                    "/v2/credentials/x",
                ),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
            ],
            &none,
        )
        .await;
        assert!(matches!(p.chosen(), Some(Source::WebIdentity { .. })));
        assert!(
            p.shadowed_role().is_none(),
            "a role shadowing a role is no trap"
        );
        let container = p.shadowed().next().unwrap().describe(&p.vars);
        assert!(
            container.contains("http://169.254.170.2/v2/credentials/x"),
            "{container}"
        );
        // AWS_PROFILE of a missing profile falls through (the SDK's order) and is said.
        let p = plan(&[("AWS_PROFILE", "prod")], &none).await;
        assert_eq!(p.missing_var_profile().map(|(n, _)| n), Some("prod"));
        assert!(matches!(p.chosen(), Some(Source::Instance)));
    }

    #[tokio::test]
    async fn profile_on_the_command_line_is_the_only_provider() {
        let flag = Settings {
            profile: Some("dev".into()),
            profile_only: true,
            ..Settings::default()
        };
        let p = plan(
            &[
                ("AWS_ACCESS_KEY_ID", "AKIA0000000000000001"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
            &flag,
        )
        .await;
        assert_eq!(p.sources.len(), 1);
        assert!(matches!(
            p.chosen(),
            Some(Source::Profile {
                by: ProfileBy::Flag,
                ..
            })
        ));
        assert_eq!(p.ignored_env_keys, Some(Origin::Environment));
        // From the environment, the same profile comes after the environment's keys.
        let p = plan(
            &[
                ("AWS_ACCESS_KEY_ID", "AKIA0000000000000001"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_PROFILE", "dev"),
            ],
            &Settings::default(),
        )
        .await;
        assert!(matches!(p.chosen(), Some(Source::EnvKeys { .. })));
        assert!(p.shadowed_profile().is_some());
    }

    #[test]
    fn secrets_stay_secret_in_debug() {
        let settings = settings_with(Some(
            "AWS_ACCESS_KEY_ID=AKIA0000000000000001\nAWS_SECRET_ACCESS_KEY=topsecret\n",
        ));
        let vars = Vars::from_process(std::iter::empty(), &settings);
        assert!(!format!("{vars:?}").contains("topsecret"));
        assert_eq!(vars.get("AWS_SECRET_ACCESS_KEY"), Some("topsecret"));
    }
}
