#!/usr/bin/env bash
# Makes the Dockerfile's base images, debian:bookworm and debian:bookworm-slim, from the
# Debian mirror that apt uses on this machine (mmdebstrap), and imports them into the
# local container storage under the names the Dockerfile uses (podman import), as
# docker.io/library/debian:bookworm[-slim]. Docker Hub is not needed.
#
# Like the official images: variant minbase, /usr merged; -slim also leaves out
# documentation, man pages and locales (dpkg path-exclude, as the official slim images do).
# An image already in the local storage is kept (pass --force to make it again).
set -euo pipefail

force=0
[ "${1:-}" = "--force" ] && force=1

# The mirror apt uses here: the first deb822 URIs: line or sources.list entry for bookworm.
mirror() {
  local uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/{u=$2} /^Suites:/{ for (i=2;i<=NF;i++) if ($i=="bookworm") { print u; exit } }' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

MIRROR=$(mirror)
SECURITY=${MIRROR%/debian}/debian-security
work=$(mktemp -d /var/tmp/outrigger-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

make_image() { # name, extra mmdebstrap options...
  local name=$1
  shift
  if [ "$force" = 0 ] && podman image exists "docker.io/library/debian:$name"; then
    echo "base image debian:$name: already in local storage"
    return 0
  fi
  local t0=$SECONDS
  # merged-usr hook: /usr merged as in the official images, without the usrmerge
  # package (which would pull in perl).
  mmdebstrap --quiet --variant=minbase --mode=root --format=tar \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='Acquire::Retries "3"' \
    "$@" bookworm "$work/$name.tar" \
    "deb $MIRROR bookworm main" \
    "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main"
  podman import --quiet \
    --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$work/$name.tar" "docker.io/library/debian:$name" >/dev/null
  rm -f "$work/$name.tar"
  echo "base image debian:$name: made from $MIRROR in $((SECONDS - t0)) s"
}

make_image bookworm
make_image bookworm-slim \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*'
