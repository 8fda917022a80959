//! IAM policy documents as AWS writes them: model, parsing (also URL-encoded) and printing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// Why a policy document could not be read, or would be refused by IAM.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is neither a JSON policy nor a URL-encoded one.
    #[error("the policy document is not valid policy JSON: {0}")]
    Parse(String),
    /// IAM refuses a policy without any statement.
    #[error("the policy has no statement")]
    NoStatement,
    /// IAM accepts only ASCII letters and digits in a Sid (`index` is 0-based).
    #[error(
        "statement #{} has the invalid Sid {sid:?}: a Sid may contain only the letters A-Z, a-z \
         and the digits 0-9",
        index + 1
    )]
    InvalidSid {
        /// 0-based position of the statement.
        index: usize,
        /// The Sid as written.
        sid: String,
    },
    /// IAM refuses two statements with the same Sid.
    #[error("the Sid {sid:?} is used by more than one statement")]
    DuplicateSid {
        /// The repeated Sid.
        sid: String,
    },
    /// An identity policy statement lacks `Action`/`NotAction` or `Resource`/`NotResource`
    /// (`index` is 0-based).
    #[error("statement #{} has neither {element} nor Not{element}", index + 1)]
    MissingElement {
        /// 0-based position of the statement.
        index: usize,
        /// `Action` or `Resource`.
        element: &'static str,
    },
    /// The policy is larger than IAM allows for a managed policy.
    #[error(
        "the policy is {size} characters long (not counting whitespace), over the limit of \
         {limit} characters for a managed IAM policy; split the buckets across several policies"
    )]
    TooLarge {
        /// Size in characters, whitespace outside strings not counted.
        size: usize,
        /// The limit that applies.
        limit: usize,
    },
}

/// Whether a statement grants or refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants the actions, unless a Deny also matches.
    #[serde(alias = "allow", alias = "ALLOW")]
    Allow,
    /// Refuses the actions, overriding every Allow.
    #[serde(alias = "deny", alias = "DENY")]
    Deny,
}

impl Effect {
    /// The AWS spelling: `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy element that AWS accepts as one string or as an array of strings
/// (`Action`, `Resource`, principal values). The form read is the form written back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OneOrMany {
    /// Written as a bare string.
    One(String),
    /// Written as an array.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, whichever form they were written in.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(value) => std::slice::from_ref(value),
            OneOrMany::Many(values) => values,
        }
    }

    /// Iterates over the values as `&str`.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.as_slice().iter().map(String::as_str)
    }
}

impl From<&str> for OneOrMany {
    fn from(value: &str) -> Self {
        OneOrMany::One(value.to_owned())
    }
}

impl From<String> for OneOrMany {
    fn from(value: String) -> Self {
        OneOrMany::One(value)
    }
}

impl From<Vec<String>> for OneOrMany {
    fn from(values: Vec<String>) -> Self {
        OneOrMany::Many(values)
    }
}

impl From<&[&str]> for OneOrMany {
    fn from(values: &[&str]) -> Self {
        OneOrMany::Many(values.iter().map(|v| (*v).to_owned()).collect())
    }
}

impl Serialize for OneOrMany {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(value) => serializer.serialize_str(value),
            OneOrMany::Many(values) => values.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;

        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(value))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(OneOrMany::Many(values))
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor)
    }
}

/// Who a resource-based policy statement is about: `"*"` (anyone) or a map such as
/// `{"AWS": ["arn:aws:iam::123456789012:user/a", "123456789012"], "Service": "…"}`.
/// The map's keys (`AWS`, `Service`, `Federated`, `CanonicalUser`) are kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The bare string `"*"`: every principal, including anonymous ones.
    Any,
    /// Principal type → ARNs, account ids, service names or canonical ids.
    Map(BTreeMap<String, OneOrMany>),
}

