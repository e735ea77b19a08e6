#!/bin/sh
# `wrangler deploy --dry-run` of every worker and the dashboard with the production
# configuration: a broken binding, config or bundle fails here instead of at release. Prints each
# bundle's size against Cloudflare's limit and fails above it.
set -eu
. "$(dirname "$0")/toolchain-env.sh"
cd "$root"
# Workers' compressed size limit on the Free plan (the Paid plan allows 10 MB); we hold ourselves
# to the smaller one.
limit_kib=3072
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
printf '%-16s %12s %12s %10s\n' bundle "raw KiB" "gzip KiB" "limit KiB"
for worker in api-multi oauth-api front-auth-api; do
  if ! DREAM_SKIP_BUILD=1 wrangler deploy --dry-run -c "wrangler/$worker.toml" --env production \
      --outdir "$out/$worker" > "$out/$worker.log" 2>&1; then
    echo "$worker: wrangler deploy --dry-run failed:"; cat "$out/$worker.log"; status=1; continue
  fi
  sizes=$(sed -n 's/.*Total Upload: \([0-9.]*\) KiB \/ gzip: \([0-9.]*\) KiB.*/\1 \2/p' "$out/$worker.log")
  raw=${sizes% *}; gz=${sizes#* }
  printf '%-16s %12s %12s %10s\n' "$worker" "$raw" "$gz" "$limit_kib"
  if [ -z "$sizes" ] || [ "$(printf '%.0f' "$gz")" -gt "$limit_kib" ]; then
    echo "$worker: bundle over the limit (or size not reported)"; cat "$out/$worker.log"; status=1
  fi
done
# The dashboard as README "Deploying" ships it: config.json and _headers written for production
# URLs (example ones here); whatever was there before (a real deploy's, say) is put back after.
for f in config.json _headers; do
  if [ -e "frontend/dist/$f" ]; then cp "frontend/dist/$f" "$out/kept-$f"; fi
done
restore() {
  for f in config.json _headers; do
    if [ -e "$out/kept-$f" ]; then cp "$out/kept-$f" "frontend/dist/$f"; else rm -f "frontend/dist/$f"; fi
  done
  rm -rf "$out"
}
trap restore EXIT
DREAM_FRONT_AUTH_API_URL=https://auth.example.com DREAM_OAUTH_API_URL=https://oauth.example.com \
  DREAM_API_MULTI_URL=https://api.example.com CLERK_PUBLISHABLE_KEY="pk_live_$(printf 'clerk.example.com$' | base64)" \
  node frontend/scripts/write-config.mjs > "$out/write-config.log"
grep -q "frame-ancestors 'none'" frontend/dist/_headers || { echo "dashboard: no security headers written"; status=1; }
if ! wrangler deploy --dry-run -c wrangler/dashboard.toml --env production > "$out/dashboard.log" 2>&1; then
  echo "dashboard: wrangler deploy --dry-run failed:"; cat "$out/dashboard.log"; status=1
else
  # Static assets have a per-file limit (25 MiB) instead of a bundle limit.
  largest=$(find frontend/dist -type f -printf '%s\n' | sort -n | tail -1)
  printf '%-16s %12s %12s %10s\n' dashboard "$(du -sk frontend/dist | cut -f1)" "-" "25600/file"
  # What every visitor downloads first: the app's entry script (docs/design.md says what each
  # library in it costs).
  for js in frontend/dist/assets/index-*.js; do
    printf '%-16s %12s %12s %10s\n' "dashboard entry" "$(($(wc -c < "$js") / 1024))" "$(($(gzip -9 -c "$js" | wc -c) / 1024))" "-"
  done
  if [ "$largest" -gt $((25 * 1024 * 1024)) ]; then echo "dashboard: a file is over 25 MiB"; status=1; fi
fi
exit $status
