#!/usr/bin/env python3
"""Seed incident 1 ("uploads return 403") into a running, enforcing s3doctor test peer.

  seed_incident1.py --endpoint URL --env-file PATH

Uses the admin keys from S3DOCTOR_PEER_ADMIN_KEY_ID / S3DOCTOR_PEER_ADMIN_SECRET (environment).
Creates the IAM user `Runpod` with one access key and no policy at all, the bucket
`clipizy-dev` in us-east-1 holding `tracks/existing.mp3`, and writes the app's dotenv file
as incident 1 keeps it (S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION, S3_BUCKET; mode 600).
Then checks that the incident reproduces: Runpod's key is valid but S3 says AccessDenied.
Prints nothing secret; a one-line summary goes to stderr.
"""

from __future__ import annotations

import argparse
import os

from peerlib import client, fail, write_secret_file

from botocore.exceptions import ClientError

USER = "Runpod"
BUCKET = "clipizy-dev"
REGION = "us-east-1"
EXISTING_KEY = "tracks/existing.mp3"
# A few bytes that start like an MP3 with an ID3 tag; the content does not matter.
EXISTING_BODY = b"ID3\x04\x00\x00\x00\x00\x00\x00s3doctor demo track\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--env-file", required=True)
    args = parser.parse_args()

    admin_id = os.environ.get("S3DOCTOR_PEER_ADMIN_KEY_ID", "")
    admin_secret = os.environ.get("S3DOCTOR_PEER_ADMIN_SECRET", "")
    if not admin_id or not admin_secret:
        fail("S3DOCTOR_PEER_ADMIN_KEY_ID / S3DOCTOR_PEER_ADMIN_SECRET are not set")

    try:
        iam = client("iam", args.endpoint, admin_id, admin_secret)
        iam.create_user(UserName=USER)
        key = iam.create_access_key(UserName=USER)["AccessKey"]

        s3 = client("s3", args.endpoint, admin_id, admin_secret, REGION)
        s3.create_bucket(Bucket=BUCKET)  # us-east-1: no LocationConstraint
        s3.put_object(Bucket=BUCKET, Key=EXISTING_KEY, Body=EXISTING_BODY, ContentType="audio/mpeg")
    except ClientError as err:
        fail(f"seeding incident 1 failed: {err}")

    write_secret_file(
        args.env_file,
        "# The app's .env as in incident 1 (seeded into the local emulator by scripts/demo.sh)\n"
        f"S3_ACCESS_KEY={key['AccessKeyId']}\n"
        f"S3_SECRET_KEY={key['SecretAccessKey']}\n"
        f"S3_REGION={REGION}\n"
        f"S3_BUCKET={BUCKET}\n",
    )

    # The incident must reproduce: a valid key, and a 403 on upload.
    try:
        arn = client("sts", args.endpoint, key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()["Arn"]
    except ClientError as err:
        fail(f"Runpod's key is refused by STS: {err}")
    if not arn.endswith(f":user/{USER}"):
        fail(f"Runpod's key resolves to {arn!r}")
    runpod_s3 = client("s3", args.endpoint, key["AccessKeyId"], key["SecretAccessKey"], REGION)
    try:
        runpod_s3.put_object(Bucket=BUCKET, Key="tracks/new-upload.mp3", Body=b"x")
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code != "AccessDenied":
            fail(f"expected AccessDenied for Runpod's upload, got {code!r}")
    else:
        fail("Runpod could upload: IAM enforcement is not on, the incident does not reproduce")


if __name__ == "__main__":
    main()
