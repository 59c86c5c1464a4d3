#!/usr/bin/env bash
# Regenerates ui/src/bindings.ts (the UI's typed IPC bindings) from the Rust commands and
# events. The test suite fails while the committed file is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
UPDATE_BINDINGS=1 cargo test -p studyhall --lib typescript_bindings_are_current -- --exact tests::typescript_bindings_are_current
echo "wrote ui/src/bindings.ts"
