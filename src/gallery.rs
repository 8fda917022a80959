//! The incident gallery of the demo: incidents as data (`assets/gallery/*.toml`: the ticket,
//! what it teaches, how it is seeded, the fix a person makes, what you learned) and the code
//! that seeds one fresh in the emulator, applies its fix and tears it down again, through
//! the AWS SDK with the emulator admin's keys. No terminal here: `demo` drives it.

pub mod sandbox;
pub mod seed;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::finding::FindingCode;
use crate::policy::Access;

/// The gallery files, in the order the chooser shows them. A unit test checks that every
/// file in assets/gallery is listed here.
const FILES: [(&str, &str); 14] = [
    (
        "01-runpod-no-permissions.toml",
        include_str!("../assets/gallery/01-runpod-no-permissions.toml"),
    ),
    (
        "02-delete-denied.toml",
        include_str!("../assets/gallery/02-delete-denied.toml"),
    ),
    (
        "03-wrong-region.toml",
        include_str!("../assets/gallery/03-wrong-region.toml"),
    ),
    (
        "04-rotated-key.toml",
        include_str!("../assets/gallery/04-rotated-key.toml"),
    ),
    (
        "05-wrong-secret.toml",
        include_str!("../assets/gallery/05-wrong-secret.toml"),
    ),
    (
        "06-policy-for-another-bucket.toml",
        include_str!("../assets/gallery/06-policy-for-another-bucket.toml"),
    ),
    (
        "07-listbucket-on-objects.toml",
        include_str!("../assets/gallery/07-listbucket-on-objects.toml"),
    ),
    (
        "08-bucket-policy-deny.toml",
        include_str!("../assets/gallery/08-bucket-policy-deny.toml"),
    ),
    (
        "09-acl-disabled.toml",
        include_str!("../assets/gallery/09-acl-disabled.toml"),
    ),
    (
        "10-ceph-rgw-no-grant.toml",
        include_str!("../assets/gallery/10-ceph-rgw-no-grant.toml"),
    ),
    (
        "11-laptop-works-server-403.toml",
        include_str!("../assets/gallery/11-laptop-works-server-403.toml"),
    ),
    (
        "12-one-file-will-not-download.toml",
        include_str!("../assets/gallery/12-one-file-will-not-download.toml"),
    ),
    (
        "13-task-role-no-grant.toml",
        include_str!("../assets/gallery/13-task-role-no-grant.toml"),
    ),
    (
        "14-deploy-role-not-trusted.toml",
        include_str!("../assets/gallery/14-deploy-role-not-trusted.toml"),
    ),
];

/// How an incident is fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// s3doctor's own fix: the generated least-privilege policy (f then y in the wizard).
    Policy,
    /// A change a person makes (a .env, a Deny, a bucket setting); the demo makes it on `y`.
    Manual,
    /// s3doctor's own fix of a role that does not trust the caller: the statement added to
    /// its trust policy (f then y in the wizard).
    Trust,
}

/// Which server the incident runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    /// The local AWS emulator (moto): IAM users and policies are seeded per incident.
    #[default]
    Moto,
    /// Ceph RGW (`scripts/rgw.sh`, `scripts/demo.sh --rgw`): no IAM; the users exist already
    /// and the demo's admin is the bucket owner.
    Rgw,
}

/// What the app is and uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub user: String,
    pub bucket: String,
    pub region: String,
    #[serde(default)]
    pub access: Access,
    /// The app's own objects the ticket names (`--key`): the checks read them too.
    #[serde(default)]
    pub keys: Vec<String>,
    /// The role the app runs as (its `[names]` key, e.g. `role`): the checks assume it with
    /// the .env's keys (`--role-arn`), as a person checks a task role from a laptop.
    #[serde(default)]
    pub role: Option<String>,
    /// The app's network (`--source-ip`, `--vpce`): where its requests come from.
    #[serde(default)]
    pub source_ip: Option<String>,
    #[serde(default)]
    pub vpce: Option<String>,
}

