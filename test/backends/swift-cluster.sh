#!/usr/bin/env bash
# Start/stop independent single-replica OpenStack Swift clusters (with the
# s3api middleware) on loopback, for integration tests.  Run as root.
#
#   swift-cluster.sh start  NAME BASE_PORT   # e.g. "start remote 8080"
#   swift-cluster.sh stop   NAME
#   swift-cluster.sh status NAME             # exit 0 healthy, 1 unhealthy, 3 stopped
#
# State lives in ${CC_BACKENDS_DIR:-/tmp/cc-backends}/NAME:
#   etc/   swift.conf (own hash prefix/suffix), *-server.conf, rings
#   data/  device "d1" (must support user xattrs)
#   log/   one log per process (stdout+stderr; Swift logs go to stderr via -v)
#   run/   one pid file per process
#   bin/   small launcher/probe helpers (regenerated on every start)
#
# Ports: proxy (S3 + Swift API) = BASE, object = BASE+1, container = BASE+2,
#        account = BASE+3, memcached = BASE+4.
#
# Environment knobs:
#   CC_BACKENDS_DIR        parent of the state directories (default /tmp/cc-backends)
#   CC_SWIFT_LOG_LEVEL     Swift log level (default INFO; DEBUG is verbose)
#   CC_SWIFT_START_TIMEOUT seconds to wait for readiness (default 60)
#   CC_SWIFT_KEEP_ON_FAILURE=1  leave processes running when start fails

set -Eeuo pipefail

PY=/usr/bin/python3          # Debian's interpreter: it has the swift module
SWIFT_BIN=/usr/bin
MEMCACHED=/usr/bin/memcached
MARKER_VAR=CC_SWIFT_CLUSTER_DIR   # set in every process we start; used to identify them
SERVICES=(memcached account container object proxy)   # start order

die() { echo "swift-cluster: $*" >&2; exit 1; }
usage() {
    cat >&2 <<EOF
usage: $0 start NAME BASE_PORT
       $0 stop NAME
       $0 status NAME
EOF
    exit 2
}

[[ $# -ge 2 ]] || usage
CMD=$1
NAME=$2
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "bad cluster name '$NAME' (use [A-Za-z0-9_.-])"

BACKENDS_DIR=$(realpath -m -- "${CC_BACKENDS_DIR:-/tmp/cc-backends}")
DIR=$BACKENDS_DIR/$NAME
ETC=$DIR/etc
DATA=$DIR/data
LOGDIR=$DIR/log
RUN=$DIR/run
BIN=$DIR/bin
MARKER="$MARKER_VAR=$DIR"
LOG_LEVEL=${CC_SWIFT_LOG_LEVEL:-INFO}
START_TIMEOUT=${CC_SWIFT_START_TIMEOUT:-60}

# Loopback only: never go through an HTTP proxy from the environment.
export NO_PROXY='127.0.0.1,localhost' no_proxy='127.0.0.1,localhost'
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true

# ---------------------------------------------------------------- helpers

port_of() {  # service -> port (needs BASE_PORT)
    case $1 in
        proxy) echo $((BASE_PORT)) ;;
        object) echo $((BASE_PORT + 1)) ;;
        container) echo $((BASE_PORT + 2)) ;;
        account) echo $((BASE_PORT + 3)) ;;
        memcached) echo $((BASE_PORT + 4)) ;;
        *) die "unknown service $1" ;;
    esac
}

read_base_port() {
    if [[ -f $DIR/base_port ]]; then
        BASE_PORT=$(<"$DIR/base_port")
        [[ $BASE_PORT =~ ^[0-9]+$ ]] || BASE_PORT=
    else
        BASE_PORT=
    fi
}

# A pid is "ours" when the process carries CC_SWIFT_CLUSTER_DIR=<this state dir>
# in its environment: robust against pid reuse and against other clusters or
# other developers' swift/memcached processes.
pid_is_ours() {
    local pid=$1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    grep -qzxF -- "$MARKER" "/proc/$pid/environ" 2>/dev/null
}

pidfile_pid() {  # service -> pid (or empty)
    local f=$RUN/$1.pid
    [[ -f $f ]] && head -c 32 "$f" | tr -dc 0-9 || true
}

service_alive() {
    local pid
    pid=$(pidfile_pid "$1")
    [[ -n $pid ]] && pid_is_ours "$pid"
}

