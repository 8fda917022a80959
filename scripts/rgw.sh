#!/usr/bin/env bash
# s3doctor's second test peer: Ceph RADOS Gateway (RGW), the S3 server of Ceph, on one machine,
# loopback only. See the README ("Testing") and /work/shared/notes/rgw.md for how it differs from
# AWS. A single-node cluster: one monitor, one memstore OSD (no disk), cephx off, pools of size 1,
# and two radosgw daemons with the beast frontend (see below). Every path is under one temp dir;
# every port is a free one picked at start, so several clusters can run side by side.
#
# As a command:
#   eval "$(scripts/rgw.sh start)"   install if missing (and possible), start, seed the users;
#                                    prints `export …` lines (the cluster keeps running)
#   scripts/rgw.sh stop [DIR]        stop it (default DIR: $S3DOCTOR_RGW_DIR) and remove DIR
#   scripts/rgw.sh install           only install the Debian packages
#
# As a library (`source scripts/rgw.sh`): rgw_install, rgw_start, rgw_stop.
#
# rgw_start exports:
#   S3DOCTOR_RGW_URL              http://127.0.0.1:PORT, zonegroup api_name `default` (stock)
#   S3DOCTOR_RGW_AWSLIKE_URL      a second radosgw of the same cluster that answers with the
#                                 zonegroup api_name `eu-west-3` (named like an AWS region)
#   S3DOCTOR_RGW_ZONEGROUP        default          S3DOCTOR_RGW_AWSLIKE_ZONEGROUP  eu-west-3
#   S3DOCTOR_RGW_OWNER_KEY_ID / _SECRET   user `s3doctor-owner`: owns the test buckets
#   S3DOCTOR_RGW_USER_KEY_ID / _SECRET    user `s3doctor-app`: reaches buckets only via policies
#   S3DOCTOR_RGW_OTHER_KEY_ID / _SECRET   user `s3doctor-other`: never granted anything
#   S3DOCTOR_RGW_TENANT_KEY_ID / _SECRET  user `s3dtenant$s3doctor-app` (tenant `s3dtenant`)
#   S3DOCTOR_RGW_DIR              the cluster's dir (conf, data, logs, pids, key files mode 600)
#   S3DOCTOR_RGW_STARTUP_SECS     how long the cold start took
# Nothing secret is written to the terminal; `start` prints $(cat FILE) for the secrets.
#
# Why two radosgw daemons: RGW answers GetBucketLocation with its zonegroup's api_name, which it
# reads once at start. The first daemon starts with the stock `default`; then the api_name is
# changed with radosgw-admin and the second daemon starts and reads `eu-west-3`. Without a realm
# nothing tells the first daemon, so one cluster serves both answers.
#
# Settings (environment):
#   S3DOCTOR_RGW_INSTALL=no   never try to install (only report what to run)

_RGW_PACKAGES="radosgw ceph-mon ceph-osd ceph-common"
_RGW_BINARIES="ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool"
S3DOCTOR_RGW_AWSLIKE_ZONEGROUP=eu-west-3

_rgw_err() { printf 's3doctor rgw: %s\n' "$*" >&2; }

# The one line that says how to get the packages.
rgw_install_hint() {
  printf 'apt-get update && apt-get install -y --no-install-recommends %s' "$_RGW_PACKAGES"
}

_rgw_installed() {
  local b
  for b in $_RGW_BINARIES; do
    command -v "$b" >/dev/null 2>&1 || return 1
  done
  return 0
}

