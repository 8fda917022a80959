#!/usr/bin/env python3
"""Seed the s3doctor benchmark into a running test peer (moto server, or Ceph RGW).

  seed_bench.py --endpoint URL --keys-file PATH [--buckets 20] [--peer moto|rgw]
                [--app-object KEY] [--head-refused] [--role] [--vpce]

Uses the admin keys from S3DOCTOR_PEER_ADMIN_KEY_ID / S3DOCTOR_PEER_ADMIN_SECRET (environment).
Creates the IAM user `s3doctor-bench` with one access key and a healthy inline policy
(s3:ListBucket, s3:GetBucketLocation, s3:GetObject, s3:PutObject, s3:DeleteObject on the
buckets `bench-01`..`bench-NN` and their objects, plus s3:ListAllMyBuckets; and the moto-only
pseudo-action s3:HeadBucket, which moto checks for HeadBucket instead of s3:ListBucket),
creates those buckets in us-east-1, and writes the user's keys to PATH (mode 600) as dotenv lines
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION). Then checks that the keys work.
With --head-refused the policy leaves s3:HeadBucket out: moto then refuses HeadBucket (403, no
region header), as AWS does for keys without s3:ListBucket, and the region comes from
GetBucketLocation.
With --role (bench.sh --role) also the IAM role `s3doctor-bench-role`, which trusts the user
(sts:AssumeRole, which the user's policy then allows too) and holds the same healthy policy: the
run with --role-arn checks as it. Its ARN is written to PATH as BENCH_ROLE_ARN.
With --vpce (bench.sh --vpce) also a VPC and a gateway VPC endpoint for S3 in it (full-access
policy, moto's EC2): its id is written to PATH as BENCH_VPCE, and the admin keys as
BENCH_ADMIN_KEY_ID / BENCH_ADMIN_SECRET, for the run with --vpce and --admin-profile (which
reads the endpoint with the admin's keys).
Prints nothing secret; a one-line summary goes to stderr.

With --peer rgw (scripts/rgw.sh's cluster, which has no IAM to create a user with): the user
`s3doctor-owner` (keys from S3DOCTOR_RGW_OWNER_KEY_ID / S3DOCTOR_RGW_OWNER_SECRET) creates the
buckets and is the benchmark user: on RGW a bucket's owner may do everything the checklist does.
With --app-object KEY (bench.sh --key), every bucket also holds the app's own object KEY.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peer"))

from peerlib import client, fail, write_secret_file  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

USER = "s3doctor-bench"
ROLE = "s3doctor-bench-role"
REGION = "us-east-1"


def bucket_names(count: int) -> list[str]:
    return [f"bench-{i:02d}" for i in range(1, count + 1)]


def policy(buckets: list[str], head: bool = True, assume: str | None = None) -> str:
    resources = []
    for b in buckets:
        resources += [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BenchBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    # moto only: it checks this non-existent action for HeadBucket where AWS
                    # checks s3:ListBucket (see /work/shared/notes/moto.md); without it the
                    # runbook script's head_bucket and `aws s3api head-bucket` get 403.
                ]
                + (["s3:HeadBucket"] if head else []),
                "Resource": resources,
            },
            {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        ]
        # moto asks the caller's own policies for sts:AssumeRole too (AWS: same account, the
        # trust policy naming the user suffices; an Allow here changes nothing there).
        + ([{"Sid": "AssumeBenchRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": assume}] if assume else []),
    }
    # Compact: inline user policies are limited to 2,048 characters in AWS.
    return json.dumps(doc, separators=(",", ":"))


def seed_rgw(args: argparse.Namespace) -> None:
    """The owner's buckets on Ceph RGW; the owner's keys are the benchmark's."""
    key_id = os.environ.get("S3DOCTOR_RGW_OWNER_KEY_ID", "")
    secret = os.environ.get("S3DOCTOR_RGW_OWNER_SECRET", "")
    if not key_id or not secret:
        fail("S3DOCTOR_RGW_OWNER_KEY_ID / S3DOCTOR_RGW_OWNER_SECRET are not set (scripts/rgw.sh start)")
    buckets = bucket_names(args.buckets)
    s3 = client("s3", args.endpoint, key_id, secret, REGION)
    try:
        for b in buckets:
            try:
                s3.create_bucket(Bucket=b)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
            if args.app_object:
                s3.put_object(Bucket=b, Key=args.app_object, Body=b"the app's own object")
        s3.put_object(Bucket=buckets[0], Key=".bench/seed-check", Body=b"x")
        s3.get_object(Bucket=buckets[0], Key=".bench/seed-check")["Body"].read()
        s3.delete_object(Bucket=buckets[0], Key=".bench/seed-check")
    except ClientError as err:
        fail(f"seeding the benchmark on Ceph RGW failed: {err}")
    write_secret_file(
        args.keys_file,
        f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_REGION={REGION}\n",
    )
    print(f"seeded buckets {buckets[0]}..{buckets[-1]} of user s3doctor-owner (Ceph RGW)", file=sys.stderr)