impl Principal {
    /// The values listed under `key` (e.g. `"AWS"`); empty for `Any` or a missing key.
    pub fn values(&self, key: &str) -> &[String] {
        match self {
            Principal::Any => &[],
            Principal::Map(map) => map.get(key).map_or(&[], OneOrMany::as_slice),
        }
    }

    /// A map principal with AWS principals only (`{"AWS": …}`).
    pub fn aws(values: impl Into<OneOrMany>) -> Self {
        Principal::Map(BTreeMap::from([("AWS".to_owned(), values.into())]))
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => serializer.serialize_str("*"),
            Principal::Map(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PrincipalVisitor;

        impl<'de> Visitor<'de> for PrincipalVisitor {
            type Value = Principal;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"*\" or a map such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Principal, E> {
                if value == "*" {
                    Ok(Principal::Any)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(value), &self))
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Principal, A::Error> {
                let mut map = BTreeMap::new();
                while let Some((key, value)) = access.next_entry::<String, OneOrMany>()? {
                    map.insert(key, value);
                }
                Ok(Principal::Map(map))
            }
        }

        deserializer.deserialize_any(PrincipalVisitor)
    }
}

/// One statement of a policy, with AWS's element names. Absent elements stay absent when
/// written back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Optional statement id, shown in findings to say which statement decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// Resource-based policies only: whom the statement is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Resource-based policies only: everyone except these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_principal: Option<Principal>,
    /// Actions covered, with `*`/`?` wildcards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<OneOrMany>,
    /// Every action except these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_action: Option<OneOrMany>,
    /// Resource ARNs covered, with `*`/`?` wildcards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<OneOrMany>,
    /// Every resource except these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_resource: Option<OneOrMany>,
    /// Condition operator → (condition key → values), kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Statement {
    /// A statement with only its effect set; fill in the public fields.
    pub fn new(effect: Effect) -> Self {
        Statement {
            sid: None,
            effect,
            principal: None,
            not_principal: None,
            action: None,
            not_action: None,
            resource: None,
            not_resource: None,
            condition: None,
        }
    }

    /// The condition keys, one `"Operator key"` string each (e.g. `"StringEquals aws:SourceVpce"`);
    /// an operator whose value is not a map is listed alone. Empty without a `Condition`.
    pub fn condition_keys(&self) -> Vec<String> {
        let Some(condition) = &self.condition else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        for (operator, value) in condition {
            match value.as_object() {
                Some(map) if !map.is_empty() => {
                    keys.extend(map.keys().map(|key| format!("{operator} {key}")));
                }
                _ => keys.push(operator.clone()),
            }
        }
        keys
    }
}

/// A whole policy document: identity policy, bucket policy or permissions boundary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Policy language version; `2012-10-17` for anything written today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Optional document id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The statements; a single object is accepted on input, an array is always written.
    #[serde(default, deserialize_with = "one_or_many_statements")]
    pub statement: Vec<Statement>,
}

fn one_or_many_statements<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Statement>, D::Error> {
    // Decide on the JSON shape first: an untagged enum would hide serde's precise message.
    let value = serde_json::Value::deserialize(deserializer)?;
    let is_object = |v: &serde_json::Value| v.is_object();
    let well_formed = match &value {
        serde_json::Value::Array(items) => items.iter().all(is_object),
        other => is_object(other),
    };
    if !well_formed {
        return Err(de::Error::custom(
            "Statement must be an object or an array of objects",
        ));
    }
    if value.is_array() {
        Vec::<Statement>::deserialize(value).map_err(de::Error::custom)
    } else {
        Statement::deserialize(value)
            .map(|statement| vec![statement])
            .map_err(de::Error::custom)
    }
}

impl PolicyDocument {
    /// The current policy language version.
    pub const VERSION: &'static str = "2012-10-17";