# Install the Debian packages when missing and allowed (root, or passwordless sudo).
# Returns 1, with one line naming the command, when it cannot.
rgw_install() {
  local sudo='' out rc=0
  _rgw_installed && return 0
  if [[ "${S3DOCTOR_RGW_INSTALL:-yes}" == no ]]; then
    _rgw_err "Ceph RGW is not installed (S3DOCTOR_RGW_INSTALL=no); install it with: $(rgw_install_hint)"
    return 1
  fi
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo='sudo -n'
    else
      _rgw_err "Ceph RGW is not installed and this user cannot install it (not root, no passwordless sudo); as root run: $(rgw_install_hint)"
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    _rgw_err "Ceph RGW is not installed and there is no apt-get here; install the Ceph packages ($_RGW_PACKAGES) by hand"
    return 1
  fi
  _rgw_err "installing Ceph RGW: $(rgw_install_hint)"
  out=$(mktemp "${TMPDIR:-/tmp}/s3doctor-rgw-install.XXXXXX") || return 1
  {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update &&
      # shellcheck disable=SC2086 # the package list is meant to split
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $_RGW_PACKAGES
  } >"$out" 2>&1 || rc=$?
  if ((rc == 0)) && ! _rgw_installed; then rc=1; fi
  if ((rc != 0)); then
    _rgw_err "installing Ceph RGW failed ($(rgw_install_hint)):"
    tail -n 20 "$out" >&2
  fi
  rm -f "$out"
  return "$rc"
}

_rgw_free_port() {
  python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

_rgw_random() { # $1 = key|secret
  python3 -c '
import secrets, string, sys
if sys.argv[1] == "key":
    print("S3D" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17)))
else:
    print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40)))' "$1"
}

# Time stamps of the start-up phases, in DIR/log/startup.log (how the start-up time is measured).
_rgw_mark() { printf '%s %s\n' "$(date +%s.%N)" "$2" >>"$1/log/startup.log"; }

_rgw_uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }

# Is PID alive, not a zombie, and one of the daemons of the cluster in DIR?
_rgw_ours() {
  local pid=$1 dir=$2 cmdline state=''
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || true
    [[ "$state" != Z ]] || return 1
  fi
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ "$cmdline" == *"$dir/ceph.conf"* ]]
}

