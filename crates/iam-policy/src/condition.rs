//! Conditions: a statement's `Condition` block judged against what s3doctor knows of the request
//! (its [`Context`]), each value with where it came from. What is not known stays a typed
//! [`Dependency`], never a guess: the evaluator reports the statement as depending on it.
//!
//! The rules follow the IAM User Guide:
//! - "IAM JSON policy elements: Condition operators"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>):
//!   a key missing from the request context makes a condition false, except for the negated
//!   operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, …), which are true then, for
//!   `…IfExists` (true when the key is missing) and `Null`.
//! - "Condition with multiple context keys or values": the operators of a block and the keys of
//!   an operator are ANDed, the values of one key ORed; a negated operator is true when the
//!   request's value matches none of them.
//! - "Single-valued vs. multivalued context keys": `ForAllValues:` is true when every value of
//!   the request matches (and when the key is missing), `ForAnyValue:` when one does.
//! - "AWS global condition context keys"
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>):
//!   which keys are present on which network path (see [`network_path`]).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Where a value of the request context came from: said next to every value s3doctor uses.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The endpoint's scheme (`aws:SecureTransport`).
    Endpoint,
    /// Who the keys belong to (`sts:GetCallerIdentity`).
    Identity,
    /// `--acl`: the canned ACL the app sends.
    AclFlag,
    /// The probe's own request (what s3doctor sends, e.g. no prefix, no encryption header).
    Probe,
    /// This machine's clock.
    Clock,
    /// `--source-ip`, `--vpc`, `--vpce`: the app's network, as given.
    AppNetwork,
    /// The VPC endpoint's description (`ec2:DescribeVpcEndpoints`).
    VpcEndpoint,
    /// Inferred from the VPC endpoint's description: a part no answer gave, taken from one it
    /// did (the VPC's account in `aws:SourceVpcArn` is the endpoint's owner).
    VpcEndpointInferred,
    /// The AssumeRole request the credential chain sent (its external id, session name, no
    /// MFA and no source identity for a user's keys).
    AssumeRoleRequest,
}

impl Origin {
    /// True for a value s3doctor inferred rather than read or was given.
    pub fn is_inferred(&self) -> bool {
        matches!(self, Origin::VpcEndpointInferred)
    }

    /// Plain words: `from the endpoint's scheme`.
    pub fn describe(&self) -> &'static str {
        match self {
            Origin::Endpoint => "from the endpoint's scheme",
            Origin::Identity => "from the identity",
            Origin::AclFlag => "from --acl",
            Origin::Probe => "from the probe's own request",
            Origin::Clock => "from this machine's clock",
            Origin::AppNetwork => "from the app's network (--source-ip, --vpc, --vpce)",
            Origin::VpcEndpoint => "from the VPC endpoint's description",
            Origin::VpcEndpointInferred => {
                "inferred from the VPC endpoint's description: its owner taken as the VPC's"
            }
            Origin::AssumeRoleRequest => "from the AssumeRole request",
        }
    }
}

/// One key's value in the request context: its values, or known to be absent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Known {
    /// `None`: the key is known not to be in the request.
    pub values: Option<Vec<String>>,
    /// Where s3doctor learned it.
    pub origin: Origin,
}

/// What s3doctor knows of one request's context. A key that is not here is unknown.
/// Keys are compared without regard to case, as IAM does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Context {
    keys: BTreeMap<String, Known>,
}

impl Context {
    /// Sets `key` to one value.
    pub fn set(&mut self, key: &str, value: impl Into<String>, origin: Origin) -> &mut Self {
        self.set_many(key, vec![value.into()], origin)
    }

    /// Sets a multivalued `key`.
    pub fn set_many(&mut self, key: &str, values: Vec<String>, origin: Origin) -> &mut Self {
        self.keys.insert(
            key.to_ascii_lowercase(),
            Known {
                values: Some(values),
                origin,
            },
        );
        self
    }

    /// Says that `key` is not in the request.
    pub fn set_absent(&mut self, key: &str, origin: Origin) -> &mut Self {
        self.keys.insert(
            key.to_ascii_lowercase(),
            Known {
                values: None,
                origin,
            },
        );
        self
    }

