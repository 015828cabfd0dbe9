#!/usr/bin/env bash
# Rebuilds the committed WebAssembly guests from source: the test fixtures in test/fixtures/ and
# the example guests in examples/. Rust crates with Debian's offline toolchain, .wat files with
# the npm `wabt` package. Runnable from any directory. See /work/shared/GUESTS.md for the toolchain.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Rust guest crates, as "crate folder:output folder" (relative to the repository root). Each is
# built for the target its .cargo/config.toml names, to <output folder>/<crate name>.wasm.
crates=(test/wasm_test:test/fixtures test/wasi_test:test/fixtures test/alloc_test:test/fixtures
  test/host_test:test/fixtures test/wasi_cmd:test/fixtures test/wapc_test:test/fixtures test/wapc_wasi_test:test/fixtures test/kit_test:test/fixtures
  test/isolation_test:test/fixtures)
for dir in "$root"/examples/guests/*/; do
  [[ -f "$dir/Cargo.toml" ]] && crates+=("examples/guests/$(basename "$dir"):examples")
done
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

for entry in "${crates[@]}"; do
  dir="$root/${entry%%:*}"
  out="$root/${entry#*:}"
  crate="$(basename "$dir")"
  # The [build] target of the crate's .cargo/config.toml: wasm32-unknown-unknown or wasm32-wasi.
  target="$(sed -n 's/^target *= *"\(.*\)"/\1/p' "$dir/.cargo/config.toml")"
  [[ -n "$target" ]] || { echo "error: $dir/.cargo/config.toml names no [build] target" >&2; exit 1; }
  [[ -d "/usr/lib/rustlib/$target" ]] \
    || { echo "error: no std for $target in /usr/lib/rustlib (apt-get install libstd-rust-dev-wasm32)" >&2; exit 1; }
  echo "building $crate ($target)"
  # --locked: the committed Cargo.lock (resolved against Debian's registry) is the one used.
  (cd "$dir" && env PATH="/usr/bin:$PATH" RUSTC="$rustc" "$cargo" build --release --locked --quiet)
  # install -m 0644: a fixed file mode, not cargo's executable bit.
  install -m 0644 "$dir/target/$target/release/$crate.wasm" "$out/$crate.wasm"
  echo "$crate -> ${entry#*:}/$crate.wasm ($(wc -c <"$out/$crate.wasm") bytes)"
done

node "$root/scripts/build-wat.mjs" "${wat_dirs[@]}"

# AssemblyScript guests, each built to test/fixtures/<folder>.wasm; asconfig.json holds the flags
# and the output path. as_kit uses the guest kit in guest-kit/assemblyscript.
# Built from the root: as_abort's abort messages embed its source path, relative to the cwd.
for guest in as_alloc as_kit as_abort as_bump; do
  (cd "$root" && node_modules/.bin/asc --config "test/$guest/asconfig.json")
  echo "$guest -> test/fixtures/$guest.wasm ($(wc -c <"$root/test/fixtures/$guest.wasm") bytes)"
done

# WebAssembly components: a core module (Rust crate for wasm32-unknown-unknown, or .wat) with its
# WIT world embedded, by scripts/build-components.mjs. Entries are "core source:wit:world:output".
components=(
  "examples/components/caesar:examples/components/caesar/wit/world.wit:encoder-decoder-service:examples/caesar.wasm"
  "test/components/types:test/components/types/world.wit:types:test/fixtures/component_types.wasm"
  "test/components/faults.wat:test/components/faults.wit:faults:test/fixtures/component_faults.wasm"
  "test/components/needs-secret.wat:test/components/faults.wit:needs-secret:test/fixtures/component_needs_secret.wasm"
  "test/components/wasi-probe.wat:test/components/wasi-probe.wit:wasi-probe:test/fixtures/component_wasi_probe.wasm"
  "test/components/broken-cipher.wat:examples/components/caesar/wit/world.wit:encoder-decoder-service:test/fixtures/component_broken_cipher.wasm"
  "test/components/file-probe.wat:test/components/file-probe.wit:file-probe:test/fixtures/component_file_probe.wasm"
)
for entry in "${components[@]}"; do
  IFS=: read -r source wit world out <<<"$entry"
  core="$source"
  if [[ -f "$root/$source/Cargo.toml" ]]; then
    crate="$(basename "$source")"
    echo "building $crate (wasm32-unknown-unknown, component core)"
    (cd "$root/$source" && env PATH="/usr/bin:$PATH" RUSTC="$rustc" "$cargo" build --release --locked --quiet)
    core="$source/target/wasm32-unknown-unknown/release/$crate.wasm"
  fi
  node "$root/scripts/build-components.mjs" "$core" "$wit" "$world" "$out"
done
