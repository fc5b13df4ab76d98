#!/usr/bin/env bash
# Where the CPU goes during scenario 3 (256 MiB GETs), straight at the cloud
# store and through a connector, alternating: CPU milliseconds of every process
# of the cloud-store Swift cluster and of the connector, plus the wall time.
# On two shared cores this says whether the connector's own CPU is what bounds
# its throughput ratio (docs/benchmarks.md, scenario 3).
#
#   bash test/bench/cpu-share.sh            # after a run of run-benchmarks.sh (its data and configs)
#   N=8 C=2 ROUNDS=2 bash test/bench/cpu-share.sh
#
# Starts the `auto` connector of the last benchmark run ($BENCH_WORKDIR/auto) and stops it at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${BENCH_WORKDIR:-/tmp/cc-bench-run}
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
BACKENDS=${CC_BACKENDS_DIR:-/tmp/cc-backends}
N=${N:-8} C=${C:-2} ROUNDS=${ROUNDS:-2}
CONF=$WORK/auto/cloud-connector.conf
[[ -f $CONF ]] || { echo "no $CONF: run test/bench/run-benchmarks.sh first" >&2; exit 1; }
PORT=$(awk '$1 == "bind_port" {print $3}' "$CONF")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy || true

"$BUILD/cloud-connector" --config "$CONF" >>"$WORK/auto/connector.log" 2>&1 &
CPID=$!
trap 'kill $CPID 2>/dev/null; wait $CPID 2>/dev/null || true' EXIT
# Until its start-up index refresh round (which lists both stores) is over.
for _ in $(seq 1200); do
    curl -sf "http://127.0.0.1:$PORT/metrics" 2>/dev/null | grep -q 'cc_index_staleness_seconds{.*side="remote"' && break
    sleep 0.5
done

snapshot() {   # pid cpu_ms name, for the cloud cluster's processes and the connector
    for p in $(pgrep -f "$BACKENDS/local/") $CPID; do
        [[ -r /proc/$p/stat ]] || continue
        name=$(tr '\0' ' ' </proc/"$p"/cmdline | grep -o '[a-z]*-server\|cloud-connector\|memcached' | head -1)
        echo "$p $(awk '{print ($14 + $15) * 10}' /proc/"$p"/stat) ${name:-other}"
    done | sort
}

measure() {   # label, cc-bench arguments...
    local label=$1
    shift
    snapshot >"$WORK/cpu-before"
    local t0 t1
    t0=$(date +%s.%N)
    local line
    line=$("$BUILD/cc-bench" "$@" -n "$N" -c "$C" --expect-bytes 268435456 | sed -n 2p)
    t1=$(date +%s.%N)
    snapshot >"$WORK/cpu-after"
    echo "$label: $line"
    join "$WORK/cpu-before" "$WORK/cpu-after" |
        awk -v n="$N" -v wall="$(echo "$t1 - $t0" | bc)" '
            { by[$3] += $4 - $2 }
            END { for (k in by) if (by[k] > 0) printf "    %-16s %6d ms CPU (%d per GET)\n", k, by[k], by[k] / n
                  printf "    wall %.2f s\n", wall }'
}

"$BUILD/cc-bench" --endpoint "http://127.0.0.1:$PORT" --bucket ccbench --key big/256m-local -n 1 >/dev/null
for _ in $(seq "$ROUNDS"); do
    measure direct --endpoint http://127.0.0.1:8090 --bucket ccbench-cloud \
        --key fffa00/AUTH_test/ccbench/big/256m-local
    measure connector --endpoint "http://127.0.0.1:$PORT" --bucket ccbench --key big/256m-local
done