    /// A `2012-10-17` document with these statements.
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: Some(Self::VERSION.to_owned()),
            id: None,
            statement,
        }
    }

    /// Reads a policy as IAM, S3 or a person gives it: plain JSON, or the URL-encoded JSON
    /// that IAM's `GetPolicyVersion`, `GetUserPolicy`, `GetRolePolicy` and `GetGroupPolicy`
    /// return. Text starting with `%7B` is decoded first; other text is decoded only when it
    /// does not parse as it is. A leading byte-order mark and surrounding whitespace are ignored.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let text = text.trim_start_matches('\u{feff}').trim();
        let looks_encoded = text.get(..3).is_some_and(|s| s.eq_ignore_ascii_case("%7B"));
        if looks_encoded {
            let decoded = percent_decode(text)?;
            return parse_json(&decoded);
        }
        match parse_json(text) {
            Ok(document) => Ok(document),
            Err(error) if text.contains('%') => match percent_decode(text) {
                Ok(decoded) => parse_json(&decoded).map_err(|_| error),
                Err(_) => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// The document as pretty JSON (two-space indent), the form shown to people and sent to IAM.
    pub fn to_pretty_json(&self) -> String {
        // Cannot fail: every map key is a string and no serializer here returns an error.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The document as JSON without any whitespace outside strings, the form IAM measures.
    pub fn to_compact_json(&self) -> String {
        // Cannot fail, as above.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl FromStr for PolicyDocument {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PolicyDocument::parse(text)
    }
}

fn parse_json(text: &str) -> Result<PolicyDocument, PolicyError> {
    // serde would also read a struct from a JSON array; IAM only takes an object.
    if !text.trim_start().starts_with('{') {
        return Err(PolicyError::Parse(
            "a policy document is a JSON object, starting with {".to_owned(),
        ));
    }
    serde_json::from_str(text).map_err(|error| PolicyError::Parse(error.to_string()))
}

fn percent_decode(text: &str) -> Result<String, PolicyError> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| PolicyError::Parse("the URL-encoded policy is not valid UTF-8".to_owned()))
}

/// Where a policy comes from, which decides how it takes part in evaluation and how a finding
/// names it. Serialised as `"kind": "group-inline"` (plus `"group"` for group policies).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PolicyKind {
    /// Inline policy of the user or role itself.
    Inline,
    /// Managed policy attached to the user or role.
    Managed,
    /// Inline policy of a group the user belongs to.
    GroupInline {
        /// The group's name.
        group: String,
    },
    /// Managed policy attached to a group the user belongs to.
    GroupManaged {
        /// The group's name.
        group: String,
    },
    /// The bucket's resource-based policy.
    BucketPolicy,
    /// A KMS key's key policy (its resource-based policy).
    KeyPolicy,
    /// The permissions boundary of the user or role.
    PermissionsBoundary,
    /// A role's trust policy (who may assume it).
    TrustPolicy,
    /// A VPC endpoint's policy: what may go through the endpoint (judged in the resource
    /// policy's place, its statements naming principals).
    VpcEndpointPolicy,
}

impl PolicyKind {
    /// Short stable name: `inline`, `managed`, `group-inline`, `group-managed`,
    /// `bucket-policy`, `key-policy`, `permissions-boundary`, `trust-policy`,
    /// `vpc-endpoint-policy`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicyKind::Inline => "inline",
            PolicyKind::Managed => "managed",
            PolicyKind::GroupInline { .. } => "group-inline",
            PolicyKind::GroupManaged { .. } => "group-managed",
            PolicyKind::BucketPolicy => "bucket-policy",
            PolicyKind::KeyPolicy => "key-policy",
            PolicyKind::PermissionsBoundary => "permissions-boundary",
            PolicyKind::TrustPolicy => "trust-policy",
            PolicyKind::VpcEndpointPolicy => "vpc-endpoint-policy",
        }
    }
}

