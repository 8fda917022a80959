//! The probe's safety promises, against the emulator with every request recorded by `proxy`:
//! the upload never overwrites an object s3doctor did not create (it is sent with
//! `If-None-Match: *`, which S3 and moto answer with `412 PreconditionFailed` when the key
//! exists), a run deletes only the probe it uploaded itself, and a `--read-only` run sends
//! nothing that writes.

use std::time::Duration;

use crate::peer::{Keys, MULTIPART, Output, Peer, READ_WRITE, Run, detail, s3_allow, status};

use crate::proxy::{Fault, OCCUPANT, Proxy, Seen};

async fn check_through(proxy: &Proxy, keys: &Keys, bucket: &str, extra: &[&str]) -> Output {
    let mut run = Run::new(&[
        "check",
        "--format",
        "json",
        "--bucket",
        bucket,
        "--endpoint-url",
        &proxy.url,
    ])
    .env("AWS_ACCESS_KEY_ID", &keys.id)
    .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
    .deadline(Duration::from_secs(60));
    for a in extra {
        run = run.arg(a);
    }
    run.output().await
}

/// The keys of the `PutObject` requests the proxy saw, in order.
fn uploads(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter().filter(|s| s.is_put_object()).collect()
}

#[tokio::test]
async fn an_object_already_at_the_probes_key_is_neither_overwritten_nor_deleted() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    // The proxy puts another object at the probe's key just before the probe's upload.
    let proxy = Proxy::start_occupying(&peer.url, peer.s3("us-east-1")).await;

    let out = check_through(&proxy, &user, &bucket, &[]).await;

    let report = out.json();
    let seen = proxy.seen();
    let puts = uploads(&seen);
    let probe = &puts.first().expect("an upload of the probe").key;
    assert!(probe.starts_with(".s3doctor/probe-"), "{probe}");
    // The real property: the object that was there first is there still, byte for byte.
    let now = peer
        .s3("us-east-1")
        .get_object()
        .bucket(&bucket)
        .key(probe)
        .send()
        .await;
    let body = match now {
        Ok(out) => out.body.collect().await.expect("body").to_vec(),
        Err(e) => panic!("the object that was at the probe's key is gone ({e:?}): {report:#}"),
    };
    assert_eq!(
        body, OCCUPANT,
        "the probe's upload overwrote an object s3doctor did not create: {report:#}"
    );
    // How: the upload asked S3 to write only if nothing is there, and it said so.
    for put in &puts {
        assert_eq!(put.header("if-none-match"), Some("*"), "{put:?}");
    }
    assert_eq!(
        status(&report, "put-object", Some(&bucket)),
        "warn",
        "{report:#}"
    );
    // Not its probe, so nothing deletes it.
    assert!(
        !seen.iter().any(|s| s.is_delete_object() && &s.key == probe),
        "{seen:#?}"
    );
    assert_eq!(
        status(&report, "delete-object", Some(&bucket)),
        "skip",
        "{report:#}"
    );
}

