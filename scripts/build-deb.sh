#!/usr/bin/env bash
# `npm run package`: builds the Debian package out/halo_VERSION_all.deb with dpkg-deb (no fpm).
#   /usr/lib/halo          the `npm pack` tarball (package.json "files": dist/src + dist/web, no
#                          tests) plus its production dependencies (`npm ci --omit=dev`)
#   /usr/bin/halo          symlink to /usr/lib/halo/dist/src/cli/main.js (#!/usr/bin/env node)
#   /lib/systemd/system    packaging/halo-agent.service, packaging/halo-witness.service
#   /etc/halo/halo.yaml    packaging/halo.yaml, a dpkg conffile: upgrades keep the admin's edits
#   /usr/share/doc/halo    docs/*.md (the units' Documentation= points here)
# Maintainer scripts: packaging/debian/{postinst,prerm,postrm}. See docs/install.md.
# Environment: HALO_DEB_OUT (output dir, default out/); HALO_DEB_XZ_LEVEL (xz level of the
# data archive, default 6 as dpkg-deb's own: level 1 builds in 2 s instead of 16 s and makes a
# package ~35 % larger, which suits a test that installs it once and throws it away).
set -euo pipefail
cd "$(dirname "$0")/.."

pkg_version="$(node -p "require('./package.json').version")"
# The Debian version is package.json's, with a semver pre-release "1.0.0-rc.1" spelled
# "1.0.0~rc.1": in Debian a hyphen starts the revision, and "~" sorts before the release.
version="${pkg_version/-/\~}"
xz_level="${HALO_DEB_XZ_LEVEL:-6}"
if [[ ! $xz_level =~ ^[0-9]$ ]]; then
  echo "build-deb: HALO_DEB_XZ_LEVEL is \"$xz_level\"; expected a digit 0-9 (xz level)" >&2
  exit 2
fi
out="$(realpath -m "${HALO_DEB_OUT:-out}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/root"
lib="$stage/usr/lib/halo"

# Built in a scratch copy, not in the repository's dist/: `npm test` may run this while other
# test files use dist/ (and the web UI build empties its output directory first).
echo "== build (tsc, web UI) in $work/build"
build="$work/build"
mkdir -p "$build"
cp package.json README.md "$build/"
cp -r schema "$build/"
# tsconfig.package.json is tsconfig.json without the tests, lab and benchmarks: the package ships
# dist/src only, and compiling half the code halves the time.
npx tsc -p tsconfig.package.json --outDir "$build/dist" --tsBuildInfoFile "$build/dist/.tsbuildinfo"
bash scripts/build-web.sh "$build/dist" >/dev/null
chmod +x "$build/dist/src/cli/main.js"
echo "== npm pack (package.json \"files\": dist/src, dist/web, schema)"
(cd "$build" && npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null)
tar -xzf "$work/halo-$pkg_version.tgz" -C "$work"
install -d "$stage/usr/lib" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/halo" \
  "$stage/usr/share/doc/halo" "$stage/DEBIAN"
mv "$work/package" "$lib"

echo "== production dependencies (npm ci --omit=dev)"
cp package-lock.json "$lib/"
# --ignore-scripts: keeps the root's `prepare` (a dev build) from running; the one production
# dependency with an install script, protobufjs, only prints a version hint from it.
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
rm -f "$lib/package-lock.json"

# What must not ship: tests, dev dependencies, native binaries (the package is Architecture: all).
for bad in dist/test dist/bench node_modules/typescript node_modules/@biomejs node_modules/vite; do
  if [ -e "$lib/$bad" ]; then echo "build-deb: $bad would be shipped" >&2; exit 1; fi
done
if [ -n "$(find "$lib" -name '*.node' -print -quit)" ]; then
  echo "build-deb: native module found; the package cannot be Architecture: all" >&2
  exit 1
fi
test -f "$lib/dist/web/index.html" || { echo "build-deb: web UI missing from dist/web" >&2; exit 1; }

ln -s ../lib/halo/dist/src/cli/main.js "$stage/usr/bin/halo"
install -m 0644 packaging/halo-agent.service packaging/halo-witness.service "$stage/lib/systemd/system/"
install -m 0644 packaging/halo.yaml "$stage/etc/halo/halo.yaml"
install -m 0644 docs/*.md "$stage/usr/share/doc/halo/"
# Debian Policy 12.5: every package carries its copyright file.
cat > "$stage/usr/share/doc/halo/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: halo

Files: *
Copyright: the Halo authors
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0. The bundled Node.js modules under
 /usr/lib/halo/node_modules carry their own licenses in their directories.
COPYRIGHT

install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
printf '/etc/halo/halo.yaml\n' > "$stage/DEBIAN/conffiles"
# md5sums of everything but the conffiles (dpkg records those itself), for debsums and dpkg -V.
(cd "$stage" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z \
  | xargs -0 md5sum > DEBIAN/md5sums)
size_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
# Depends: Debian's own nodejs is 18 in bookworm and 20 in trixie; NodeSource's packages are
# named nodejs too (20.x.y-1nodesource1), so one versioned dependency covers both.
cat > "$stage/DEBIAN/control" <<CONTROL
Package: halo
Version: $version
Architecture: all
Maintainer: Halo maintainers <halo@localhost>
Installed-Size: $size_kb
Depends: nodejs (>= 20)
Section: admin
Priority: optional
Homepage: https://halo.invalid/
Description: high-availability failover cluster manager
 Halo keeps a service reachable when the server running it dies: an agent on
 every server moves failover groups (a virtual IP or cloud route, the
 application, its data mount, a DNS name) to a healthy node, never to two at
 once, under leases granted by a majority of voters (the nodes and a witness).
CONTROL

mkdir -p "$out"
deb="$out/halo_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz "-z$xz_level" --build "$stage" "$deb" >/dev/null
echo "$deb"
