"""Shared helpers for the s3doctor test-peer scripts (run with the peer venv's python)."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

# Keep the user's own AWS set-up out of the way: these scripts only ever talk to the
# local emulator, with keys given explicitly.
for _name in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402  (after the environment is cleaned)
from botocore.config import Config  # noqa: E402

ADMIN_USER = "s3doctor-admin"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

_CONFIG = Config(
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)


def client(service: str, endpoint: str, key_id: str, secret: str, region: str = REGION):
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=_CONFIG,
    )


def write_secret_file(path: str, text: str) -> None:
    """Write text to path with mode 600 (created fresh; never world-readable)."""
    if os.path.lexists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def fail(message: str) -> NoReturn:
    print(f"s3doctor peer: {message}", file=sys.stderr)
    sys.exit(1)