    /// Forgets `key`: it is unknown again.
    pub fn forget(&mut self, key: &str) -> &mut Self {
        self.keys.remove(&key.to_ascii_lowercase());
        self
    }

    /// What is known of `key`, if anything.
    pub fn get(&self, key: &str) -> Option<&Known> {
        self.keys.get(&key.to_ascii_lowercase())
    }

    /// Every known key (lower case) with what is known.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Known)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// `other`'s keys over this context's.
    pub fn merged(mut self, other: &Context) -> Context {
        for (k, v) in &other.keys {
            self.keys.insert(k.clone(), v.clone());
        }
        self
    }
}

/// The keys whose values depend on where the request comes from (IAM User Guide, "AWS global
/// condition context keys"), and the endpoint-owner keys of a VPC endpoint.
pub const NETWORK_KEYS: [&str; 8] = [
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:VpcSourceIp",
    "aws:SourceVpcArn",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
];

/// Is `key` one of the [`NETWORK_KEYS`]?
pub fn is_network_key(key: &str) -> bool {
    NETWORK_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The app's network as the person describes it (`--source-ip`, `--vpc`, `--vpce`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppNetwork {
    /// The address the app's requests come from.
    pub source_ip: Option<IpAddr>,
    /// The VPC the app runs in (its requests reach S3 through an endpoint of it).
    pub vpc: Option<String>,
    /// The VPC endpoint the app's requests go through.
    pub vpce: Option<String>,
}

impl AppNetwork {
    /// True when nothing was given: the what-if is off.
    pub fn is_empty(&self) -> bool {
        self.source_ip.is_none() && self.vpc.is_none() && self.vpce.is_none()
    }

    /// True when the app's requests go through a VPC endpoint (`--vpc` or `--vpce`).
    pub fn through_endpoint(&self) -> bool {
        self.vpc.is_some() || self.vpce.is_some()
    }

    /// `VPC endpoint vpce-1 in vpc-2, from 10.0.0.5`: the network in words.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match (&self.vpce, &self.vpc) {
            (Some(e), Some(v)) => parts.push(format!("VPC endpoint {e} in {v}")),
            (Some(e), None) => parts.push(format!("VPC endpoint {e}")),
            (None, Some(v)) => parts.push(format!("a VPC endpoint of {v}")),
            (None, None) => {}
        }
        if let Some(ip) = self.source_ip {
            parts.push(format!("from {ip}"));
        }
        parts.join(", ")
    }

    /// The network keys of a request made from this network, following "AWS global condition
    /// context keys" (IAM User Guide,
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>):
    /// `aws:SourceIp` "is included in the request context, except when the requester uses a VPC
    /// endpoint"; `aws:SourceVpc`, `aws:SourceVpce` and `aws:VpcSourceIp` are included "only if
    /// the requester uses a VPC endpoint"; `aws:SourceVpcArn` likewise, for a request made
    /// through a VPC endpoint. So through an endpoint the address given is the VPC's private
    /// `aws:VpcSourceIp` and there is no `aws:SourceIp`; without one it is the public
    /// `aws:SourceIp` and there are no VPC keys. What is not given stays unknown (the person
    /// gives no `aws:SourceVpcArn`: s3doctor's checks take it from the endpoint's description).
    pub fn network_path(&self) -> Context {
        let mut cx = Context::default();
        let o = || Origin::AppNetwork;
        if self.through_endpoint() {
            cx.set_absent("aws:SourceIp", o());
            if let Some(vpce) = &self.vpce {
                cx.set("aws:SourceVpce", vpce.clone(), o());
            }
            if let Some(vpc) = &self.vpc {
                cx.set("aws:SourceVpc", vpc.clone(), o());
            }
            if let Some(ip) = self.source_ip {
                cx.set("aws:VpcSourceIp", ip.to_string(), o());
            }
        } else if let Some(ip) = self.source_ip {
            cx.set("aws:SourceIp", ip.to_string(), o());
            for key in NETWORK_KEYS.iter().skip(1) {
                cx.set_absent(key, o());
            }
        }
        cx
    }
}

