//! Reads an app's dotenv file (`--env-file`) for its AWS and `S3_*` settings, hiding secrets.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Access key id names, in precedence order; index-aligned with [`SECRET_ACCESS_KEY_VARS`].
pub const ACCESS_KEY_ID_VARS: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "S3_ACCESS_KEY",
    "S3_ACCESS_KEY_ID",
    "AWS_S3_ACCESS_KEY_ID",
    "AWS_ACCESS_KEY",
];
/// Secret access key names, in precedence order; index-aligned with [`ACCESS_KEY_ID_VARS`].
pub const SECRET_ACCESS_KEY_VARS: [&str; 5] = [
    "AWS_SECRET_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_SECRET_ACCESS_KEY",
    "AWS_S3_SECRET_ACCESS_KEY",
    "AWS_SECRET_KEY",
];
/// Session token names, in precedence order.
pub const SESSION_TOKEN_VARS: [&str; 2] = ["AWS_SESSION_TOKEN", "S3_SESSION_TOKEN"];
/// Region names, in precedence order.
pub const REGION_VARS: [&str; 5] = [
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "S3_REGION",
    "AWS_S3_REGION_NAME",
    "AWS_S3_REGION",
];
/// Bucket names, in precedence order.
pub const BUCKET_VARS: [&str; 6] = [
    "S3_BUCKET",
    "S3_BUCKET_NAME",
    "AWS_S3_BUCKET",
    "AWS_BUCKET_NAME",
    "AWS_STORAGE_BUCKET_NAME",
    "BUCKET_NAME",
];
/// Endpoint names, in precedence order.
pub const ENDPOINT_VARS: [&str; 5] = [
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "S3_ENDPOINT",
    "S3_ENDPOINT_URL",
    "AWS_S3_ENDPOINT_URL",
];
/// Profile names.
pub const PROFILE_VARS: [&str; 1] = ["AWS_PROFILE"];
/// The variables beside keys and profile that decide which credential provider the app's SDK
/// picks (EKS IRSA, ECS task roles and EKS Pod Identity, the shared files), each with its
/// purpose. None of their values is a secret (`AWS_CONTAINER_AUTHORIZATION_TOKEN` is, and is
/// not read).
pub const CHAIN_VARS: [(&str, &str); 8] = [
    ("AWS_ROLE_ARN", "web identity role"),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "web identity token file"),
    ("AWS_ROLE_SESSION_NAME", "role session name"),
    (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "container credentials",
    ),
    (
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "container credentials",
    ),
    ("AWS_EC2_METADATA_DISABLED", "instance metadata switch"),
    ("AWS_CONFIG_FILE", "config file"),
    ("AWS_SHARED_CREDENTIALS_FILE", "credentials file"),
];

const ACCESS_KEY_ID: &str = "access key id";
const SECRET_ACCESS_KEY: &str = "secret access key";
const SESSION_TOKEN: &str = "session token";
const REGION: &str = "region";
const BUCKET: &str = "bucket";
const ENDPOINT: &str = "endpoint";
const PROFILE: &str = "profile";

/// A secret value. `Debug` and `Display` print `****`, so it can sit in structs that get logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for handing to the AWS SDK only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A variable that was read from the file, and what it was used for.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UsedVar {
    /// The variable's name, e.g. `S3_ACCESS_KEY`.
    pub name: String,
    /// `"access key id"`, `"secret access key"`, `"session token"`, `"region"`, `"bucket"`,
    /// `"endpoint"` or `"profile"`.
    pub purpose: &'static str,
}

