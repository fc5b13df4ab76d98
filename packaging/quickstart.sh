#!/usr/bin/env bash
# The main job on real input, from nothing: installs what is missing, builds,
# starts a throwaway on-prem Swift cluster and a cloud-side S3 store (a second
# Swift cluster's s3api), starts cloud-connector between them and shows an
# aws-cli round trip through it: put, get, and the merged listing.
#   quickstart.sh          run the demo and leave it running
#   quickstart.sh stop     stop the connector and both clusters
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CC_BACKENDS_DIR=${CC_DEMO_DIR:-/tmp/cc-demo}
DEMO=$CC_BACKENDS_DIR
ONPREM_PORT=8180 CLOUD_PORT=8190 CC_PORT=${CC_PORT:-8300}

stop() {
    [[ -f $DEMO/connector.pid ]] && kill "$(cat "$DEMO/connector.pid")" 2>/dev/null || true
    rm -f "$DEMO/connector.pid"
    bash test/backends/swift-cluster.sh stop onprem || true
    bash test/backends/swift-cluster.sh stop cloud || true
}
if [[ "${1:-}" == "stop" ]]; then stop; exit 0; fi

bash packaging/install-deps.sh
bash packaging/build.sh
mkdir -p "$DEMO/conf"
bash test/backends/swift-cluster.sh start onprem $ONPREM_PORT
bash test/backends/swift-cluster.sh start cloud $CLOUD_PORT

export AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$DEMO/aws-config
printf '[default]\ns3 =\n  addressing_style = path\n' > "$AWS_CONFIG_FILE"
aws() { command aws --endpoint-url "$ENDPOINT" "$@"; }

# The on-prem cluster holds container "demo" with one object; the cloud store has the bucket for local copies.
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3api create-bucket --bucket demo >/dev/null 2>&1 || true
echo "this object lives on-prem" > "$DEMO/onprem.txt"
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3 cp "$DEMO/onprem.txt" s3://demo/reports/onprem.txt >/dev/null
ENDPOINT=http://127.0.0.1:$CLOUD_PORT aws s3api create-bucket --bucket cloud-data >/dev/null 2>&1 || true

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
CONF
cat > "$DEMO/conf/s3-passwd.json" <<'JSON'
[{"access_key": "test:tester", "secret_key": "testing", "account": "AUTH_test"}]
JSON
cat > "$DEMO/conf/sync-config.json" <<JSON
{"containers": [{"account": "AUTH_test", "container": "demo", "aws_bucket": "cloud-data",
  "aws_endpoint": "http://127.0.0.1:$CLOUD_PORT", "aws_identity": "test:tester", "aws_secret": "testing",
  "protocol": "s3"}]}
JSON

[[ -f $DEMO/connector.pid ]] && kill "$(cat "$DEMO/connector.pid")" 2>/dev/null && sleep 0.5 || true
"$ROOT/build/cloud-connector" --config "$DEMO/conf/cloud-connector.conf" >"$DEMO/connector.log" 2>&1 &
echo $! > "$DEMO/connector.pid"
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$CC_PORT/" && break
    kill -0 "$(cat "$DEMO/connector.pid")" 2>/dev/null || { cat "$DEMO/connector.log"; exit 1; }
    sleep 0.1
done

ENDPOINT=http://127.0.0.1:$CC_PORT
echo "== cloud-connector on $ENDPOINT (log: $DEMO/connector.log)"
echo "hello from the cloud side" > "$DEMO/cloud.txt"
set -x
aws s3 cp "$DEMO/cloud.txt" s3://demo/reports/cloud.txt
aws s3 cp s3://demo/reports/cloud.txt -
aws s3 cp s3://demo/reports/onprem.txt -
aws s3 ls s3://demo/reports/
set +x
echo "== where the new object landed in the cloud store (1space layout):"
ENDPOINT=http://127.0.0.1:$CLOUD_PORT aws s3 ls --recursive s3://cloud-data/ | grep reports/cloud.txt
echo "== the on-prem container is untouched:"
ENDPOINT=http://127.0.0.1:$ONPREM_PORT aws s3 ls s3://demo/reports/
echo "== running. Try: AWS_ACCESS_KEY_ID=test:tester AWS_SECRET_ACCESS_KEY=testing aws --endpoint-url $ENDPOINT s3 ls s3://demo/"
echo "== stop everything with: bash packaging/quickstart.sh stop"