marked_pids() {  # every live process of this cluster, pid files or not
    grep -lzxF -- "$MARKER" /proc/[0-9]*/environ 2>/dev/null \
        | sed -e 's#^/proc/##' -e 's#/environ$##' | sort -n || true
}

healthcheck() {  # port -> 0 if GET /healthcheck answers 200
    curl -sf --noproxy '*' -o /dev/null --max-time 3 "http://127.0.0.1:$1/healthcheck"
}

memcached_ok() {  # port
    local line=
    { exec 8<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
    printf 'version\r\n' >&8
    read -r -t 2 line <&8 || true
    exec 8>&- 8<&-
    [[ $line == VERSION* ]]
}

port_in_use() {  # port -> 0 if something listens on it
    [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

show_logs() {
    local f
    for f in "$LOGDIR"/*.log; do
        [[ -f $f ]] || continue
        echo "----- tail -n 40 $f" >&2
        tail -n 40 "$f" >&2 || true
    done
}

# Health of a cluster whose pids are known.  Prints a reason on failure.
cluster_healthy() {
    local svc
    for svc in "${SERVICES[@]}"; do
        service_alive "$svc" || { echo "$svc not running"; return 1; }
    done
    memcached_ok "$(port_of memcached)" || { echo "memcached not answering"; return 1; }
    for svc in account container object proxy; do
        healthcheck "$(port_of "$svc")" || { echo "$svc /healthcheck failed"; return 1; }
    done
    "$PY" -I "$BIN/probe.py" "http://127.0.0.1:$BASE_PORT" 10 >/dev/null 2>&1 \
        || { echo "s3api probe (boto3 list_buckets) failed"; return 1; }
}

up_line() {
    echo "swift cluster $NAME up: s3 endpoint http://127.0.0.1:$BASE_PORT (logs: $LOGDIR)"
}

# ------------------------------------------------------------------- stop

kill_group_or_pid() {  # sig pid
    local sig=$1 pid=$2 pgid
    pgid=$(awk '{print $5}' "/proc/$pid/stat" 2>/dev/null || true)
    # Each server runs in its own session (setsid), so pgid == pid and the
    # group holds exactly the server and its forked workers.
    if [[ $pgid == "$pid" ]]; then
        kill "-$sig" -- "-$pid" 2>/dev/null || true
    else
        kill "-$sig" "$pid" 2>/dev/null || true
    fi
}

do_stop() {
    local svc pid i left pids=()
    # proxy first, memcached last
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        svc=${SERVICES[i]}
        pid=$(pidfile_pid "$svc")
        if [[ -n $pid ]] && pid_is_ours "$pid"; then
            kill_group_or_pid TERM "$pid"
            pids+=("$pid")
        fi
    done
    # anything else carrying our marker (workers, leftovers of a crashed start)
    for pid in $(marked_pids); do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for ((i = 0; i < 100; i++)); do
        left=$(marked_pids)
        [[ -z $left ]] && break
        sleep 0.1
    done
    left=$(marked_pids)
    if [[ -n $left ]]; then
        echo "swift-cluster: $NAME: processes survived SIGTERM, sending SIGKILL: $(echo $left)" >&2
        for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
        sleep 0.3
    fi
    left=$(marked_pids)
    [[ -z $left ]] || die "$NAME: could not stop pids $(echo $left)"
    # dead servers are zombies until init reaps them: give it a moment so
    # that "no process left" checks right after stop are reliable
    for ((i = 0; i < 30; i++)); do
        left=
        for pid in "${pids[@]}"; do [[ -e /proc/$pid ]] && left+=" $pid"; done
        [[ -z $left ]] && break
        sleep 0.1
    done
    rm -f "$RUN"/*.pid
}

# ------------------------------------------------------------ config files

check_xattrs() {
    "$PY" -I - "$DATA" <<'EOF' || die "$DATA: the filesystem does not support user xattrs (Swift needs them); set CC_BACKENDS_DIR to a directory on ext4/xfs"
import os, sys, tempfile
d = sys.argv[1]
fd, path = tempfile.mkstemp(dir=d, prefix='.xattr-check-')
try:
    os.setxattr(path, 'user.swift.xattr-check', b'x' * 300)
    assert os.getxattr(path, 'user.swift.xattr-check') == b'x' * 300
except OSError as e:
    print('xattr check failed on %s: %s' % (d, e), file=sys.stderr)
    sys.exit(1)
finally:
    os.close(fd)
    os.unlink(path)
EOF
}

write_helpers() {
    mkdir -p "$BIN"
    # Swift 2.30 always reads /etc/swift/swift.conf (utils.SWIFT_CONF_FILE is a
    # module constant, no env var; the swift_dir option only locates rings and
    # memcache.conf).  This launcher points utils at our swift.conf via
    # set_swift_dir() before constraints/storage_policy are imported, then runs
    # the Debian server script unchanged.
    cat >"$BIN/swift-launch.py" <<'EOF'
import runpy
import sys

swift_dir, script = sys.argv[1], sys.argv[2]
from swift.common import utils
utils.set_swift_dir(swift_dir)          # reads <swift_dir>/swift.conf hash prefix/suffix
from swift.common import constraints, storage_policy
constraints.reload_constraints()        # no-ops if imported just now, but be explicit
storage_policy.reload_storage_policies()
assert utils.SWIFT_CONF_FILE.startswith(swift_dir), utils.SWIFT_CONF_FILE
sys.argv = [script] + sys.argv[3:]
runpy.run_path(script, run_name='__main__')
EOF
    # Readiness probe: proxy /healthcheck, then an s3api request (boto3, SigV4,
    # path style, test:tester/testing). Args: URL TIMEOUT [PID...]; fails early
    # if one of the PIDs dies.
    cat >"$BIN/probe.py" <<'EOF'
import os, sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2])
pids = [int(p) for p in sys.argv[3:]]
deadline = time.monotonic() + timeout
for k in [k for k in os.environ if k.startswith('AWS_')]:
    del os.environ[k]
os.environ['AWS_CONFIG_FILE'] = os.devnull
os.environ['AWS_SHARED_CREDENTIALS_FILE'] = os.devnull
import boto3
from botocore.config import Config
s3 = boto3.client(
    's3', endpoint_url=url, region_name='us-east-1',
    aws_access_key_id='test:tester', aws_secret_access_key='testing',
    config=Config(signature_version='s3v4', s3={'addressing_style': 'path'},
                  retries={'max_attempts': 1}, connect_timeout=2, read_timeout=10))
last = 'not tried'
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while True:
    for p in pids:
        try:
            os.kill(p, 0)
        except ProcessLookupError:
            print('process %d died' % p, file=sys.stderr)
            sys.exit(2)
    try:
        with opener.open(url + '/healthcheck', timeout=3) as r:
            if r.status != 200:
                raise RuntimeError('healthcheck %d' % r.status)
        s3.list_buckets()
        sys.exit(0)
    except Exception as e:  # noqa
        last = '%s: %s' % (type(e).__name__, e)
    if time.monotonic() > deadline:
        print('not ready after %ss: %s' % (timeout, last), file=sys.stderr)
        sys.exit(1)
    time.sleep(0.2)
EOF
}

write_configs() {
    mkdir -p "$ETC" "$DATA/d1" "$LOGDIR" "$RUN"
    if [[ ! -s $ETC/hash_path && -f $ETC/swift.conf ]]; then
        # state dir from an older version of this script: keep its hashes
        awk -F' = ' '/^swift_hash_path_suffix/{s=$2} /^swift_hash_path_prefix/{p=$2}
                     END{if (s != "" && p != "") print s, p}' "$ETC/swift.conf" >"$ETC/hash_path"
    fi
    if [[ ! -s $ETC/hash_path ]]; then
        # unique per cluster, kept across restarts (it decides on-disk paths)
        echo "$NAME-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
             "$NAME-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$ETC/hash_path"
    fi
    local suffix prefix
    read -r suffix prefix <"$ETC/hash_path"
    cat >"$ETC/swift.conf" <<EOF
# generated by swift-cluster.sh for cluster $NAME (read via bin/swift-launch.py)
[swift-hash]
swift_hash_path_suffix = $suffix
swift_hash_path_prefix = $prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
# S3 allows 2 KiB of user metadata in total (keys + values) with no per-value
# limit.  Swift's defaults (256-byte values, 4096 total) turn legal S3 requests
# into 500s, and more than ~3.5 KiB of Swift metadata (which also holds the
# object name and sysmeta) does not fit in ext4 xattrs (object server 507).
max_meta_value_length = 2048
max_meta_overall_size = 2048
EOF

    local common svc
    common="bind_ip = 127.0.0.1
workers = 1
user = root
swift_dir = $ETC
devices = $DATA
mount_check = false
log_facility = LOG_LOCAL0
log_level = $LOG_LEVEL
# No /dev/log here: Swift then falls back to UDP syslog on 127.0.0.1:514
# (harmless, lost).  The real log is stderr (-v), redirected to $LOGDIR.
log_address = /dev/log
fallocate_reserve = 0"

    for svc in account container object; do
        cat >"$ETC/$svc-server.conf" <<EOF
# generated by swift-cluster.sh for cluster $NAME
[DEFAULT]
bind_port = $(port_of "$svc")
log_name = $NAME-$svc
$common

[pipeline:main]
pipeline = healthcheck $svc-server

[app:$svc-server]
use = egg:swift#$svc

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
    done

    cat >"$ETC/proxy-server.conf" <<EOF
# generated by swift-cluster.sh for cluster $NAME
[DEFAULT]
bind_port = $(port_of proxy)
log_name = $NAME-proxy
$common

[pipeline:main]
# s3api must precede the auth middleware, and slo must come after s3api or
# s3api silently disables multipart uploads.  copy before slo/dlo as in
# Swift's sample.  versioned_writes is listed because the 2.30 proxy inserts
# it anyway (required filter); it runs in legacy mode only (X-Versions-Location),
# object versioning (which would need symlink) stays off, so S3 bucket
# versioning answers NotImplemented.
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
# One device only: never "error-limit" it (default: 60 s of 503s for every
# request after a single 507 or a few timeouts, e.g. while a server restarts).
error_suppression_interval = 0

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$(port_of memcached)
memcache_max_connections = 4

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
dns_compliant_bucket_names = False
allow_multipart_uploads = True
# empty: path-style only (virtual-hosted style would need a domain here)
storage_domain =
# S3 allows part numbers 1..10000 (s3api default 1000); needs slo's
# max_manifest_segments raised to match.
max_upload_part_num = 10000
log_name = $NAME-s3api

[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
# UTF-8 account "tëst3", user "tëstër3", key "tëstïng3" (user64_ = base64 without '=')
user64_dMOrc3Qz_dMOrc3TDq3Iz = tëstïng3 .admin
user_tëst4_tëster4 = tëstïng4 .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo
max_manifest_segments = 10000

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = false
allow_object_versioning = false
EOF
}

build_rings() {
    local ring svc rc
    for ring in account container object; do
        svc=$ring
        rm -f "$ETC/$ring.builder" "$ETC/$ring.ring.gz"
        rm -rf "$ETC/backups"
        "$PY" -I "$SWIFT_BIN/swift-ring-builder" "$ETC/$ring.builder" create 4 1 1 >/dev/null
        "$PY" -I "$SWIFT_BIN/swift-ring-builder" "$ETC/$ring.builder" \
            add "r1z1-127.0.0.1:$(port_of "$svc")/d1" 1 >/dev/null
        rc=0
        "$PY" -I "$SWIFT_BIN/swift-ring-builder" "$ETC/$ring.builder" rebalance \
            >"$LOGDIR/ring-$ring.log" 2>&1 || rc=$?
        # exit 1 is "warning" (e.g. balance with a single device): acceptable
        if [[ $rc -gt 1 || ! -s $ETC/$ring.ring.gz ]]; then
            cat "$LOGDIR/ring-$ring.log" >&2
            die "$NAME: building the $ring ring failed"
        fi
    done
}

# ------------------------------------------------------------------ start

launch() {  # service command...
    local svc=$1; shift
    local log=$LOGDIR/$svc.log
    [[ -f $log ]] && mv -f "$log" "$log.prev"
    echo "=== $(date '+%F %T') $svc: $*" >"$log"
    # env marks the process as ours; setsid gives it its own session/process
    # group (pgid == pid, no fork since a background job is not a group
    # leader); fd 9 (our lock) is closed so the daemon does not hold it.
    env "$MARKER" setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/$svc.pid"
}

do_start() {
    local want_port=$1 svc reason t0 t1 pids=() p
    [[ $want_port =~ ^[0-9]+$ ]] && ((want_port >= 1024 && want_port <= 65530)) \
        || die "BASE_PORT must be a number in 1024..65530"
    [[ $EUID -eq 0 ]] || die "must run as root (servers run with user = root)"
    [[ -x $PY ]] || die "$PY not found"
    "$PY" -I -c 'import swift, boto3' 2>/dev/null \
        || die "$PY cannot import swift/boto3 (apt-get install swift swift-proxy swift-account swift-container swift-object python3-boto3)"
    [[ -x $MEMCACHED ]] || die "$MEMCACHED not found (apt-get install memcached)"

    mkdir -p "$DATA/d1" "$LOGDIR" "$RUN" "$ETC" "$BIN"
    check_xattrs

    read_base_port
    if [[ -n $BASE_PORT ]] && [[ -n $(marked_pids) ]]; then
        if reason=$(cluster_healthy); then
            [[ $BASE_PORT == "$want_port" ]] \
                || die "$NAME is already running on base port $BASE_PORT (asked for $want_port); stop it first"
            up_line
            return 0
        fi
        echo "swift-cluster: $NAME: running but unhealthy ($reason); restarting" >&2
    fi
    do_stop   # leftovers of a partial start, if any

    local old_port=$BASE_PORT
    BASE_PORT=$want_port
    for svc in "${SERVICES[@]}"; do
        p=$(port_of "$svc")
        port_in_use "$p" && die "$NAME: port $p ($svc) is already in use by another process"
    done

    write_helpers
    write_configs
    if [[ $old_port != "$BASE_PORT" || ! -s $ETC/account.ring.gz || ! -s $ETC/container.ring.gz || ! -s $ETC/object.ring.gz ]]; then
        build_rings
    fi
    echo "$BASE_PORT" >"$DIR/base_port"

    t0=$(date +%s.%N)
    launch memcached "$MEMCACHED" -u root -l 127.0.0.1 -p "$(port_of memcached)" -U 0 -m 64 -c 1024 -v
    for svc in account container object proxy; do
        launch "$svc" "$PY" -I -X utf8 "$BIN/swift-launch.py" "$ETC" \
            "$SWIFT_BIN/swift-$svc-server" "$ETC/$svc-server.conf" -v
    done
    for svc in "${SERVICES[@]}"; do pids+=("$(pidfile_pid "$svc")"); done

    # The S3 probe goes through the proxy; the other servers may still be
    # forking their workers on a busy machine: give their /healthcheck time.
    healthy_within() {
        local deadline=$((SECONDS + $1))
        while ! reason=$(cluster_healthy); do
            ((SECONDS < deadline)) || return 1
            sleep 0.5
        done
    }
    if ! "$PY" -I "$BIN/probe.py" "http://127.0.0.1:$BASE_PORT" "$START_TIMEOUT" "${pids[@]}" \
            2>"$LOGDIR/probe.log" \
        || ! healthy_within "$START_TIMEOUT"; then
        echo "swift-cluster: $NAME failed to start: $(cat "$LOGDIR/probe.log" 2>/dev/null) ${reason:-}" >&2
        show_logs
        if [[ ${CC_SWIFT_KEEP_ON_FAILURE:-0} != 1 ]]; then
            do_stop || true
        fi
        exit 1
    fi
    t1=$(date +%s.%N)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')" >"$RUN/startup_seconds"
    up_line
}

do_status() {
    read_base_port
    local pids
    pids=$(marked_pids)
    if [[ -z $pids ]]; then
        echo "swift cluster $NAME stopped"
        return 3
    fi
    [[ -n $BASE_PORT ]] || { echo "swift cluster $NAME unhealthy: processes $(echo $pids) but no base_port"; return 1; }
    local reason
    if reason=$(cluster_healthy); then
        echo "swift cluster $NAME running: s3 endpoint http://127.0.0.1:$BASE_PORT" \
             "(ports proxy $BASE_PORT object $((BASE_PORT+1)) container $((BASE_PORT+2))" \
             "account $((BASE_PORT+3)) memcached $((BASE_PORT+4)); pids $(echo $pids); logs: $LOGDIR)"
        return 0
    fi
    echo "swift cluster $NAME unhealthy: $reason (pids $(echo $pids); logs: $LOGDIR)"
    return 1
}

# ------------------------------------------------------------------- main

case $CMD in
    start)
        [[ $# -eq 3 ]] || usage
        mkdir -p "$DIR"
        exec 9>"$DIR/.lock"
        flock -w 120 9 || die "$NAME: another start/stop holds $DIR/.lock"
        do_start "$3"
        ;;
    stop)
        [[ $# -eq 2 ]] || usage
        if [[ ! -d $DIR ]]; then
            echo "swift cluster $NAME stopped (no state dir $DIR)"
            exit 0
        fi
        exec 9>"$DIR/.lock"
        flock -w 120 9 || die "$NAME: another start/stop holds $DIR/.lock"
        do_stop
        echo "swift cluster $NAME stopped"
        ;;
    status)
        [[ $# -eq 2 ]] || usage
        rc=0
        do_status || rc=$?
        exit $rc
        ;;
    *) usage ;;
esac
