//! Integration tests: the real `s3doctor` binary and its engine, over HTTP against the local
//! AWS emulator (moto server with IAM enforcement on) that `scripts/test.sh` starts. One test
//! binary, so the SDK is linked once; every test seeds its own users and buckets with unique
//! names, so the tests run in parallel against one emulator. `rgw` runs against the second peer,
//! Ceph RGW, when `scripts/test.sh` started it.

mod acl;
mod app_object;
mod check;
mod cors;
mod docs;
mod dumps;
mod endings;
mod faults;
mod fix;
mod gallery;
mod house;
mod kms_key;
mod multipart;
mod network;
mod other_account;
mod peer;
mod presigned;
mod probe;
mod proxy;
mod rgw;
mod rgw_beyond;
mod rgw_network;
mod rgw_object;
mod roles;
mod screens;
mod terminal;
mod why;
mod why_command;
mod write_sites;
