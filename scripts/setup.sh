#!/usr/bin/env bash
# Installs what building Shelfkeeper needs on Debian/Ubuntu. Idempotent:
# installs only what is missing. Sourced by run.sh and test.sh.
set -euo pipefail

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v curl >/dev/null 2>&1 || need_apt+=(curl ca-certificates)
command -v mold >/dev/null 2>&1 || need_apt+=(mold)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The desktop shell: WebKitGTK and friends (Tauri 2 on Linux).
for pkg in libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libssl-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}" >&2
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "setup: installing the Rust toolchain (rustup)" >&2
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi

# mold links several times faster than the default linker.
if command -v mold >/dev/null 2>&1 && [ -z "${SHELFKEEPER_NO_MOLD:-}" ]; then
    case " ${RUSTFLAGS:-} " in
        *fuse-ld=mold*) ;;
        *) export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-fuse-ld=mold" ;;
    esac
fi

# The web front end: installed from package-lock.json when it changed.
ensure_ui_deps() {
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
        (cd ui && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
