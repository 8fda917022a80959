//! Real AWS answers, replayed through the real SDK clients and the real checks. Each file in
//! `tests/fixtures/aws/` is one answer exactly as AWS sends it (status line, headers, body;
//! HEAD answers have no body) with its public source and the finding it must produce in
//! `#` header lines. An HTTP client on the SDK's own connector seam answers every request of
//! the step with that answer, so signing, endpoint resolution, retries, the SDK's error
//! parser and s3doctor's classification all run as against AWS. The same corpus is then
//! replayed through every step, to prove that no failed step ends without an error finding.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_types::region::Region;

use crate::arn;
use crate::aws::{self, Clients, Session};
use crate::checks::{self, BucketState, CheckContext, Identity, RunSettings, Status, StepOutcome};
use crate::finding::{Finding, FindingCode};
use crate::operation::Operation;
use crate::runbook::StepId;

/// The bucket, principal and region of AWS's documentation examples.
pub const BUCKET: &str = "amzn-s3-demo-bucket1";
pub const PRINCIPAL: &str = "arn:aws:iam::123456789012:user/MaryMajor";
pub const REGION: &str = "us-west-2";
/// The app's own object (`--key`) the `app-object` step reads.
pub const APP_KEY: &str = "finance/q3-report.pdf";

/// One recorded answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A fixture file: the answer, where it comes from, and what it must produce.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    pub sources: Vec<String>,
    pub step: StepId,
    /// `# operation:` the call the answer is to (the credentials step makes several kinds).
    pub operation: Option<Operation>,
    /// `key=value` expectations (`code`, `status`, `action`, `basis`, `source`, …).
    pub expect: Vec<(String, String)>,
    pub answer: Answer,
}