_rgw_tail_logs() {
  local dir=$1 f
  for f in "$dir"/log/*.log; do
    [[ -s "$f" ]] || continue
    _rgw_err "last lines of $f:"
    tail -n 8 "$f" >&2
  done
}

_rgw_wait_http() { # url seconds pid dir
  local url=$1 deadline=$((SECONDS + $2)) pid=$3 dir=$4
  while :; do
    curl -s -o /dev/null --max-time 2 "$url/" 2>/dev/null && return 0
    if ! _rgw_ours "$pid" "$dir"; then
      _rgw_err "radosgw (pid $pid) exited before it answered $url"
      return 1
    fi
    ((SECONDS < deadline)) || {
      _rgw_err "radosgw did not answer $url within $2 s"
      return 1
    }
    sleep 0.2
  done
}

# One cold start into DIR (empty). Returns 1 on any failure (the caller stops and retries).
_rgw_start_once() {
  local dir=$1 mon_port rgw_port rgw2_port fsid osd_uuid conf c deadline pid n
  mon_port=$(_rgw_free_port) && rgw_port=$(_rgw_free_port) && rgw2_port=$(_rgw_free_port) || {
    _rgw_err "could not find free ports"
    return 1
  }
  fsid=$(_rgw_uuid) || return 1
  mkdir -p "$dir"/{mon,osd,rgw,run,log,keys} || return 1
  chmod 700 "$dir" "$dir/keys"
  conf="$dir/ceph.conf"
  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v1:127.0.0.1:$mon_port
public_addr = 127.0.0.1
ms_bind_msgr2 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 1
osd_pool_default_pgp_num = 1
osd_pool_default_pg_autoscale_mode = off
osd_crush_update_on_start = false
osd_class_update_on_start = false
osd_objectstore = memstore
memstore_device_bytes = 1073741824
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
run_dir = $dir/run
admin_socket = $dir/run/\$name.\$pid.asok
log_file = $dir/log/\$name.log
pid_file = $dir/run/\$name.pid
mon_data = $dir/mon
osd_data = $dir/osd
rgw_data = $dir/rgw
keyring = $dir/keyring
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
[client.rgw2]
rgw_frontends = beast endpoint=127.0.0.1:$rgw2_port
EOF
  c=(-c "$conf")
  _rgw_mark "$dir" begin
  printf '%s\n' "$rgw_port" >"$dir/rgw-port"
  printf '%s\n' "$rgw2_port" >"$dir/rgw2-port"

  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" \
    >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "monmaptool failed"
    return 1
  }
  ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "ceph-mon --mkfs failed"
    return 1
  }
  ceph-mon "${c[@]}" -f -i a </dev/null >>"$dir/log/mon.out" 2>&1 &
  printf '%s\n' "$!" >>"$dir/pids"
  pid=$!
  timeout 20 ceph "${c[@]}" --connect-timeout 15 mon stat >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "the monitor did not answer on 127.0.0.1:$mon_port"
    return 1
  }

  # The OSD's uuid: written before mkfs (memstore keeps an fsid file it finds, and left alone it
  # sometimes writes all zeros), given to mkfs and registered with the monitor, which refuses
  # an OSD whose uuid differs ('wrong fsid').
  osd_uuid=$(_rgw_uuid) || return 1
  printf '%s\n' "$osd_uuid" >"$dir/osd/fsid"
  ceph-osd "${c[@]}" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "ceph-osd --mkfs failed"
    return 1
  }
  [[ "$(<"$dir/osd/fsid")" == "$osd_uuid" ]] || {
    _rgw_err "ceph-osd --mkfs wrote another uuid than $osd_uuid"
    return 1
  }
  timeout 20 ceph "${c[@]}" osd new "$osd_uuid" 0 >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "ceph osd new failed"
    return 1
  }
  # Placed in the CRUSH map here, not by the OSD at boot: its own start-up commands sometimes
  # reach the monitor before it knows the cluster's fsid ('wrong fsid'), and it then exits.
  timeout 20 ceph "${c[@]}" osd crush add osd.0 1.0 root=default >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "ceph osd crush add failed"
    return 1
  }
  ceph-osd "${c[@]}" -f -i 0 </dev/null >>"$dir/log/osd.out" 2>&1 &
  printf '%s\n' "$!" >>"$dir/pids"
  pid=$!
  _rgw_mark "$dir" osd-started
  deadline=$((SECONDS + 30))
  until timeout 5 ceph "${c[@]}" osd stat 2>/dev/null | grep -q ' 1 up'; do
    _rgw_ours "$pid" "$dir" || {
      _rgw_err "ceph-osd exited before it was up"
      return 1
    }
    ((SECONDS < deadline)) || {
      _rgw_err "the OSD was not up within 30 s"
      return 1
    }
    sleep 0.2
  done

  _rgw_mark "$dir" osd-up
  radosgw "${c[@]}" -f -n client.rgw </dev/null >>"$dir/log/rgw.out" 2>&1 &
  printf '%s\n' "$!" >>"$dir/pids"
  pid=$!
  _rgw_wait_http "http://127.0.0.1:$rgw_port" 60 "$pid" "$dir" || return 1
  _rgw_mark "$dir" rgw-answers

  # Users (radosgw-admin); keys generated here, written mode 600, never printed.
  for n in owner:s3doctor-owner user:s3doctor-app other:s3doctor-other tenant:s3doctor-app; do
    local role=${n%%:*} uid=${n#*:} key secret tenant=()
    key=$(_rgw_random key) && secret=$(_rgw_random secret) || return 1
    [[ "$role" == tenant ]] && tenant=(--tenant s3dtenant)
    (umask 077 && printf '%s\n' "$key" >"$dir/keys/$role-key-id" && printf '%s\n' "$secret" >"$dir/keys/$role-secret")
    radosgw-admin "${c[@]}" user create "${tenant[@]}" --uid "$uid" --display-name "$uid" \
      --access-key "$key" --secret-key "$secret" >/dev/null 2>>"$dir/log/setup.log" || {
      _rgw_err "radosgw-admin user create $uid failed"
      return 1
    }
  done

  # The second daemon, after renaming the zonegroup's api_name (see the header).
  radosgw-admin "${c[@]}" zonegroup modify --rgw-zonegroup default \
    --api-name "$S3DOCTOR_RGW_AWSLIKE_ZONEGROUP" >>"$dir/log/setup.log" 2>&1 || {
    _rgw_err "radosgw-admin zonegroup modify failed"
    return 1
  }
  radosgw "${c[@]}" -f -n client.rgw2 </dev/null >>"$dir/log/rgw2.out" 2>&1 &
  printf '%s\n' "$!" >>"$dir/pids"
  pid=$!
  _rgw_wait_http "http://127.0.0.1:$rgw2_port" 60 "$pid" "$dir" || return 1
  _rgw_mark "$dir" rgw2-answers
  return 0
}

# Start a cluster (one retry: about one cold start in eight exits early without a message).
# Exports S3DOCTOR_RGW_* (see the header). With S3DOCTOR_RGW_REGISTRY=FILE, every cluster dir is
# appended to FILE as soon as it exists, so that a caller running this in the background can stop
# what was started even when it is interrupted half-way (rgw_stop_registered FILE).
rgw_start() {
  local dir attempt started=$SECONDS
  if ! _rgw_installed; then
    _rgw_err "Ceph RGW is not installed: $(rgw_install_hint)"
    return 1
  fi
  for attempt in 1 2; do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/s3doctor-rgw.XXXXXX") || return 1
    export S3DOCTOR_RGW_DIR=$dir # so that a trap calling rgw_stop finds it already
    if [[ -n "${S3DOCTOR_RGW_REGISTRY:-}" ]]; then
      printf '%s\n' "$dir" >>"$S3DOCTOR_RGW_REGISTRY"
    fi
    if _rgw_start_once "$dir"; then
      break
    fi
    _rgw_tail_logs "$dir"
    rgw_stop "$dir"
    if ((attempt == 2)); then
      _rgw_err "Ceph RGW did not start (twice)"
      return 1
    fi
    _rgw_err "Ceph RGW cold start failed; retrying once"
  done
  printf '%s\n' "$((SECONDS - started))" >"$dir/startup-secs"
  : >"$dir/ready"
  rgw_load "$dir"
}

# Export S3DOCTOR_RGW_* for the running cluster in DIR.
rgw_load() {
  local dir=$1 role var
  [[ -e "$dir/ready" ]] || {
    _rgw_err "no running cluster in $dir"
    return 1
  }
  export S3DOCTOR_RGW_DIR=$dir
  export S3DOCTOR_RGW_URL="http://127.0.0.1:$(<"$dir/rgw-port")"
  export S3DOCTOR_RGW_AWSLIKE_URL="http://127.0.0.1:$(<"$dir/rgw2-port")"
  export S3DOCTOR_RGW_ZONEGROUP=default S3DOCTOR_RGW_AWSLIKE_ZONEGROUP
  for role in owner user other tenant; do
    var=${role^^}
    export "S3DOCTOR_RGW_${var}_KEY_ID=$(<"$dir/keys/$role-key-id")"
    export "S3DOCTOR_RGW_${var}_SECRET=$(<"$dir/keys/$role-secret")"
  done
  S3DOCTOR_RGW_STARTUP_SECS=$(<"$dir/startup-secs")
  export S3DOCTOR_RGW_STARTUP_SECS
}

# Stop every cluster listed in the registry FILE (see rgw_start), then remove FILE.
rgw_stop_registered() {
  local file=$1 dir
  [[ -r "$file" ]] || return 0
  while read -r dir; do
    rgw_stop "$dir"
  done <"$file"
  rm -f -- "$file" || true
  return 0
}

# Stop every daemon of the cluster in DIR (default $S3DOCTOR_RGW_DIR) and remove DIR.
# Only processes whose command line names DIR/ceph.conf are signalled. Idempotent; never fails.
rgw_stop() {
  local dir=${1:-${S3DOCTOR_RGW_DIR:-}} pid pids=() i alive
  [[ -n "$dir" && -d "$dir" && ! -L "$dir" && "$dir" == */s3doctor-rgw.* ]] || return 0
  if [[ -r "$dir/pids" ]]; then
    mapfile -t pids <"$dir/pids"
  fi
  # radosgw first, the monitor last (reverse start order).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    if _rgw_ours "$pid" "$dir"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 20; i++)); do
    alive=0
    for pid in "${pids[@]}"; do
      if _rgw_ours "$pid" "$dir"; then alive=1; fi
    done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if _rgw_ours "$pid" "$dir"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  rm -rf -- "$dir" 2>/dev/null || true
  if [[ "$dir" == "${S3DOCTOR_RGW_DIR:-}" ]]; then
    unset S3DOCTOR_RGW_URL S3DOCTOR_RGW_AWSLIKE_URL S3DOCTOR_RGW_DIR S3DOCTOR_RGW_ZONEGROUP \
      S3DOCTOR_RGW_OWNER_KEY_ID S3DOCTOR_RGW_OWNER_SECRET S3DOCTOR_RGW_USER_KEY_ID \
      S3DOCTOR_RGW_USER_SECRET S3DOCTOR_RGW_OTHER_KEY_ID S3DOCTOR_RGW_OTHER_SECRET \
      S3DOCTOR_RGW_TENANT_KEY_ID S3DOCTOR_RGW_TENANT_SECRET
  fi
  return 0
}

