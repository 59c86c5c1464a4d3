#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: for now the relay in embedded
# mode (rooms in memory, chat in SQLite, no Redis, no configuration) on 127.0.0.1:7450.
# Extra arguments go to studyhall-relay, e.g. `scripts/run.sh --listen 0.0.0.0:7450`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
. scripts/env.sh
cargo build --release -p studyhall-relay
echo "Mint a token in another terminal with:"
echo "  target/release/studyhall-relay token --room algebra --identity ada --name Ada --host"
exec target/release/studyhall-relay "$@"
