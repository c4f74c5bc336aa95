#!/usr/bin/env bash
# Set up a software Vulkan device for the tfjs engine's WebGPU test (test/engine/webgpu.test.ts) on a machine without a
# GPU: Mesa's lavapipe. Dawn refuses Debian 12's own Mesa 22.3; Mesa 25 from bookworm-backports works, so on Debian 12
# the backports suite is added (its packages have a lower priority: nothing else is upgraded from it) and
# mesa-vulkan-drivers + libvulkan1 are installed from there. Other systems: install Mesa >= 24 with lavapipe yourself.
#
# Idempotent: a second run only checks. Needs no network but the Debian mirror, and that only when something is missing.
set -euo pipefail
log() { printf '[webgpu-setup] %s\n' "$*" >&2; }

if [ -f /usr/share/vulkan/icd.d/lvp_icd.json ] && dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^2[4-9]\.'; then
  log "lavapipe present: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  exit 0
fi
. /etc/os-release
if [ "${ID:-}" != debian ] || [ "${VERSION_CODENAME:-}" != bookworm ]; then
  log "not Debian 12 (${PRETTY_NAME:-unknown}): install Mesa >= 24's lavapipe (mesa-vulkan-drivers) and libvulkan1 yourself"
  exit 0
fi
SUDO=()
[ "$(id -u)" -ne 0 ] && SUDO=(sudo)
sources=/etc/apt/sources.list.d/dsod-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding bookworm-backports ($sources)"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
    "${SUDO[@]}" tee "$sources" >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
log "installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) (lavapipe)"
