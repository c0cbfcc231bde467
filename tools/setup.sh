#!/usr/bin/env bash
# Sets up isola on Debian 12 (as root): the Debian packages it uses, the npm dependencies, the build,
# the embedded busybox image, and the `isola` command in /usr/local/bin. Safe to run again: each step
# is skipped when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Debian packages: busybox-static for the default image; qemu-utils (qemu-img) as the qcow2 oracle;
# a C toolchain and kernel headers for guest kits and ABI tests; iproute2 for networks; umoci and
# skopeo to check that the images isola writes are readable by others; containerd (ctr) to drive
# isola-runtime the way Kubernetes nodes do, and podman for its --runtime; runc and crun for the
# side-by-side runtime benchmark; docker-registry (with htpasswd from apache2-utils) as the registry
# tests' server on 127.0.0.1; attr (setfattr) for overlay whiteouts and layer xattrs; qemu-system-x86
# to check the guest kit boots elsewhere too and for the side-by-side VMM benchmark.
PACKAGES=(busybox-static qemu-utils gcc libc6-dev linux-libc-dev binutils iproute2 umoci skopeo ca-certificates
  containerd runc crun podman docker-registry apache2-utils attr qemu-system-x86)

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || die "isola needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))"

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "these Debian packages are missing and installing them needs root: ${missing[*]}"
  say "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Debian kernel, unpacked into the cache rather than installed: the x86 decoder's test corpus (its
# .text) and the guest kernel of VM tests. Installing it would also rebuild an initramfs for nothing.
cache="${ISOLA_CACHE_DIR:-$HOME/.cache/isola}"
if ! ls "$cache"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
  say "Unpacking the Debian kernel image into $cache/kernel"
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$pkg" ] || { apt-get update -qq; pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'); }
  [ -n "$pkg" ] || die "cannot find the package behind linux-image-amd64"
  tmp=$(mktemp -d) && chmod 755 "$tmp" # apt downloads as the _apt user
  (cd "$tmp" && apt-get download -qq "$pkg") || die "apt-get download $pkg failed"
  rm -rf "$cache/kernel.partial" && mkdir -p "$cache/kernel.partial"
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$cache/kernel.partial" ./boot
  rm -rf "$cache/kernel" && mv "$cache/kernel.partial" "$cache/kernel"
  rm -rf "$tmp"
fi

# npm dependencies, reinstalled only when the lockfile changed.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.isola-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  say "Installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.isola-lock-sha256
fi

say "Building"
export NX_DAEMON=false NX_NO_CLOUD=true NX_ISOLATE_PLUGINS=false
npx nx run-many -t build --output-style=static >/tmp/isola-build.log 2>&1 || { cat /tmp/isola-build.log; die "the build failed"; }

say "Building the embedded busybox image"
node tools/busybox-image/dist/cli.js

# The small guest and CPU-loop binary `isola compare` runs (built with gcc into the guest kit's cache).
say "Building the guest isola compare runs"
node tools/guest-kit/build-compare.mjs >/dev/null

if [ "$(id -u)" -eq 0 ]; then
  ln -sfn "$repo/apps/cli/bin/isola.cjs" /usr/local/bin/isola
  say "isola is ready: /usr/local/bin/isola -> $repo/apps/cli/bin/isola.cjs"
else
  say "isola is ready: $repo/apps/cli/bin/isola.cjs (not linked into /usr/local/bin: not root)"
fi
