#!/usr/bin/env bash
# Fails if the committed test/fixtures/*.wasm and examples/*.wasm are not exactly what their
# sources build to:
# rebuilds them, then asks git whether any .wasm changed, vanished or is untracked.
# Runnable from any directory; the rebuilt files are left in place for inspection.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/build-fixtures.sh

# Porcelain lines are "XY path": X is the index against HEAD, Y the work tree against
# the index; "??" is untracked. Any line at all means a fixture is not committed as built.
changed="$(git status --porcelain --untracked-files=all -- 'test/fixtures/*.wasm' 'examples/*.wasm')"
if [[ -n "$changed" ]]; then
  echo >&2
  echo "error: rebuilt fixtures differ from the committed ones (or are not committed):" >&2
  echo "$changed" | sed 's/^/  /' >&2
  echo "Commit the rebuilt .wasm files together with the source change that produced them." >&2
  exit 1
fi
echo "fixtures are up to date"