#[tokio::test]
async fn a_run_deletes_only_the_probe_it_uploaded() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // Objects in s3doctor's own key space and beside it, one named like an earlier probe.
    let others: [(&str, &[u8]); 4] = [
        (
            ".s3doctor/probe-00000000-0000-0000-0000-000000000000",
            b"an earlier probe",
        ),
        (".s3doctor/notes.txt", b"notes"),
        (".s3doctor", b"a file named like the prefix"),
        ("tracks/existing.mp3", b"old bytes"),
    ];
    for (key, body) in others {
        peer.put(&bucket, key, body).await;
    }
    let user = peer.user(Some(s3_allow(&[&bucket], MULTIPART))).await;
    let proxy = Proxy::start(&peer.url, Fault::Forward).await;

    let out = check_through(&proxy, &user, &bucket, &["--multipart"]).await;

    let report = out.json();
    assert_eq!(out.code, 0, "{report:#}");
    assert_eq!(
        status(&report, "delete-object", Some(&bucket)),
        "pass",
        "{report:#}"
    );
    // Every object that was there before is there still, byte for byte, and nothing else is.
    for (key, body) in others {
        assert_eq!(peer.object(&bucket, key).await, body.to_vec(), "{key}");
    }
    let mut before: Vec<String> = others.iter().map(|(k, _)| (*k).to_owned()).collect();
    before.sort();
    assert_eq!(peer.keys(&bucket).await, before);
    // The requests: one probe uploaded, and every delete names exactly that key.
    let seen = proxy.seen();
    let puts = uploads(&seen);
    let probe = &puts.first().expect("an upload of the probe").key;
    assert!(puts.iter().all(|p| &p.key == probe), "{puts:#?}");
    assert!(!before.contains(probe), "{probe}");
    let deletes: Vec<&Seen> = seen.iter().filter(|s| s.is_delete_object()).collect();
    assert!(!deletes.is_empty(), "{seen:#?}");
    for delete in &deletes {
        assert_eq!(
            (&delete.bucket, &delete.key),
            (&bucket, probe),
            "{delete:?}"
        );
    }
    // The multipart probe's abort names the upload s3doctor started, at the key it started it.
    let started: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.method == "POST" && s.query.starts_with("uploads"))
        .collect();
    let aborts: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.method == "DELETE" && s.query.contains("uploadId"))
        .collect();
    assert_eq!((started.len(), aborts.len()), (1, 1), "{seen:#?}");
    assert_eq!(aborts[0].key, started[0].key, "{:?}", aborts[0]);
    assert!(!before.contains(&aborts[0].key), "{:?}", aborts[0]);
    // No bulk delete (DeleteObjects) at all.
    assert!(
        !seen
            .iter()
            .any(|s| s.method == "POST" && s.query.contains("delete")),
        "{seen:#?}"
    );
}

/// `--read-only` sends nothing that writes, the calls that go out early included: with every
/// option that adds a writing step (`--access full`, `--multipart`, `--origin`) and keys that
/// may write, no S3 request is a PUT, POST or DELETE, and STS and IAM are only asked to read.
/// Removing the engine's read-only guard (`Engine::ruled_out`, which also keeps the early
/// upload back) makes this fail.
#[tokio::test]
async fn a_read_only_run_sends_nothing_that_writes() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    peer.put(&bucket, "reports/2026.csv", b"an object to read")
        .await;
    let mut actions = MULTIPART.to_vec();
    actions.extend(["s3:PutObjectAcl", "s3:GetObjectAcl", "s3:GetBucketCors"]);
    let user = peer.user(Some(s3_allow(&[&bucket], &actions))).await;
    let proxy = Proxy::start(&peer.url, Fault::Forward).await;

    let out = check_through(
        &proxy,
        &user,
        &bucket,
        &[
            "--read-only",
            "--access",
            "full",
            "--multipart",
            "--origin",
            "https://app.example.com",
        ],
    )
    .await;

    let seen = proxy.seen();
    let reads = seen.iter().filter(|s| s.method == "GET").count();
    assert!(reads >= 2, "the run read the bucket: {seen:#?}");
    for s in &seen {
        if s.bucket.is_empty() {
            // STS and IAM: a form posted to `/`, whose action must only read.
            let action = s.action.as_deref().unwrap_or_default();
            assert!(
                ["Get", "List", "Simulate"]
                    .iter()
                    .any(|read| action.starts_with(read)),
                "{action:?} asked in a read-only run: {s:#?}"
            );
        } else {
            assert!(
                matches!(s.method.as_str(), "GET" | "HEAD" | "OPTIONS"),
                "{} {}/{}?{} sent in a read-only run",
                s.method,
                s.bucket,
                s.key,
                s.query
            );
        }
    }
    // Reported as skipped by design, and the download read the existing object instead.
    let report = out.json();
    for step in [
        "put-object",
        "put-object-acl",
        "delete-object",
        "multipart-upload",
    ] {
        assert_eq!(status(&report, step, Some(&bucket)), "skip", "{report:#}");
        assert_eq!(
            detail(&report, step, Some(&bucket)),
            "--read-only: no writes"
        );
    }
    assert_eq!(
        status(&report, "get-object", Some(&bucket)),
        "pass",
        "{report:#}"
    );
    assert_eq!(peer.keys(&bucket).await, ["reports/2026.csv"]);
}
