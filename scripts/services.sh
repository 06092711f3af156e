#!/usr/bin/env bash
# Strata's real services for tests, benchmarks and CI, on one Debian 12 machine, as root.
#
#   bash scripts/services.sh start    install what is missing, start what is down (idempotent)
#   bash scripts/services.sh status   print each service's state; exit 1 if any is down
#   bash scripts/services.sh stop     stop only the processes this script started
#
# Services (loopback only; no bridge network, no iptables):
#   docker    dockerd on the default socket /var/run/docker.sock (docker CLI and dockerode need
#             no configuration), networks: none/host only.
#   registry  Debian's Distribution v2 registry on http://127.0.0.1:5000 (scripts/services/registry.yml),
#             deletion enabled, no auth.
#   redis     redis-server on 127.0.0.1:6379, protected mode, no persistence.
#   busybox:local  base image made from Debian's busybox-static (no registry needed).
#   go        Debian's Go toolchain and sprig in /usr/share/gocode (used by the gotemplate tests).
#
# State dir: $STRATA_STATE_DIR, default /var/lib/strata-services. It holds, per service, the data,
# the log, the pid files and (docker) the storage-driver choice:
#   docker/{data,exec,dockerd.log,dockerd.pid,supervisor.pid,storage-driver,daemon.json}
#   registry/{data,registry.log,registry.pid,supervisor.pid}
#   redis/{redis.log,redis.pid,supervisor.pid}
# Knobs: STRATA_DOCKER_STORAGE_DRIVER (force a driver; default: overlay2 when an overlay mount works
# on the state dir's file system, else vfs), STRATA_SERVICES_WAIT (seconds to wait for a service
# to answer, default 60).
#
# Orphans: PID 1 on the firecracker VMs does not reap. Every daemon therefore runs under
# `tini -s` (a subreaper that reaps the daemon's orphans, e.g. containerd shims), started with
# setsid so it outlives the calling shell. A process that does end up a zombie counts as dead here
# (/proc/PID/stat state Z), and before dockerd starts, a stale containerd left by a killed dockerd
# is ended and its pid/socket files removed: dockerd would otherwise take the zombie's pid for a
# live containerd and hang. A process is "ours" only if its pid file says so AND its command line or
# working directory is inside the state dir, so `stop` never ends anything else.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STATE_DIR=${STRATA_STATE_DIR:-/var/lib/strata-services}
WAIT_SECS=${STRATA_SERVICES_WAIT:-60}

DOCKER_SOCK=/var/run/docker.sock
DOCKER_DIR=$STATE_DIR/docker
DOCKER_EXEC=$DOCKER_DIR/exec
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR=$STATE_DIR/registry
REGISTRY_CONFIG=$SCRIPT_DIR/services/registry.yml
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_DIR=$STATE_DIR/redis
BASE_IMAGE=busybox:local
SPRIG_GLOB=/usr/share/gocode/src/github.com/Masterminds/sprig

PACKAGES=(docker.io docker-registry busybox-static redis-server redis-tools golang-go
  golang-github-masterminds-sprig-dev tini curl iproute2 util-linux)

log() { printf 'services: %s\n' "$*"; }
warn() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

# Prints the tail of a log to stderr (used on every failure).
show_log() {
  if [[ -s $1 ]]; then
    printf -- '--- last 40 lines of %s ---\n' "$1" >&2
    tail -n 40 -- "$1" >&2
    printf -- '--- end of %s ---\n' "$1" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# Processes

# True when PID exists and is neither a zombie nor dead (kill -0 is true for zombies).
pid_alive() {
  local pid=$1 stat state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${stat##*) }
  state=${state%% *}
  [[ $state != Z && $state != X ]]
}

# True when PID is alive and belongs to this state dir (command line or cwd inside it), so a
# recycled pid of a foreign process is never taken for ours.
pid_ours() {
  local pid=$1 cmd cwd
  pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmd == *"$STATE_DIR/"* ]] && return 0
  cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$STATE_DIR" || $cwd == "$STATE_DIR/"* ]]
}