/// One operator on one key, as written in a policy: `StringEquals aws:SourceVpce [vpce-1]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Test {
    /// The operator as written (`StringNotEqualsIfExists`, `ForAnyValue:StringLike`, …).
    pub operator: String,
    /// The condition key as written.
    pub key: String,
    /// The policy's values for the key.
    pub values: Vec<String>,
}

impl Test {
    /// True when the key is one of the [`NETWORK_KEYS`].
    pub fn is_network(&self) -> bool {
        is_network_key(&self.key)
    }

    /// `aws:SourceVpce is vpce-1` (what makes the test true), or, `negated`, what makes it false:
    /// `aws:SourceVpce is not vpce-1`.
    pub fn passing(&self, negated: bool) -> String {
        let op = Operator::parse(&self.operator);
        let values = self.values.join(" or ");
        let Some(op) = op else {
            return format!("{} {} {}", self.operator, self.key, values);
        };
        let positive = !op.base.negated();
        let (yes, no) = op.base.words();
        let says_yes = positive != negated;
        let verb = if says_yes { yes } else { no };
        let mut text = match op.base {
            Base::Null => {
                let absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                let absent = absent == says_yes;
                format!(
                    "{} is {}",
                    self.key,
                    if absent {
                        "not in the request"
                    } else {
                        "in the request"
                    }
                )
            }
            Base::Bool => {
                let v = self.values.first().map(String::as_str).unwrap_or("true");
                let v = v.eq_ignore_ascii_case("true") == says_yes;
                format!("{} is {v}", self.key)
            }
            _ => format!("{} {verb} {values}", self.key),
        };
        if op.if_exists && !negated {
            text.push_str(" (or is not in the request)");
        }
        text
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.operator, self.key)
    }
}

/// A question AWS's documentation leaves open, and the reading s3doctor takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reading {
    /// A bucket-policy Allow to `"*"` past the caller's permissions boundary: read as limited.
    AnyonePastBoundary,
    /// A Deny with `NotPrincipal` listing the caller without its account: read as exempt.
    NotPrincipalWithoutAccount,
}

/// What a statement's outcome depends on that s3doctor cannot settle.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Dependency {
    /// A condition on a key whose value is not known.
    Condition(Test),
    /// A policy variable in `Resource` that cannot be resolved locally.
    PolicyVariable {
        /// The variable as written, without `${}`.
        variable: String,
    },
    /// An open question of AWS's documentation.
    Reading {
        /// Which one.
        reading: Reading,
    },
}

impl Dependency {
    /// True for a condition on a network key.
    pub fn is_network(&self) -> bool {
        matches!(self, Dependency::Condition(t) if t.is_network())
    }

    /// The condition, for a [`Dependency::Condition`].
    pub fn test(&self) -> Option<&Test> {
        match self {
            Dependency::Condition(t) => Some(t),
            _ => None,
        }
    }
}

/// A condition whose value s3doctor knows: the test, the request's value and where it came
/// from, and whether the test holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Settled {
    /// The condition as written.
    #[serde(flatten)]
    pub test: Test,
    /// The request's values (`None`: the key is not in the request).
    pub request: Option<Vec<String>>,
    /// Where s3doctor learned them.
    pub origin: Origin,
    /// Whether the test holds.
    pub holds: bool,
}

impl Settled {
    /// `aws:SecureTransport is false (from the endpoint's scheme)`.
    pub fn describe(&self) -> String {
        let value = match &self.request {
            Some(v) => format!("is {}", v.join(", ")),
            None => "is not in the request".to_owned(),
        };
        format!("{} {value} ({})", self.test.key, self.origin.describe())
    }
}

/// A `Condition` block judged against a context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every test holds (`settled` says why).
    Met(Vec<Settled>),
    /// A test fails: the statement does not apply (the failing tests).
    NotMet(Vec<Settled>),
    /// No test fails, but some cannot be judged.
    Unknown {
        /// The tests that cannot be judged.
        unknown: Vec<Test>,
        /// The tests that hold.
        settled: Vec<Settled>,
    },
}

