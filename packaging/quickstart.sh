#!/usr/bin/env bash
# The main job on real input, from nothing: installs what is missing, builds,
# starts a throwaway on-prem Swift cluster, starts cloud-connector in front of
# it and shows an aws-cli round trip through it: put, get, and the merged
# listing. The connector's local copies live in its embedded file store
# (file://$DEMO/local-store, a directory standing for the persistent volume),
# so the on-prem cluster is the only thing outside it.
#   quickstart.sh          run the demo and leave it running
#   quickstart.sh stop     stop the connector and the cluster(s)
# Knobs: CC_DEMO_DIR (default /tmp/cc-demo), CC_PORT (8300), CC_ONPREM_PORT (8180,
#   the cluster also takes the next 4 ports), CC_CLOUD_PORT (8190), CC_BUILD_DIR (build),
#   CC_DEMO_LOCAL=swift    the two-cluster demo: the local copies go to a second
#                          Swift cluster's S3 API (a cloud bucket) instead.
# Runs as root (the Swift servers of the throwaway cluster do).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CC_BACKENDS_DIR=${CC_DEMO_DIR:-/tmp/cc-demo}
DEMO=$CC_BACKENDS_DIR
ONPREM_PORT=${CC_ONPREM_PORT:-8180} CLOUD_PORT=${CC_CLOUD_PORT:-8190} CC_PORT=${CC_PORT:-8300}
LOCAL_KIND=${CC_DEMO_LOCAL:-file}
export CC_BUILD_DIR=${CC_BUILD_DIR:-build}
BIN=$(cd "$ROOT" && realpath -m "$CC_BUILD_DIR")/cloud-connector

stop() {
    if [[ ! -d $DEMO ]]; then
        echo "no demo in $DEMO (set CC_DEMO_DIR to the directory the demo used)" >&2
        return 1
    fi
    if [[ -f $DEMO/connector.pid ]]; then
        local pid
        pid=$(cat "$DEMO/connector.pid")
        if kill "$pid" 2>/dev/null; then
            # It drains open requests first (up to --shutdown-grace); wait until it is gone.
            for _ in $(seq 350); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            echo "cloud-connector (pid $pid) stopped"
        fi
        rm -f "$DEMO/connector.pid"
    fi
    bash test/backends/swift-cluster.sh stop onprem || true
    [[ -d $DEMO/cloud ]] && { bash test/backends/swift-cluster.sh stop cloud || true; }
    echo "everything stopped; the demo's files stay in $DEMO (rm -rf $DEMO to remove them)"
}
if [[ "${1:-}" == "stop" ]]; then stop; exit; fi
[[ $EUID -eq 0 ]] || { echo "run as root (e.g. sudo bash packaging/quickstart.sh): the throwaway Swift cluster needs it" >&2; exit 2; }
[[ $LOCAL_KIND == file || $LOCAL_KIND == swift ]] || { echo "CC_DEMO_LOCAL must be file or swift" >&2; exit 2; }

bash packaging/install-deps.sh
bash packaging/build.sh cloud-connector cc-index
mkdir -p "$DEMO/conf"
bash test/backends/swift-cluster.sh start onprem $ONPREM_PORT
[[ $LOCAL_KIND == swift ]] && bash test/backends/swift-cluster.sh start cloud $CLOUD_PORT

export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$DEMO/aws-config
printf '[default]\ns3 =\n  addressing_style = path\n' > "$AWS_CONFIG_FILE"
# Debian's aws-cli (v2), the one the tests run, even where another comes first on PATH.
AWS_CLI=$(command -v /usr/bin/aws || command -v aws)
aws() { "$AWS_CLI" --endpoint-url "$ENDPOINT" "$@"; }
show() { echo "\$ aws $*"; aws "$@"; }   # a step of the round trip, as a user would type it

# The on-prem cluster holds container "demo" with one object.
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3api create-bucket --bucket demo >/dev/null 2>&1 || true
echo "this object lives on-prem" > "$DEMO/onprem.txt"
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3 cp "$DEMO/onprem.txt" s3://demo/reports/onprem.txt >/dev/null

