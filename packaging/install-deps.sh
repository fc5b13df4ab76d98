#!/usr/bin/env bash
# Installs everything cloud-connector needs to build, test and demo on Debian 12.
# Used by the README's commands, by CI (.ci/run) and by packaging/Dockerfile's
# build stage, so all three install the same things.
#   install-deps.sh           build + test + demo dependencies
#   install-deps.sh --build   only what the build needs (Dockerfile)
set -euo pipefail

BUILD=(g++ cmake ninja-build pkg-config
       libpoco-dev libcurl4-openssl-dev librocksdb-dev libtbb-dev libcli11-dev doctest-dev libssl-dev)
TEST=(swift swift-proxy swift-account swift-container swift-object memcached python3-swiftclient
      python3-boto3 python3-pytest python3-requests awscli s3cmd rclone attr curl procps openssl
      rocksdb-tools   # ldb: test_file_store.py reads the file store's metadata with it
      python3-yaml docker-compose)   # the last two: packaging/check-manifests.sh
# test/integration/test_sdks.py: the JS SDK v3 (npm comes with the machine's Node.js: Debian's
# npm package conflicts with it) and the Go SDK v1, built offline from Debian's packages.
TEST+=(nodejs golang-go golang-github-aws-aws-sdk-go-dev)

pkgs=("${BUILD[@]}")
[[ "${1:-}" == "--build" ]] || pkgs+=("${TEST[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#pkgs[@]} packages present"
    exit 0
fi
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