/// The base of an operator, without `…IfExists` and the set prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Base {
    fn parse(name: &str) -> Option<Base> {
        use Base::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// The negated operators: true when the request's value matches none of the policy's,
    /// and when the key is missing.
    fn negated(self) -> bool {
        use Base::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// The positive operator a negated one negates.
    fn positive(self) -> Base {
        use Base::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => other,
        }
    }

    /// How the positive operator's test reads when it holds, and when it does not.
    fn words(self) -> (&'static str, &'static str) {
        use Base::*;
        match self.positive() {
            StringLike | ArnLike => ("matches", "does not match"),
            IpAddress => ("is in", "is outside"),
            NumericLessThan | DateLessThan => ("is less than", "is not less than"),
            NumericLessThanEquals | DateLessThanEquals => ("is at most", "is more than"),
            NumericGreaterThan | DateGreaterThan => ("is more than", "is at most"),
            NumericGreaterThanEquals | DateGreaterThanEquals => ("is at least", "is less than"),
            _ => ("is", "is not"),
        }
    }

    /// Does one request value match one policy value (the positive operator's sense)?
    /// `None` when a value cannot be read (a number, a date, an address that is not one).
    fn matches(self, request: &str, policy: &str) -> Option<bool> {
        use Base::*;
        Some(match self.positive() {
            StringEquals | BinaryEquals => request == policy,
            StringEqualsIgnoreCase => request.eq_ignore_ascii_case(policy),
            StringLike => crate::glob::wildcard_match(policy, request, false),
            NumericEquals => number(request)? == number(policy)?,
            NumericLessThan => number(request)? < number(policy)?,
            NumericLessThanEquals => number(request)? <= number(policy)?,
            NumericGreaterThan => number(request)? > number(policy)?,
            NumericGreaterThanEquals => number(request)? >= number(policy)?,
            DateEquals => date(request)? == date(policy)?,
            DateLessThan => date(request)? < date(policy)?,
            DateLessThanEquals => date(request)? <= date(policy)?,
            DateGreaterThan => date(request)? > date(policy)?,
            DateGreaterThanEquals => date(request)? >= date(policy)?,
            Bool => request.eq_ignore_ascii_case(policy),
            IpAddress => in_network(request, policy)?,
            ArnEquals | ArnLike => arn_like(policy, request),
            // Handled apart: Null asks about presence, not values.
            _ => return None,
        })
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

/// A date as IAM accepts it: ISO 8601 (`2026-12-07T00:00:00Z`, or a bare date) or epoch seconds.
/// Read as the AWS SDK reads a date-time (RFC 3339 in UTC: a `Z`, no offset, `T` between date
/// and time), without depending on it.
fn date(text: &str) -> Option<i64> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return Some(secs);
    }
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let separator = full.as_bytes().get(10);
    if !full.ends_with('Z') || !matches!(separator, Some(b'T' | b't')) {
        return None;
    }
    let at = OffsetDateTime::parse(&full, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos().div_euclid(1_000_000_000)).ok()
}

/// Is the address `request` in `policy` (a CIDR block, or one address)?
fn in_network(request: &str, policy: &str) -> Option<bool> {
    let ip: IpAddr = request.trim().parse().ok()?;
    let policy = policy.trim();
    if let Ok(net) = policy.parse::<ipnet::IpNet>() {
        return Some(net.contains(&ip));
    }
    let single: IpAddr = policy.parse().ok()?;
    Some(single == ip)
}

/// `ArnLike`/`ArnEquals`: each of the six colon-separated parts matched on its own, with `*`
/// and `?`, case-sensitively (the resource part keeps its colons).
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return crate::glob::wildcard_match(pattern, arn, false);
    }
    p.iter()
        .zip(&a)
        .all(|(p, a)| crate::glob::wildcard_match(p, a, false))
}