/// One seeding or fixing step. Strings may name `{user}`, `{bucket}`, `{account}` and the
/// incident's extra `[names]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Action {
    CreateBucket {
        bucket: String,
        #[serde(default)]
        region: Option<String>,
    },
    PutObject {
        bucket: String,
        key: String,
    },
    CreateUser {
        user: String,
    },
    /// A new access key; the user's newest key is what `write-env` writes.
    CreateKey {
        user: String,
    },
    /// Deletes the user's newest key (a rotation: the .env may still hold it).
    DeleteKey {
        user: String,
    },
    PutUserPolicy {
        user: String,
        name: String,
        document: String,
    },
    /// An IAM role with this trust policy (and an optional path).
    CreateRole {
        role: String,
        trust: String,
        #[serde(default)]
        path: Option<String>,
    },
    PutRolePolicy {
        role: String,
        name: String,
        document: String,
    },
    PutBucketPolicy {
        bucket: String,
        document: String,
    },
    DeleteBucketPolicy {
        bucket: String,
    },
    PutOwnership {
        bucket: String,
        ownership: String,
    },
    /// Takes the app user's key from an AWS profile instead of creating one (servers without
    /// IAM, where the users exist already): the profile the demo was given for the app.
    AppProfileKey {
        user: String,
    },
    /// Writes the app's .env with the app user's newest key, the bucket and the region.
    WriteEnv {
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        wrong_secret: bool,
    },
    /// The app changes what it needs (e.g. it stops sending ACLs).
    SetAccess {
        access: Access,
    },
}

/// One incident of the gallery.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub name: String,
    pub title: String,
    /// The support ticket, one paragraph.
    pub ticket: String,
    /// The finding the incident is meant to teach.
    pub teaches: FindingCode,
    /// The action that finding names, when it names one.
    #[serde(default)]
    pub action: Option<String>,
    pub fix: FixKind,
    /// For manual fixes: who changes what.
    #[serde(default)]
    pub fix_by: Option<String>,
    /// For manual fixes: words s3doctor's remedy must contain (the right non-policy remedy).
    #[serde(default)]
    pub remedy_mentions: Option<String>,
    pub learned: String,
    pub changed: String,
    pub app: AppSpec,
    #[serde(default)]
    pub peer: PeerKind,
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    pub seed: Vec<Action>,
    #[serde(default)]
    pub fix_steps: Vec<Action>,
}

/// Why the gallery cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Incident {
    /// The names the incident creates, each with `suffix` appended (tests run many seeds
    /// side by side; the demo uses no suffix, so the names read as in the ticket).
    pub fn names(&self, suffix: &str) -> BTreeMap<String, String> {
        let mut names = BTreeMap::new();
        // On RGW the app's user exists already: only what the incident creates is renamed.
        let user_suffix = if self.peer == PeerKind::Rgw {
            ""
        } else {
            suffix
        };
        names.insert("user".to_owned(), format!("{}{user_suffix}", self.app.user));
        names.insert("bucket".to_owned(), format!("{}{suffix}", self.app.bucket));
        for (k, v) in &self.names {
            names.insert(k.clone(), format!("{v}{suffix}"));
        }
        names
    }

    fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(format!("incident name {:?} is not kebab-case", self.name));
        }
        if self.seed.is_empty() {
            return Err(format!("{}: nothing to seed", self.name));
        }
        if !self
            .seed
            .iter()
            .any(|a| matches!(a, Action::WriteEnv { .. }))
        {
            return Err(format!(
                "{}: the seed never writes the app's .env",
                self.name
            ));
        }
        let creates_users = self
            .seed
            .iter()
            .any(|a| matches!(a, Action::CreateUser { .. } | Action::CreateKey { .. }));
        if self.peer == PeerKind::Rgw && creates_users {
            return Err(format!(
                "{}: RGW has no IAM users to create; use app-profile-key",
                self.name
            ));
        }
        match self.fix {
            FixKind::Manual if self.fix_steps.is_empty() || self.fix_by.is_none() => Err(format!(
                "{}: a manual fix needs fix_steps and fix_by",
                self.name
            )),
            FixKind::Policy | FixKind::Trust if !self.fix_steps.is_empty() => Err(format!(
                "{}: a policy fix is s3doctor's own; fix_steps are for manual fixes",
                self.name
            )),
            _ => Ok(()),
        }
    }
}