_rgw_main() {
  set -euo pipefail
  local q role var
  case "${1:-}" in
    install)
      rgw_install
      ;;
    start)
      rgw_install
      # Interrupted or failed half-way: stop what was started (a started cluster is `ready`).
      trap '[[ -n "${S3DOCTOR_RGW_DIR:-}" && ! -e "$S3DOCTOR_RGW_DIR/ready" ]] && rgw_stop "$S3DOCTOR_RGW_DIR"' EXIT
      trap 'exit 130' INT
      trap 'exit 143' TERM
      rgw_start
      for q in S3DOCTOR_RGW_URL S3DOCTOR_RGW_AWSLIKE_URL S3DOCTOR_RGW_DIR S3DOCTOR_RGW_ZONEGROUP \
        S3DOCTOR_RGW_AWSLIKE_ZONEGROUP S3DOCTOR_RGW_STARTUP_SECS; do
        printf 'export %s=%q\n' "$q" "${!q}"
      done
      for role in owner user other tenant; do
        var=${role^^}
        q=S3DOCTOR_RGW_${var}_KEY_ID
        printf 'export %s=%q\n' "$q" "${!q}"
        # shellcheck disable=SC2016 # the $(cat …) is for the eval, not for us
        printf 'export S3DOCTOR_RGW_%s_SECRET="$(cat %q)"\n' "$var" "$S3DOCTOR_RGW_DIR/keys/$role-secret"
      done
      if [[ -t 1 ]]; then
        _rgw_err "use: eval \"\$(scripts/rgw.sh start)\"; stop with: scripts/rgw.sh stop $S3DOCTOR_RGW_DIR"
      fi
      _rgw_err "Ceph RGW on $S3DOCTOR_RGW_URL and $S3DOCTOR_RGW_AWSLIKE_URL (started in ${S3DOCTOR_RGW_STARTUP_SECS} s)"
      ;;
    stop)
      rgw_stop "${2:-${S3DOCTOR_RGW_DIR:-}}"
      ;;
    *)
      printf 'usage: %s start | stop [DIR] | install\n' "$0" >&2
      return 2
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  _rgw_main "$@"
fi
