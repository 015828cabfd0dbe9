#!/usr/bin/env bash
# Builds {{name}}.wasm from {{name}}.wat (see README.md). The compiler is found in $WAT2WASM,
# else ./node_modules/.bin/wat2wasm (npm `wabt`, after `npm install`), else `wat2wasm` on PATH
# (Debian package `wabt`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -n "${WAT2WASM:-}" ]]; then
  wat2wasm="$WAT2WASM"
elif [[ -x node_modules/.bin/wat2wasm ]]; then
  wat2wasm=node_modules/.bin/wat2wasm
elif command -v wat2wasm >/dev/null; then
  wat2wasm=wat2wasm
else
  echo "error: no wat2wasm: run \`npm install\` here, or apt-get install wabt (or set WAT2WASM)" >&2
  exit 1
fi

"$wat2wasm" {{name}}.wat -o {{name}}.wasm
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
