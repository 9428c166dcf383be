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
# Installers and the update test: rpm reads the .rpm's metadata back
# (scripts/check-bundles.sh; the bundler writes .deb and .rpm itself), the
# update test serves packages with python3's http.server.
command -v rpm >/dev/null 2>&1 || need_apt+=(rpm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Sync keeps its sign-in in the OS keychain: the tests run a real Secret
# Service (gnome-keyring) in a private D-Bus session.
command -v gnome-keyring-daemon >/dev/null 2>&1 || need_apt+=(gnome-keyring)
command -v dbus-run-session >/dev/null 2>&1 || need_apt+=(dbus dbus-x11)
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

# PostgreSQL for the server's tests (crates/server). They read the URL from
# SHELFKEEPER_TEST_PG and fail, never skip, when nothing answers there. Uses
# the server on 127.0.0.1:5432 when one answers; otherwise installs Debian's
# postgresql and starts a throwaway cluster (trust auth, a free port, a temp
# directory) that stops when the calling script exits.
ensure_postgres() {
    if ! command -v pg_isready >/dev/null 2>&1; then
        echo "setup: installing postgresql-client" >&2
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
    fi
    if [ -n "${SHELFKEEPER_TEST_PG:-}" ]; then
        return 0
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        export SHELFKEEPER_TEST_PG="postgres://postgres@127.0.0.1:5432/postgres"
        return 0
    fi
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "setup: installing postgresql for the server tests" >&2
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    local dir port p
    dir="$(mktemp -d /tmp/shelfkeeper-pg.XXXXXX)"
    port=""
    for p in $(seq 55432 55632); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port="$p"; break; fi
    done
    [ -n "$port" ] || { echo "setup: no free port for PostgreSQL" >&2; return 1; }
    # initdb refuses to run as root: run the cluster as the postgres user.
    _sk_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    _sk_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    _sk_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    export SHELFKEEPER_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
    echo "setup: throwaway PostgreSQL on 127.0.0.1:$port ($dir)" >&2
    # Stop it when the script that sourced this file ends, however it ends.
    (
        while kill -0 $$ 2>/dev/null; do sleep 2; done
        _sk_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop
        rm -rf "$dir"
    ) >/dev/null 2>&1 &
}