impl fmt::Display for PolicyKind {
    /// Plain words for people: "inline policy", "managed policy of group devs", …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyKind::Inline => f.write_str("inline policy"),
            PolicyKind::Managed => f.write_str("managed policy"),
            PolicyKind::GroupInline { group } => write!(f, "inline policy of group {group}"),
            PolicyKind::GroupManaged { group } => write!(f, "managed policy of group {group}"),
            PolicyKind::BucketPolicy => f.write_str("bucket policy"),
            PolicyKind::KeyPolicy => f.write_str("key policy"),
            PolicyKind::PermissionsBoundary => f.write_str("permissions boundary"),
            PolicyKind::TrustPolicy => f.write_str("trust policy"),
            PolicyKind::VpcEndpointPolicy => f.write_str("VPC endpoint policy"),
        }
    }
}

/// A policy with the name, ARN and kind needed to cite it in a finding; the form in which the
/// rest of s3doctor hands policies to the evaluator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPolicy {
    /// Policy name (for a bucket policy, the bucket's name is a good choice).
    pub name: String,
    /// ARN of a managed policy; `None` for inline and bucket policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Where the policy comes from.
    #[serde(flatten)]
    pub kind: PolicyKind,
    /// The document itself.
    pub document: PolicyDocument,
}

impl NamedPolicy {
    /// Bundles a document with its name, ARN and kind.
    pub fn new(
        name: impl Into<String>,
        arn: Option<String>,
        kind: PolicyKind,
        document: PolicyDocument,
    ) -> Self {
        NamedPolicy {
            name: name.into(),
            arn,
            kind,
            document,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const INCIDENT_2_USER_POLICY: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {"Sid": "AllowObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::sselfie/*"},
        {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:DeleteObject",
         "Resource": "arn:aws:s3:::sselfie/*"}
      ]
    }"#;

    #[test]
    fn parses_array_and_single_forms() {
        let doc = PolicyDocument::parse(INCIDENT_2_USER_POLICY).unwrap();
        assert_eq!(doc.version.as_deref(), Some("2012-10-17"));
        assert_eq!(doc.statement.len(), 2);
        assert_eq!(doc.statement[0].effect, Effect::Allow);
        assert_eq!(
            doc.statement[0].action.as_ref().unwrap().as_slice(),
            ["s3:GetObject", "s3:PutObject"]
        );
        assert_eq!(doc.statement[1].effect, Effect::Deny);
        assert_eq!(
            doc.statement[1].action,
            Some(OneOrMany::One("s3:DeleteObject".to_owned()))
        );

        let single = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        assert_eq!(single.statement.len(), 1);
        // Output is always an array.
        let out: serde_json::Value = serde_json::from_str(&single.to_compact_json()).unwrap();
        assert!(out["Statement"].is_array());
    }