impl Fixture {
    pub fn expected(&self, key: &str) -> Option<&str> {
        self.expect
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/aws")
}

/// Parses a fixture: `# key: value` lines, then the HTTP response as sent.
pub fn parse_fixture(name: &str, text: &str) -> Result<Fixture, String> {
    let mut lines = text.split_inclusive('\n').peekable();
    let mut meta = Meta::default();
    while let Some(line) = lines.peek() {
        let Some(m) = line.strip_prefix('#') else {
            break;
        };
        meta.read(name, m.trim())?;
        lines.next();
    }
    let rest: String = lines.collect();
    let answer = parse_answer(name, &rest.replace("\r\n", "\n"))?;
    if meta.sources.is_empty() {
        return Err(format!("{name}: no source line"));
    }
    Ok(Fixture {
        name: name.to_owned(),
        sources: meta.sources,
        step: meta.step.ok_or(format!("{name}: no step line"))?,
        operation: meta.operation,
        expect: meta.expect,
        answer,
    })
}

/// The `# key: value` lines of a fixture.
#[derive(Default)]
struct Meta {
    sources: Vec<String>,
    step: Option<StepId>,
    operation: Option<Operation>,
    expect: Vec<(String, String)>,
}

impl Meta {
    /// Takes one `key: value` line (`source`, `step`, `expect`; others are comments).
    fn read(&mut self, name: &str, meta: &str) -> Result<(), String> {
        let Some((key, value)) = meta.split_once(':') else {
            return Ok(());
        };
        let value = value.trim();
        match key.trim() {
            "source" => self.sources.push(value.to_owned()),
            "step" => {
                self.step = Some(
                    serde_json::from_value::<StepId>(serde_json::Value::String(value.to_owned()))
                        .map_err(|e| format!("{name}: step {value}: {e}"))?,
                )
            }
            "operation" => {
                self.operation = Some(
                    value
                        .parse()
                        .map_err(|e| format!("{name}: operation {value}: {e}"))?,
                )
            }
            "expect" => {
                let mut parts = value.split_whitespace();
                let code = parts.next().ok_or(format!("{name}: empty expect"))?;
                self.expect.push(("code".to_owned(), code.to_owned()));
                for part in parts {
                    let (k, v) = part
                        .split_once('=')
                        .ok_or(format!("{name}: expect {part} is not key=value"))?;
                    self.expect.push((k.to_owned(), v.to_owned()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The HTTP response of a fixture: status line, headers, a blank line, the body.
fn parse_answer(name: &str, rest: &str) -> Result<Answer, String> {
    let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
    let mut head_lines = head.lines();
    let status_line = head_lines.next().ok_or(format!("{name}: no status line"))?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("{name}: bad status line {status_line}"))?;
    let headers = head_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = body.strip_suffix('\n').unwrap_or(body).to_owned();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Every fixture, sorted by name.
pub fn fixtures() -> Vec<Fixture> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/aws")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "http"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let text = std::fs::read_to_string(p).expect("fixture");
            parse_fixture(&name, &text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// An HTTP client that answers every request with one recorded answer (or, for a request
/// whose `METHOD URI` contains a route's text, that route's answer), and remembers the
/// requests (method and URI).
#[derive(Clone, Debug)]
pub struct Replay {
    answer: Answer,
    routes: Vec<(String, Answer)>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Replay {
    pub fn new(answer: Answer) -> Self {
        Replay {
            answer,
            routes: Vec::new(),
            requests: Arc::default(),
        }
    }

    /// Answers the requests whose `METHOD URI` contains `needle` with `answer` (the first
    /// route that matches wins).
    pub fn route(mut self, needle: &str, answer: Answer) -> Self {
        self.routes.push((needle.to_owned(), answer));
        self
    }

    fn response(&self, request: &str, method: &str) -> HttpResponse {
        let answer = self
            .routes
            .iter()
            .find(|(needle, _)| request.contains(needle.as_str()))
            .map_or(&self.answer, |(_, a)| a);
        // A HEAD answer never has a body, whatever was recorded.
        let body = if method == "HEAD" {
            String::new()
        } else {
            answer.body.clone()
        };
        let mut r = HttpResponse::new(
            StatusCode::try_from(answer.status).expect("status"),
            SdkBody::from(body),
        );
        for (k, v) in &answer.headers {
            r.headers_mut().append(k.clone(), v.clone());
        }
        r
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let method = request.method().to_owned();
        let line = format!("{method} {}", request.uri());
        if let Ok(mut seen) = self.requests.lock() {
            seen.push(line.clone());
        }
        HttpConnectorFuture::ready(Ok(self.response(&line, &method)))
    }
}

/// The host of STS's requests in the replay's region.
pub const STS_HOST: &str = "sts.us-west-2.amazonaws.com";

/// A fixture by its file name.
pub fn fixture(name: &str) -> Fixture {
    fixtures()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        _: &HttpConnectorSettings,
        _: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// A session whose every request is answered by `replay`, signed for `REGION` with the
/// example keys of AWS's documentation; nothing is read from this machine's environment.
pub async fn session(replay: &Replay) -> Session {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "replay",
        ))
        .http_client(replay.clone())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .load()
        .await;
    Session {
        clients: Clients::from_sdk_config(&sdk),
        region: Some(REGION.to_owned()),
        region_source: Some("--region".to_owned()),
        credential_source: "replay".to_owned(),
        key_id_hint: aws::key_hint("AKIAIOSFODNN7EXAMPLE"),
        expiry: None,
        temporary: false,
        assumed: Vec::new(),
    }
}

/// Runs one step against one answer, as the engine would: the principal is known, and the
/// probe was uploaded for the steps that need it.
pub async fn run_step(step: StepId, answer: &Answer) -> (StepOutcome, Replay) {
    run_step_in(step, answer, BucketState::default()).await
}

/// As `run_step`, with what earlier steps learned about the bucket.
pub async fn run_step_in(
    step: StepId,
    answer: &Answer,
    state: BucketState,
) -> (StepOutcome, Replay) {
    // The step's requests get the answer; STS, which a step asks whether AWS accepted the
    // keys, answers as for good keys, unless the step is the one that asks STS itself.
    let mut replay = Replay::new(answer.clone());
    if step != StepId::Identity {
        replay = replay.route(STS_HOST, fixture("sts-get-caller-identity.http").answer);
    }
    run_replay(step, replay, state).await
}

/// Runs one step with the answers of `replay`.
pub async fn run_replay(step: StepId, replay: Replay, state: BucketState) -> (StepOutcome, Replay) {
    let session = Arc::new(session(&replay).await);
    let principal = arn::parse_principal(PRINCIPAL).expect("principal");
    let probe = checks::probe::ProbeKey::new(checks::DEFAULT_PREFIX);
    let cx = CheckContext {
        settings: Arc::new(aws::Settings::default()),
        run: Arc::new(RunSettings {
            buckets: vec![BUCKET.to_owned()],
            keys: vec![APP_KEY.to_owned()],
            ..RunSettings::default()
        }),
        session: Some(session),
        admin: None,
        cache: Arc::default(),
        identity: Some(Identity::new(principal, None, true)),
        bucket: (step != StepId::Identity).then(|| BUCKET.to_owned()),
        key: (step == StepId::AppObject).then(|| APP_KEY.to_owned()),
        state: BucketState {
            probe: Some(probe.clone()),
            ..state
        },
        probe_key: probe,
        server: crate::server::Server::default(),
    };
    (checks::run(step, &cx).await, replay)
}

/// The credentials step when the chain's STS call (`# operation:` AssumeRole, the default, or
/// AssumeRoleWithWebIdentity) gets the fixture's answer: as a role profile or `--role-arn`
/// would ask, with the example keys.
pub async fn run_credentials(fixture: &Fixture) -> (StepOutcome, Replay) {
    use crate::credentials::assume::{RoleAsk, WebIdentityAsk, assume_role_on, web_identity_on};
    let replay = Replay::new(fixture.answer.clone());
    let session = session(&replay).await;
    let sts = &session.clients.sts;
    let role_arn = "arn:aws:iam::123456789012:role/app".to_owned();
    let answer = match fixture.operation {
        Some(Operation::AssumeRoleWithWebIdentity) => {
            let ask = WebIdentityAsk {
                role_arn,
                token_file: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token".into(),
                session_name: "replay".into(),
                via: "AWS_ROLE_ARN in the environment".into(),
            };
            web_identity_on(sts, &ask, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into()).await
        }
        _ => {
            let ask = RoleAsk {
                role_arn,
                external_id: None,
                session_name: "replay".into(),
                via: "--role-arn".into(),
                by: "the keys of profile replay (AKIA…MPLE)".into(),
            };
            assume_role_on(sts, &ask).await
        }
    };
    let failure = match answer {
        Err(failure) => failure,
        Ok(_) => panic!("{}: the chain took the answer as credentials", fixture.name),
    };
    let cx = CheckContext {
        settings: Arc::new(aws::Settings::default()),
        run: Arc::default(),
        session: None,
        admin: None,
        cache: Arc::default(),
        identity: None,
        bucket: None,
        key: None,
        state: BucketState::default(),
        probe_key: checks::probe::ProbeKey::new(checks::DEFAULT_PREFIX),
        server: crate::server::Server::default(),
    };
    (super::credentials::failed(&cx, &failure), replay)
}

/// Checks an outcome against a fixture's expectations; the mismatches, in words.
pub fn mismatches(fixture: &Fixture, outcome: &StepOutcome) -> Vec<String> {
    let mut out = Vec::new();
    let want_status = fixture.expected("status").unwrap_or("fail");
    if outcome.status.as_str() != want_status {
        out.push(format!(
            "status {} (want {want_status}): {}",
            outcome.status.as_str(),
            outcome.detail
        ));
    }
    match fixture.expected("code").unwrap_or("-") {
        "-" => out.extend(without_finding(fixture, outcome)),
        code => out.extend(with_finding(fixture, outcome, code)),
    }
    out
}

/// A fixture that expects no error finding: none, and the detail and facts it names.
fn without_finding(fixture: &Fixture, outcome: &StepOutcome) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(f) = outcome.findings.iter().find(|f| f.is_error()) {
        out.push(format!("unexpected finding {}: {}", f.code, f.summary));
    }
    for (key, want) in &fixture.expect {
        let want = want.replace('_', " ");
        match key.as_str() {
            "detail" if !outcome.detail.contains(&want) => out.push(format!(
                "the detail does not say {want:?}: {}",
                outcome.detail
            )),
            "fact" if !format!("{:?}", outcome.facts).contains(&want) => {
                out.push(format!("no fact {want} in {:?}", outcome.facts))
            }
            _ => {}
        }
    }
    out
}

/// A fixture that expects finding `code`: it is there, with every `key=value` expected.
fn with_finding(fixture: &Fixture, outcome: &StepOutcome, code: &str) -> Vec<String> {
    let Some(f) = outcome.findings.iter().find(|f| f.code.as_str() == code) else {
        let got: Vec<&str> = outcome.findings.iter().map(|f| f.code.as_str()).collect();
        return vec![format!(
            "no {code} finding (got {got:?}): {}",
            outcome.detail
        )];
    };
    fixture
        .expect
        .iter()
        .filter_map(|(key, want)| expectation(key, want, f, outcome))
        .collect()
}

/// What is wrong with one `key=value` expectation of a finding, if anything (a flat table of
/// the keys a fixture may name).
fn expectation(key: &str, want: &str, f: &Finding, outcome: &StepOutcome) -> Option<String> {
    let got: Option<String> = match key {
        "code" | "status" => return None,
        "action" => f.action.clone(),
        "basis" => Some(f.basis.as_str().to_owned()),
        "source" => f.source.map(|s| s.as_str().to_owned()),
        "resource" => f.resource.clone(),
        "key" => f.key.clone(),
        "policy" => f.statement.as_ref().and_then(|s| s.policy_arn.clone()),
        "authorization_id" => f.evidence.as_ref().and_then(|e| e.authorization_id.clone()),
        "detail" => {
            let want = want.replace('_', " ");
            return (!outcome.detail.contains(&want))
                .then(|| format!("the detail does not say {want:?}: {}", outcome.detail));
        }
        "fact" => {
            let facts = format!("{:?}", outcome.facts);
            return (!facts.contains(want)).then(|| format!("no fact {want} in {facts}"));
        }
        "says" => {
            let text = format!("{} {}", f.summary, f.remedy).replace('_', " ");
            let want = want.replace('_', " ");
            return (!text.contains(&want))
                .then(|| format!("the text does not say {want:?}: {text}"));
        }
        other => return Some(format!("unknown expectation {other}")),
    };
    (got.as_deref() != Some(want)).then(|| format!("{key} {got:?} (want {want})"))
}

/// The path an answer takes: step, finding code, basis, source.
pub fn path(step: StepId, f: &Finding) -> String {
    format!(
        "{step} -> {} [{}{}]",
        f.code,
        f.basis,
        f.source.map(|s| format!(", {s}")).unwrap_or_default()
    )
}

#[tokio::test]
async fn every_real_answer_reaches_the_finding_it_must_produce() {
    let all = fixtures();
    let mut failures = Vec::new();
    let mut paths = BTreeSet::new();
    for fixture in &all {
        for source in &fixture.sources {
            // An AWS documentation page, or `owner/repo path` of the suite that recorded it.
            let cited = source.starts_with("https://")
                || source
                    .split_whitespace()
                    .take(2)
                    .all(|part| part.contains('/'));
            assert!(
                cited,
                "{}: source {source:?} names no page or file",
                fixture.name
            );
        }
        let (outcome, replay) = match fixture.step {
            StepId::Credentials => run_credentials(fixture).await,
            step => run_step(step, &fixture.answer).await,
        };
        let sent = replay.requests.lock().map(|r| r.len()).unwrap_or(0);
        assert!(sent > 0, "{}: the step sent nothing", fixture.name);
        for m in mismatches(fixture, &outcome) {
            failures.push(format!("{}: {m}", fixture.name));
        }
        for f in &outcome.findings {
            paths.insert(path(fixture.step, f));
        }
        if fixture.expected("code") == Some("-") {
            paths.insert(format!("{} -> {}", fixture.step, outcome.status.as_str()));
        }
    }
    eprintln!(
        "{} real answers reach {} distinct paths:\n  {}",
        all.len(),
        paths.len(),
        paths.iter().cloned().collect::<Vec<_>>().join("\n  ")
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(all.len() >= 40, "only {} answers in the corpus", all.len());
}

#[tokio::test]
async fn a_bodiless_head_400_then_an_unreadable_location_is_still_a_wrong_region() {
    // HeadBucket answered 400 without a body or a region (recorded by botocore), so
    // bucket-exists learned only that the region is wrong; GetBucketLocation is then refused
    // with a bare Access Denied (botocore's recorded body).
    let head = fixtures()
        .into_iter()
        .find(|f| f.name == "s3-head-bucket-400-no-body-no-header.http")
        .expect("fixture");
    let (exists, _) = run_step(StepId::BucketExists, &head.answer).await;
    assert_eq!(exists.status, Status::Pass, "{}", exists.detail);
    assert!(
        exists
            .facts
            .iter()
            .any(|f| matches!(f, checks::Fact::RegionMismatch)),
        "{:?}",
        exists.facts
    );
    let denied = fixtures()
        .into_iter()
        .find(|f| f.name == "s3-list-objects-bare-access-denied.http")
        .expect("fixture");
    let state = BucketState {
        region_mismatch: true,
        ..BucketState::default()
    };
    let (region, _) = run_step_in(StepId::BucketRegion, &denied.answer, state).await;
    assert_eq!(region.status, Status::Fail, "{}", region.detail);
    let codes: Vec<&str> = region.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["bucket.wrong-region"], "{}", region.detail);
}

#[tokio::test]
async fn an_expired_session_token_is_not_a_wrong_region() {
    // AWS answers a HEAD with an expired token with a bodiless 400, as it answers a request
    // signed for another region; STS (ExpiredTokenException) and GetBucketLocation
    // (ExpiredToken, 400 with a body) say what it is.
    let head = fixture("s3-head-bucket-400-no-body-no-header.http").answer;
    let replay = Replay::new(head).route(STS_HOST, fixture("sts-expired-token.http").answer);
    let (exists, _) = run_replay(StepId::BucketExists, replay, BucketState::default()).await;
    assert_ne!(exists.status, Status::Pass, "{}", exists.detail);
    assert!(
        exists
            .detail
            .contains("refused these keys (credentials.expired"),
        "{}",
        exists.detail
    );
    assert!(
        !exists.detail.contains("another region"),
        "{}",
        exists.detail
    );
    assert!(
        !exists.facts.iter().any(|f| matches!(
            f,
            checks::Fact::RegionMismatch | checks::Fact::BucketRegion(_)
        )),
        "{:?}",
        exists.facts
    );
    // Even after a region mismatch was noted, an expired token on GetBucketLocation is the
    // credentials finding, never a region.
    let expired = fixture("s3-put-object-400-expired-token.http").answer;
    let replay =
        Replay::new(expired.clone()).route(STS_HOST, fixture("sts-expired-token.http").answer);
    let state = BucketState {
        region_mismatch: true,
        ..BucketState::default()
    };
    let (region, _) = run_replay(StepId::BucketRegion, replay, state).await;
    let codes: Vec<&str> = region.findings.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, vec!["credentials.expired"], "{}", region.detail);
}

#[tokio::test]
async fn a_live_step_told_the_buckets_region_moves_the_next_steps_there() {
    let redirect = fixtures()
        .into_iter()
        .find(|f| f.name == "s3-list-objects-301-permanent-redirect.http")
        .expect("fixture");
    let (outcome, _) = run_step(StepId::ListObjects, &redirect.answer).await;
    assert!(!outcome.blocking);
    let facts = format!("{:?}", outcome.facts);
    assert!(facts.contains("UseRegion(\"eu-central-1\")"), "{facts}");
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| !f.code.as_str().starts_with("permission.")),
        "{:?}",
        outcome.findings
    );
}

/// The steps that call AWS: all but the credentials step, which resolves keys on this machine.
fn calling_steps() -> impl Iterator<Item = StepId> {
    StepId::ALL
        .into_iter()
        .filter(|s| *s != StepId::Credentials)
}

/// Answers of no documented shape, to go with the real ones: whatever comes back, a step
/// that fails says so with a finding.
fn odd_answers() -> Vec<Answer> {
    let plain = |status: u16, body: &str| Answer {
        status,
        headers: vec![("content-type".into(), "application/xml".into())],
        body: body.to_owned(),
    };
    vec![
        plain(400, ""),
        plain(403, ""),
        plain(404, ""),
        plain(
            405,
            "<Error><Code>MethodNotAllowed</Code><Message>The specified method is not allowed against this resource.</Message></Error>",
        ),
        plain(
            409,
            "<Error><Code>OperationAborted</Code><Message>A conflicting conditional operation is currently in progress against this resource.</Message></Error>",
        ),
        plain(418, "I'm a teapot"),
        plain(
            500,
            "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
        ),
        plain(
            501,
            "<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented.</Message></Error>",
        ),
        plain(502, "<html><body>Bad Gateway</body></html>"),
        plain(200, "<not-xml"),
    ]
}

#[tokio::test]
async fn every_step_and_every_failure_class_ends_in_an_error_finding_when_it_fails() {
    let mut answers: Vec<(String, Answer)> =
        fixtures().into_iter().map(|f| (f.name, f.answer)).collect();
    answers.extend(
        odd_answers()
            .into_iter()
            .map(|a| (format!("odd {} {:.20}", a.status, a.body), a)),
    );
    let mut silent = Vec::new();
    let mut failed = 0;
    for step in calling_steps() {
        for (name, answer) in &answers {
            let (outcome, _) = run_step(step, answer).await;
            if outcome.status == Status::Fail {
                failed += 1;
                if !outcome.findings.iter().any(Finding::is_error) {
                    silent.push(format!("{step} × {name}: {}", outcome.detail));
                }
            }
            // An unexplained answer is reported with what came back.
            for f in &outcome.findings {
                if f.code == FindingCode::UnexpectedAnswer {
                    let ev = f.evidence.as_ref().expect("evidence");
                    assert_eq!(ev.http_status, Some(answer.status), "{step} × {name}");
                }
            }
        }
    }
    assert!(
        failed > 100,
        "only {failed} failed outcomes: the walk proves little"
    );
    assert!(
        silent.is_empty(),
        "failed without an error finding:\n{}",
        silent.join("\n")
    );
}
