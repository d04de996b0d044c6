#!/usr/bin/env bash
# Install the Debian packages idgate builds and tests with, only those missing (idempotent,
# silent when nothing is missing). Debian 12 (bookworm) names.
set -euo pipefail

packages=(
  build-essential pkg-config curl ca-certificates
  clang libclang-dev                 # bindgen for the opencv crate
  libopencv-dev                      # OpenCV 4.6: core, imgproc, imgcodecs, videoio are used
  libsqlite3-dev                     # sqlx sqlite-unbundled
  ffmpeg                             # test and benchmark clips (VP8/VP9 WebM, H.264 MP4)
  python3 python3-venv python3-pip   # scripts/setup.py and the model conversion venv
  time                               # GNU time: the benches' whole-process wall, CPU and peak memory
)
# `--browser` (make test): Debian's Chromium for the browser test, driven by playwright-core
# (never a downloaded browser), and Node.js unless the machine has its own.
if [[ "${1:-}" == "--browser" ]]; then
  packages+=(chromium)
  command -v node >/dev/null || packages+=(nodejs npm)
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

# A machine whose python3 is not Debian's (pyenv, a toolchain image) does not need
# Debian's python3 packages as long as it has working venv and pip modules.
if python3 -c 'import venv, ensurepip, pip' 2>/dev/null; then
  filtered=()
  for pkg in "${missing[@]}"; do
    [[ "$pkg" == python3* ]] || filtered+=("$pkg")
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
