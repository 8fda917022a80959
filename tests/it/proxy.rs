//! A small fault-injecting HTTP proxy on loopback, in front of the emulator: it can stall
//! (accept and never answer), drop connections, answer `503 SlowDown` for the first requests,
//! die at the probe's upload once the emulator has stored it (listener and every connection
//! closed at once, as when the endpoint goes away in the middle of a run, so the upload's
//! answer is lost), or put someone else's object at the probe's key just before the probe's
//! upload arrives. Where a fault depends on the order of the run's concurrent requests, the
//! proxy holds requests back until the ones it needs first have been answered, so that each
//! run takes the same path. It records the head of every request
//! (request line and headers, as sent) for the tests to read. It works one request at a time
//! (HTTP/1.1, Content-Length bodies), which is all the SDK sends to it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Accept connections, read the request, never answer.
    Stall,
    /// Accept connections and close them at once.
    Drop,
    /// Answer the first `n` requests with S3's 503 SlowDown, then forward.
    SlowDown(usize),
    /// Forward requests until the probe's upload (a `PUT` of a key holding `probe-`), forward
    /// that one to the emulator, which stores the probe, then close everything and stop
    /// listening before its answer is passed on: the upload landed and its answer is lost.
    /// With `identity_first`, the upload is held until STS and the bucket's location
    /// (`GetBucketLocation`) have been answered, so the run's upload step runs and takes the
    /// lost answer; without, STS is never answered, so identity fails and the upload step is
    /// skipped.
    DieAtUpload { identity_first: bool },
    /// Play real S3 for a bucket in `region`: S3 requests signed for another region get
    /// `301 PermanentRedirect` with `x-amz-bucket-region` (no body for HEAD) or, with
    /// `malformed`, `400 AuthorizationHeaderMalformed`; the rest is forwarded.
    WrongRegion {
        region: &'static str,
        malformed: bool,
    },
    /// Answer the requests that match one of these with a real AWS answer the emulator
    /// cannot give (each with its public source where it is defined); forward the rest.
    Answer(&'static [Reply]),
    /// Hold every STS request (`POST /`) until an upload (`PUT`) has arrived, then forward
    /// both: a run whose upload waits for the identity check never gets an answer from STS.
    IdentityAfterUpload,
    /// Hold every `GetBucketLocation` until the probe's download (a `GET` of a key holding
    /// `probe-`) has arrived, then forward both: a run whose download waits for the bucket's
    /// location never gets that answer (and bucket-region times out). The probe's upload is
    /// held until `GetBucketLocation` has arrived, so the location is always asked (and held)
    /// before the download can be.
    LocationAfterDownload,
    /// Forward everything unchanged (the proxy only records).
    Forward,
    /// Before forwarding the first upload of a probe (a `PUT` of a key holding `probe-`, not a
    /// multipart part), put [`OCCUPANT`] at that key with the client given to
    /// [`Proxy::start_occupying`]: as if another program's object already lived there.
    OccupyProbe,
}

/// The body of the object that [`Fault::OccupyProbe`] puts at the probe's key.
pub const OCCUPANT: &[u8] = b"someone else's object: s3doctor must not touch it\n";

/// One request as it reached the proxy: its line and headers (names lowercase).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path-style: bucket, then the key, percent-decoded.
    pub bucket: String,
    pub key: String,
    /// The query string (without `?`).
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The `Action` of a query-protocol request (STS and IAM post a form to `/`).
    pub action: Option<String>,
}

