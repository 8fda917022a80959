#!/usr/bin/env bash
# s3doctor test peer: moto server (the local AWS emulator) with IAM enforcement on.
# See /work/shared/notes/moto.md (or the README) for what moto does and does not emulate.
#
# As a command:
#   eval "$(scripts/peer.sh start)"   install if needed, start, seed the admin, enforce IAM;
#                                     prints `export …` lines (the server keeps running)
#   scripts/peer.sh stop [PID]        stop it (default PID: $S3DOCTOR_PEER_PID)
#   scripts/peer.sh install           only create/update the venv
#
# As a library (`source scripts/peer.sh`): peer_install, peer_start, peer_stop.
#
# peer_start exports:
#   S3DOCTOR_PEER_URL             http://127.0.0.1:PORT
#   S3DOCTOR_PEER_PID             pid of moto_server
#   S3DOCTOR_PEER_ADMIN_KEY_ID    access key of IAM user s3doctor-admin (inline Action:* on *)
#   S3DOCTOR_PEER_ADMIN_SECRET    its secret (never printed: `start` prints a $(cat FILE) instead)
#   S3DOCTOR_PEER_DIR             private dir (mode 700) holding the admin key files; removed by stop
#
# Settings (environment):
#   S3DOCTOR_VENV      venv holding moto            (default: $HOME/.cache/s3doctor-venv)
#   S3DOCTOR_PEER_LOG  moto_server log              (default: /tmp/s3doctor-peer-PORT.log)
#   S3DOCTOR_PYTHON    python used to create venv   (default: python3)
#
# The emulator's account id is 123456789012. Nothing secret is written to the terminal.

S3DOCTOR_MOTO_VERSION=5.2.5
_PEER_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_peer_err() { printf 's3doctor peer: %s\n' "$*" >&2; }

_peer_venv() { printf '%s\n' "${S3DOCTOR_VENV:-$HOME/.cache/s3doctor-venv}"; }

# True when the venv holds moto $S3DOCTOR_MOTO_VERSION and its moto_server.
_peer_installed() {
  local venv
  venv=$(_peer_venv)
  [[ -x "$venv/bin/moto_server" && -x "$venv/bin/python" ]] || return 1
  "$venv/bin/python" - "$S3DOCTOR_MOTO_VERSION" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
for dist in ("boto3", "flask", "flask-cors", "werkzeug"):  # what moto[server] pulls in
    version(dist)
sys.exit(0 if version("moto") == sys.argv[1] else 1)
PY
}

# Create the venv if missing and install moto[server]==$S3DOCTOR_MOTO_VERSION. Idempotent, quiet.
peer_install() {
  local venv lock_fd='' out rc=0
  venv=$(_peer_venv)
  _peer_installed && return 0
  mkdir -p "$(dirname "$venv")" || return 1

  # Another process may be installing into the same venv right now: serialise on a lock file.
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"$venv.lock" || return 1
    if ! flock -w 600 "$lock_fd"; then
      _peer_err "timed out waiting for another install into $venv (lock $venv.lock)"
      exec {lock_fd}>&-
      return 1
    fi
    if _peer_installed; then
      exec {lock_fd}>&-
      return 0
    fi
  fi

  out=$(mktemp "${TMPDIR:-/tmp}/s3doctor-peer-install.XXXXXX") || return 1
  (
    if [[ ! -x "$venv/bin/python" ]]; then
      "${S3DOCTOR_PYTHON:-python3}" -m venv "$venv" || exit 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      "moto[server]==$S3DOCTOR_MOTO_VERSION"
  ) >"$out" 2>&1 || rc=$?
  if ((rc == 0)) && ! _peer_installed; then rc=1; fi
  if ((rc != 0)); then
    _peer_err "installing moto[server]==$S3DOCTOR_MOTO_VERSION into $venv failed:"
    tail -n 30 "$out" >&2
  fi
  rm -f "$out"
  if [[ -n "$lock_fd" ]]; then exec {lock_fd}>&-; fi
  return "$rc"
}

# Alive and not a zombie.
_peer_alive() {
  local pid=$1 state=''
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || true
    [[ "$state" != Z ]] || return 1
  fi
  return 0
}

