#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, starts the two loopback
# Swift clusters (on-prem :8080, cloud store :8090; CC_REMOTE_PORT / CC_LOCAL_PORT
# and CC_BACKENDS_DIR move them), runs ctest (unit tests, manifest checks and the
# end-to-end suite against the real binary), and stops the clusters.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh

# Fresh clusters for every run (no data left over from earlier runs or benchmarks),
# unless CC_BACKENDS_DIR names clusters to reuse.
fresh=""
if [[ -z ${CC_BACKENDS_DIR:-} ]]; then
    CC_BACKENDS_DIR=$(mktemp -d /tmp/cc-backends-run.XXXXXX)
    fresh=$CC_BACKENDS_DIR
fi
export CC_BACKENDS_DIR
# Only clusters this run started are stopped at the end: with CC_BACKENDS_DIR
# naming clusters that are already up, they stay up.
STARTED=()
cleanup() {
    for name in "${STARTED[@]}"; do bash test/backends/swift-cluster.sh stop "$name" || true; done
    # A server still exiting may write into it: a second try, and never a failure of
    # the run (under set -e a failing EXIT trap would turn the tests' status into 1).
    if [[ -n $fresh ]]; then rm -rf "$fresh" 2>/dev/null || { sleep 2; rm -rf "$fresh"; } || true; fi
}
trap cleanup EXIT
export CC_REMOTE_PORT=${CC_REMOTE_PORT:-8080} CC_LOCAL_PORT=${CC_LOCAL_PORT:-8090}
start_cluster() {   # name port: one retry, for a machine too busy to start Swift in time
    if bash test/backends/swift-cluster.sh status "$1" >/dev/null 2>&1; then
        echo "run-all: the $1 cluster in $CC_BACKENDS_DIR is already up: using it, leaving it up" >&2
        return 0
    fi
    STARTED+=("$1")
    bash test/backends/swift-cluster.sh start "$1" "$2" || {
        echo "run-all: starting the $1 cluster failed once; retrying" >&2
        bash test/backends/swift-cluster.sh stop "$1" || true
        bash test/backends/swift-cluster.sh start "$1" "$2"
    }
}
start_cluster remote "$CC_REMOTE_PORT"
start_cluster local "$CC_LOCAL_PORT"
export CC_BACKENDS_RUNNING=1
ctest --test-dir "${CC_BUILD_DIR:-build}" --output-on-failure "$@"