if [[ $LOCAL_KIND == file ]]; then
    # The embedded store: a directory; aws_bucket names a namespace inside it, no credentials.
    LOCAL_ENTRY="\"aws_bucket\": \"cloud-data\", \"aws_endpoint\": \"file://$DEMO/local-store\""
else
    ENDPOINT=http://127.0.0.1:$CLOUD_PORT aws s3api create-bucket --bucket cloud-data >/dev/null 2>&1 || true
    LOCAL_ENTRY="\"aws_bucket\": \"cloud-data\", \"aws_endpoint\": \"http://127.0.0.1:$CLOUD_PORT\",
  \"aws_identity\": \"test:tester\", \"aws_secret\": \"testing\", \"protocol\": \"s3\""
fi

cat > "$DEMO/conf/cloud-connector.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $CC_PORT
swift_baseurl = http://127.0.0.1:$ONPREM_PORT
log_level = info

[app:proxy-server]
conf_file = sync-config.json

[filter:cloud-connector-auth]
s3_passwd_json = s3-passwd.json

[cloud-connector]
state_dir = $DEMO/state
reload_interval = 5
# Capacity of the embedded file store (0 = unlimited); only copies that are also on-prem are ever evicted.
file_store_max_bytes = 1G
CONF
# The user database is kept if it exists: users added to it survive a re-run.
[[ -f $DEMO/conf/s3-passwd.json ]] || cat > "$DEMO/conf/s3-passwd.json" <<'JSON'
[{"access_key": "test:tester", "secret_key": "testing", "account": "AUTH_test"}]
JSON
cat > "$DEMO/conf/sync-config.json" <<JSON
{"containers": [{"account": "AUTH_test", "container": "demo", $LOCAL_ENTRY}]}
JSON

[[ -f $DEMO/connector.pid ]] && kill "$(cat "$DEMO/connector.pid")" 2>/dev/null && sleep 0.5 || true
"$BIN" --config "$DEMO/conf/cloud-connector.conf" >>"$DEMO/connector.log" 2>&1 &
echo $! > "$DEMO/connector.pid"
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$CC_PORT/readyz" && break   # 200 once users and mapping are loaded
    kill -0 "$(cat "$DEMO/connector.pid")" 2>/dev/null || { cat "$DEMO/connector.log"; exit 1; }
    sleep 0.1
done

ENDPOINT=http://127.0.0.1:$CC_PORT
echo "== cloud-connector on $ENDPOINT (log: $DEMO/connector.log)"
echo "hello from the cloud side" > "$DEMO/cloud.txt"
(cd "$DEMO" && show s3 cp --no-progress cloud.txt s3://demo/reports/cloud.txt)
show s3 cp s3://demo/reports/cloud.txt -
show s3 cp s3://demo/reports/onprem.txt -
show s3 ls s3://demo/reports/
if [[ $LOCAL_KIND == file ]]; then
    echo "== where the new object landed: the embedded file store $DEMO/local-store"
    echo "   (data files named by hash under objects/, metadata in RocksDB under meta/):"
    landed=$(grep -rl "hello from the cloud side" "$DEMO/local-store/objects")
    for f in $landed; do echo "   ${f#"$DEMO"/local-store/objects/}  $(stat -c %s "$f") bytes"; done
else
    echo "== where the new object landed in the cloud store (1space layout):"
    ENDPOINT=http://127.0.0.1:$CLOUD_PORT aws s3 ls --recursive s3://cloud-data/ | grep reports/cloud.txt
fi
echo "== the on-prem container is untouched:"
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3 ls s3://demo/reports/
echo "== running. Try: AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url $ENDPOINT s3 ls s3://demo/"
echo "== its configuration: $DEMO/conf (users: s3-passwd.json, mapping: sync-config.json); after editing,"
echo "   kill -HUP \$(cat $DEMO/connector.pid) reloads them at once (they also reload every 5 s)"
if [[ $DEMO == /tmp/cc-demo ]]; then
    echo "== stop everything with: bash packaging/quickstart.sh stop"
else
    echo "== stop everything with: CC_DEMO_DIR=$DEMO bash packaging/quickstart.sh stop"
fi
