# Sourced by bin/start and bin/test: installs the pinned tools (deno, supabase CLI) from npm when missing or
# out of date, and puts them on PATH. Debian packages (PostgreSQL extensions) are installed by local/db.ts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export DO_NOT_TRACK=1 SUPABASE_TELEMETRY_DISABLED=1 RUST_BACKTRACE=0 DENO_NO_UPDATE_CHECK=1
if ! command -v npm >/dev/null 2>&1; then
  echo "bin/: npm is required (Node.js 20+) to install the pinned deno and supabase binaries" >&2
  exit 1
fi
stamp=tools/node_modules/.installed-lock
if [ ! -x tools/node_modules/.bin/deno ] || [ ! -x tools/node_modules/.bin/supabase ] ||
  ! cmp -s tools/package-lock.json "$stamp"; then
  echo "bin/: installing deno and the supabase CLI from npm (tools/package-lock.json)" >&2
  (cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tools/package-lock.json "$stamp"
fi
export PATH="$ROOT/tools/node_modules/.bin:$PATH"
