#!/usr/bin/env bash
# Benchmarks of the connector against the backends that hold the data
# (docs/benchmarks.md). Installs nginx if missing, builds Release binaries
# (cloud-connector, cc-bench) into build-bench/, starts the two loopback Swift
# clusters if they are not up (and stops only the ones it started), then runs
# test/bench/bench.py: data setup (cached), connectors, scenarios, table.
#
#   bash test/bench/run-benchmarks.sh                  # full run, 10 s per measurement
#   BENCH_SECONDS=3 bash test/bench/run-benchmarks.sh  # quick run
#   BENCH_ONLY=1,6 bash test/bench/run-benchmarks.sh   # some scenarios only
#
# Environment: BENCH_BUILD_DIR (default <repo>/build-bench), BENCH_NO_BUILD=1 to
# use the binaries already there, and the BENCH_* knobs listed in bench.py.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export BENCH_BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build-bench}
export CC_BACKENDS_DIR=${CC_BACKENDS_DIR:-/tmp/cc-backends}
export NO_PROXY='127.0.0.1,localhost' no_proxy='127.0.0.1,localhost'
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true

if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    echo "installing nginx (the static-file reference of scenario 6)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >/dev/null
fi
export PATH=$PATH:/usr/sbin

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    echo "building Release binaries in $BENCH_BUILD_DIR" >&2
    mkdir -p "$BENCH_BUILD_DIR"
    if ! { cmake -S "$ROOT" -B "$BENCH_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release &&
           ninja -C "$BENCH_BUILD_DIR" cloud-connector cc-bench; } >"$BENCH_BUILD_DIR/bench-build.log" 2>&1; then
        tail -30 "$BENCH_BUILD_DIR/bench-build.log" >&2
        echo "build failed (log: $BENCH_BUILD_DIR/bench-build.log)" >&2
        exit 1
    fi
fi

# Start the clusters only if they are down; never stop one that was already running.
STARTED=()
cleanup() {
    for name in "${STARTED[@]}"; do
        bash test/backends/swift-cluster.sh stop "$name" || true
    done
}
trap cleanup EXIT
for spec in "remote 8080" "local 8090"; do
    set -- $spec
    rc=0
    bash test/backends/swift-cluster.sh status "$1" >/dev/null 2>&1 || rc=$?
    case $rc in
        0) echo "swift cluster $1 already running: it stays up" >&2 ;;
        3) bash test/backends/swift-cluster.sh start "$1" "$2" >&2
           STARTED+=("$1") ;;
        *) # partly running: "start" would restart it under other people's feet
           echo "swift cluster $1 is running but unhealthy (status $rc); not touching it" >&2
           exit 1 ;;
    esac
done
[[ -n ${BENCH_KEEP_CLUSTERS:-} ]] && STARTED=()

/usr/bin/python3 test/bench/bench.py
