# Sourced by the scripts: puts the toolchains install-deps.sh may have installed on PATH.
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
[ -d "$HOME/.local/studyhall-node/node_modules/.bin" ] && export PATH="$HOME/.local/studyhall-node/node_modules/.bin:$PATH"
true
