#!/bin/sh
# Builds one worker crate to Wasm (`build/worker/shim.mjs`) with the pinned offline toolchain.
# wrangler runs this as the worker's [build] command. The local stack builds every worker once
# before starting wrangler and sets DREAM_SKIP_BUILD=1 so the three wrangler processes do not
# rebuild in parallel on a 2-core machine.
set -eu
crate="$1"
. "$(dirname "$0")/toolchain-env.sh"
if [ "${DREAM_SKIP_BUILD:-}" = 1 ] && [ -f "$root/$crate/build/worker/shim.mjs" ]; then
  exit 0
fi
cd "$root/$crate"
exec worker-build --release