def gateway_endpoint(endpoint: str, admin_id: str, admin_secret: str) -> str:
    """A VPC and a gateway endpoint for S3 in it (moto's EC2); returns the endpoint's id."""
    ec2 = client("ec2", endpoint, admin_id, admin_secret, REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    e = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway"
    )
    return e["VpcEndpoint"]["VpcEndpointId"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--keys-file", required=True)
    parser.add_argument("--buckets", type=int, default=20)
    parser.add_argument("--peer", choices=("moto", "rgw"), default="moto")
    parser.add_argument("--app-object", help="also put this object in every bucket (bench.sh --key)")
    parser.add_argument("--head-refused", action="store_true")
    parser.add_argument("--role", action="store_true", help="also the role s3doctor-bench-role (bench.sh --role)")
    parser.add_argument("--vpce", action="store_true", help="also a gateway VPC endpoint (bench.sh --vpce)")
    args = parser.parse_args()
    if args.peer == "rgw":
        seed_rgw(args)
        return

    admin_id = os.environ.get("S3DOCTOR_PEER_ADMIN_KEY_ID", "")
    admin_secret = os.environ.get("S3DOCTOR_PEER_ADMIN_SECRET", "")
    if not admin_id or not admin_secret:
        fail("S3DOCTOR_PEER_ADMIN_KEY_ID / S3DOCTOR_PEER_ADMIN_SECRET are not set")
    buckets = bucket_names(args.buckets)

    role_arn = f"arn:aws:iam::123456789012:role/{ROLE}" if args.role else None
    try:
        iam = client("iam", args.endpoint, admin_id, admin_secret)
        user_arn = iam.create_user(UserName=USER)["User"]["Arn"]
        iam.put_user_policy(
            UserName=USER,
            PolicyName="s3doctor-bench-healthy",
            PolicyDocument=policy(buckets, head=not args.head_refused, assume=role_arn),
        )
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        if args.role:
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}
            role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
            iam.put_role_policy(RoleName=ROLE, PolicyName="s3doctor-bench-healthy", PolicyDocument=policy(buckets))
        s3 = client("s3", args.endpoint, admin_id, admin_secret, REGION)
        for b in buckets:
            s3.create_bucket(Bucket=b)  # us-east-1: no LocationConstraint
            if args.app_object:
                s3.put_object(Bucket=b, Key=args.app_object, Body=b"the app's own object")
        vpce = gateway_endpoint(args.endpoint, admin_id, admin_secret) if args.vpce else None
    except ClientError as err:
        fail(f"seeding the benchmark failed: {err}")

    extra = f"BENCH_ROLE_ARN={role_arn}\n" if args.role else ""
    if vpce:
        extra += f"BENCH_VPCE={vpce}\nBENCH_ADMIN_KEY_ID={admin_id}\nBENCH_ADMIN_SECRET={admin_secret}\n"
    write_secret_file(
        args.keys_file,
        f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n"
        f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n"
        f"AWS_REGION={REGION}\n" + extra,
    )

    # The user must be healthy: identity, and a write/read/delete round trip in the first bucket.
    try:
        sts = client("sts", args.endpoint, key["AccessKeyId"], key["SecretAccessKey"])
        arn = sts.get_caller_identity()["Arn"]
        user_s3 = client("s3", args.endpoint, key["AccessKeyId"], key["SecretAccessKey"], REGION)
        user_s3.put_object(Bucket=buckets[0], Key=".bench/seed-check", Body=b"x")
        user_s3.get_object(Bucket=buckets[0], Key=".bench/seed-check")["Body"].read()
        user_s3.delete_object(Bucket=buckets[0], Key=".bench/seed-check")
        user_s3.list_objects_v2(Bucket=buckets[-1], MaxKeys=1)
        if args.head_refused:
            user_s3.get_bucket_location(Bucket=buckets[0])
        else:
            user_s3.head_bucket(Bucket=buckets[0])
        if args.role:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="seed-check")
    except ClientError as err:
        fail(f"the benchmark user is not healthy: {err}")
    if not arn.endswith(f":user/{USER}"):
        fail(f"the benchmark user's key resolves to {arn!r}")
    role_words = f", role {ROLE}" if args.role else ""
    role_words += f", VPC endpoint {vpce}" if vpce else ""
    print(f"seeded user {USER}{role_words} and buckets {buckets[0]}..{buckets[-1]} (us-east-1)", file=sys.stderr)


if __name__ == "__main__":
    main()
