#!/usr/bin/env bash
# Installs what is missing, builds, and starts the Studyhall desktop app. Host a room from
# it (the app starts the bundled relay: no server, no Redis, no account) or join one by
# invite. On a machine without a camera or microphone, choose the test pattern and test
# tone in the device setup.
#
#   scripts/run.sh            # the app (release build)
#   scripts/run.sh --relay    # only the relay, in embedded mode on 127.0.0.1:7450
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
. scripts/env.sh

target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')

if [ "${1:-}" = "--relay" ]; then
  shift
  cargo build --release -p studyhall-relay
  echo "Mint a token in another terminal with:"
  echo "  $target_dir/release/studyhall-relay token --room algebra --identity ada --name Ada --host"
  exec "$target_dir/release/studyhall-relay" "$@"
fi

npm --prefix ui run build
# The app finds the relay binary beside its own executable.
cargo build --release -p studyhall-relay -p studyhall --bin studyhall-relay --bin studyhall
exec "$target_dir/release/studyhall" "$@"
