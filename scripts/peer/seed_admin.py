#!/usr/bin/env python3
"""Seed and check the s3doctor test peer (moto server).

Run with the peer venv's python (moto depends on boto3):

  seed_admin.py seed   --endpoint URL --out-dir DIR
      While IAM enforcement is still off: create the IAM user `s3doctor-admin` with an
      inline `Action: *` on `*` policy and an access key. Writes DIR/admin-key-id and
      DIR/admin-secret (mode 600). Nothing secret is printed.

  seed_admin.py verify --endpoint URL
      After enforcement is on: the admin key (from S3DOCTOR_PEER_ADMIN_KEY_ID /
      S3DOCTOR_PEER_ADMIN_SECRET in the environment, never argv) must work and an unknown
      key must be refused. Exits non-zero with a message on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import os

from peerlib import ADMIN_USER, client, fail, write_secret_file

from botocore.exceptions import ClientError

ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}

# Looks like a real key id but does not exist in the emulator.
UNKNOWN_KEY_ID = "AKIAS3DOCTORUNKNOWN0"
UNKNOWN_SECRET = "s3doctor-unknown-secret-not-a-real-one0"


def seed(endpoint: str, out_dir: str) -> None:
    # Enforcement is off while seeding: any keys will do.
    iam = client("iam", endpoint, "seed", "seed")
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(
        UserName=ADMIN_USER,
        PolicyName="s3doctor-admin-everything",
        PolicyDocument=json.dumps(ADMIN_POLICY),
    )
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    write_secret_file(os.path.join(out_dir, "admin-key-id"), key["AccessKeyId"])
    write_secret_file(os.path.join(out_dir, "admin-secret"), key["SecretAccessKey"])


def expect_refused(what: str, call, codes: set[str]) -> None:
    try:
        call()
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in codes:
            return
        fail(f"{what}: expected one of {sorted(codes)}, got {code!r}")
    fail(f"{what}: the call succeeded, so IAM enforcement is not on")


def verify(endpoint: str) -> None:
    key_id = os.environ.get("S3DOCTOR_PEER_ADMIN_KEY_ID", "")
    secret = os.environ.get("S3DOCTOR_PEER_ADMIN_SECRET", "")
    if not key_id or not secret:
        fail("S3DOCTOR_PEER_ADMIN_KEY_ID / S3DOCTOR_PEER_ADMIN_SECRET are not set")

    try:
        arn = client("sts", endpoint, key_id, secret).get_caller_identity()["Arn"]
        client("s3", endpoint, key_id, secret).list_buckets()
        client("iam", endpoint, key_id, secret).get_user(UserName=ADMIN_USER)
    except ClientError as err:
        fail(f"the admin key is refused after enforcement: {err}")
    if not arn.endswith(f":user/{ADMIN_USER}"):
        fail(f"the admin key resolves to {arn!r}, expected user/{ADMIN_USER}")

    expect_refused(
        "sts:GetCallerIdentity with an unknown key",
        lambda: client("sts", endpoint, UNKNOWN_KEY_ID, UNKNOWN_SECRET).get_caller_identity(),
        {"InvalidClientTokenId"},
    )
    expect_refused(
        "s3:ListBuckets with an unknown key",
        lambda: client("s3", endpoint, UNKNOWN_KEY_ID, UNKNOWN_SECRET).list_buckets(),
        {"InvalidAccessKeyId"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_seed = sub.add_parser("seed")
    p_seed.add_argument("--endpoint", required=True)
    p_seed.add_argument("--out-dir", required=True)
    p_verify = sub.add_parser("verify")
    p_verify.add_argument("--endpoint", required=True)
    args = parser.parse_args()
    try:
        if args.cmd == "seed":
            seed(args.endpoint, args.out_dir)
        else:
            verify(args.endpoint)
    except ClientError as err:
        fail(f"{args.cmd}: {err}")


if __name__ == "__main__":
    main()
