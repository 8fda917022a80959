#!/usr/bin/env bash
# The benchmark for issue 6 ("Fast and hardened"): how long the healthy S3 checklist takes with
# s3doctor, with the runbook's boto3 script and with the AWS CLI typed by hand, against the local
# AWS emulator (moto server, IAM enforcement on) that this script installs, starts and stops.
# A benchmark, not a test: it prints figures and goals (PASS/MISS) and fails only when something
# cannot be measured (e.g. s3doctor does not exit 0 on the healthy set-up).
#
#   scripts/bench.sh [--runs N] [--json FILE] [--latency[=MS] [--peer moto|rgw]] [--key]
#                    [--head-refused] [--role] [--vpce]
#
#   --runs N       timed repetitions of each contender (default 15; medians are reported)
#   --json FILE    also write the figures as JSON to FILE (relative to the current directory)
#   --latency[=MS] latency mode (issue 14): every request held MS ms (default 50) by a loopback
#                  proxy (scripts/bench/latency_proxy.py); s3doctor on 1 and 20 buckets and the
#                  boto3 script, on loopback and at that distance, round trips, calls, connections
#   --peer rgw     with --latency: measure against Ceph RGW (scripts/rgw.sh), which answers
#                  requests in parallel, instead of moto, which answers one at a time
#   --key          every s3doctor run also reads the app's own object (--key app/report.pdf,
#                  seeded in every bucket): the app-object step, which must add no round trip
#   --head-refused with --latency on moto: the benchmark user may not HeadBucket (no moto-only
#                  s3:HeadBucket), so the bucket's region comes from GetBucketLocation
#   --role         with --latency on moto: s3doctor on one bucket also runs with --role-arn (the
#                  role s3doctor-bench-role, which trusts the benchmark user and holds the same
#                  healthy policy); its AssumeRole must be the one round trip it adds (issue 19)
#   --vpce         with --latency on moto: s3doctor on one bucket also runs with --admin-profile
#                  (the emulator's admin), and with it and --vpce (a gateway endpoint seeded in
#                  moto's EC2): its DescribeVpcEndpoints must add no round trip in a row (issue 20)
#
# What it does: `cargo build --release --locked --bin s3doctor` (timed; cold or warm is said),
# moto from scripts/peer.sh, the AWS CLI v1 into the same venv when missing, then seeds (with the
# emulator's admin) the IAM user `s3doctor-bench` with a healthy inline policy on the buckets
# bench-01..bench-20 (created in us-east-1); its keys go to a mode-600 file in a private temp dir
# and reach the programs under test through their environment only (never printed, never argv).
# With --peer rgw, a Ceph RGW cluster (scripts/rgw.sh) instead, whose user s3doctor-owner owns
# those buckets and is the benchmark user (RGW has no IAM to make one with, and no STS: the boto3
# script then asks who it is with ListBuckets). RGW's cluster is stopped at the end.
# Measured, interleaved round by round after one untimed warm-up:
#   (a) s3doctor check --bucket bench-01 --format json            (target/release/s3doctor)
#   (b) scripts/bench/runbook_check.py, a fresh python + boto3 process each time
#   (c) the same six calls as six `aws` processes, one after the other
#   and s3doctor on all 20 buckets at once;
# then the peak RSS and the number of AWS calls (from --log) of one run, the binary's size, and
# the wizard's time to first frame in tmux with a closed loopback port as endpoint.
#
# Needs: cargo, python3 >= 3.9 with venv/pip, curl, tmux; GNU time (optional, for the RSS).
# Environment:
#   CARGO_TARGET_DIR   default $HOME/.cache/s3doctor-target
#   S3DOCTOR_BENCH_BIN measure this s3doctor binary instead of building one (before/after)
#   S3DOCTOR_VENV      venv for moto[server] and awscli, default $HOME/.cache/s3doctor-venv
#   S3DOCTOR_PEER_LOG  emulator log, default /tmp/s3doctor-peer-PORT.log
# Your own AWS set-up (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws, …) is kept out of every process.
set -euo pipefail

