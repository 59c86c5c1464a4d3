#!/usr/bin/env bash
# Installs what Studyhall needs and is missing on a Debian 12 machine: Debian packages,
# a Rust toolchain, Node.js >= 20.19 and the npm packages of ui/ (and of the tests).
#
#   scripts/install-deps.sh run    # what building and running needs
#   scripts/install-deps.sh test   # plus what the test suite needs
#
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

want=${1:-run}
case "$want" in run|test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

# Building the workspace (the relay, and the desktop app it shares with).
APT_BUILD=(build-essential pkg-config curl ca-certificates libssl-dev
  libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libvpx-dev libopus-dev
  # Capture devices in the client: nokhwa (V4L2 bindings via bindgen), cpal (ALSA; its
  # PulseAudio host speaks the protocol in Rust, no library),
  # xcap (XCB with RandR; PipeWire/SPA bindings via bindgen; GBM, EGL, Wayland).
  clang libclang-dev libasound2-dev libxcb1-dev libxcb-randr0-dev
  libpipewire-0.3-dev libspa-0.2-dev libgbm-dev libegl-dev libwayland-dev
  # The webview's media stack (WebCodecs decodes the remote VP8 video through GStreamer).
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-gl)
# The browser interop test drives Debian's Chromium (no browser download). The client's
# capture tests start an Xvfb screen (painted with xsetroot) and a user-mode PulseAudio
# (read through cpal's PulseAudio host).
# The desktop app's end-to-end test drives the real app under Xvfb through tauri-driver
# and WebKitWebDriver. The Redis store's tests start their own redis-server.
APT_TEST=(chromium xvfb xauth x11-xserver-utils pulseaudio pulseaudio-utils webkit2gtk-driver redis-server redis-tools openssl)

log() { printf '\033[1m[install]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "need root (or sudo) to run: $*" >&2; exit 1
  fi
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

apt_install() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # A large first install can fail once reading an archive; the same command then passes.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" \
    || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}

packages=("${APT_BUILD[@]}")
[ "$want" = test ] && packages+=("${APT_TEST[@]}")
apt_install "${packages[@]}"

# Rust: Debian's rustc is too old for this workspace; use rustup's stable toolchain.
if ! command -v cargo >/dev/null; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    log "installing Rust (rustup, stable)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if [ "$want" = test ]; then
  rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt 2>/dev/null || true
  # The desktop app's end-to-end test: the WebDriver server for Tauri apps.
  if ! command -v tauri-driver >/dev/null; then
    log "installing tauri-driver (cargo install, a few minutes)"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
fi

# Node.js >= 20.19 (Vite 7). Debian 12's nodejs is 18: then take Node from the npm registry.
node_ok() {
  command -v node >/dev/null || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}
if ! node_ok; then
  command -v npm >/dev/null || apt_install nodejs npm
  if ! node_ok; then
    log "installing Node.js 22 from the npm registry into ~/.local/studyhall-node"
    npm install --silent --prefix "$HOME/.local/studyhall-node" node@22
    export PATH="$HOME/.local/studyhall-node/node_modules/.bin:$PATH"
  fi
fi

npm_ci() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing npm packages in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
}
npm_ci ui
if [ "$want" = test ]; then
  for dir in tests/doc-client tests/browser; do
    [ -f "$dir/package-lock.json" ] && npm_ci "$dir"
  done
fi
log "dependencies ready"