/// What s3doctor takes from an env file. Fields are `None`/empty when the file does not set them.
///
/// Recognised names, in precedence order (the first one set to a non-blank value wins):
///
/// | purpose | names |
/// |---|---|
/// | access key id | `AWS_ACCESS_KEY_ID`, `S3_ACCESS_KEY`, `S3_ACCESS_KEY_ID`, `AWS_S3_ACCESS_KEY_ID`, `AWS_ACCESS_KEY` |
/// | secret access key | `AWS_SECRET_ACCESS_KEY`, `S3_SECRET_KEY`, `S3_SECRET_ACCESS_KEY`, `AWS_S3_SECRET_ACCESS_KEY`, `AWS_SECRET_KEY` |
/// | session token | `AWS_SESSION_TOKEN`, `S3_SESSION_TOKEN` |
/// | region | `AWS_REGION`, `AWS_DEFAULT_REGION`, `S3_REGION`, `AWS_S3_REGION_NAME`, `AWS_S3_REGION` |
/// | bucket | `S3_BUCKET`, `S3_BUCKET_NAME`, `AWS_S3_BUCKET`, `AWS_BUCKET_NAME`, `AWS_STORAGE_BUCKET_NAME`, `BUCKET_NAME` |
/// | endpoint | `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `S3_ENDPOINT`, `S3_ENDPOINT_URL`, `AWS_S3_ENDPOINT_URL` |
/// | profile | `AWS_PROFILE` |
///
/// One exception keeps a key pair together: when the secret of the key id's own family is set
/// (same position in the two lists, e.g. `S3_ACCESS_KEY` and `S3_SECRET_KEY`), that secret is
/// used even if an earlier-listed secret name is also set.
///
/// Parsing follows `dotenvy`: comments, single/double quotes, `export ` prefixes and `${VAR}`
/// substitution (which looks in the process environment first, then earlier lines). A name set
/// twice takes its last value, as python-dotenv does. Values are kept verbatim (a quoted trailing
/// space stays, so s3doctor sees what the app sees); blank values count as unset.
#[derive(Clone, Debug)]
pub struct EnvFile {
    /// The path as given on the command line.
    pub path: PathBuf,
    /// The key id (not secret: safe to show, and it identifies the key in IAM).
    pub access_key_id: Option<String>,
    /// Always present when `access_key_id` is (a lone half is an error).
    pub secret_access_key: Option<Secret>,
    /// Temporary credentials only.
    pub session_token: Option<Secret>,
    /// The region the app is configured for, compared with the bucket's real region.
    pub region: Option<String>,
    /// A comma-separated value gives several; an `s3://` prefix and trailing `/` are removed.
    /// Not validated here: run [`crate::bucket_name::validate`] on each.
    pub buckets: Vec<String>,
    /// A custom endpoint (S3-compatible stores, emulators), used instead of AWS's.
    pub endpoint: Option<String>,
    /// A named profile from the shared AWS config, when the app uses one instead of keys.
    pub profile: Option<String>,
    /// The [`CHAIN_VARS`] the file sets, name and value, in that list's order.
    pub chain: Vec<(String, String)>,
    /// The variables used, in the order of the purposes above.
    pub used: Vec<UsedVar>,
    /// 1-based numbers of lines that could not be parsed and were skipped because they set no
    /// recognised name (worth a warning: the app may read them differently).
    pub skipped_lines: Vec<usize>,
}

/// Why an env file cannot be used. `Display` is one line and never contains a value.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The file could not be read (missing, no permission, not UTF-8).
    #[error("cannot read env file {}: {source}", .path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `NAME=value` (often an unclosed quote); `line` is 1-based when known.
    #[error(
        "env file {}{}: cannot parse this line (expected NAME=value; quote values with spaces and close every quote)",
        .path.display(),
        LineNo(*.line)
    )]
    Parse {
        /// The path as given.
        path: PathBuf,
        /// 1-based line number, when it could be found.
        line: Option<usize>,
    },
    /// A key id without its secret, or a secret without its key id.
    #[error(
        "env file {} sets {present} but not {missing} (the {missing_purpose} that goes with it)",
        .path.display()
    )]
    Incomplete {
        /// The path as given.
        path: PathBuf,
        /// The variable that is set.
        present: &'static str,
        /// The variable that was expected alongside it.
        missing: &'static str,
        /// `"secret access key"` or `"access key id"`.
        missing_purpose: &'static str,
    },
}

struct LineNo(Option<usize>);

impl fmt::Display for LineNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, " line {n}"),
            None => Ok(()),
        }
    }
}

/// Reads and parses the env file at `path`. Nothing is put into the process environment.
pub fn load(path: &Path) -> Result<EnvFile, EnvFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| EnvFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(path, &text)
}

