#!/usr/bin/env bash
# Installs the system packages LM Workbench needs on a fresh Debian/Ubuntu machine, only those missing:
# the X11/Wayland client libraries winit loads at run time, and Vulkan/OpenGL drivers (Mesa's CPU
# renderers lavapipe/llvmpipe are enough: the app and its rendering tests run without a GPU), and
# fallback fonts for emoji and symbols.
# Rust (cargo) and Python 3 with pip are expected to be there already.
set -euo pipefail
packages=(
  libvulkan1 mesa-vulkan-drivers libegl1 libgl1 libgl1-mesa-dri
  libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 libwayland-client0
  fonts-symbola fonts-dejavu-core
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-deps: please install: ${missing[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
