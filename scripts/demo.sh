#!/usr/bin/env bash
# Try s3doctor without an AWS account: builds it, starts the local AWS emulator (moto server,
# IAM enforcement on) and opens the incident gallery: a chooser of incidents (incident 1,
# incident 2, a wrong region, a rotated key, a wrong secret, ...), each seeded fresh in the
# emulator when picked, then the wizard on it, then "what you learned" and a scorecard.
#
#   scripts/demo.sh                            the incident gallery (keyboard: arrows, Enter, q)
#   scripts/demo.sh --incident NAME            straight to one incident
#   scripts/demo.sh --list                     print the incidents (no emulator needed)
#   scripts/demo.sh --rgw                      also start Ceph RGW (scripts/rgw.sh, ~20 s; needs
#                                              the Ceph packages) for the incidents that run there
#   scripts/demo.sh check --format markdown    incident 1, the headless report
#   scripts/demo.sh --keep [ARGS...]           leave the emulator running afterwards
#
# The incidents are data: assets/gallery/*.toml (the ticket, what is seeded, the fix, what you
# learned). Everything the demo writes (the apps' .env files, an AWS config/credentials pair
# with the profile `s3doctor-demo-admin` = the emulator's admin) lives in one private temp dir
# (mode 700) that is removed at the end, the scorecard included. AWS_CONFIG_FILE and
# AWS_SHARED_CREDENTIALS_FILE point at that pair and the usual AWS_* credential variables are
# cleared, so the demo never sees your own AWS set-up and never talks to AWS.
#
# `check`, `policy` and `fix` seed incident 1 as before (IAM user `Runpod` with one access key
# and no policy; bucket `clipizy-dev` holding `tracks/existing.mp3`; the app's dotenv file with
# S3_ACCESS_KEY / S3_SECRET_KEY / S3_REGION / S3_BUCKET) and run that subcommand on it.
#
# Environment:
#   S3DOCTOR_DEMO_DRY=1  do everything except building and running s3doctor (seed incident 1,
#                        print, stop; with --keep the emulator and the temp dir stay)
#   CARGO_TARGET_DIR     default $HOME/.cache/s3doctor-target
#   S3DOCTOR_VENV, S3DOCTOR_PEER_LOG   as for scripts/peer.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/s3doctor-target}
# shellcheck source=scripts/peer.sh
source "$root/scripts/peer.sh"

say() { printf '==> %s\n' "$*" >&2; }

keep=0
rgw=0
while [[ "${1:-}" == --keep || "${1:-}" == --rgw ]]; do
  if [[ "$1" == --keep ]]; then keep=1; else rgw=1; fi
  shift
done
dry=${S3DOCTOR_DEMO_DRY:-0}
[[ "$dry" == 1 ]] || dry=0

BIN="$CARGO_TARGET_DIR/debug/s3doctor"
if ((dry == 0)); then
  say "building s3doctor (cargo build --locked --bin s3doctor)"
  (cd "$root" && cargo build --locked --bin s3doctor)
fi

# The gallery unless a subcommand (check, policy, fix) asks for incident 1's old path.
gallery=1
case "${1:-}" in
  check | policy | fix) gallery=0 ;;
  --list)
    if ((dry == 1)); then
      say "S3DOCTOR_DEMO_DRY=1: not running s3doctor"
      exit 0
    fi
    exec "$BIN" demo --list
    ;;
esac
if ((dry == 1)); then gallery=0; fi

say "emulator: moto[server]==$S3DOCTOR_MOTO_VERSION in ${S3DOCTOR_VENV:-$HOME/.cache/s3doctor-venv}"
peer_install

demo_dir=$(mktemp -d "${TMPDIR:-/tmp}/s3doctor-demo.XXXXXX")
chmod 700 "$demo_dir"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if ((keep == 0)); then
    peer_stop
    if ((rgw == 1)) && declare -F rgw_stop >/dev/null; then rgw_stop "${S3DOCTOR_RGW_DIR:-}"; fi
    rm -rf -- "$demo_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

peer_start
say "emulator on $S3DOCTOR_PEER_URL (pid $S3DOCTOR_PEER_PID), IAM enforcement on"

# The admin as an AWS profile: the gallery seeds with it, the wizard reads IAM and applies
# fixes with it (--admin-profile s3doctor-demo-admin); the checks use each app's own keys.
mkdir -m 700 "$demo_dir/aws"
(
  umask 077
  printf '[profile s3doctor-demo-admin]\nregion = us-east-1\nendpoint_url = %s\n' \
    "$S3DOCTOR_PEER_URL" >"$demo_dir/aws/config"
  printf '[s3doctor-demo-admin]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$S3DOCTOR_PEER_ADMIN_KEY_ID" "$S3DOCTOR_PEER_ADMIN_SECRET" >"$demo_dir/aws/credentials"
)
export AWS_CONFIG_FILE="$demo_dir/aws/config"
export AWS_SHARED_CREDENTIALS_FILE="$demo_dir/aws/credentials"
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
  AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_IAM \
  AWS_ENDPOINT_URL_STS AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE
