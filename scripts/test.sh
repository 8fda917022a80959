#!/usr/bin/env bash
# The test command (see README): format check, clippy, then `cargo test` against a local
# AWS emulator (moto server, IAM enforcement on) that this script installs, starts and stops.
#
#   scripts/test.sh [CARGO TEST ARGS...]      e.g. scripts/test.sh check::incident_1 -- --nocapture (test paths are module::name)
#
# Needs: cargo (rustup; rustfmt and clippy components), python3 >= 3.9 with venv/pip, curl.
# Environment:
#   CARGO_TARGET_DIR   default $HOME/.cache/s3doctor-target
#   S3DOCTOR_VENV      venv for moto[server]==5.2.5, default $HOME/.cache/s3doctor-venv
#   S3DOCTOR_PEER_LOG  emulator log, default /tmp/s3doctor-peer-PORT.log
#   S3DOCTOR_RGW       the second peer, Ceph RGW (scripts/rgw.sh): `auto` (default) starts it
#                      when no test filter is given or a filter contains "rgw"; `on` always;
#                      `off` never. It is installed with apt-get when missing and this user may
#                      (root or passwordless sudo); when it cannot be, the RGW tests are skipped
#                      and a SKIPPED line names the command to run. A failed start fails the run.
# The tests see S3DOCTOR_PEER_URL, S3DOCTOR_PEER_ADMIN_KEY_ID, S3DOCTOR_PEER_ADMIN_SECRET,
# S3DOCTOR_PEER_PID and S3DOCTOR_VENV (its bin/python has boto3), and S3DOCTOR_RGW_* (see
# scripts/rgw.sh) when RGW runs.
set -euo pipefail

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/s3doctor-target}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/peer.sh
source "$root/scripts/peer.sh"
# shellcheck source=scripts/rgw.sh
source "$root/scripts/rgw.sh"

say() { printf '==> %s\n' "$*" >&2; }

if command -v rustup >/dev/null 2>&1; then
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    say "rustup component add rustfmt clippy"
    rustup component add rustfmt clippy >&2
  fi
fi

# Ceph RGW starts in the background (about 15 s of waiting on its daemons) while clippy and the
# emulator run; every cluster dir it creates is listed in $rgw_registry so the trap stops it.
rgw_mode=${S3DOCTOR_RGW:-auto}
if [[ "$rgw_mode" == auto ]]; then
  rgw_mode=off
  if (($# == 0)); then rgw_mode=on; fi
  for arg in "$@"; do
    if [[ "$arg" == *rgw* ]]; then rgw_mode=on; fi
  done
fi
rgw_skip=''
rgw_bg=''
rgw_registry=''
stop_peers() {
  if [[ -n "$rgw_bg" ]]; then
    kill -TERM "$rgw_bg" 2>/dev/null || true
    wait "$rgw_bg" 2>/dev/null || true
  fi
  if [[ -n "$rgw_registry" ]]; then rgw_stop_registered "$rgw_registry"; fi
  peer_stop
}
trap 'stop_peers' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ "$rgw_mode" == on ]]; then
  if rgw_install; then
    say "Ceph RGW: starting in the background"
    rgw_registry=$(mktemp "${TMPDIR:-/tmp}/s3doctor-rgw-registry.XXXXXX")
    (
      trap - EXIT
      S3DOCTOR_RGW_REGISTRY=$rgw_registry rgw_start >/dev/null
    ) &
    rgw_bg=$!
  else
    rgw_skip="the Ceph RGW tests are SKIPPED: Ceph RGW is not installed here; as root run: $(rgw_install_hint)"
  fi
elif [[ "${S3DOCTOR_RGW:-auto}" == off ]]; then
  rgw_skip="the Ceph RGW tests are SKIPPED (S3DOCTOR_RGW=off)"
else
  rgw_skip="the Ceph RGW tests are SKIPPED (test filters without \"rgw\": $*); S3DOCTOR_RGW=on runs them"
fi

say "cargo fmt --check"
cargo fmt --all --check

say "clippy"
cargo clippy --all-targets --locked -- -D warnings

export S3DOCTOR_VENV=${S3DOCTOR_VENV:-$HOME/.cache/s3doctor-venv}
say "emulator: moto[server]==$S3DOCTOR_MOTO_VERSION in $S3DOCTOR_VENV"
peer_install

started=$SECONDS
peer_start
say "emulator on $S3DOCTOR_PEER_URL (pid $S3DOCTOR_PEER_PID, ready in $((SECONDS - started)) s, log ${S3DOCTOR_PEER_LOG:-/tmp/s3doctor-peer-${S3DOCTOR_PEER_URL##*:}.log})"

if [[ -n "$rgw_bg" ]]; then
  waited=$SECONDS
  rc=0
  wait "$rgw_bg" || rc=$?
  rgw_bg=''
  if ((rc != 0)); then
    say "Ceph RGW did not start (see above); the RGW tests cannot run. S3DOCTOR_RGW=off skips them."
    exit 1
  fi
  rgw_load "$(tail -n 1 "$rgw_registry")"
  say "Ceph RGW on $S3DOCTOR_RGW_URL and $S3DOCTOR_RGW_AWSLIKE_URL (cold start ${S3DOCTOR_RGW_STARTUP_SECS} s, waited $((SECONDS - waited)) s for it here; dir $S3DOCTOR_RGW_DIR)"
fi
if [[ -n "$rgw_skip" ]]; then
  say "$rgw_skip"
fi

# The tests give every run its own keys and config files; keep the developer's AWS set-up
# (profiles, keys, endpoints) out of the test process itself.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_IAM AWS_ENDPOINT_URL_STS AWS_REGION \
  AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export CI=${CI:-true} # insta: compare snapshots, never write them

say "cargo test $*"
cargo test --locked "$@"
if [[ -n "$rgw_skip" ]]; then
  say "$rgw_skip"
fi
