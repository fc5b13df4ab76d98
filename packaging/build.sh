#!/usr/bin/env bash
# Configures and builds cloud-connector into ./build (or $CC_BUILD_DIR): every
# target, or only those named (build.sh cloud-connector cc-index).
# The same steps run in CI, in the README's commands and in the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CC_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${CC_BUILD_TYPE:-RelWithDebInfo} >/dev/null
targets=()
[[ $# -gt 0 ]] && targets=(--target "$@")
cmake --build "$BUILD_DIR" --parallel "$(nproc)" "${targets[@]}"