usage() {
  sed -n '8,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

runs=15
json=''
latency=''
peer=moto
app_key=''
# The app's own object that --key reads (seeded in every benchmark bucket).
APP_KEY=app/report.pdf
head_refused=''
role=''
vpce=''
while (($# > 0)); do
  case "$1" in
    --head-refused)
      head_refused=1
      shift
      ;;
    --role)
      role=1
      shift
      ;;
    --vpce)
      vpce=1
      shift
      ;;
    --latency)
      latency=50
      if [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]]; then
        latency=$2
        shift
      fi
      shift
      ;;
    --latency=*)
      latency=${1#--latency=}
      shift
      ;;
    --peer)
      [[ $# -ge 2 ]] || { usage; exit 2; }
      peer=$2
      shift 2
      ;;
    --peer=*)
      peer=${1#--peer=}
      shift
      ;;
    --runs)
      [[ $# -ge 2 ]] || { usage; exit 2; }
      runs=$2
      shift 2
      ;;
    --runs=*)
      runs=${1#--runs=}
      shift
      ;;
    --json)
      [[ $# -ge 2 ]] || { usage; exit 2; }
      json=$2
      shift 2
      ;;
    --json=*)
      json=${1#--json=}
      shift
      ;;
    --key)
      app_key=$APP_KEY
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      printf 'bench: unknown argument %q\n' "$1" >&2
      usage
      exit 2
      ;;
  esac
done
if ! [[ "$runs" =~ ^[0-9]+$ ]] || ((runs < 1)); then
  printf 'bench: --runs needs a positive integer, not %q\n' "$runs" >&2
  exit 2
fi
if [[ -n "$latency" ]] && ! [[ "$latency" =~ ^[0-9]+$ ]]; then
  printf 'bench: --latency needs a whole number of milliseconds, not %q\n' "$latency" >&2
  exit 2
fi
if [[ "$peer" != moto && "$peer" != rgw ]]; then
  printf 'bench: --peer is moto or rgw, not %q\n' "$peer" >&2
  exit 2
fi
if [[ -n "$head_refused" && ( -z "$latency" || "$peer" != moto ) ]]; then
  printf 'bench: --head-refused measures the latency mode on moto only: add --latency\n' >&2
  exit 2
fi
if [[ -n "$role" && ( -z "$latency" || "$peer" != moto ) ]]; then
  printf 'bench: --role measures the latency mode on moto only (RGW has no STS): add --latency\n' >&2
  exit 2
fi
if [[ -n "$vpce" && ( -z "$latency" || "$peer" != moto ) ]]; then
  printf 'bench: --vpce measures the latency mode on moto only (its EC2 holds the endpoint): add --latency\n' >&2
  exit 2
fi
if [[ "$peer" == rgw && -z "$latency" ]]; then
  printf 'bench: --peer rgw measures the latency mode only: add --latency\n' >&2
  exit 2
fi
if [[ -n "$json" && "$json" != /* ]]; then
  json="$PWD/$json" # relative to where the script was called from
fi

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/s3doctor-target}
export S3DOCTOR_VENV=${S3DOCTOR_VENV:-$HOME/.cache/s3doctor-venv}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/peer.sh
source "$root/scripts/peer.sh"
# shellcheck source=scripts/rgw.sh
source "$root/scripts/rgw.sh"

say() { printf '==> %s\n' "$*" >&2; }
now_ns() { date +%s%N; }

# Keep the developer's AWS set-up out of everything this script runs.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_IAM \
  AWS_ENDPOINT_URL_STS AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_CA_BUNDLE
work=$(mktemp -d "${TMPDIR:-/tmp}/s3doctor-bench.XXXXXX")
chmod 700 "$work"
# shellcheck disable=SC2317 # called by the trap
proxy_pid=''
cleanup() {
  if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null || true; fi
  peer_stop
  if [[ -n "${S3DOCTOR_RGW_REGISTRY:-}" ]]; then rgw_stop_registered "$S3DOCTOR_RGW_REGISTRY"; fi
  rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
(
  umask 077
  printf '[default]\nregion = us-east-1\noutput = json\ns3 =\n  addressing_style = path\n' \
    >"$work/aws-config"
  : >"$work/aws-credentials"
)
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
export AWS_EC2_METADATA_DISABLED=true

# 1. The release build, timed (or the binary given in S3DOCTOR_BENCH_BIN).
BIN="$CARGO_TARGET_DIR/release/s3doctor"
if [[ -n "${S3DOCTOR_BENCH_BIN:-}" ]]; then
  BIN=$S3DOCTOR_BENCH_BIN
  build_state="not built: S3DOCTOR_BENCH_BIN=$BIN"
elif [[ -x "$BIN" ]]; then
  build_state="warm: $BIN existed before"
elif [[ -d "$CARGO_TARGET_DIR/release/deps" ]]; then
  build_state="partly warm: no binary, but $CARGO_TARGET_DIR/release/deps existed"
else
  build_state="cold: no $CARGO_TARGET_DIR/release before"
fi
if [[ -n "${S3DOCTOR_BENCH_BIN:-}" ]]; then
  [[ -x "$BIN" ]] || { printf 'bench: S3DOCTOR_BENCH_BIN=%q is not executable\n' "$BIN" >&2; exit 2; }
  build_s=''
else
  say "cargo build --release --locked --bin s3doctor ($build_state)"
  started=$(now_ns)
  cargo build --release --locked --bin s3doctor 2>&1 | tee "$work/build.log" >&2
  build_ms=$((($(now_ns) - started) / 1000000))
  if grep -q 'Blocking waiting for file lock' "$work/build.log"; then
    build_state="$build_state; includes waiting for another cargo's lock on the target dir"
  fi
  build_s=$(printf '%d.%03d' $((build_ms / 1000)) $((build_ms % 1000)))
  say "built in $build_s s"
fi

# 2. The emulator, and the AWS CLI v1 next to it.
say "emulator: moto[server]==$S3DOCTOR_MOTO_VERSION in $S3DOCTOR_VENV"
peer_install
if ! "$S3DOCTOR_VENV/bin/aws" --version >/dev/null 2>&1; then
  say "installing the AWS CLI v1 (awscli) into $S3DOCTOR_VENV"
  # Keep the botocore/boto3/s3transfer that moto already uses: awscli pins botocore exactly, and
  # other runs (scripts/test.sh) may be using this venv right now.
  pins=$("$S3DOCTOR_VENV/bin/python" - <<'PY'
from importlib.metadata import version
print(" ".join(f"{d}=={version(d)}" for d in ("botocore", "boto3", "s3transfer")))
PY
  )
  lock_fd=''
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"$S3DOCTOR_VENV.lock"
    flock -w 600 "$lock_fd"
  fi
  # shellcheck disable=SC2086 # $pins is a list of requirement words
  "$S3DOCTOR_VENV/bin/pip" install --quiet --disable-pip-version-check --no-input awscli $pins >&2
  if [[ -n "$lock_fd" ]]; then exec {lock_fd}>&-; fi
fi
say "$("$S3DOCTOR_VENV/bin/aws" --version 2>&1)"

started=$SECONDS
if [[ "$peer" == rgw ]]; then
  # Ceph RGW instead of moto (moto's venv still holds the boto3 the baseline script uses).
  rgw_install || exit 1
  export S3DOCTOR_RGW_REGISTRY="$work/rgw-clusters"
  rgw_start || exit 1
  S3DOCTOR_PEER_URL=$S3DOCTOR_RGW_URL
  say "Ceph RGW on $S3DOCTOR_PEER_URL (ready in $((SECONDS - started)) s)"
else
  peer_start
  say "emulator on $S3DOCTOR_PEER_URL (pid $S3DOCTOR_PEER_PID, ready in $((SECONDS - started)) s)"
fi

# 3. Seed the healthy user and the 20 buckets; the keys stay in a mode-600 file.
seed_args=(--peer "$peer" --endpoint "$S3DOCTOR_PEER_URL" --keys-file "$work/bench-user.env")
if [[ -n "$app_key" ]]; then seed_args+=(--app-object "$app_key"); fi
PYTHONDONTWRITEBYTECODE=1 "$S3DOCTOR_VENV/bin/python" "$root/scripts/bench/seed_bench.py" \
  "${seed_args[@]}" ${head_refused:+--head-refused} ${role:+--role} ${vpce:+--vpce} >&2

# 4. Measure. The admin keys are not passed on to anything measured (but for --vpce, whose
# --admin-profile reads them from the private credentials file).
bench_args=(--bin "$BIN" --endpoint "$S3DOCTOR_PEER_URL" --keys-file "$work/bench-user.env"
  --work-dir "$work" --venv "$S3DOCTOR_VENV" --runs "$runs" --build-state "$build_state"
  --peer "$peer")
if [[ -n "$build_s" ]]; then bench_args+=(--build-seconds "$build_s"); fi
if [[ -n "$app_key" ]]; then bench_args+=(--key "$app_key"); fi
if [[ -n "$json" ]]; then bench_args+=(--json "$json"); fi
if [[ -n "$head_refused" ]]; then bench_args+=(--head-refused); fi
if [[ -n "$role" ]]; then bench_args+=(--role); fi
if [[ -n "$vpce" ]]; then bench_args+=(--vpce); fi
if [[ -n "$latency" ]]; then
  "$S3DOCTOR_VENV/bin/python" "$root/scripts/bench/latency_proxy.py" \
    --upstream "${S3DOCTOR_PEER_URL#http://}" --delay-ms "$latency" \
    --port-file "$work/proxy.port" --events "$work/proxy-events.jsonl" 2>"$work/proxy.log" &
  proxy_pid=$!
  for _ in $(seq 100); do [[ -s "$work/proxy.port" ]] && break; sleep 0.1; done
  [[ -s "$work/proxy.port" ]] || { cat "$work/proxy.log" >&2; printf 'bench: the latency proxy did not start\n' >&2; exit 1; }
  say "latency proxy on http://127.0.0.1:$(cat "$work/proxy.port") (pid $proxy_pid): every request held $latency ms"
  bench_args+=(--latency-url "http://127.0.0.1:$(cat "$work/proxy.port")" --latency-ms "$latency"
    --latency-events "$work/proxy-events.jsonl")
fi
env -u S3DOCTOR_PEER_ADMIN_KEY_ID -u S3DOCTOR_PEER_ADMIN_SECRET -u S3DOCTOR_RGW_OWNER_SECRET \
  -u S3DOCTOR_RGW_USER_SECRET -u S3DOCTOR_RGW_OTHER_SECRET -u S3DOCTOR_RGW_TENANT_SECRET \
  PYTHONDONTWRITEBYTECODE=1 \
  "$S3DOCTOR_VENV/bin/python" "$root/scripts/bench/bench.py" "${bench_args[@]}"
