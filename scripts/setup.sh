#!/usr/bin/env bash
# Install everything this project needs on Debian/Ubuntu, then run the main job on QEMU.
#
#   scripts/setup.sh                 install (skips what is already there), then
#                                    hil build; hil info --target qemu; hil run --target qemu (the main
#                                    job: the acceptance suite, verdict table, reports/suite/report.html)
#   scripts/setup.sh --install-only  install only
#
# Idempotent and fast on a second run: apt is skipped when dpkg-query finds every package, pip when
# pyproject.toml has not changed since the last install. Works as root and as a sudo-capable user.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTALL_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --install-only) INSTALL_ONLY=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

APT_PACKAGES=(
    qemu-system-arm
    gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib make
    clang libclang-rt-14-dev  # host builds of the C codec, and fuzzing later
    python3-venv python3-pip
    ser2net socat  # the loopback labgrid farm (tests/farm): RFC 2217 serial server, ptys
)

missing_packages() {
    local pkg status
    for pkg in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [ "$status" = "installed" ] || echo "$pkg"
    done
}

install_system_packages() {
    local missing
    missing=$(missing_packages)
    if [ -z "$missing" ]; then
        echo "setup: system packages already installed"
        return
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup: need root or sudo to install: $missing" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "setup: installing $(echo $missing | tr '\n' ' ')"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

pick_python() {
    local candidate
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "setup: need Python >= 3.11 (found: $(python3 --version 2>&1))" >&2
    exit 1
}

# test: scikit-learn (oracle) and pytest-timeout; ml: TensorFlow for `hil train` and its tests;
# farm: labgrid, for --target labgrid and the loopback farm test.
PIP_EXTRAS="test,ml,farm"

install_python_package() {
    local stamp=.venv/.setup-stamp hash
    if [ ! -x .venv/bin/python ]; then
        "$(pick_python)" -m venv .venv
    fi
    hash=$( (cat pyproject.toml; echo "extras=$PIP_EXTRAS") | sha256sum | cut -d" " -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && .venv/bin/python -c 'import harness' 2>/dev/null; then
        echo "setup: python package up to date"
        return
    fi
    .venv/bin/python -m pip install -q -e ".[$PIP_EXTRAS]"
    echo "$hash" > "$stamp"
}

install_system_packages
install_python_package

if [ "$INSTALL_ONLY" -eq 1 ]; then
    exit 0
fi

.venv/bin/hil build
.venv/bin/hil info --target qemu
exec .venv/bin/hil run --target qemu
