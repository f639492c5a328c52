#!/usr/bin/env bash
# Rewrites package-lock.json so that it records every platform's optional binaries (Biome's,
# esbuild's, ...), which `npm ci` on npm 11 requires (npm/cli#8805). With a node_modules
# present, npm builds the lock from what is installed here and leaves other platforms' entries
# out; so the lock is resolved in an empty directory, keeping every version the lock already
# pins, and only then copied back. Run it after adding, removing or upgrading a dependency.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp package.json "$work/"
if [ -f package-lock.json ]; then cp package-lock.json "$work/"; fi

(cd "$work" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund)
# The check `npm ci` makes, without installing anything.
(cd "$work" && npm ci --dry-run --ignore-scripts --no-audit --no-fund >/dev/null)
cp "$work/package-lock.json" package-lock.json
echo "package-lock.json rewritten; run npm install (or npm ci) to update node_modules"