impl Seen {
    fn parse(request: &[u8]) -> Seen {
        let text = String::from_utf8_lossy(request);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let line = lines.next().unwrap_or_default();
        let mut parts = line.split(' ');
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let path = percent_decode(path.trim_start_matches('/'));
        let (bucket, key) = path.split_once('/').unwrap_or((&path, ""));
        Seen {
            method,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            query: query.to_owned(),
            headers: lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect(),
            action: body
                .split('&')
                .find_map(|p| p.strip_prefix("Action="))
                .map(str::to_owned),
        }
    }

    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// An S3 `PutObject` (not a multipart part or another `PUT` sub-resource).
    pub fn is_put_object(&self) -> bool {
        self.method == "PUT"
            && !self.key.is_empty()
            && self
                .query
                .split('&')
                .all(|q| q.is_empty() || q == "x-id=PutObject")
    }

    /// An S3 `DeleteObject` (not an abort of a multipart upload).
    pub fn is_delete_object(&self) -> bool {
        self.method == "DELETE" && !self.key.is_empty() && !self.query.contains("uploadId")
    }
}

/// `%XX` escapes decoded (paths as sent; IAM's URL-encoded policy documents).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What every connection of one proxy shares.
#[derive(Default)]
struct Shared {
    gate: Gate,
    /// For [`Fault::DieAtUpload`]: opened once STS, and the bucket's location, have been
    /// answered.
    sts_answered: Gate,
    location_answered: Gate,
    /// For [`Fault::LocationAfterDownload`]: opened once `GetBucketLocation` has arrived.
    location_asked: Gate,
    seen: Mutex<Vec<Seen>>,
    /// For [`Fault::OccupyProbe`]: the client that writes the occupant, until it has.
    occupier: tokio::sync::Mutex<Option<aws_sdk_s3::Client>>,
}

/// Where requests wait until something has happened (the first `PUT` for
/// `Fault::IdentityAfterUpload`; an answer for `Fault::DieAtUpload`).
#[derive(Default)]
struct Gate {
    open: std::sync::atomic::AtomicBool,
    opened: tokio::sync::Notify,
}

impl Gate {
    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.opened.notify_waiters();
    }

    async fn wait(&self) {
        loop {
            let opened = self.opened.notified();
            if self.open.load(Ordering::SeqCst) {
                return;
            }
            opened.await;
        }
    }
}

/// A canned AWS answer and the requests it is for.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    /// `PUT`, `HEAD`, …
    pub method: &'static str,
    /// Text the request line (method, path and query) must contain.
    pub target: &'static str,
    /// A header line the request must carry, lowercase as `name: value`.
    pub header: Option<&'static str>,
    /// Status line text after `HTTP/1.1 `, such as `403 Forbidden`.
    pub status: &'static str,
    /// The body (none is sent for HEAD).
    pub body: &'static str,
}

impl Reply {
    fn matches(&self, request: &[u8], method: &str) -> bool {
        let head = String::from_utf8_lossy(request).to_ascii_lowercase();
        let line = head.lines().next().unwrap_or_default();
        method == self.method
            && line.contains(&self.target.to_ascii_lowercase())
            && self
                .header
                .is_none_or(|h| head.lines().any(|l| l.trim() == h))
    }

    fn response(&self, method: &str) -> Vec<u8> {
        let body = if method == "HEAD" { "" } else { self.body };
        let mut out = format!(
            "HTTP/1.1 {}\r\nx-amz-request-id: PROXYANSWER\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n",
            self.status,
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }
}

pub struct Proxy {
    pub url: String,
    requests: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    shared: Arc<Shared>,
}

impl Proxy {
    pub async fn start(upstream: &str, fault: Fault) -> Proxy {
        Proxy::start_with(upstream, fault, Shared::default()).await
    }

    /// [`Fault::OccupyProbe`], writing the occupant with `s3` (the emulator's admin).
    pub async fn start_occupying(upstream: &str, s3: aws_sdk_s3::Client) -> Proxy {
        let shared = Shared {
            occupier: tokio::sync::Mutex::new(Some(s3)),
            ..Shared::default()
        };
        Proxy::start_with(upstream, Fault::OccupyProbe, shared).await
    }