    #[test]
    fn omits_absent_fields_and_keeps_order() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.to_compact_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#
        );
    }

    #[test]
    fn parses_url_encoded_policy_from_iam() {
        // As GetPolicyVersion returns it.
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22DenyDelete%22%2C%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22s3%3ADeleteObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Asselfie%2F%2A%22%7D%5D%7D";
        let doc = PolicyDocument::parse(encoded).unwrap();
        assert_eq!(doc.statement[0].sid.as_deref(), Some("DenyDelete"));
        assert_eq!(
            doc.statement[0].resource,
            Some(OneOrMany::One("arn:aws:s3:::sselfie/*".to_owned()))
        );
        // Lower-case escapes too.
        let lower = format!("%7b{}", &encoded[3..]);
        assert_eq!(PolicyDocument::parse(&lower).unwrap(), doc);
        // Partly encoded text that does not start with %7B.
        let partly = "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3%3AGetObject\",\"Resource\":\"*\"}]}";
        let doc = PolicyDocument::parse(partly).unwrap();
        assert_eq!(doc.statement[0].action, Some("s3%3AGetObject".into()));
        let spaced = "%20%7B%22Statement%22%3A%5B%5D%7D";
        assert!(PolicyDocument::parse(spaced).unwrap().statement.is_empty());
    }

    #[test]
    fn keeps_percent_signs_inside_valid_json() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%25/*"}]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.statement[0].resource,
            Some("arn:aws:s3:::b/100%25/*".into())
        );
    }

    #[test]
    fn parses_principals() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[
              {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},
              {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/a","123456789012"],
               "Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"},
              {"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(doc.statement[0].principal, Some(Principal::Any));
        let p = doc.statement[1].principal.as_ref().unwrap();
        assert_eq!(
            p.values("AWS"),
            ["arn:aws:iam::123456789012:user/a", "123456789012"]
        );
        assert_eq!(p.values("Service"), ["cloudfront.amazonaws.com"]);
        assert!(p.values("Federated").is_empty());
        assert_eq!(doc.statement[2].not_principal, Some(Principal::aws("*")));
        let json = doc.to_compact_json();
        assert!(json.contains(r#""Principal":"*""#));
        assert!(json.contains(r#""NotPrincipal":{"AWS":"*"}"#));
        assert_eq!(PolicyDocument::parse(&json).unwrap(), doc);
    }

    #[test]
    fn rejects_bad_documents_with_a_message() {
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"Statement":[{"Effect":"Maybe"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":3}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"someone"}]}"#,
            r#"{"Statement":"x"}"#,
            r#"{"Statement":[["Sid","Allow"]]}"#,
            "%7B%FF%FE",
            "%7B not json",
        ] {
            let err = PolicyDocument::parse(bad).unwrap_err();
            assert!(matches!(err, PolicyError::Parse(_)), "{bad}: {err:?}");
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn condition_keys_are_listed() {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
              "Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpc":"vpc-1"},
                           "Bool":{"aws:SecureTransport":"false"}}}]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.statement[0].condition_keys(),
            [
                "StringNotEquals aws:SourceVpce",
                "StringNotEquals aws:SourceVpc",
                "Bool aws:SecureTransport"
            ]
        );
        assert!(Statement::new(Effect::Allow).condition_keys().is_empty());
    }

    #[test]
    fn named_policy_serialises_kind_in_kebab_case() {
        let policy = NamedPolicy::new(
            "devs-s3",
            None,
            PolicyKind::GroupInline {
                group: "devs".to_owned(),
            },
            PolicyDocument::new(vec![]),
        );
        let value = serde_json::to_value(&policy).unwrap();
        assert_eq!(value["kind"], "group-inline");
        assert_eq!(value["group"], "devs");
        assert!(value.get("arn").is_none());
        let back: NamedPolicy = serde_json::from_value(value).unwrap();
        assert_eq!(back, policy);
        let boundary = serde_json::to_value(PolicyKind::PermissionsBoundary).unwrap();
        assert_eq!(
            boundary,
            serde_json::json!({"kind": "permissions-boundary"})
        );
        assert_eq!(
            PolicyKind::GroupManaged { group: "g".into() }.to_string(),
            "managed policy of group g"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in any::<String>()) {
            let _ = PolicyDocument::parse(&text);
        }

        #[test]
        fn parse_never_panics_on_encoded_looking_input(
            rest in "[%0-9A-Fa-f{}\\[\\]\":,a-zA-Z ]{0,80}",
        ) {
            let _ = PolicyDocument::parse(&format!("%7B{rest}"));
            let _ = PolicyDocument::parse(&format!("{{\"Statement\":{rest}"));
        }

        #[test]
        fn parse_never_panics_on_policy_shaped_json(
            effect in "(Allow|Deny|allow|x)",
            action in prop::collection::vec(any::<String>(), 0..3),
            resource in any::<String>(),
        ) {
            let value = serde_json::json!({
                "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]
            });
            if let Ok(doc) = PolicyDocument::parse(&value.to_string()) {
                // What parses also round-trips.
                prop_assert_eq!(PolicyDocument::parse(&doc.to_pretty_json()), Ok(doc));
            }
        }
    }
}