# Prints the pid recorded in FILE when that process is alive and ours; fails otherwise.
pid_from() {
  local file=$1 pid
  [[ -f $file ]] || return 1
  pid=$(head -c 32 -- "$file" | tr -dc '0-9')
  [[ -n $pid ]] && pid_ours "$pid" && printf '%s\n' "$pid"
}

# Prints the pids of PARENT's live children.
children_of() {
  local parent=$1 f stat rest ppid pid
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    rest=${stat##*) }
    read -r _state ppid _ <<<"$rest"
    [[ $ppid == "$parent" ]] && { pid=${f#/proc/}; printf '%s\n' "${pid%/stat}"; }
  done
  return 0
}

# Sends TERM, waits up to SECS, then KILL. Only ever called with pids that passed pid_ours.
end_pid() {
  local pid=$1 secs=${2:-20} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "pid $pid did not stop within ${secs}s; sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  warn "pid $pid is still alive after KILL"
  return 1
}

# Starts "$@" in DIR, detached (new session) under `tini -s`, output appended to LOG, and writes
# the supervisor's pid to DIR/supervisor.pid. fd 9 (the script's lock) is closed for the child.
launch() {
  local dir=$1 logfile=$2
  shift 2
  mkdir -p -- "$dir"
  # A stale file from a killed supervisor would pass for the new one's.
  rm -f -- "$dir/supervisor.pid"
  printf '\n=== %s started by scripts/services.sh ===\n' "$(date -u +%FT%TZ)" >>"$logfile"
  (
    cd -- "$dir"
    # shellcheck disable=SC2016 # $$ and $0 belong to the inner shell.
    exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$dir/supervisor.pid" \
      tini -s -- "$@" </dev/null >>"$logfile" 2>&1 9>&-
  ) &
  # The supervisor writes its own pid; wait for it so later steps can rely on the file.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $dir/supervisor.pid ]] && return 0
    sleep 0.05
  done
  die "could not launch $1 (no supervisor pid); see $logfile"
}

# Polls CHECK (a function name) every 0.2 s for up to WAIT_SECS; fails early when the supervisor
# recorded in SUPFILE has died.
wait_for() {
  local what=$1 check=$2 supfile=$3 logfile=$4 i
  for ((i = 0; i < WAIT_SECS * 5; i++)); do
    "$check" && return 0
    if ! pid_from "$supfile" >/dev/null; then
      "$check" && return 0
      warn "$what exited during start-up"
      show_log "$logfile"
      die "$what did not start; full log: $logfile"
    fi
    sleep 0.2
  done
  show_log "$logfile"
  die "$what did not answer within ${WAIT_SECS}s; full log: $logfile"
}

# ---------------------------------------------------------------------------------------------
# Packages

missing_packages() {
  local line
  # One dpkg-query for all: keeps the no-op path fast.
  declare -A ok=()
  while read -r line; do
    [[ $line == *' install ok installed' ]] && ok[${line%% *}]=1
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
  local p
  for p in "${PACKAGES[@]}"; do
    [[ -n ${ok[$p]:-} ]] || printf '%s\n' "$p"
  done
}

POLICY_RC_D=/usr/sbin/policy-rc.d
remove_policy_rc_d() { rm -f -- "$POLICY_RC_D"; }

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || die "must run as root to install: ${missing[*]}"
  log "installing ${missing[*]} (apt-get; log: $STATE_DIR/apt.log)"
  local apt=(apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  # Package scripts must not start Debian's own docker/registry/redis services (they would take
  # the ports with Debian's default config). When no policy-rc.d exists, one that denies every
  # start is put in place for the install and removed afterwards.
  if [[ ! -e $POLICY_RC_D ]]; then
    printf '#!/bin/sh\n# Temporary, from strata scripts/services.sh: no service starts during its apt-get.\nexit 101\n' \
      >"$POLICY_RC_D"
    chmod 0755 "$POLICY_RC_D"
    trap remove_policy_rc_d EXIT
  fi
  local try
  for try in 1 2 3; do
    if DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >>"$STATE_DIR/apt.log" 2>&1; then break; fi
    ((try == 3)) && { show_log "$STATE_DIR/apt.log"; die "apt-get update failed"; }
    sleep 5
  done
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
    >>"$STATE_DIR/apt.log" 2>&1; then
    show_log "$STATE_DIR/apt.log"
    die "apt-get install failed"
  fi
  if trap -p EXIT | grep -q remove_policy_rc_d; then
    remove_policy_rc_d
    trap - EXIT
  fi
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
}

# ---------------------------------------------------------------------------------------------
# Docker

docker_ping() { curl -fsS --max-time 1 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1; }

# Prints e.g. "dockerd 20.10.24, API 1.41".
docker_version() {
  local json v api
  json=$(curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://docker/version 2>/dev/null) || return 0
  v=$(grep -o '"Version":"[^"]*"' <<<"$json" | head -n 1 | cut -d'"' -f4)
  api=$(grep -o '"ApiVersion":"[^"]*"' <<<"$json" | head -n 1 | cut -d'"' -f4)
  printf 'dockerd %s, API %s\n' "$v" "$api"
}

# Chooses the storage driver once and remembers it (switching drivers would hide existing images).
choose_storage_driver() {
  local file=$DOCKER_DIR/storage-driver
  if [[ -n ${STRATA_DOCKER_STORAGE_DRIVER:-} ]]; then
    printf '%s\n' "$STRATA_DOCKER_STORAGE_DRIVER"
    return
  fi
  if [[ -s $file ]]; then
    cat -- "$file"
    return
  fi
  local probe driver=vfs
  probe=$(mktemp -d "$DOCKER_DIR/overlay-probe.XXXXXX")
  mkdir -p "$probe"/{lower,upper,work,merged}
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" \
    "$probe/merged" 2>/dev/null; then
    umount "$probe/merged"
    driver=overlay2
  fi
  rm -rf -- "$probe"
  printf '%s\n' "$driver" >"$file"
  printf '%s\n' "$driver"
}

# Ends what a killed dockerd may have left: a live containerd (ours) and its shims, and the pid
# and socket files of a dead or zombie containerd, which dockerd would otherwise trust.
cleanup_docker_leftovers() {
  local cdir=$DOCKER_EXEC/containerd pid
  if pid=$(pid_from "$cdir/containerd.pid"); then
    log "docker: ending containerd $pid left by an earlier dockerd"
    end_pid "$pid" 10 || true
  fi
  # Shims address our containerd socket by its path, which lies in the state dir.
  local f cmd
  for f in /proc/[0-9]*/cmdline; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
    if [[ $cmd == *containerd-shim*"$cdir/containerd.sock"* ]]; then
      pid=${f#/proc/}
      pid=${pid%/cmdline}
      pid_alive "$pid" && { log "docker: ending stale shim $pid"; end_pid "$pid" 5 || true; }
    fi
  done
  rm -f -- "$cdir/containerd.pid" "$cdir/containerd.sock" "$cdir/containerd.sock.ttrpc" \
    "$cdir/containerd-debug.sock"
  pid_from "$DOCKER_DIR/dockerd.pid" >/dev/null || rm -f -- "$DOCKER_DIR/dockerd.pid"
}

DOCKER_STARTED=
start_docker() {
  local pid
  if docker_ping; then
    if pid=$(pid_from "$DOCKER_DIR/dockerd.pid"); then
      log "docker: running (pid $pid)"
    else
      log "docker: $DOCKER_SOCK answers (not started by this script; using it)"
    fi
    return 0
  fi
  if pid=$(pid_from "$DOCKER_DIR/dockerd.pid") || pid=$(pid_from "$DOCKER_DIR/supervisor.pid"); then
    # Ours but not answering yet (still starting, or hung): give it the usual wait.
    log "docker: dockerd ($pid) is up but not answering yet; waiting"
    local alive=$DOCKER_DIR/supervisor.pid
    pid_from "$alive" >/dev/null || alive=$DOCKER_DIR/dockerd.pid
    wait_for docker docker_ping "$alive" "$DOCKER_DIR/dockerd.log"
    return 0
  fi
  mkdir -p -- "$DOCKER_DIR/data" "$DOCKER_EXEC"
  cleanup_docker_leftovers
  local driver
  driver=$(choose_storage_driver)
  # An own (empty) config file, so a daemon.json left in /etc/docker cannot change the setup.
  [[ -f $DOCKER_DIR/daemon.json ]] || printf '{}\n' >"$DOCKER_DIR/daemon.json"
  local args=(dockerd
    --host "unix://$DOCKER_SOCK"
    --data-root "$DOCKER_DIR/data"
    --exec-root "$DOCKER_EXEC"
    --pidfile "$DOCKER_DIR/dockerd.pid"
    --config-file "$DOCKER_DIR/daemon.json"
    --storage-driver "$driver"
    --bridge=none --iptables=false --ip-masq=false)
  # --ip6tables exists from Docker 20.10 on; older daemons reject unknown flags.
  if dockerd --help 2>/dev/null | grep -q -- '--ip6tables'; then args+=(--ip6tables=false); fi
  log "docker: starting dockerd (storage driver $driver; log $DOCKER_DIR/dockerd.log)"
  launch "$DOCKER_DIR" "$DOCKER_DIR/dockerd.log" "${args[@]}"
  wait_for docker docker_ping "$DOCKER_DIR/supervisor.pid" "$DOCKER_DIR/dockerd.log"
  DOCKER_STARTED=1
  log "docker: ready ($(docker_version), socket $DOCKER_SOCK)"
}

stop_docker() {
  local pid sup
  sup=$(pid_from "$DOCKER_DIR/supervisor.pid") || sup=
  if pid=$(pid_from "$DOCKER_DIR/dockerd.pid"); then
    log "docker: stopping dockerd $pid"
    # dockerd stops its containers and its containerd on TERM; that can take a while.
    end_pid "$pid" 30 || true
  fi
  if [[ -n $sup ]]; then end_pid "$sup" 5 || true; fi
  cleanup_docker_leftovers
  rm -f -- "$DOCKER_DIR/supervisor.pid"
  if docker_ping; then
    log "docker: $DOCKER_SOCK still answers (a dockerd not started by this script)"
  else
    log "docker: stopped"
  fi
}

# ---------------------------------------------------------------------------------------------
# Base image

base_image_present() {
  curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" "http://docker/images/$BASE_IMAGE/json" >/dev/null 2>&1
}

# busybox:local: a root file system made of Debian's static busybox with every applet linked.
build_base_image() {
  local busybox=/bin/busybox root
  [[ -x $busybox ]] || die "$busybox missing (package busybox-static)"
  root=$(mktemp -d "${TMPDIR:-/tmp}/strata-busybox.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home,proc,sys,dev,run,var/tmp}
  install -m 0755 "$busybox" "$root/bin/busybox"
  local applet n=0
  # --list-full prints each applet with its usual directory (bin/ls, usr/bin/env, sbin/ip, ...).
  while read -r applet; do
    [[ -n $applet && $applet != bin/busybox ]] || continue
    [[ -e $root/$applet || -L $root/$applet ]] && continue
    mkdir -p -- "$root/$(dirname -- "$applet")"
    ln -s /bin/busybox "$root/$applet"
    n=$((n + 1))
  done < <("$busybox" --list-full)
  [[ -L $root/bin/sh ]] || ln -s /bin/busybox "$root/bin/sh"
  install -d -m 1777 "$root/tmp"
  chmod 1777 "$root/var/tmp"
  chmod 0700 "$root/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n' >"$root/etc/group"
  # Fixed owners and times: the same busybox gives the same layer on every machine.
  if ! tar -C "$root" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -c . |
    docker import --change 'CMD ["/bin/sh"]' - "$BASE_IMAGE" >/dev/null; then
    rm -rf -- "$root"
    show_log "$DOCKER_DIR/dockerd.log"
    die "docker import of $BASE_IMAGE failed; see $DOCKER_DIR/dockerd.log"
  fi
  rm -rf -- "$root"
  log "image: built $BASE_IMAGE ($n applets linked)"
}

verify_base_image() {
  local out
  if ! out=$(docker run --rm --network none "$BASE_IMAGE" sh -c 'true && cp /etc/passwd /tmp/x && ls /tmp/x' 2>&1); then
    printf '%s\n' "$out" >&2
    show_log "$DOCKER_DIR/dockerd.log"
    die "a container from $BASE_IMAGE does not run; see $DOCKER_DIR/dockerd.log"
  fi
  [[ $out == /tmp/x ]] || die "unexpected output from the $BASE_IMAGE check: $out"
}

ensure_base_image() {
  if base_image_present; then
    log "image: $BASE_IMAGE present"
    # Check that containers really run whenever this invocation started the engine.
    if [[ -n $DOCKER_STARTED ]]; then verify_base_image && log "image: container run checked"; fi
    return 0
  fi
  build_base_image
  verify_base_image
  log "image: container run checked"
}

# ---------------------------------------------------------------------------------------------
# Registry

registry_ping() { curl -fsS --max-time 1 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null; }

port_in_use() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

start_registry() {
  local pid
  if registry_ping; then
    if pid=$(pid_from "$REGISTRY_DIR/registry.pid") || pid=$(pid_from "$REGISTRY_DIR/supervisor.pid"); then
      log "registry: running (http://$REGISTRY_ADDR, pid $pid)"
    else
      log "registry: http://$REGISTRY_ADDR answers (not started by this script; using it)"
    fi
    return 0
  fi
  if ! pid_from "$REGISTRY_DIR/supervisor.pid" >/dev/null; then
    if pid=$(pid_from "$REGISTRY_DIR/registry.pid"); then
      # Ours, not answering, and its supervisor is gone: start afresh.
      end_pid "$pid" 10 || true
    fi
    port_in_use 5000 && die "port 5000 is taken by a process that is not a registry: $(ss -Hltnp 'sport = :5000')"
    [[ -f $REGISTRY_CONFIG ]] || die "missing $REGISTRY_CONFIG"
    mkdir -p -- "$REGISTRY_DIR/data"
    log "registry: starting on $REGISTRY_ADDR (config $REGISTRY_CONFIG; log $REGISTRY_DIR/registry.log)"
    # The data directory is the only setting that depends on the state dir; the env override
    # also puts the state dir on the supervisor's command line (see pid_ours).
    launch "$REGISTRY_DIR" "$REGISTRY_DIR/registry.log" \
      env "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$REGISTRY_DIR/data" \
      /usr/bin/docker-registry serve "$REGISTRY_CONFIG"
  fi
  wait_for registry registry_ping "$REGISTRY_DIR/supervisor.pid" "$REGISTRY_DIR/registry.log"
  local sup
  if sup=$(pid_from "$REGISTRY_DIR/supervisor.pid"); then
    children_of "$sup" | head -n 1 >"$REGISTRY_DIR/registry.pid"
  fi
  log "registry: ready (http://$REGISTRY_ADDR)"
}

stop_registry() {
  local pid sup
  sup=$(pid_from "$REGISTRY_DIR/supervisor.pid") || sup=
  # The registry runs in the state dir (cwd), so pid_ours holds for it too.
  if pid=$(pid_from "$REGISTRY_DIR/registry.pid"); then
    log "registry: stopping $pid"
    end_pid "$pid" 10 || true
  fi
  if [[ -n $sup ]]; then end_pid "$sup" 10 || true; fi
  rm -f -- "$REGISTRY_DIR/supervisor.pid" "$REGISTRY_DIR/registry.pid"
  if registry_ping; then log "registry: http://$REGISTRY_ADDR still answers (not started by this script)"; else log "registry: stopped"; fi
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_ping() { [[ $(timeout 2 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

start_redis() {
  local pid
  if redis_ping; then
    if pid=$(pid_from "$REDIS_DIR/redis.pid"); then
      log "redis: running (redis://$REDIS_HOST:$REDIS_PORT, pid $pid)"
    else
      log "redis: redis://$REDIS_HOST:$REDIS_PORT answers (not started by this script; using it)"
    fi
    return 0
  fi
  if ! pid_from "$REDIS_DIR/supervisor.pid" >/dev/null; then
    if pid=$(pid_from "$REDIS_DIR/redis.pid"); then
      # Ours, not answering, and its supervisor is gone: start afresh.
      end_pid "$pid" 10 || true
    fi
    port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is taken by a process that does not answer PING: $(ss -Hltnp "sport = :$REDIS_PORT")"
    mkdir -p -- "$REDIS_DIR"
    rm -f -- "$REDIS_DIR/redis.pid"
    log "redis: starting on $REDIS_HOST:$REDIS_PORT (log $REDIS_DIR/redis.log)"
    # Not --daemonize: it stays the child of its tini supervisor, which reaps it.
    launch "$REDIS_DIR" "$REDIS_DIR/redis.log" \
      redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --protected-mode yes \
      --save '' --appendonly no --daemonize no --dir "$REDIS_DIR" \
      --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  fi
  wait_for redis redis_ping "$REDIS_DIR/supervisor.pid" "$REDIS_DIR/redis.log"
  log "redis: ready (redis://$REDIS_HOST:$REDIS_PORT)"
}

stop_redis() {
  local pid sup
  sup=$(pid_from "$REDIS_DIR/supervisor.pid") || sup=
  if pid=$(pid_from "$REDIS_DIR/redis.pid"); then
    log "redis: stopping $pid"
    end_pid "$pid" 10 || true
  fi
  if [[ -n $sup ]]; then end_pid "$sup" 10 || true; fi
  rm -f -- "$REDIS_DIR/supervisor.pid" "$REDIS_DIR/redis.pid"
  if redis_ping; then log "redis: $REDIS_HOST:$REDIS_PORT still answers (not started by this script)"; else log "redis: stopped"; fi
}

# ---------------------------------------------------------------------------------------------
# Go

go_state() {
  local v
  v=$(go version 2>/dev/null) || { echo "go: missing (package golang-go)"; return 1; }
  compgen -G "$SPRIG_GLOB*" >/dev/null || { echo "go: ${v#go version } but sprig missing (package golang-github-masterminds-sprig-dev)"; return 1; }
  echo "go: ${v#go version }, sprig in $(compgen -G "$SPRIG_GLOB*" | head -n 1)"
}

# ---------------------------------------------------------------------------------------------

lock() {
  mkdir -p -- "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  flock -w 900 9 || die "another services.sh holds $STATE_DIR/.lock"
}

cmd_start() {
  [[ $(id -u) == 0 ]] || die "must run as root (dockerd, mounts, apt-get)"
  lock
  install_packages
  start_docker
  ensure_base_image
  start_registry
  start_redis
  local g
  g=$(go_state) || die "$g"
  log "$g"
  log "all services up; tests need no environment (docker: $DOCKER_SOCK, registry: $REGISTRY_ADDR, redis: redis://$REDIS_HOST:$REDIS_PORT)"
}

cmd_status() {
  local down=0 pid
  if docker_ping; then
    pid=$(pid_from "$DOCKER_DIR/dockerd.pid") && pid="pid $pid" || pid="not started by this script"
    echo "docker: up ($(docker_version); $pid; storage $(cat "$DOCKER_DIR/storage-driver" 2>/dev/null || echo '?'); $DOCKER_SOCK)"
    if base_image_present; then echo "image: $BASE_IMAGE present"; else echo "image: $BASE_IMAGE MISSING"; down=1; fi
  else
    echo "docker: DOWN ($DOCKER_SOCK does not answer; log $DOCKER_DIR/dockerd.log)"
    echo "image: unknown (docker down)"
    down=1
  fi
  if registry_ping; then
    pid=$(pid_from "$REGISTRY_DIR/registry.pid") && pid="pid $pid" || pid="not started by this script"
    echo "registry: up (http://$REGISTRY_ADDR; $pid)"
  else
    echo "registry: DOWN (http://$REGISTRY_ADDR; log $REGISTRY_DIR/registry.log)"
    down=1
  fi
  if redis_ping; then
    pid=$(pid_from "$REDIS_DIR/redis.pid") && pid="pid $pid" || pid="not started by this script"
    echo "redis: up (redis://$REDIS_HOST:$REDIS_PORT; $pid)"
  else
    echo "redis: DOWN (redis://$REDIS_HOST:$REDIS_PORT; log $REDIS_DIR/redis.log)"
    down=1
  fi
  go_state || down=1
  echo "state dir: $STATE_DIR"
  return "$down"
}

cmd_stop() {
  lock
  stop_redis
  stop_registry
  stop_docker
}

case ${1:-} in
start) cmd_start ;;
status) cmd_status ;;
stop) cmd_stop ;;
*)
  echo "usage: bash scripts/services.sh start|status|stop" >&2
  exit 2
  ;;
esac
