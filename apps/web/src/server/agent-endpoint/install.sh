#!/bin/sh
# Installs, upgrades or removes the Fleet agent on this host. The central
# serves this script at /install.sh on its agent port and fills in the three
# values below for each request; the join command in the dashboard (Settings →
# Add host) or `fleet join-token` gives the whole line:
#
#   curl -fsSLk --pinnedpubkey 'sha256//…' https://CENTRAL:3443/install.sh \
#     | sudo sh -s -- --join-token fleet_join_… --server-pin 'sha256//…' [--label k=v]…
#
# Run again: upgrades in place (nothing to do when the agent is the same).
#   … | sudo sh -s -- --uninstall [--remove-containers]
#
# Everything is checked before anything is changed; the agent is downloaded
# to a temp file, held to its sha256, and only then moved into place. Any
# failure says what went wrong and exits non-zero with nothing half-installed.
set -eu

# Filled in by the central that served this script.
SERVER_URL='{{SERVER_URL}}'
SERVED_PIN='{{SERVER_PIN}}'
AGENT_SHA256='{{AGENT_SHA256}}'

BIN=/usr/local/bin/fleet-agent
ENV_DIR=/etc/fleet
ENV_FILE=/etc/fleet/agent.env
STATE_DIR=/var/lib/fleet-agent
UNIT_FILE=/etc/systemd/system/fleet-agent.service
PID_FILE=/run/fleet-agent.pid
LOG_FILE=/var/log/fleet-agent.log
CONNECT_WAIT_SECONDS=30
NL='
'

say() { printf 'fleet-agent install: %s\n' "$*" >&2; }
fail() {
  printf 'fleet-agent install: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<'USAGE'
Usage: sh install.sh --join-token TOKEN --server-pin 'sha256//…' [options]
       sh install.sh --uninstall [--remove-containers]

  --join-token TOKEN     single-use token from the dashboard or `fleet join-token`
  --server-pin PIN       sha256// of the central's public key, from the join command
  --label KEY=VALUE      host label (repeat for more)
  --engine unix:///PATH  the Docker or Podman socket (default: the first that exists of
                         /var/run/docker.sock, /run/docker.sock, /run/podman/podman.sock)
  --name NAME            the host's name in the fleet (default: its hostname)
  --ca-file PEM          a CA to trust, when the central's certificate is signed by a private CA
  --uninstall            stop and remove the agent, its unit, config and state
  --remove-containers    with --uninstall: also remove the containers Fleet created
USAGE
}

# matches REGEX VALUE: VALUE is one line that matches the extended regex.
matches() {
  case $2 in *"$NL"*) return 1 ;; esac
  printf '%s\n' "$2" | grep -Eq "$1"
}