/// Parses env file `text`; `path` is only used in the result and in error messages.
///
/// A line dotenvy cannot parse is an error when it sets a recognised name, or when it cannot be
/// told apart (an unclosed quote swallows the rest of the file). Other broken lines, such as
/// `APP_NAME=My App` (python-dotenv accepts unquoted spaces, dotenvy does not), are skipped and
/// listed in [`EnvFile::skipped_lines`].
pub fn parse_str(path: &Path, text: &str) -> Result<EnvFile, EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut skipped_lines = Vec::new();
    let mut search_from = 0;
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let err = match item {
            Ok((name, value)) => {
                vars.insert(name, value);
                continue;
            }
            Err(err) => err,
        };
        // The error carries the offending line's text, which may hold a secret: use it only to
        // find the line, never to show.
        let located = match &err {
            dotenvy::Error::LineParse(bad, _) => locate(text, search_from, bad),
            _ => None,
        };
        if let Some(found) = &located {
            search_from = found.index + 1;
            if found.single_line && declared_name(found.line).is_some_and(|n| !is_recognised(n)) {
                skipped_lines.push(found.index + 1);
                continue;
            }
        }
        return Err(EnvFileError::Parse {
            path: path.to_path_buf(),
            line: located.map(|found| found.index + 1),
        });
    }
    let mut env = select(path, &vars)?;
    env.skipped_lines = skipped_lines;
    Ok(env)
}

/// A line of the file that dotenvy rejected.
struct Located<'a> {
    /// 0-based line index.
    index: usize,
    line: &'a str,
    /// False for an unclosed quote that ran over several lines.
    single_line: bool,
}

/// Finds the line, at or after line `from`, that produced a parse error whose text is `fragment`
/// (the whole logical line, or the part after `=`, or for an unclosed quote the rest of the file).
fn locate<'a>(text: &'a str, from: usize, fragment: &str) -> Option<Located<'a>> {
    let fragment = fragment.trim_end();
    if fragment.is_empty() {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    if fragment.contains('\n') {
        let first = fragment.lines().next().unwrap_or("");
        let index = (from..lines.len()).find(|&i| lines.get(i).is_some_and(|l| *l == first))?;
        return Some(Located {
            index,
            line: lines.get(index)?,
            single_line: false,
        });
    }
    let fails_alone = |line: &str| dotenvy::from_read_iter(line.as_bytes()).any(|r| r.is_err());
    let index = (from..lines.len()).find(|&i| {
        lines
            .get(i)
            .is_some_and(|l| l.trim_end().ends_with(fragment) && fails_alone(l))
    })?;
    Some(Located {
        index,
        line: lines.get(index)?,
        single_line: true,
    })
}

/// The variable name a line assigns (`NAME=…` or `export NAME=…`), if it has that shape.
fn declared_name(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let line = match line.strip_prefix("export") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
        _ => line,
    };
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    (!name.is_empty() && rest.trim_start().starts_with('=')).then_some(name)
}

fn is_recognised(name: &str) -> bool {
    [
        &ACCESS_KEY_ID_VARS[..],
        &SECRET_ACCESS_KEY_VARS,
        &SESSION_TOKEN_VARS,
        &REGION_VARS,
        &BUCKET_VARS,
        &ENDPOINT_VARS,
        &PROFILE_VARS,
    ]
    .iter()
    .any(|names| names.contains(&name))
        || CHAIN_VARS.iter().any(|(n, _)| *n == name)
}

/// The first of `names` set to a non-blank value: its index, name and value.
fn pick<'a>(
    vars: &'a HashMap<String, String>,
    names: &[&'static str],
) -> Option<(usize, &'static str, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        vars.get(*name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (i, *name, v.as_str()))
    })
}

/// A variable found: its index among its kind's names, its name and its value.
type Found<'a> = Option<(usize, &'static str, &'a str)>;

/// The access key id and its secret, kept together when the key id's own secret is set; an
/// error naming the missing half when only one is.
fn key_pair<'a>(
    path: &Path,
    vars: &'a HashMap<String, String>,
) -> Result<(Found<'a>, Found<'a>), EnvFileError> {
    let key = pick(vars, &ACCESS_KEY_ID_VARS);
    let secret = match key {
        // Keep the pair together when the key id's own secret is set.
        Some((i, _, _)) => pick(vars, SECRET_ACCESS_KEY_VARS.get(i..=i).unwrap_or_default())
            .map(|(_, name, value)| (i, name, value))
            .or_else(|| pick(vars, &SECRET_ACCESS_KEY_VARS)),
        None => pick(vars, &SECRET_ACCESS_KEY_VARS),
    };
    let incomplete = |present, missing, missing_purpose| EnvFileError::Incomplete {
        path: path.to_path_buf(),
        present,
        missing,
        missing_purpose,
    };
    match (key, secret) {
        (Some((i, name, _)), None) => {
            let missing = SECRET_ACCESS_KEY_VARS
                .get(i)
                .copied()
                .unwrap_or("AWS_SECRET_ACCESS_KEY");
            Err(incomplete(name, missing, SECRET_ACCESS_KEY))
        }
        (None, Some((i, name, _))) => {
            let missing = ACCESS_KEY_ID_VARS
                .get(i)
                .copied()
                .unwrap_or("AWS_ACCESS_KEY_ID");
            Err(incomplete(name, missing, ACCESS_KEY_ID))
        }
        pair => Ok(pair),
    }
}

