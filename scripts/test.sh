#!/usr/bin/env bash
# Installs what is missing and runs every check: formatting, lints, the Rust tests (unit,
# scenario and media, binary), the UI's typecheck, lint, unit tests and build, the protocol
# doc client (Node) and the Chromium interop test against the real binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
. scripts/env.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "UI: typecheck, lint, unit tests, build"
npm --prefix ui run typecheck
npm --prefix ui run lint
npm --prefix ui test
npm --prefix ui run build

step "UI in headless Chromium (Tauri IPC faked behind the service module)"
npm --prefix ui run test:browser

step "Rust: format"
cargo fmt --all --check

step "Rust: clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "Rust: build binaries"
cargo build --workspace --bins

step "Rust: tests (including the app's commands on Tauri's mock runtime and the bindings check)"
cargo test --workspace

target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
export STUDYHALL_RELAY_BIN="$target_dir/debug/studyhall-relay"
export STUDYHALL_CLIENT_BIN="$target_dir/debug/studyhall-client"
export STUDYHALL_APP_BIN="$target_dir/debug/studyhall"

step "Protocol doc client (Node, written from docs/protocol.md) against the relay binary"
npm --prefix tests/doc-client test

step "Browser interop: headless Chromium (page written from docs/protocol.md) <-> studyhall-client"
npm --prefix tests/browser test

step "End to end: the real app under Xvfb (tauri-driver + WebKitWebDriver) with a headless client"
npm --prefix tests/e2e test

step "Packaging: the .deb builds (debug profile; scripts/package-deb.sh makes the release one)"
scripts/package-deb.sh --debug
deb=$(ls -t "$target_dir"/debug/bundle/deb/*.deb | head -1)
contents=$(dpkg-deb -c "$deb")
for bin in studyhall studyhall-relay; do
  grep -qE " (\./)?usr/bin/$bin\$" <<<"$contents" || { echo "$deb lacks usr/bin/$bin" >&2; exit 1; }
done
echo "$deb holds the app and the relay"
# Invite links (studyhall://) open the app: its desktop entry claims the scheme and
# passes the link on.
entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - --wildcards '*usr/share/applications/*.desktop')
grep -qx 'MimeType=x-scheme-handler/studyhall;' <<<"$entry" || { echo "the desktop entry does not claim studyhall:// links:" >&2; echo "$entry" >&2; exit 1; }
grep -qE '^Exec=studyhall %u$' <<<"$entry" || { echo "the desktop entry does not pass the link on:" >&2; echo "$entry" >&2; exit 1; }
echo "its desktop entry opens studyhall:// links with the app"

step "all checks passed"