/// An operator as written: its base, `…IfExists`, and a set prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    base: Base,
    if_exists: bool,
    set: Option<SetPrefix>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetPrefix {
    ForAllValues,
    ForAnyValue,
}

impl Operator {
    fn parse(written: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = written.strip_prefix("ForAllValues:") {
            (Some(SetPrefix::ForAllValues), rest)
        } else if let Some(rest) = written.strip_prefix("ForAnyValue:") {
            (Some(SetPrefix::ForAnyValue), rest)
        } else {
            (None, written)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) if base != "Null" => (base, true),
            _ => (rest, false),
        };
        Some(Operator {
            base: Base::parse(rest)?,
            if_exists,
            set,
        })
    }

    /// The test against the request's values (`None`: the key is not in the request);
    /// `None` when a value cannot be read.
    fn holds(self, policy: &[String], request: Option<&[String]>) -> Option<bool> {
        let base = self.base;
        if base == Base::Null {
            let wants_absent = policy.iter().any(|v| v.eq_ignore_ascii_case("true"));
            let absent = request.is_none_or(<[String]>::is_empty);
            return Some(absent == wants_absent);
        }
        let values = match request {
            None | Some([]) => {
                return Some(match self.set {
                    Some(SetPrefix::ForAllValues) => true,
                    Some(SetPrefix::ForAnyValue) => false,
                    None => self.if_exists || base.negated(),
                });
            }
            Some(v) => v,
        };
        // One request value against the policy's values: any match (negated: none).
        let one = |value: &str| -> Option<bool> {
            let mut any = false;
            for p in policy {
                if base.matches(value, p)? {
                    any = true;
                    break;
                }
            }
            Some(any != base.negated())
        };
        let mut results = Vec::with_capacity(values.len());
        for v in values {
            results.push(one(v)?);
        }
        Some(match self.set {
            Some(SetPrefix::ForAnyValue) => results.iter().any(|r| *r),
            Some(SetPrefix::ForAllValues) => results.iter().all(|r| *r),
            None => results.iter().all(|r| *r),
        })
    }
}

/// Replaces the policy variables `${key}` in a condition value with the context's values;
/// `None` when one is unknown (or multivalued).
fn resolve(value: &str, context: &Context) -> Option<String> {
    if !value.contains("${") {
        return Some(value.to_owned());
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start + 2..).unwrap_or_default();
        let end = after.find('}')?;
        let expr = after.get(..end).unwrap_or_default();
        let (key, default) = match expr.split_once(',') {
            Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
            None => (expr.trim(), None),
        };
        let literal = match key {
            "*" | "?" | "$" => Some(key.to_owned()),
            _ => match context.get(key) {
                Some(Known {
                    values: Some(v), ..
                }) if v.len() == 1 => v.first().cloned(),
                Some(Known { values: None, .. }) => default.map(str::to_owned),
                _ => None,
            },
        };
        out.push_str(&literal?);
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Some(out)
}

