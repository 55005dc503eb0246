#!/usr/bin/env bash
# Refresh the vendored browser libraries from the npm registry. The console serves them
# itself (no CDN), so it works on closed networks such as LGWAN.
#
#   bash static/vendor/sync.sh
#
# Versions are pinned in the repository's package.json and package-lock.json; `npm ci`
# refuses a tarball whose sha512 differs from the lock file's `integrity`. Only the built
# files (JavaScript with its source map, CSS, images) and the licence are copied, into
# static/vendor/<package>/, with a VERSION file naming the version and integrity. Commit
# the result: tests and CI never need npm. To upgrade: change the version in package.json,
# `npm install --package-lock-only --ignore-scripts`, then run this script.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
vendor="$root/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp "$root/package.json" "$root/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn)

# vendor PACKAGE FILE...: each FILE of the package (a path inside it) lands in
# static/vendor/PACKAGE/ without its leading dist/ (the CSS finds images/ beside it).
vendor() {
  local package="$1" file
  shift
  rm -rf "${vendor:?}/$package"
  for file in "$@"; do
    install -D -m 0644 "$work/node_modules/$package/$file" "$vendor/$package/${file#dist/}"
  done
  node -e '
    const [lockFile, name] = process.argv.slice(1);
    const entry = require(lockFile).packages["node_modules/" + name];
    console.log(`${name} ${entry.version} ${entry.integrity}`);
  ' "$work/package-lock.json" "$package" >"$vendor/$package/VERSION"
}

vendor leaflet LICENSE dist/leaflet.js dist/leaflet.js.map dist/leaflet.css \
  dist/images/layers.png dist/images/layers-2x.png \
  dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png
vendor leaflet.markercluster MIT-LICENCE.txt \
  dist/leaflet.markercluster.js dist/leaflet.markercluster.js.map \
  dist/MarkerCluster.css dist/MarkerCluster.Default.css

# Chart.js: its UMD build bundles its one dependency (@kurkle/color), so one file serves.
vendor chart.js LICENSE.md dist/chart.umd.min.js dist/chart.umd.min.js.map

# axe-core: the accessibility checker the browser tests run on the residents' pages
# (tests/browser); served like the rest, never loaded by a page of the product.
vendor axe-core LICENSE axe.min.js

cat "$vendor/axe-core/VERSION" "$vendor/leaflet/VERSION" "$vendor/leaflet.markercluster/VERSION" "$vendor/chart.js/VERSION"
