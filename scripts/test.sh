#!/usr/bin/env bash
# Installs what is missing and runs every check: formatting, lints, the Rust tests (unit,
# scenario, binary), the UI's typecheck, lint, unit tests and build, and the protocol
# doc client (Node) against the real relay binary.
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

step "Rust: format"
cargo fmt --all --check

step "Rust: clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "Rust: build binaries"
cargo build --workspace --bins

step "Rust: tests"
cargo test --workspace

if [ -f tests/doc-client/package.json ]; then
  step "Protocol doc client (Node, written from docs/protocol.md) against the relay binary"
  STUDYHALL_RELAY_BIN="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')/debug/studyhall-relay" \
    npm --prefix tests/doc-client test
fi

step "all checks passed"