    async fn start_with(upstream: &str, fault: Fault, shared: Shared) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = watch::channel(false);
        let (count, stop_tx) = (requests.clone(), stop.clone());
        let shared = Arc::new(shared);
        let all = shared.clone();
        tokio::spawn(async move {
            let mut stopped_rx = stopped.clone();
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stopped_rx.changed() => return,
                };
                let Ok((client, _)) = accepted else { return };
                let (upstream, count, stop_tx, stopped, shared) = (
                    upstream.clone(),
                    count.clone(),
                    stop_tx.clone(),
                    stopped.clone(),
                    all.clone(),
                );
                tokio::spawn(async move {
                    let mut stopped = stopped;
                    tokio::select! {
                        _ = serve(client, &upstream, fault, &count, &stop_tx, &shared) => {}
                        _ = stopped.changed() => {}
                    }
                });
            }
        });
        Proxy {
            url,
            requests,
            stop,
            shared,
        }
    }

    /// Every request that reached the proxy so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    /// How many requests reached the proxy.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    count: &AtomicUsize,
    stop: &watch::Sender<bool>,
    shared: &Shared,
) {
    let gate = &shared.gate;
    if let Fault::Drop = fault {
        count.fetch_add(1, Ordering::SeqCst);
        return;
    }
    loop {
        let Some((request, method)) = read_message(&mut client, None).await else {
            return;
        };
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let seen = Seen::parse(&request);
        shared.seen.lock().expect("seen").push(seen.clone());
        match fault {
            Fault::Stall => {
                // Hold the connection open and say nothing until the proxy is dropped.
                std::future::pending::<()>().await;
            }
            Fault::SlowDown(first) if n <= first => {
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>PROXY503</RequestId></Error>";
                let head = format!(
                    "HTTP/1.1 503 Slow Down\r\ncontent-type: application/xml\r\nx-amz-request-id: PROXY503\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = client.write_all(head.as_bytes()).await;
                let _ = client.write_all(body.as_bytes()).await;
                return;
            }
            Fault::DieAtUpload { identity_first } if is_probe_upload(&seen) => {
                if identity_first {
                    shared.sts_answered.wait().await;
                    shared.location_answered.wait().await;
                }
                // Stored by the emulator; the answer dies with the proxy.
                let _ = forward(&request, upstream, &method).await;
                let _ = stop.send(true);
                return;
            }
            Fault::DieAtUpload {
                identity_first: false,
            } if is_sts(&request, &method) => {
                // Held until the proxy dies: identity never passes.
                std::future::pending::<()>().await;
            }
            Fault::WrongRegion { region, malformed } => {
                if let Some(signed) = wrong_region(&request, region) {
                    let response = redirect(&method, region, &signed, malformed);
                    if client.write_all(&response).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            Fault::OccupyProbe if is_probe_upload(&seen) => occupy(shared, &seen).await,
            Fault::LocationAfterDownload if seen.method == "GET" && seen.key.contains("probe-") => {
                gate.open()
            }
            Fault::LocationAfterDownload if is_location(&seen) => {
                shared.location_asked.open();
                gate.wait().await;
            }
            Fault::LocationAfterDownload if is_probe_upload(&seen) => {
                shared.location_asked.wait().await;
            }
            Fault::IdentityAfterUpload if method == "PUT" => gate.open(),
            Fault::IdentityAfterUpload if is_sts(&request, &method) => gate.wait().await,
            Fault::Answer(replies) => {
                if let Some(reply) = replies.iter().find(|r| r.matches(&request, &method)) {
                    if client.write_all(&reply.response(&method)).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            _ => {}
        }
        let Some(response) = forward(&request, upstream, &method).await else {
            return;
        };
        if client.write_all(&response).await.is_err() {
            return;
        }
        if let Fault::DieAtUpload { .. } = fault {
            if is_sts(&request, &method) {
                shared.sts_answered.open();
            }
            if is_location(&seen) {
                shared.location_answered.open();
            }
        }
    }
}

/// Sends `request` to the emulator and reads its answer.
async fn forward(request: &[u8], upstream: &str, method: &str) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await.ok()?;
    up.write_all(request).await.ok()?;
    let (response, _) = read_message(&mut up, Some(method)).await?;
    Some(response)
}

/// A `GetBucketLocation`.
fn is_location(seen: &Seen) -> bool {
    seen.method == "GET" && seen.query.split('&').any(|q| q == "location")
}

/// The first upload of a probe (not a multipart part).
fn is_probe_upload(seen: &Seen) -> bool {
    seen.is_put_object() && seen.key.contains("probe-")
}

/// Puts [`OCCUPANT`] at the key of `probe` (once per proxy), straight to the emulator.
async fn occupy(shared: &Shared, probe: &Seen) {
    let Some(s3) = shared.occupier.lock().await.take() else {
        return;
    };
    s3.put_object()
        .bucket(&probe.bucket)
        .key(&probe.key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(OCCUPANT))
        .send()
        .await
        .expect("put the occupant at the probe's key");
}

/// Reads one HTTP message (head and Content-Length body). For a response, `request_method`
/// tells whether a body follows (not after HEAD). Returns the bytes and the request method.
async fn read_message(
    stream: &mut TcpStream,
    request_method: Option<&str>,
) -> Option<(Vec<u8>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let first = head.lines().next().unwrap_or_default().to_owned();
    let method = first.split(' ').next().unwrap_or_default().to_uppercase();
    assert!(
        !head.contains("transfer-encoding: chunked"),
        "the test proxy does not handle chunked bodies"
    );
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let no_body = match request_method {
        Some(m) => {
            m == "HEAD"
                || first.contains(" 204 ")
                || first.contains(" 304 ")
                || first.contains(" 100 ")
        }
        None => false,
    };
    let body_len = if no_body { 0 } else { length.unwrap_or(0) };
    match (request_method.is_some(), length, no_body) {
        // A response without a length runs to the end of the connection.
        (true, None, false) => loop {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        },
        _ => {
            while buf.len() < head_end + body_len {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    Some((buf, method))
}

/// For an S3 request (path-style: the path names the bucket; STS posts to `/`) signed for
/// another region than `region`, the region it was signed for.
fn wrong_region(request: &[u8], region: &str) -> Option<String> {
    let head = String::from_utf8_lossy(request);
    let path = head.lines().next()?.split(' ').nth(1)?;
    if path == "/" {
        return None;
    }
    let credential = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))?;
    // Credential=AKID/20261123/us-east-1/s3/aws4_request
    let scope = credential.split("Credential=").nth(1)?;
    let signed = scope.split('/').nth(2)?.to_owned();
    (signed != region).then_some(signed)
}

/// S3's answers to a request sent to the wrong region, as AWS sends them.
fn redirect(method: &str, region: &str, signed: &str, malformed: bool) -> Vec<u8> {
    let (status, body) = if malformed && method != "HEAD" {
        (
            "400 Bad Request",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '{signed}' is wrong; expecting '{region}'</Message><Region>{region}</Region><RequestId>PROXY400</RequestId><HostId>cHJveHk=</HostId></Error>"
            ),
        )
    } else {
        (
            "301 Moved Permanently",
            (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><RequestId>PROXY301</RequestId><HostId>cHJveHk=</HostId></Error>"
            .to_owned()
            ),
        )
    };
    let body = if method == "HEAD" {
        String::new()
    } else {
        body
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nx-amz-bucket-region: {region}\r\nx-amz-request-id: PROXY\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// STS (and IAM) post their queries to `/`; S3's paths name the bucket.
fn is_sts(request: &[u8], method: &str) -> bool {
    let head = String::from_utf8_lossy(request);
    method == "POST" && head.lines().next().and_then(|l| l.split(' ').nth(1)) == Some("/")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
