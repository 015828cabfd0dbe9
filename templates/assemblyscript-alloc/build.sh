#!/usr/bin/env bash
# Builds {{name}}.wasm with the AssemblyScript compiler (see README.md). The compiler is found
# in $ASC, else ./node_modules/.bin/asc (after `npm install`), else `asc` on PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ -n "${ASC:-}" ]]; then
  asc="$ASC"
elif [[ -x node_modules/.bin/asc ]]; then
  asc=node_modules/.bin/asc
elif command -v asc >/dev/null; then
  asc=asc
else
  echo "error: no AssemblyScript compiler: run \`npm install\` here (or set ASC=/path/to/asc)" >&2
  exit 1
fi

# asconfig.json holds the flags: `use: ["abort="]` drops the env.abort import (the host provides
# one anyway), and the incremental runtime keeps the heap the host allocates from.
"$asc" --config asconfig.json
echo "built {{name}}.wasm ($(wc -c <{{name}}.wasm) bytes)"
