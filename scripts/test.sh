#!/usr/bin/env bash
# The test command (see README): format check, clippy, then `cargo test` against a local
# AWS emulator (moto server, IAM enforcement on) that this script installs, starts and stops.
#
#   scripts/test.sh [CARGO TEST ARGS...]      e.g. scripts/test.sh it::put_object -- --nocapture
#
# Needs: cargo (rustup; rustfmt and clippy components), python3 >= 3.9 with venv/pip, curl.
# Environment:
#   CARGO_TARGET_DIR   default $HOME/.cache/s3doctor-target
#   S3DOCTOR_VENV      venv for moto[server]==5.2.5, default $HOME/.cache/s3doctor-venv
#   S3DOCTOR_PEER_LOG  emulator log, default /tmp/s3doctor-peer-PORT.log
# The tests see S3DOCTOR_PEER_URL, S3DOCTOR_PEER_ADMIN_KEY_ID, S3DOCTOR_PEER_ADMIN_SECRET,
# S3DOCTOR_PEER_PID and S3DOCTOR_VENV (its bin/python has boto3).
set -euo pipefail

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/s3doctor-target}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/peer.sh
source "$root/scripts/peer.sh"

say() { printf '==> %s\n' "$*" >&2; }

if command -v rustup >/dev/null 2>&1; then
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    say "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy >&2
  fi
fi

say "cargo fmt --check"
cargo fmt --all --check

say "clippy"
cargo clippy --all-targets --locked -- -D warnings

export S3DOCTOR_VENV=${S3DOCTOR_VENV:-$HOME/.cache/s3doctor-venv}
say "emulator: moto[server]==$S3DOCTOR_MOTO_VERSION in $S3DOCTOR_VENV"
peer_install

trap 'peer_stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$SECONDS
peer_start
say "emulator on $S3DOCTOR_PEER_URL (pid $S3DOCTOR_PEER_PID, ready in $((SECONDS - started)) s, log ${S3DOCTOR_PEER_LOG:-/tmp/s3doctor-peer-${S3DOCTOR_PEER_URL##*:}.log})"

# The tests give every run its own keys and config files; keep the developer's AWS set-up
# (profiles, keys, endpoints) out of the test process itself.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_STS AWS_REGION \
  AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export CI=${CI:-true} # insta: compare snapshots, never write them

say "cargo test $*"
cargo test --locked "$@"