export AWS_EC2_METADATA_DISABLED=true
stop_text="$root/scripts/peer.sh stop $S3DOCTOR_PEER_PID; rm -rf $demo_dir"

rgw_args=()
if ((gallery == 1 && rgw == 1)); then
  # shellcheck source=scripts/rgw.sh
  source "$root/scripts/rgw.sh"
  if ! rgw_install; then
    say "Ceph RGW cannot be installed here; the RGW incident will say so"
  elif ! rgw_start; then
    say "Ceph RGW did not start; the RGW incident will say so"
  else
    say "Ceph RGW on $S3DOCTOR_RGW_URL (started in ${S3DOCTOR_RGW_STARTUP_SECS:-?} s)"
    (
      umask 077
      printf '[s3doctor-demo-rgw-owner]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$S3DOCTOR_RGW_OWNER_KEY_ID" "$S3DOCTOR_RGW_OWNER_SECRET"
      printf '[s3doctor-demo-rgw-app]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$S3DOCTOR_RGW_USER_KEY_ID" "$S3DOCTOR_RGW_USER_SECRET"
    ) >>"$AWS_SHARED_CREDENTIALS_FILE"
    rgw_args=(--rgw-endpoint "$S3DOCTOR_RGW_URL" --rgw-owner-profile s3doctor-demo-rgw-owner
      --rgw-app-profile s3doctor-demo-rgw-app)
  fi
fi

if ((gallery == 1)); then
  cmd=("$BIN" demo --workdir "$demo_dir" --endpoint-url "$S3DOCTOR_PEER_URL"
    --admin-profile s3doctor-demo-admin "${rgw_args[@]}" "$@")
  say "the incident gallery: $(printf '%q ' "${cmd[@]}")"
  status=0
  "${cmd[@]}" || status=$?
  if ((keep == 1)); then
    say "the emulator is still running on $S3DOCTOR_PEER_URL; stop it with: $stop_text"
  fi
  exit "$status"
fi

ENVFILE="$demo_dir/clipizy.env"
PYTHONDONTWRITEBYTECODE=1 "$(_peer_venv)/bin/python" "$root/scripts/peer/seed_incident1.py" \
  --endpoint "$S3DOCTOR_PEER_URL" --env-file "$ENVFILE" >&2


# A subcommand (check, policy, fix) goes first so that its own options follow it.
sub=()
case "${1:-}" in
  check | policy | fix)
    sub=("$1")
    shift
    ;;
esac
# The wizard gets the admin profile, so that f then y applies and verifies the fix (the
# checks still run with Runpod's keys); headless commands take it only when asked.
admin=()
if ((${#sub[@]} == 0)) && [[ "${S3DOCTOR_DEMO_NO_ADMIN:-0}" != 1 ]]; then
  admin=(--admin-profile s3doctor-demo-admin)
fi
cmd=("$BIN" "${sub[@]}" --env-file "$ENVFILE" --endpoint-url "$S3DOCTOR_PEER_URL" --bucket clipizy-dev "${admin[@]}" "$@")
cmd_text=$(printf '%q ' "${cmd[@]}")

cat >&2 <<EOF

Incident 1 is seeded in the emulator (account 123456789012):
  - IAM user Runpod, one access key, no policy at all          -> uploads get 403 AccessDenied
  - bucket clipizy-dev in us-east-1 with tracks/existing.mp3
  - the app's dotenv file: $ENVFILE
      S3_ACCESS_KEY=<Runpod's key>  S3_SECRET_KEY=<hidden>  S3_REGION=us-east-1  S3_BUCKET=clipizy-dev
  - admin profile s3doctor-demo-admin in
      AWS_CONFIG_FILE=$AWS_CONFIG_FILE
      AWS_SHARED_CREDENTIALS_FILE=$AWS_SHARED_CREDENTIALS_FILE
    the wizard uses it (--admin-profile s3doctor-demo-admin) to read IAM and apply the fix;
    S3DOCTOR_DEMO_NO_ADMIN=1 shows what the app's own keys can do alone.

Running:
  ${cmd_text% }

EOF
if ((keep == 1)); then
  say "--keep: the emulator stays up; stop it with: $stop_text"
fi

if ((dry == 1)); then
  say "S3DOCTOR_DEMO_DRY=1: not running s3doctor"
  exit 0
fi

status=0
"${cmd[@]}" || status=$?
if ((keep == 1)); then
  say "the emulator is still running on $S3DOCTOR_PEER_URL; stop it with: $stop_text"
fi
exit "$status"
