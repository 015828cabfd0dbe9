#!/usr/bin/env bash
# Builds {{name}}.wasm, a WebAssembly component, offline: Debian's Rust toolchain makes the core
# module, `wasmtube componentize` embeds wit/world.wit and wraps it (see README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Debian's rustc has the wasm32 standard library; a rustup toolchain first on PATH may not.
rustc="${RUSTC:-/usr/bin/rustc}"
cargo="${CARGO:-/usr/bin/cargo}"
for tool in "$rustc" "$cargo"; do
  [[ -x "$tool" ]] || { echo "error: $tool not found (apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14)" >&2; exit 1; }
done
# The wasmtube CLI of this project (npx), unless WASMTUBE names another.
read -r -a wasmtube <<<"${WASMTUBE:-npx --no-install wasmtube}"

env PATH="/usr/bin:$PATH" RUSTC="$rustc" "$cargo" build --release --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
"${wasmtube[@]}" componentize "$target_dir/wasm32-unknown-unknown/release/guest.wasm" \
  --wit wit/world.wit --world guest -o {{name}}.wasm