/// Parses gallery files and checks each incident.
pub fn parse(files: &[(&str, &str)]) -> Result<Vec<Incident>, GalleryError> {
    let mut out: Vec<Incident> = Vec::new();
    for (file, text) in files {
        let incident: Incident = toml::from_str(text).map_err(|source| GalleryError::Toml {
            file: (*file).to_owned(),
            source,
        })?;
        incident.check().map_err(GalleryError::Invalid)?;
        if out.iter().any(|i| i.name == incident.name) {
            return Err(GalleryError::Invalid(format!(
                "two incidents are named {}",
                incident.name
            )));
        }
        out.push(incident);
    }
    Ok(out)
}

/// The gallery compiled into the binary.
pub fn embedded() -> &'static [Incident] {
    static GALLERY: OnceLock<Vec<Incident>> = OnceLock::new();
    // Checked by the unit tests; a broken asset shows an empty gallery, never a panic.
    GALLERY.get_or_init(|| parse(&FILES).unwrap_or_default())
}

/// The incident called `name`.
pub fn find(name: &str) -> Option<&'static Incident> {
    embedded().iter().find(|i| i.name == name.trim())
}

/// `--list`: one incident a line, name then title.
pub fn list() -> String {
    let width = embedded().iter().map(|i| i.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for i in embedded() {
        let on = match i.peer {
            PeerKind::Moto => "",
            PeerKind::Rgw => " (Ceph RGW: scripts/demo.sh --rgw)",
        };
        out.push_str(&format!(
            "{:<width$}  {}  [{}]{on}\n",
            i.name, i.title, i.teaches
        ));
    }
    out
}

/// Fills `{name}` placeholders of the incident's texts with the names as seeded.
pub fn fill(text: &str, names: &BTreeMap<String, String>) -> String {
    let vars: Vec<(&str, &str)> = names
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    crate::runbook::fill(text, &vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gallery_parses_with_at_least_eight_incidents() {
        let gallery = parse(&FILES).unwrap();
        assert!(gallery.len() >= 8, "{}", gallery.len());
        assert_eq!(embedded().len(), gallery.len());
        for i in &gallery {
            assert!(!i.ticket.trim().is_empty() && !i.learned.trim().is_empty());
            assert!(
                !i.ticket.trim().contains('\n'),
                "{}: the ticket is one paragraph",
                i.name
            );
            assert!(
                crate::runbook::Runbook::embedded()
                    .finding(i.teaches)
                    .is_some()
            );
        }
    }

    #[test]
    fn every_gallery_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/gallery");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let listed: Vec<String> = FILES.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn the_issue_s_incidents_are_all_there() {
        let codes: Vec<FindingCode> = embedded().iter().map(|i| i.teaches).collect();
        for code in [
            FindingCode::PermissionMissing,
            FindingCode::ExplicitDeny,
            FindingCode::WrongRegion,
            FindingCode::InvalidKeyId,
            FindingCode::SignatureMismatch,
            FindingCode::AclDisabled,
            FindingCode::AssumeRoleRefused,
        ] {
            assert!(codes.contains(&code), "no incident teaches {code}");
        }
        assert!(find("runpod-no-permissions").is_some());
        // Issue 19's two: a role with no grant, a role that does not trust its caller.
        let task = find("task-role-no-grant").expect("task-role-no-grant");
        assert_eq!(
            (task.fix, task.app.role.as_deref()),
            (FixKind::Policy, Some("role"))
        );
        let deploy = find("deploy-role-not-trusted").expect("deploy-role-not-trusted");
        assert_eq!(deploy.fix, FixKind::Trust);
        assert!(find("nope").is_none());
    }

    #[test]
    fn a_manual_fix_without_steps_is_rejected() {
        let text = FILES[1].1.replace("[[fix_steps]]", "[[unused]]");
        assert!(parse(&[("x.toml", &text)]).is_err());
    }

    #[test]
    fn names_take_the_suffix_and_fill_the_texts() {
        let i = find("policy-for-another-bucket").unwrap();
        let names = i.names("-t1");
        assert_eq!(names["bucket"], "clipizy-dev-t1");
        assert_eq!(names["other_bucket"], "clipizy-prod-t1");
        assert!(fill(&i.changed, &names).contains("s3doctor-clipizy-dev-t1-read-write"));
    }
}