# Temp files of this run, and what to undo when a fresh install fails half way.
TEMP_FILES=''
ROLLBACK=''
on_exit() {
  status=$?
  for file in $TEMP_FILES; do rm -f "$file"; done
  if [ "$status" -ne 0 ] && [ -n "$ROLLBACK" ]; then
    say "undoing this run's changes"
    eval "$ROLLBACK" || true
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# new_temp DIR: sets TEMP to a new temp file in DIR, removed on exit (not in
# a $(…) subshell, which would lose TEMP_FILES).
new_temp() {
  TEMP=$(mktemp "$1/.fleet-agent.XXXXXX") || fail "cannot create a temp file in $1"
  TEMP_FILES="$TEMP_FILES $TEMP"
}

# fetch URL DEST: over TLS only, holding the central to its pin (or the CA).
fetch() {
  if [ -n "$PIN" ]; then
    curl -fsSL --proto '=https' -k --pinnedpubkey "$PIN" -o "$2" "$1"
  elif [ -n "$CA_FILE" ]; then
    curl -fsSL --proto '=https' --cacert "$CA_FILE" -o "$2" "$1"
  else
    curl -fsSL --proto '=https' -o "$2" "$1"
  fi
}

sha256_of() {
  sha256sum "$1" | cut -d ' ' -f 1
}

has_systemd() {
  [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# The pid of the agent started in the background, if it still runs.
running_pid() {
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  matches '^[0-9]+$' "$pid" || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A pid can be reused: it must still be the agent.
  tr '\000' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$BIN" || return 1
  printf '%s\n' "$pid"
}

stop_background_agent() {
  pid=$(running_pid) || return 0
  say "stopping the agent (pid $pid); its containers keep running"
  kill -TERM "$pid" 2>/dev/null || true
  waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 150 ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
}

start_background_agent() {
  : >>"$LOG_FILE"
  chmod 0600 "$LOG_FILE"
  log_offset=$(($(wc -c <"$LOG_FILE") + 1))
  rm -f "$PID_FILE"
  # A clean environment with only the agent's settings; its own session, so
  # it outlives this shell and its terminal. The inner script's $1… are its own.
  # shellcheck disable=SC2016
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    setsid sh -c 'set -a; . "$1"; set +a; echo $$ >"$2"; exec nohup "$3"' \
    fleet-agent "$ENV_FILE" "$PID_FILE" "$BIN" >>"$LOG_FILE" 2>&1 </dev/null &
  waited=0
  while ! [ -s "$PID_FILE" ]; do
    [ "$waited" -lt 50 ] || fail "the agent did not start; see $LOG_FILE"
    sleep 0.1
    waited=$((waited + 1))
  done
  pid=$(cat "$PID_FILE")
  # Until it is connected or gone; a slow link is not a failed install.
  waited=0
  while [ "$waited" -lt $((CONNECT_WAIT_SECONDS * 10)) ]; do
    if tail -c "+$log_offset" "$LOG_FILE" | grep -q '"msg":"connected to the central"'; then
      say "the agent runs in the background (no systemd here): pid $pid, log $LOG_FILE, pid file $PID_FILE"
      say "it does not start again after a reboot by itself: run this install line again then"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -c "+$log_offset" "$LOG_FILE" | tail -n 10 >&2
      fail "the agent exited before it connected to $SERVER_URL (its last lines are above)"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  say "the agent runs (pid $pid) but has not connected to $SERVER_URL within ${CONNECT_WAIT_SECONDS}s; see $LOG_FILE"
}

# In a subshell: a failure here must not run the exit trap again.
restart_after_rollback() {
  if has_systemd; then
    systemctl restart fleet-agent || true
  else
    (
      stop_background_agent
      start_background_agent
    ) || say "the previous agent could not be started again; see $LOG_FILE"
  fi
}

write_unit() {
  cat <<'UNIT'
[Unit]
Description=Fleet agent (runs and supervises this host's containers for the Fleet central)
After=network-online.target docker.service podman.socket
Wants=network-online.target

[Service]
Type=simple
EnvironmentFile=/etc/fleet/agent.env
Environment=FLEET_STATE_DIR=/var/lib/fleet-agent
ExecStart=/usr/local/bin/fleet-agent
Restart=always
RestartSec=2
RestartPreventExitStatus=2
KillMode=process
KillSignal=SIGTERM
TimeoutStopSec=15
StateDirectory=fleet-agent
StateDirectoryMode=0700
User=root
NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
UNIT
}

# The engine's socket path: --engine, else the usual places.
find_engine() {
  if [ -n "$ENGINE" ]; then
    path=${ENGINE#unix://}
    [ -S "$path" ] || fail "--engine $ENGINE: no socket at $path"
    printf '%s\n' "$path"
    return 0
  fi
  for path in /var/run/docker.sock /run/docker.sock /run/podman/podman.sock; do
    if [ -S "$path" ]; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  fail "no Docker or Podman socket found (looked for /var/run/docker.sock, /run/docker.sock, /run/podman/podman.sock). Install and start one: Docker (Debian/Ubuntu: apt-get install docker.io; systemctl enable --now docker) or Podman (apt-get install podman; systemctl enable --now podman.socket). Or name its socket with --engine unix:///path/to.sock"
}

engine_answers() {
  [ "$(curl -fsS --max-time 5 --unix-socket "$1" http://localhost/_ping 2>/dev/null)" = OK ]
}

# Removes the containers the agent created (labelled fleet.managed=true) through the engine's API.
remove_fleet_containers() {
  socket=$1
  # {"label":["fleet.managed=true"]}, URL-encoded.
  filter='%7B%22label%22%3A%5B%22fleet.managed%3Dtrue%22%5D%7D'
  list=$(curl -fsS --max-time 30 --unix-socket "$socket" "http://localhost/containers/json?all=1&filters=$filter") ||
    fail "cannot list containers through $socket; the agent is removed but its containers are not"
  ids=$(printf '%s\n' "$list" | grep -oE '"Id" *: *"[0-9a-f]{64}"' | grep -oE '[0-9a-f]{64}' || true)
  count=0
  for id in $ids; do
    curl -fsS --max-time 60 --unix-socket "$socket" -X DELETE "http://localhost/containers/$id?force=1" >/dev/null ||
      fail "removing container $id through $socket failed"
    count=$((count + 1))
  done
  say "removed $count container(s) labelled fleet.managed=true"
}

uninstall() {
  [ "$(id -u)" = 0 ] || fail "run as root: … | sudo sh -s -- --uninstall"
  engine_socket=''
  if [ -f "$ENV_FILE" ]; then
    engine_socket=$(sed -n 's|^FLEET_ENGINE=unix://||p' "$ENV_FILE" | head -n 1)
  fi
  if has_systemd && [ -f "$UNIT_FILE" ]; then
    say "stopping and disabling the fleet-agent unit; its containers keep running"
    systemctl disable --now fleet-agent >/dev/null 2>&1 || true
  fi
  stop_background_agent
  if [ "$REMOVE_CONTAINERS" = 1 ]; then
    [ -n "$engine_socket" ] || engine_socket=$(find_engine)
    engine_answers "$engine_socket" || fail "the engine at $engine_socket does not answer; start it and run --uninstall --remove-containers again"
    remove_fleet_containers "$engine_socket"
  fi
  if [ -f "$UNIT_FILE" ]; then
    rm -f "$UNIT_FILE"
    if has_systemd; then systemctl daemon-reload || true; fi
  fi
  rm -f "$BIN" "$ENV_FILE" "$PID_FILE" "$LOG_FILE"
  rmdir "$ENV_DIR" 2>/dev/null || true
  rm -rf "$STATE_DIR"
  say "removed $BIN, $ENV_FILE, $STATE_DIR and the agent's unit, pid and log files"
  if [ "$REMOVE_CONTAINERS" != 1 ]; then
    say "containers Fleet started here keep running; remove them with --uninstall --remove-containers, or by hand (label fleet.managed=true)"
  fi
  say "remove the host from the fleet in the dashboard (Hosts) or with the API (host.remove)"
}

install() {
  # Everything is checked before anything changes.
  [ "$(uname -s)" = Linux ] || fail "the Fleet agent runs on Linux only; this is $(uname -s)"
  case $(uname -m) in
    x86_64 | amd64) ;;
    *) fail "this central ships the agent for x86_64 (linux-x64) only; this host is $(uname -m)" ;;
  esac
  [ "$(id -u)" = 0 ] || fail "run as root (… | sudo sh -s -- …): the agent needs the engine's socket, cgroup files and /dev/kmsg"
  for tool in curl sha256sum mktemp; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing: install it (Debian/Ubuntu: apt-get install curl coreutils)"
  done
  awk '$3 == "cgroup" || $3 == "cgroup2" { found = 1 } END { exit !found }' /proc/mounts ||
    fail "no cgroup filesystem is mounted: the agent reads container limits and usage from /sys/fs/cgroup. Boot with systemd (it mounts them) or mount one: mount -t cgroup2 none /sys/fs/cgroup"

  [ -n "$JOIN_TOKEN" ] || fail "--join-token is required (copy the whole line from Settings → Add host, or run fleet join-token)"
  matches '^[A-Za-z0-9_-]{1,512}$' "$JOIN_TOKEN" || fail "--join-token: not a Fleet join token"
  if [ -n "$SERVED_PIN" ]; then
    [ -n "$PIN" ] || fail "--server-pin is required: this central's certificate is self-signed, and the pin is how this host knows it (copy the whole join command)"
    [ "$PIN" = "$SERVED_PIN" ] || fail "--server-pin $PIN is not the key of the central that served this script ($SERVED_PIN): use the join command of the central you mean"
  fi
  if [ -n "$PIN" ]; then
    matches '^sha256//[A-Za-z0-9+/]{43}=$' "$PIN" || fail "--server-pin: expected sha256// and a base64 SHA-256, as the join command shows"
  fi
  for label in $(printf '%s' "$LABELS" | tr ',' ' '); do
    matches '^[A-Za-z0-9][A-Za-z0-9._/-]*=[A-Za-z0-9._-]*$' "$label" || fail "--label $label: expected key=value (letters, digits, '.', '_', '-', '/' in the key)"
  done
  if [ -n "$NAME" ]; then
    matches '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' "$NAME" || fail "--name $NAME: letters, digits, '_', '.' or '-'"
  fi
  if [ -n "$CA_FILE" ]; then
    matches '^/[A-Za-z0-9._/-]+$' "$CA_FILE" || fail "--ca-file: give an absolute path of letters, digits, '.', '_', '-' and '/'"
    [ -r "$CA_FILE" ] || fail "--ca-file $CA_FILE: cannot read it"
  fi
  if [ -n "$ENGINE" ]; then
    matches '^(unix://)?/[A-Za-z0-9._/-]+$' "$ENGINE" || fail "--engine: expected unix:///path/to.sock"
  fi
  engine_socket=$(find_engine)
  engine_answers "$engine_socket" ||
    fail "$engine_socket exists but the engine does not answer on it: start it (systemctl start docker, or systemctl start podman.socket) and run this again"
  say "engine: $engine_socket"

  # Download and verify before touching anything.
  mkdir -p "$(dirname "$BIN")"
  new_temp "$(dirname "$BIN")"
  new_bin=$TEMP
  say "downloading the agent from $SERVER_URL"
  fetch "$SERVER_URL/download/fleet-agent-linux-x64" "$new_bin" ||
    fail "downloading $SERVER_URL/download/fleet-agent-linux-x64 failed (curl's reason is above); nothing was changed"
  got=$(sha256_of "$new_bin")
  [ "$got" = "$AGENT_SHA256" ] ||
    fail "the downloaded agent's sha256 is $got, but the central announced $AGENT_SHA256: refusing it (damaged or tampered with); nothing was changed"
  chmod 0755 "$new_bin"

  mkdir -p "$ENV_DIR"
  new_temp "$ENV_DIR"
  new_env=$TEMP
  {
    echo "# Written by the Fleet install script; read by fleet-agent (see fleet-agent --help)."
    echo "FLEET_SERVER=$SERVER_URL"
    echo "FLEET_JOIN_TOKEN=$JOIN_TOKEN"
    [ -z "$PIN" ] || echo "FLEET_SERVER_PIN=$PIN"
    [ -z "$LABELS" ] || echo "FLEET_LABELS=$LABELS"
    [ -z "$NAME" ] || echo "FLEET_NAME=$NAME"
    [ -z "$CA_FILE" ] || echo "FLEET_CA_FILE=$CA_FILE"
    echo "FLEET_ENGINE=unix://$engine_socket"
    echo "FLEET_STATE_DIR=$STATE_DIR"
  } >"$new_env"
  chmod 0600 "$new_env"

  fresh=1
  [ ! -e "$BIN" ] || fresh=0
  bin_changed=1
  if [ -f "$BIN" ] && [ "$(sha256_of "$BIN")" = "$AGENT_SHA256" ]; then bin_changed=0; fi
  env_changed=1
  if [ -f "$ENV_FILE" ] && cmp -s "$new_env" "$ENV_FILE"; then env_changed=0; fi

  # From here on, a failure undoes what this run put in place.
  if [ "$fresh" = 1 ]; then
    ROLLBACK="stop_background_agent; rm -f '$BIN' '$UNIT_FILE' '$PID_FILE' '$LOG_FILE'; rm -rf '$STATE_DIR';"
    [ -e "$ENV_FILE" ] || ROLLBACK="$ROLLBACK rm -f '$ENV_FILE'; rmdir '$ENV_DIR' 2>/dev/null;"
  else
    # An upgrade that fails puts the previous agent and settings back and starts it again.
    [ "$bin_changed" = 0 ] || cp -p "$BIN" "$BIN.previous"
    [ "$env_changed" = 0 ] || [ ! -f "$ENV_FILE" ] || cp -p "$ENV_FILE" "$ENV_FILE.previous"
    ROLLBACK="[ ! -f '$BIN.previous' ] || mv -f '$BIN.previous' '$BIN'; [ ! -f '$ENV_FILE.previous' ] || mv -f '$ENV_FILE.previous' '$ENV_FILE'; restart_after_rollback;"
  fi
  mkdir -p "$STATE_DIR"
  chmod 0700 "$STATE_DIR"
  if [ "$bin_changed" = 1 ]; then
    mv -f "$new_bin" "$BIN"
    say "installed $BIN (sha256 $AGENT_SHA256)"
  else
    say "$BIN is already this version (sha256 $AGENT_SHA256)"
  fi
  if [ "$env_changed" = 1 ]; then
    mv -f "$new_env" "$ENV_FILE"
    say "wrote $ENV_FILE (mode 0600)"
  fi

  if has_systemd; then
    new_temp "$(dirname "$UNIT_FILE")"
    new_unit=$TEMP
    write_unit >"$new_unit"
    unit_changed=1
    if [ -f "$UNIT_FILE" ] && cmp -s "$new_unit" "$UNIT_FILE"; then unit_changed=0; fi
    if [ "$unit_changed" = 1 ]; then
      chmod 0644 "$new_unit"
      mv -f "$new_unit" "$UNIT_FILE"
      systemctl daemon-reload || fail "systemctl daemon-reload failed"
    fi
    systemctl enable fleet-agent >/dev/null 2>&1 || fail "systemctl enable fleet-agent failed"
    if [ "$bin_changed" = 0 ] && [ "$env_changed" = 0 ] && [ "$unit_changed" = 0 ] && systemctl is-active --quiet fleet-agent; then
      say "fleet-agent is up to date and running; nothing to do"
    else
      systemctl restart fleet-agent || fail "systemctl restart fleet-agent failed: see journalctl -u fleet-agent"
      sleep 2
      systemctl is-active --quiet fleet-agent || fail "fleet-agent did not stay up: see journalctl -u fleet-agent"
      say "fleet-agent runs under systemd (journalctl -u fleet-agent -f to follow it)"
    fi
  else
    if [ "$bin_changed" = 0 ] && [ "$env_changed" = 0 ] && running_pid >/dev/null; then
      say "fleet-agent is up to date and running (pid $(running_pid)); nothing to do"
    else
      stop_background_agent
      start_background_agent
    fi
  fi
  ROLLBACK=''
  rm -f "$BIN.previous" "$ENV_FILE.previous"
  say "done: this host is joining the fleet at $SERVER_URL"
}

JOIN_TOKEN=''
PIN=''
LABELS=''
ENGINE=''
NAME=''
CA_FILE=''
ACTION=install
REMOVE_CONTAINERS=0

# need_value FLAG COUNT: the flag has its value.
need_value() {
  [ "$2" -ge 2 ] || fail "$1 needs a value"
}

main() {
  while [ $# -gt 0 ]; do
    case $1 in
      --join-token) need_value "$1" $#; JOIN_TOKEN=$2; shift 2 ;;
      --join-token=*) JOIN_TOKEN=${1#*=}; shift ;;
      --server-pin) need_value "$1" $#; PIN=$2; shift 2 ;;
      --server-pin=*) PIN=${1#*=}; shift ;;
      --label) need_value "$1" $#; LABELS="${LABELS:+$LABELS,}$2"; shift 2 ;;
      --label=*) LABELS="${LABELS:+$LABELS,}${1#*=}"; shift ;;
      --engine) need_value "$1" $#; ENGINE=$2; shift 2 ;;
      --engine=*) ENGINE=${1#*=}; shift ;;
      --name) need_value "$1" $#; NAME=$2; shift 2 ;;
      --name=*) NAME=${1#*=}; shift ;;
      --ca-file) need_value "$1" $#; CA_FILE=$2; shift 2 ;;
      --ca-file=*) CA_FILE=${1#*=}; shift ;;
      --uninstall) ACTION=uninstall; shift ;;
      --remove-containers) REMOVE_CONTAINERS=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; fail "unknown option: $1" ;;
    esac
  done
  if [ "$REMOVE_CONTAINERS" = 1 ] && [ "$ACTION" != uninstall ]; then
    fail "--remove-containers goes with --uninstall"
  fi
  "$ACTION"
}

# Called last, so a download cut short runs nothing.
main "$@"