_peer_children() {
  local pid=$1 stat
  if command -v pgrep >/dev/null 2>&1; then
    pgrep -P "$pid" 2>/dev/null || true
    return 0
  fi
  for stat in /proc/[0-9]*/stat; do
    [[ -r "$stat" ]] || continue
    # field 4 (after the "(comm)") is the parent pid
    sed -E 's/^([0-9]+) \(.*\) . ([0-9]+) .*$/\1 \2/' "$stat" 2>/dev/null
  done | while read -r child parent; do
    [[ "$parent" == "$pid" ]] && printf '%s\n' "$child"
  done
  return 0
}

_peer_tail_log() {
  local log=$1
  if [[ -s "$log" ]]; then
    _peer_err "last lines of $log:"
    tail -n 20 "$log" >&2
  fi
}

_peer_free_port() {
  "$(_peer_venv)/bin/python" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Start moto_server on a free loopback port, wait until it answers, seed the admin user,
# turn IAM enforcement on and check it. Exports S3DOCTOR_PEER_* (see the header).
peer_start() {
  local venv py port url log pid dir attempt deadline key_id secret
  venv=$(_peer_venv)
  py="$venv/bin/python"
  if [[ ! -x "$venv/bin/moto_server" ]]; then
    _peer_err "no moto_server in $venv: run peer_install (scripts/peer.sh install) first"
    return 1
  fi

  pid=
  for attempt in 1 2 3; do
    port=$(_peer_free_port) || {
      _peer_err "could not find a free port"
      return 1
    }
    url="http://127.0.0.1:$port"
    log=${S3DOCTOR_PEER_LOG:-/tmp/s3doctor-peer-$port.log}
    : >"$log" || {
      _peer_err "cannot write the log $log"
      return 1
    }
    # moto uses botocore itself: keep the user's AWS set-up (e.g. an AWS_PROFILE that only
    # exists in their ~/.aws) away from it, or it answers 500.
    env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
      -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL AWS_CONFIG_FILE=/dev/null \
      AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
      "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >>"$log" 2>&1 &
    pid=$!
    export S3DOCTOR_PEER_PID=$pid # so that a trap calling peer_stop can stop it already

    deadline=$((SECONDS + 20))
    while :; do
      if ! _peer_alive "$pid"; then
        wait "$pid" 2>/dev/null || true
        if ((attempt < 3)) && grep -qi 'address already in use' "$log"; then
          pid=
          break # the port was taken in the meantime: try another one
        fi
        _peer_err "moto_server exited before it was ready (port $port)"
        _peer_tail_log "$log"
        return 1
      fi
      if curl -fsS -o /dev/null --max-time 2 "$url/moto-api/" 2>/dev/null; then
        break 2
      fi
      if ((SECONDS >= deadline)); then
        _peer_err "moto_server did not answer $url/moto-api/ within 20 s"
        _peer_tail_log "$log"
        peer_stop "$pid"
        return 1
      fi
      sleep 0.1
    done
  done
  if [[ -z "$pid" ]]; then
    _peer_err "could not start moto_server (ports kept being taken)"
    return 1
  fi

  dir=$(mktemp -d "${TMPDIR:-/tmp}/s3doctor-peer-$port.XXXXXX") || {
    peer_stop "$pid"
    return 1
  }
  chmod 700 "$dir"
  export S3DOCTOR_PEER_URL=$url S3DOCTOR_PEER_DIR=$dir

  # Seed while enforcement is off; the script writes the keys to $dir (mode 600).
  if ! PYTHONDONTWRITEBYTECODE=1 "$py" "$_PEER_SCRIPTS/peer/seed_admin.py" seed \
    --endpoint "$url" --out-dir "$dir" >&2; then
    _peer_err "seeding the admin user failed"
    _peer_tail_log "$log"
    peer_stop "$pid"
    return 1
  fi
  key_id=$(<"$dir/admin-key-id")
  secret=$(<"$dir/admin-secret")
  export S3DOCTOR_PEER_ADMIN_KEY_ID=$key_id S3DOCTOR_PEER_ADMIN_SECRET=$secret

  # Enforcement on (the body must be raw: a form-encoded body makes moto answer 500).
  if ! curl -fsS -o /dev/null --max-time 10 -X POST -H 'Content-Type: text/plain' \
    --data-binary 0 "$url/moto-api/reset-auth"; then
    _peer_err "turning IAM enforcement on failed (POST $url/moto-api/reset-auth)"
    _peer_tail_log "$log"
    peer_stop "$pid"
    return 1
  fi

  # Prove it: the admin key works, an unknown key is refused.
  if ! PYTHONDONTWRITEBYTECODE=1 "$py" "$_PEER_SCRIPTS/peer/seed_admin.py" verify \
    --endpoint "$url" >&2; then
    _peer_err "IAM enforcement check failed"
    _peer_tail_log "$log"
    peer_stop "$pid"
    return 1
  fi
  return 0
}

# Stop the server (and its children) and remove its key dir. Idempotent; never fails.
# PID defaults to $S3DOCTOR_PEER_PID; only a moto_server process is ever signalled.
peer_stop() {
  local pid=${1:-${S3DOCTOR_PEER_PID:-}} cmdline='' child i port='' d
  if [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]] && _peer_alive "$pid"; then
    if [[ -r "/proc/$pid/cmdline" ]]; then
      cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || cmdline=
    fi
    if [[ -n "$cmdline" && "$cmdline" != *moto_server* ]]; then
      _peer_err "pid $pid is not a moto_server (${cmdline:0:80}); not stopping it"
    else
      if [[ "$cmdline" =~ -p\ ([0-9]+) ]]; then port=${BASH_REMATCH[1]}; fi
      for child in $(_peer_children "$pid"); do
        kill -TERM "$child" 2>/dev/null || true
      done
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        _peer_alive "$pid" || break
        sleep 0.1
      done
      if _peer_alive "$pid"; then
        for child in $(_peer_children "$pid"); do
          kill -KILL "$child" 2>/dev/null || true
        done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  # Reap it when it is our child (returns at once otherwise).
  if [[ -n "$pid" && "$pid" =~ ^[0-9]+$ ]]; then
    wait "$pid" 2>/dev/null || true
  fi
  # The key dir of that server (named after its port by peer_start).
  if [[ -n "$port" ]]; then
    for d in "${TMPDIR:-/tmp}/s3doctor-peer-$port".*; do
      if [[ -d "$d" && ! -L "$d" && -O "$d" ]]; then rm -rf -- "$d" || true; fi
    done
  fi
  if [[ -z "${1:-}" || "${1:-}" == "${S3DOCTOR_PEER_PID:-}" ]]; then
    if [[ -n "${S3DOCTOR_PEER_DIR:-}" && -d "$S3DOCTOR_PEER_DIR" ]]; then
      rm -rf -- "$S3DOCTOR_PEER_DIR" || true
    fi
    unset S3DOCTOR_PEER_URL S3DOCTOR_PEER_PID S3DOCTOR_PEER_DIR \
      S3DOCTOR_PEER_ADMIN_KEY_ID S3DOCTOR_PEER_ADMIN_SECRET
  fi
  return 0
}

_peer_main() {
  set -euo pipefail
  local q
  case "${1:-}" in
    install)
      peer_install
      ;;
    start)
      peer_install
      peer_start
      for q in S3DOCTOR_PEER_URL S3DOCTOR_PEER_PID S3DOCTOR_PEER_DIR S3DOCTOR_PEER_ADMIN_KEY_ID; do
        printf 'export %s=%q\n' "$q" "${!q}"
      done
      # The secret stays in its mode-600 file; eval reads it from there.
      # shellcheck disable=SC2016 # the $(cat …) is for the eval, not for us
      printf 'export S3DOCTOR_PEER_ADMIN_SECRET="$(cat %q)"\n' "$S3DOCTOR_PEER_DIR/admin-secret"
      if [[ -t 1 ]]; then
        _peer_err "use: eval \"\$(scripts/peer.sh start)\"; stop with: scripts/peer.sh stop $S3DOCTOR_PEER_PID"
      fi
      ;;
    stop)
      peer_stop "${2:-${S3DOCTOR_PEER_PID:-}}"
      ;;
    *)
      printf 'usage: %s start | stop [PID] | install\n' "$0" >&2
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  _peer_main "$@"
fi
