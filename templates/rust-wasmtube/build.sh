#!/usr/bin/env bash
# Builds {{name}}.wasm offline with Debian's Rust toolchain (see README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Debian's rustc has the wasm32 standard library; a rustup toolchain first on PATH may not.
rustc="${RUSTC:-/usr/bin/rustc}"
cargo="${CARGO:-/usr/bin/cargo}"
for tool in "$rustc" "$cargo"; do
  [[ -x "$tool" ]] || { echo "error: $tool not found (apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14)" >&2; exit 1; }
done

env PATH="/usr/bin:$PATH" RUSTC="$rustc" "$cargo" build --release --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
cp "$target_dir/wasm32-unknown-unknown/release/guest.wasm" {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
