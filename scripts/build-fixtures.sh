#!/usr/bin/env bash
# Rebuilds the committed WebAssembly test fixtures in test/fixtures/ from source:
# Rust crates with Debian's offline toolchain, .wat files with the npm `wabt` package.
# Runnable from any directory. See /work/shared/GUESTS.md for the toolchain.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$root/test/fixtures"

# Rust guest crates under test/, each built to test/fixtures/<crate>.wasm.
crates=(wasm_test wasi_test)
# Folders of .wat files, each compiled to <folder>/../<name>.wasm.
wat_dirs=(test/fixtures/wat)

# Debian's rustc has the wasm32 std; the rustup toolchain first on PATH does not.
rustc=/usr/bin/rustc
cargo=/usr/bin/cargo
for tool in "$rustc" "$cargo"; do
  [[ -x "$tool" ]] || { echo "error: $tool not found (apt-get install rustc cargo libstd-rust-dev-wasm32)" >&2; exit 1; }
done
# rustc links wasm with rust-lld, which Debian symlinks to lld-14 (only suggested by rustc).
[[ -e /usr/bin/rust-lld ]] \
  || { echo "error: /usr/bin/rust-lld is missing or a dangling link (apt-get install lld-14)" >&2; exit 1; }

for crate in "${crates[@]}"; do
  echo "building $crate"
  # --locked: the committed Cargo.lock (resolved against Debian's registry) is the one used.
  (cd "$root/test/$crate" && env PATH="/usr/bin:$PATH" RUSTC="$rustc" "$cargo" build --release --locked --quiet)
  # install -m 0644: a fixed file mode, not cargo's executable bit.
  # The target (wasm32-unknown-unknown or wasm32-wasi) is the one the crate's .cargo/config.toml sets.
  target="$(sed -n 's/^target = "\(.*\)"/\1/p' "$root/test/$crate/.cargo/config.toml")"
  install -m 0644 "$root/test/$crate/target/$target/release/$crate.wasm" "$fixtures/$crate.wasm"
  echo "$crate -> test/fixtures/$crate.wasm ($(wc -c <"$fixtures/$crate.wasm") bytes)"
done

node "$root/scripts/build-wat.mjs" "${wat_dirs[@]}"
