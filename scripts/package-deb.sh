#!/usr/bin/env bash
# Builds the Debian package: the app with the studyhall-relay binary beside it.
#
#   scripts/package-deb.sh            # release build -> target/release/bundle/deb/*.deb
#   scripts/package-deb.sh --debug    # reuse the debug build (quicker; what CI checks)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
. scripts/env.sh

profile=release
tauri_flags=()
cargo_flags=(--release)
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  tauri_flags=(--debug)
  cargo_flags=()
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
triple=$(rustc -vV | sed -n 's/^host: //p')

# Tauri bundles "external binaries" from <name>-<target triple> beside the config.
cargo build "${cargo_flags[@]}" -p studyhall-relay --bin studyhall-relay
mkdir -p src-tauri/binaries
cp "$target_dir/$profile/studyhall-relay" "src-tauri/binaries/studyhall-relay-$triple"

# The UI is built here (the overlay config drops tauri.conf.json's beforeBuildCommand,
# which the CLI would run from a directory of its own choosing).
npm --prefix ui run build
ui/node_modules/.bin/tauri build "${tauri_flags[@]}" --bundles deb --config tauri.bundle.conf.json
ls -l "$target_dir/$profile/bundle/deb/"*.deb
