#!/usr/bin/env python3
"""The runbook's verification script, as people run it: boto3, one fresh process, six calls.

  runbook_check.py --endpoint URL --bucket B [--identity sts|list-buckets] [--head-refused]

Credentials and region come from the usual places (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
AWS_REGION here). Steps: sts get_caller_identity, s3 head_bucket, list_objects_v2 MaxKeys=1,
put_object of a unique key, get_object of it, delete_object of it. Path-style addressing.
Prints one line per step; exits 1 at the first failure. Used by scripts/bench.sh as the
baseline s3doctor is compared with. `--identity list-buckets` asks who the keys belong to with
s3 list_buckets (the owner in its answer) instead of STS: for servers without STS (Ceph RGW).
`--head-refused`: the keys may not HeadBucket; its 403 says the bucket exists, and the region
is asked with get_bucket_location, as a person following the runbook would.
"""

from __future__ import annotations

import argparse
import sys
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--identity", choices=("sts", "list-buckets"), default="sts")
    parser.add_argument("--head-refused", action="store_true")
    args = parser.parse_args()

    config = Config(s3={"addressing_style": "path"})
    sts = boto3.client("sts", endpoint_url=args.endpoint, config=config)
    s3 = boto3.client("s3", endpoint_url=args.endpoint, config=config)
    bucket = args.bucket
    key = f".runbook/check-{uuid.uuid4()}"
    try:
        if args.identity == "sts":
            print("identity:", sts.get_caller_identity()["Arn"])
        else:
            print("identity:", s3.list_buckets().get("Owner", {}).get("ID", "?"))
        if args.head_refused:
            try:
                s3.head_bucket(Bucket=bucket)
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "403":
                    raise
            print("region:", s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
        else:
            s3.head_bucket(Bucket=bucket)
            print("head-bucket: ok")
        listed = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        print("list-objects-v2: ok,", listed.get("KeyCount", 0), "key(s)")
        s3.put_object(Bucket=bucket, Key=key, Body=b"runbook check\n")
        print("put-object: ok")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        print("get-object: ok,", len(body), "bytes")
        s3.delete_object(Bucket=bucket, Key=key)
        print("delete-object: ok")
    except (ClientError, BotoCoreError) as err:
        print(f"FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