/// The `(operator, key, values)` tests of a `Condition` block, in the order written.
pub fn tests(condition: &serde_json::Map<String, serde_json::Value>) -> Vec<Test> {
    let mut out = Vec::new();
    for (operator, keys) in condition {
        let Some(keys) = keys.as_object() else {
            out.push(Test {
                operator: operator.clone(),
                key: String::new(),
                values: Vec::new(),
            });
            continue;
        };
        for (key, values) in keys {
            let values = match values {
                serde_json::Value::Array(items) => items.iter().map(scalar).collect(),
                other => vec![scalar(other)],
            };
            out.push(Test {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    out
}

/// A condition value as text: strings as they are, `true`/numbers as JSON writes them.
fn scalar(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Judges one test: `Some(settled)` when the context knows the key, `None` when it does not
/// (or the operator, or a policy variable in a value, is unknown to s3doctor).
pub fn judge(test: &Test, context: &Context, variables: bool) -> Option<Settled> {
    let op = Operator::parse(&test.operator)?;
    let known = context.get(&test.key)?;
    let policy: Vec<String> = if variables {
        test.values
            .iter()
            .map(|v| resolve(v, context))
            .collect::<Option<_>>()?
    } else {
        test.values.clone()
    };
    let holds = op.holds(&policy, known.values.as_deref())?;
    Some(Settled {
        test: test.clone(),
        request: known.values.clone(),
        origin: known.origin.clone(),
        holds,
    })
}

/// Judges a whole `Condition` block (`variables`: the policy's version resolves `${…}`).
pub fn evaluate(
    condition: &serde_json::Map<String, serde_json::Value>,
    context: &Context,
    variables: bool,
) -> Outcome {
    let mut settled = Vec::new();
    let mut failed = Vec::new();
    let mut unknown = Vec::new();
    for test in tests(condition) {
        match judge(&test, context, variables) {
            Some(s) if s.holds => settled.push(s),
            Some(s) => failed.push(s),
            None => unknown.push(test),
        }
    }
    if !failed.is_empty() {
        Outcome::NotMet(failed)
    } else if !unknown.is_empty() {
        Outcome::Unknown { unknown, settled }
    } else {
        Outcome::Met(settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().unwrap()
    }

    fn context(pairs: &[(&str, Option<&[&str]>)]) -> Context {
        let mut cx = Context::default();
        for (key, values) in pairs {
            match values {
                Some(v) => cx.set_many(
                    key,
                    v.iter().map(|s| (*s).to_owned()).collect(),
                    Origin::Probe,
                ),
                None => cx.set_absent(key, Origin::Probe),
            };
        }
        cx
    }

    /// `Some(true)`: met, `Some(false)`: not met, `None`: unknown.
    fn judge_block(condition: serde_json::Value, cx: &Context) -> Option<bool> {
        match evaluate(&block(condition), cx, true) {
            Outcome::Met(_) => Some(true),
            Outcome::NotMet(_) => Some(false),
            Outcome::Unknown { .. } => None,
        }
    }

    #[test]
    fn a_key_that_is_not_known_is_never_guessed() {
        let cx = context(&[("aws:SecureTransport", Some(&["true"]))]);
        let outcome = evaluate(
            &block(
                json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}, "Bool": {"aws:SecureTransport": "true"}}),
            ),
            &cx,
            true,
        );
        let Outcome::Unknown { unknown, settled } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].to_string(), "StringEquals aws:SourceVpce");
        assert!(unknown[0].is_network());
        assert_eq!(settled[0].test.key, "aws:SecureTransport");
        assert_eq!(
            settled[0].describe(),
            "aws:SecureTransport is true (from the probe's own request)"
        );
        // A failing test settles the block whatever the unknown ones say (they are ANDed).
        let cx = context(&[("aws:SecureTransport", Some(&["false"]))]);
        assert_eq!(
            judge_block(
                json!({"StringEquals": {"aws:SourceVpce": "vpce-1"}, "Bool": {"aws:SecureTransport": "true"}}),
                &cx
            ),
            Some(false)
        );
    }

    #[test]
    fn keys_are_compared_without_case_values_with_it() {
        let cx = context(&[("aws:username", Some(&["Runpod"]))]);
        assert_eq!(
            judge_block(json!({"StringEquals": {"AWS:UserName": "Runpod"}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"StringEquals": {"aws:username": "runpod"}}), &cx),
            Some(false)
        );
        assert_eq!(
            judge_block(
                json!({"StringEqualsIgnoreCase": {"aws:username": "runpod"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"StringLike": {"aws:username": "Run*"}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"StringNotLike": {"aws:username": ["x*", "R?npod"]}}),
                &cx
            ),
            Some(false)
        );
        // Values of one key are ORed; a negated operator wants none to match.
        assert_eq!(
            judge_block(
                json!({"StringEquals": {"aws:username": ["a", "Runpod"]}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"StringNotEquals": {"aws:username": ["a", "b"]}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"StringNotEquals": {"aws:username": ["a", "Runpod"]}}),
                &cx
            ),
            Some(false)
        );
    }

    /// "Condition operators": a missing key makes a condition false, except the negated
    /// operators, `…IfExists` and `Null`.
    #[test]
    fn a_missing_key_fails_except_for_negated_ifexists_and_null() {
        let cx = context(&[("aws:SourceIp", None)]);
        assert_eq!(
            judge_block(
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                &cx
            ),
            Some(false)
        );
        assert_eq!(
            judge_block(
                json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"Null": {"aws:SourceIp": "true"}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"Null": {"aws:SourceIp": "false"}}), &cx),
            Some(false)
        );
        let cx = context(&[("aws:SourceIp", Some(&["198.51.100.7"]))]);
        assert_eq!(
            judge_block(
                json!({"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}),
                &cx
            ),
            Some(false)
        );
        assert_eq!(
            judge_block(json!({"Null": {"aws:SourceIp": "false"}}), &cx),
            Some(true)
        );
    }

    #[test]
    fn ip_addresses_match_cidr_blocks_v4_and_v6() {
        let v4 = context(&[("aws:SourceIp", Some(&["203.0.113.77"]))]);
        assert_eq!(
            judge_block(
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                &v4
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"IpAddress": {"aws:SourceIp": "203.0.112.0/24"}}),
                &v4
            ),
            Some(false)
        );
        assert_eq!(
            judge_block(json!({"IpAddress": {"aws:SourceIp": "203.0.113.77"}}), &v4),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}),
                &v4
            ),
            Some(false)
        );
        let v6 = context(&[("aws:SourceIp", Some(&["2001:db8::1"]))]);
        assert_eq!(
            judge_block(json!({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}), &v6),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                &v6
            ),
            Some(false)
        );
        // A value that is no address cannot be judged: unknown, not false.
        assert_eq!(
            judge_block(json!({"IpAddress": {"aws:SourceIp": "office"}}), &v4),
            None
        );
    }

    #[test]
    fn bool_numeric_date_arn_and_binary() {
        let cx = context(&[
            ("aws:SecureTransport", Some(&["false"])),
            ("s3:max-keys", Some(&["1"])),
            ("aws:CurrentTime", Some(&["2026-12-07T10:00:00Z"])),
            ("aws:EpochTime", Some(&["1796637600"])),
            (
                "aws:PrincipalArn",
                Some(&["arn:aws:iam::123456789012:user/ops/Runpod"]),
            ),
        ]);
        assert_eq!(
            judge_block(json!({"Bool": {"aws:SecureTransport": "false"}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"Bool": {"aws:SecureTransport": false}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"Bool": {"aws:SecureTransport": "true"}}), &cx),
            Some(false)
        );
        assert_eq!(
            judge_block(json!({"NumericLessThanEquals": {"s3:max-keys": "10"}}), &cx),
            Some(true)
        );
        assert_eq!(
            judge_block(json!({"NumericGreaterThan": {"s3:max-keys": 10}}), &cx),
            Some(false)
        );
        assert_eq!(
            judge_block(
                json!({"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"DateGreaterThan": {"aws:CurrentTime": "2027-01-01"}}),
                &cx
            ),
            Some(false)
        );
        assert_eq!(
            judge_block(
                json!({"DateLessThan": {"aws:EpochTime": "1796637601"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ops/*"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:user/ops/Runpod"}}),
                &cx
            ),
            Some(false)
        );
        assert_eq!(
            judge_block(
                json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}),
                &cx
            ),
            Some(false)
        );
        // An operator s3doctor does not know is not guessed.
        assert_eq!(
            judge_block(
                json!({"StringSoundsLike": {"aws:SecureTransport": "x"}}),
                &cx
            ),
            None
        );
    }

    #[test]
    fn set_operators_over_multivalued_keys() {
        let tags = context(&[("aws:TagKeys", Some(&["team", "env"]))]);
        let none = context(&[("aws:TagKeys", None)]);
        let all = json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "cost"]}});
        let any = json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}});
        assert_eq!(judge_block(all.clone(), &tags), Some(true));
        assert_eq!(judge_block(any.clone(), &tags), Some(true));
        // ForAllValues is true for a missing key, ForAnyValue false.
        assert_eq!(judge_block(all, &none), Some(true));
        assert_eq!(judge_block(any, &none), Some(false));
        assert_eq!(
            judge_block(
                json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}),
                &tags
            ),
            Some(false)
        );
    }

    #[test]
    fn policy_variables_in_values_are_resolved_or_left_unknown() {
        let cx = context(&[
            ("aws:username", Some(&["Runpod"])),
            ("s3:prefix", Some(&["home/Runpod/"])),
        ]);
        assert_eq!(
            judge_block(
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                &cx
            ),
            Some(true)
        );
        assert_eq!(
            judge_block(
                json!({"StringLike": {"s3:prefix": "home/${aws:PrincipalTag/team}/*"}}),
                &cx
            ),
            None
        );
    }

    /// "AWS global condition context keys": aws:SourceIp is there except through a VPC
    /// endpoint; aws:SourceVpc, aws:SourceVpce, aws:VpcSourceIp only through one.
    #[test]
    fn the_network_path_decides_which_keys_exist() {
        let public = AppNetwork {
            source_ip: Some("203.0.113.9".parse().unwrap()),
            ..AppNetwork::default()
        };
        let cx = public.network_path();
        assert_eq!(
            cx.get("aws:SourceIp").unwrap().values,
            Some(vec!["203.0.113.9".to_owned()])
        );
        for key in [
            "aws:SourceVpc",
            "aws:SourceVpce",
            "aws:VpcSourceIp",
            "aws:SourceVpcArn",
        ] {
            assert_eq!(cx.get(key).unwrap().values, None, "{key}");
        }
        let gateway = AppNetwork {
            source_ip: Some("10.0.3.4".parse().unwrap()),
            vpc: Some("vpc-0abc".into()),
            vpce: Some("vpce-0def".into()),
        };
        let cx = gateway.network_path();
        assert_eq!(cx.get("aws:SourceIp").unwrap().values, None);
        assert_eq!(
            cx.get("aws:VpcSourceIp").unwrap().values,
            Some(vec!["10.0.3.4".to_owned()])
        );
        assert_eq!(
            cx.get("aws:SourceVpce").unwrap().values,
            Some(vec!["vpce-0def".to_owned()])
        );
        assert_eq!(
            cx.get("aws:SourceVpc").unwrap().values,
            Some(vec!["vpc-0abc".to_owned()])
        );
        // Not given, not guessed.
        assert!(cx.get("aws:SourceVpcArn").is_none());
        assert_eq!(
            gateway.describe(),
            "VPC endpoint vpce-0def in vpc-0abc, from 10.0.3.4"
        );
        // The classic office-range Deny, from the app's VPC endpoint: no aws:SourceIp, so a
        // NotIpAddress Deny applies.
        assert_eq!(
            judge_block(
                json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
                &cx
            ),
            Some(true)
        );
        assert!(AppNetwork::default().network_path().iter().next().is_none());
    }

    #[test]
    fn what_a_request_must_carry_reads_plainly() {
        let test = |op: &str, key: &str, values: &[&str]| Test {
            operator: op.into(),
            key: key.into(),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        let vpce = test("StringEquals", "aws:SourceVpce", &["vpce-1"]);
        assert_eq!(vpce.passing(false), "aws:SourceVpce is vpce-1");
        assert_eq!(vpce.passing(true), "aws:SourceVpce is not vpce-1");
        let not_vpce = test("StringNotEquals", "aws:SourceVpce", &["vpce-1"]);
        assert_eq!(not_vpce.passing(true), "aws:SourceVpce is vpce-1");
        let office = test("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]);
        assert_eq!(office.passing(true), "aws:SourceIp is in 203.0.113.0/24");
        assert_eq!(
            office.passing(false),
            "aws:SourceIp is outside 203.0.113.0/24"
        );
        let tls = test("Bool", "aws:SecureTransport", &["false"]);
        assert_eq!(tls.passing(true), "aws:SecureTransport is true");
        let null = test("Null", "s3:x-amz-server-side-encryption", &["true"]);
        assert_eq!(
            null.passing(true),
            "s3:x-amz-server-side-encryption is in the request"
        );
    }
}