/// The variables s3doctor uses, the first of each kind's names that is set (see [`pick`]).
fn select(path: &Path, vars: &HashMap<String, String>) -> Result<EnvFile, EnvFileError> {
    let (key, secret) = key_pair(path, vars)?;
    let mut used = Vec::new();
    let mut take = |found: Option<(usize, &'static str, &str)>, purpose: &'static str| {
        found.map(|(_, name, value)| {
            used.push(UsedVar {
                name: name.to_string(),
                purpose,
            });
            value.to_string()
        })
    };
    let access_key_id = take(key, ACCESS_KEY_ID);
    let secret_access_key = take(secret, SECRET_ACCESS_KEY).map(Secret);
    let session_token = take(pick(vars, &SESSION_TOKEN_VARS), SESSION_TOKEN).map(Secret);
    let region = take(pick(vars, &REGION_VARS), REGION);
    let buckets = take(pick(vars, &BUCKET_VARS), BUCKET)
        .map(|v| split_buckets(&v))
        .unwrap_or_default();
    let endpoint = take(pick(vars, &ENDPOINT_VARS), ENDPOINT);
    let profile = take(pick(vars, &PROFILE_VARS), PROFILE);
    let mut chain = Vec::new();
    for (name, purpose) in CHAIN_VARS {
        if let Some((_, name, value)) = pick(vars, &[name]) {
            used.push(UsedVar {
                name: name.to_owned(),
                purpose,
            });
            chain.push((name.to_owned(), value.to_owned()));
        }
    }

    Ok(EnvFile {
        path: path.to_path_buf(),
        access_key_id,
        secret_access_key,
        session_token,
        region,
        buckets,
        endpoint,
        profile,
        chain,
        used,
        skipped_lines: Vec::new(),
    })
}

fn split_buckets(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|b| {
            let b = b.trim();
            let b = b.strip_prefix("s3://").unwrap_or(b);
            b.trim_end_matches('/').to_string()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

impl EnvFile {
    /// One line for the report and for standard error, naming the variables used (never values):
    /// `used S3_ACCESS_KEY (access key id), S3_SECRET_KEY (secret access key) from .env`.
    pub fn describe_used(&self) -> String {
        if self.used.is_empty() {
            return format!("used no recognised variables from {}", self.path.display());
        }
        let list: Vec<String> = self
            .used
            .iter()
            .map(|u| format!("{} ({})", u.name, u.purpose))
            .collect();
        format!("used {} from {}", list.join(", "), self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn incident_1() -> String {
        format!(
            "# Clipizy backend\n\
             DATABASE_URL=postgres://localhost/clipizy\n\
             \n\
             # S3 storage\n\
             export S3_ACCESS_KEY={KEY}\n\
             S3_SECRET_KEY=\"{SECRET}\"   # from the IAM console\n\
             S3_REGION='us-east-1'\n\
             S3_BUCKET=clipizy-dev\n"
        )
    }

    #[test]
    fn incident_1_env() {
        let env = parse_str(Path::new(".env"), &incident_1()).unwrap();
        assert_eq!(env.access_key_id.as_deref(), Some(KEY));
        assert_eq!(
            env.secret_access_key.as_ref().map(Secret::expose),
            Some(SECRET)
        );
        assert!(env.session_token.is_none());
        assert_eq!(env.region.as_deref(), Some("us-east-1"));
        assert_eq!(env.buckets, vec!["clipizy-dev"]);
        assert_eq!(env.endpoint, None);
        assert_eq!(env.profile, None);
        assert_eq!(
            env.describe_used(),
            "used S3_ACCESS_KEY (access key id), S3_SECRET_KEY (secret access key), \
             S3_REGION (region), S3_BUCKET (bucket) from .env"
        );
    }

    #[test]
    fn debug_and_display_never_show_secrets() {
        let text = format!(
            "{}S3_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN\n",
            incident_1()
        );
        let env = parse_str(Path::new(".env"), &text).unwrap();
        let debug = format!("{env:?} {env:#?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(!debug.contains("FwoGZXIvYXdzEXAMPLETOKEN"), "{debug}");
        assert!(debug.contains("****"));
        let secret = Secret::new(SECRET);
        assert_eq!(format!("{secret}"), "****");
        assert_eq!(format!("{secret:?}"), "****");
        assert!(!env.describe_used().contains(SECRET));
    }

    #[test]
    fn aws_names_take_precedence() {
        let text = "S3_REGION=eu-west-1\nAWS_REGION=us-east-2\nAWS_DEFAULT_REGION=us-west-1\n\
                    BUCKET_NAME=other\nS3_BUCKET_NAME=mine\n\
                    S3_ENDPOINT=http://s3\nAWS_ENDPOINT_URL_S3=http://127.0.0.1:5000\n\
                    AWS_PROFILE=dev\n";
        let env = parse_str(Path::new("app.env"), text).unwrap();
        assert_eq!(env.region.as_deref(), Some("us-east-2"));
        assert_eq!(env.buckets, vec!["mine"]);
        assert_eq!(env.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(env.profile.as_deref(), Some("dev"));
        assert_eq!(env.access_key_id, None);
        assert_eq!(
            env.describe_used(),
            "used AWS_REGION (region), S3_BUCKET_NAME (bucket), AWS_ENDPOINT_URL_S3 (endpoint), \
             AWS_PROFILE (profile) from app.env"
        );
    }

    #[test]
    fn key_pair_stays_together() {
        let text = "AWS_ACCESS_KEY_ID=AKIAOLD\nAWS_SECRET_ACCESS_KEY=old\n\
                    S3_ACCESS_KEY=AKIANEW\nS3_SECRET_KEY=new\n";
        let env = parse_str(Path::new(".env"), text).unwrap();
        assert_eq!(env.access_key_id.as_deref(), Some("AKIAOLD"));
        assert_eq!(env.secret_access_key.unwrap().expose(), "old");

        // A key id whose own secret is missing falls back to the first secret set.
        let text = "AWS_ACCESS_KEY_ID=AKIA1\nS3_SECRET_KEY=s\n";
        let env = parse_str(Path::new(".env"), text).unwrap();
        assert_eq!(env.secret_access_key.unwrap().expose(), "s");
        assert_eq!(env.used[1].name, "S3_SECRET_KEY");
    }

    #[test]
    fn several_buckets_and_blank_values() {
        let text = "S3_BUCKET=\nAWS_S3_BUCKET=\" clipizy-dev, s3://clipizy-prod/ ,,clipizy-test\"\n\
                    AWS_REGION=\"  \"\n";
        let env = parse_str(Path::new(".env"), text).unwrap();
        assert_eq!(
            env.buckets,
            vec!["clipizy-dev", "clipizy-prod", "clipizy-test"]
        );
        assert_eq!(env.region, None);
        assert_eq!(env.describe_used(), "used AWS_S3_BUCKET (bucket) from .env");
    }

    #[test]
    fn last_assignment_wins_and_values_are_verbatim() {
        let text = "S3_REGION=us-east-1\nS3_REGION=\"eu-west-1 \"\n";
        let env = parse_str(Path::new(".env"), text).unwrap();
        assert_eq!(env.region.as_deref(), Some("eu-west-1 "));
    }

    #[test]
    fn empty_file() {
        let env = parse_str(Path::new(".env"), "").unwrap();
        assert!(env.used.is_empty());
        assert_eq!(
            env.describe_used(),
            "used no recognised variables from .env"
        );
        let env = parse_str(Path::new(".env"), "\u{feff}S3_BUCKET=b1\n").unwrap();
        assert_eq!(env.buckets, vec!["b1"]);
    }

    #[test]
    fn key_without_secret_names_the_missing_variable() {
        let err = parse_str(Path::new(".env"), &format!("S3_ACCESS_KEY={KEY}\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "env file .env sets S3_ACCESS_KEY but not S3_SECRET_KEY \
             (the secret access key that goes with it)"
        );
        let err = parse_str(
            Path::new(".env"),
            &format!("AWS_SECRET_ACCESS_KEY={SECRET}\n"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "env file .env sets AWS_SECRET_ACCESS_KEY but not AWS_ACCESS_KEY_ID \
             (the access key id that goes with it)"
        );
        assert!(!format!("{err:?}").contains(SECRET));
    }

    #[test]
    fn parse_error_gives_line_and_hides_value() {
        let text = format!("# creds\nS3_ACCESS_KEY={KEY}\nS3_SECRET_KEY=\"{SECRET}\n");
        let err = parse_str(Path::new(".env"), &text).unwrap_err();
        let msg = err.to_string();
        assert_eq!(
            msg,
            "env file .env line 3: cannot parse this line \
             (expected NAME=value; quote values with spaces and close every quote)"
        );
        assert!(!format!("{err:?}").contains(SECRET));

        let err = parse_str(Path::new(".env"), "A=1\nnot a valid line\n").unwrap_err();
        assert!(
            matches!(err, EnvFileError::Parse { line: Some(2), .. }),
            "{err}"
        );

        // An unclosed quote in an unrelated variable swallows the rest: still an error.
        let err = parse_str(Path::new(".env"), "A=1\nAPP='x\nS3_BUCKET=b\n").unwrap_err();
        assert!(
            matches!(err, EnvFileError::Parse { line: Some(2), .. }),
            "{err}"
        );

        // Unquoted spaces in a recognised variable: an error on its line.
        let text = "APP_NAME=My App\nS3_REGION=us-east-1\nS3_BUCKET=a, b\n";
        let err = parse_str(Path::new(".env"), text).unwrap_err();
        assert!(
            matches!(err, EnvFileError::Parse { line: Some(3), .. }),
            "{err}"
        );
    }

    #[test]
    fn unrelated_broken_lines_are_skipped() {
        let text = format!(
            "APP_NAME=My App\nexport TITLE = a b c\n{}FOOTER=a b c\nS3_BUCKET=\"a b c\"\n",
            incident_1()
        );
        let env = parse_str(Path::new(".env"), &text).unwrap();
        assert_eq!(env.skipped_lines, vec![1, 2, 11]);
        assert_eq!(env.access_key_id.as_deref(), Some(KEY));
        // The later S3_BUCKET overrides the first; its quoted spaces are kept for validation.
        assert_eq!(env.buckets, vec!["a b c"]);
    }

    #[test]
    fn declared_names() {
        assert_eq!(declared_name("  export S3_BUCKET = x"), Some("S3_BUCKET"));
        assert_eq!(declared_name("exportS3=x"), Some("exportS3"));
        assert_eq!(declared_name("A.B=x"), Some("A.B"));
        assert_eq!(declared_name("not a line"), None);
        assert_eq!(declared_name("=x"), None);
    }

    #[test]
    fn unreadable_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join(".env");
        let err = load(&missing).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("cannot read env file "), "{msg}");
        assert!(msg.contains(".env: "), "{msg}");
        assert!(!msg.contains('\n'));
        assert!(matches!(err, EnvFileError::Read { .. }));

        let relative = load(Path::new("definitely-missing-s3doctor.env")).unwrap_err();
        assert!(
            relative
                .to_string()
                .starts_with("cannot read env file definitely-missing-s3doctor.env: "),
            "{relative}"
        );

        let mut file = std::fs::File::create(&missing).unwrap();
        file.write_all(b"S3_BUCKET=\xff\xfe\n").unwrap();
        drop(file);
        assert!(matches!(load(&missing), Err(EnvFileError::Read { .. })));
    }

    #[test]
    fn load_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, incident_1()).unwrap();
        let env = load(&path).unwrap();
        assert_eq!(env.path, path);
        assert_eq!(env.access_key_id.as_deref(), Some(KEY));
        assert_eq!(env.used.len(), 4);
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = parse_str(Path::new(".env"), &text);
        }

        #[test]
        fn parse_never_panics_on_dotenv_like_text(
            text in "((export )?[A-Z_]{1,8}[ ]?=[ ]?[\"'a-z0-9 #$\\\\{}=]{0,12}\n?|#[^\n]{0,5}\n){0,8}"
        ) {
            if let Err(err) = parse_str(Path::new(".env"), &text) {
                prop_assert!(!err.to_string().contains('\n'));
            }
        }

        #[test]
        fn errors_never_contain_the_secret(secret in "[A-Za-z0-9/+]{20,40}", quote in "[\"']?") {
            // A broken line holding the secret: the error must not echo it.
            let text = format!("S3_ACCESS_KEY=AKIA1\nS3_SECRET_KEY={quote}{secret}\n");
            match parse_str(Path::new(".env"), &text) {
                Ok(env) => {
                    let debug = format!("{env:?}");
                    prop_assert!(!debug.contains(&secret));
                }
                Err(err) => {
                    let shown = format!("{err} {err:?}");
                    prop_assert!(!shown.contains(&secret));
                }
            }
        }
    }
}
