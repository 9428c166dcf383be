#!/usr/bin/env bash
# Load benchmark of shelfkeeper-server on 127.0.0.1 (not a test).
#
#   scripts/bench-server.sh [--backend sqlite|postgres|both] [--duration SECS]
#
# Builds the server in release, starts it on a free loopback port over a
# fresh store (a SQLite file in a temporary directory; with postgres, a new
# database on the server at $SHELFKEEPER_BENCH_PG, default
# postgres://postgres@127.0.0.1:5432, dropped afterwards), with a local SMTP
# sink so registration works as for anyone: the verification links are read
# from the sink's mail. The per-IP login and mail limits are raised in the
# server's configuration file (everything comes from one client address);
# nothing in the code changes for the benchmark.
#
# Seeds a library (titles, copies, members), then measures with wrk, each
# run bounded by --duration (default 10 s):
#   GET /auth/me at 32 and 300 connections; login at 1, 4, 16 and 300;
#   search (a rotation of queries); circulation (every request a real
#   check-out or check-in: each wrk thread lends every copy of its own slice,
#   then takes them all back, and again); /me at 32 connections while 16
#   connections of logins keep the hashing pool full.
# The single-hash time is the server's own argon2 timing
# (shelfkeeper_hash_seconds in /metrics) during the 1-connection login run.
# Prints a Markdown table; the raw wrk output stays in the work directory.
set -euo pipefail

backend=sqlite
duration=10
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$backend" in sqlite|postgres|both) ;; *) echo "--backend sqlite|postgres|both" >&2; exit 2 ;; esac

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
command -v python3 >/dev/null || { echo "python3 is needed (SMTP sink, seeding)" >&2; exit 1; }

echo "building shelfkeeper-server (release)" >&2
cargo build --release -q -p shelfkeeper-server --bin shelfkeeper-server
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/release/shelfkeeper-server"

work="$(mktemp -d /tmp/sk-bench.XXXXXX)"
pids=()
pg_dbs=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    for d in "${pg_dbs[@]}"; do psql -q "$pg_admin/postgres" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
pg_admin="${SHELFKEEPER_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ------------------------------------------------------------- SMTP sink
# Accepts every message and writes it to DIR/N.eml (one DIR per backend).
cat > "$work/smtp_sink.py" <<'PY'
import os, socketserver, sys, itertools
out = sys.argv[2]
seq = itertools.count()
class H(socketserver.StreamRequestHandler):
    def handle(self):
        w = lambda s: (self.wfile.write(s.encode() + b"\r\n"), self.wfile.flush())
        w("220 sink ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode(errors="replace").strip().upper()
            if cmd.startswith("EHLO"):
                w("250-sink"); w("250 8BITMIME")
            elif cmd.startswith("DATA"):
                w("354 end with .")
                data = []
                while True:
                    l = self.rfile.readline()
                    if l in (b".\r\n", b".\n", b""):
                        break
                    data.append(l[1:] if l.startswith(b"..") else l)
                path = os.path.join(out, "%06d.eml" % next(seq))
                with open(path + ".tmp", "wb") as f:
                    f.write(b"".join(data))
                os.rename(path + ".tmp", path)
                w("250 queued")
            elif cmd.startswith("QUIT"):
                w("221 bye"); return
            else:
                w("250 ok")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY

# ---------------------------------------------------------------- seeding
cat > "$work/seed.py" <<'PY'
"""Registers accounts through the API (verification links read from the
sink), creates a library, titles, copies and members. Prints shell
assignments for the benchmark."""
import glob, http.client, json, os, quopri, random, re, sys, threading, time
port, maildir, ntitles, nmembers = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
PW = "bench horse battery staple"

def call(conn, method, path, body=None, token=None):
    h = {"content-type": "application/json"}
    if token:
        h["authorization"] = "Bearer " + token
    conn.request(method, "/api/v1" + path, body=None if body is None else json.dumps(body), headers=h)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)

def ok(res, *codes):
    st, body = res
    if st not in codes:
        sys.exit("seeding: unexpected %s: %s" % (st, body))
    return body

c = http.client.HTTPConnection("127.0.0.1", port)

def register(email):
    before = set(glob.glob(maildir + "/*.eml"))
    ok(call(c, "POST", "/auth/register", {"email": email, "password": PW}), 202)
    for _ in range(200):
        for f in sorted(set(glob.glob(maildir + "/*.eml")) - before):
            text = quopri.decodestring(open(f, "rb").read()).decode("utf-8", "replace")
            if email in text:
                m = re.search(r"/api/v1(/auth/verify-email\?token=[A-Za-z0-9_.-]+)", text)
                ok(call(c, "GET", m.group(1)), 200)
                return
        time.sleep(0.05)
    sys.exit("seeding: no verification mail for " + email)

register("admin@bench.test")
register("reader@bench.test")
tok = ok(call(c, "POST", "/auth/login", {"email": "admin@bench.test", "password": PW}), 200)["access_token"]
reader = ok(call(c, "POST", "/auth/login", {"email": "reader@bench.test", "password": PW}), 200)["access_token"]
lib = ok(call(c, "POST", "/libraries", {"name": "Bench library"}, tok), 201)["id"]
ok(call(c, "PUT", "/libraries/%s/memberships" % lib, {"email": "reader@bench.test", "role": "member"}, tok), 200)
ok(call(c, "PUT", "/libraries/%s/member-types/adult" % lib,
        {"name": "Adult", "loan_days": 21, "max_renewals": 2, "max_loans": 1000, "hold_pickup_days": 7}, tok), 200)

rnd = random.Random(8)
adj = "silent hidden broken golden northern lost last first distant bitter quiet burning".split()
noun = "river garden house city winter empire ocean letter mountain forest machine island".split()
people = "Ada Lovelace|Mary Shelley|Ursula Le Guin|Jorge Luis Borges|Italo Calvino|Toni Morrison|Stanislaw Lem|Octavia Butler".split("|")
subjects = ["History", "Science", "Fiction", "Poetry", "Travel", "Philosophy"]
langs = ["en", "en", "en", "fr", "de"]

def worker(k, n):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(k, ntitles, n):
        t = {"title": "The %s %s %d" % (rnd.choice(adj), rnd.choice(noun), i),
             "contributors": [{"name": rnd.choice(people), "role": "author"}],
             "subjects": [rnd.choice(subjects)], "tags": [rnd.choice(["classic", "new", "signed"])],
             "language": rnd.choice(langs), "published": str(1900 + i % 120)}
        tid = ok(call(conn, "POST", "/libraries/%s/titles" % lib, t, tok), 201)["id"]
        ok(call(conn, "POST", "/libraries/%s/titles/%s/copies" % (lib, tid),
                {"barcode": "C%06d" % i, "location": rnd.choice(["Main", "Annex"])}, tok), 201)
    for i in range(k, nmembers, n):
        ok(call(conn, "POST", "/libraries/%s/members" % lib,
                {"card": "M%04d" % i, "name": "Member %d" % i, "member_type": "adult"}, tok), 201)

failed = []
def guarded(k, n):
    try:
        worker(k, n)
    except BaseException as e:
        failed.append(e)
threads = [threading.Thread(target=guarded, args=(k, 4)) for k in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
if failed:
    sys.exit("seeding failed: %s" % failed[0])
print("LIB=%s\nTOKEN=%s\nREADER=%s\nCOPIES=%d\nMEMBERS=%d" % (lib, tok, reader, ntitles, nmembers))
PY

# ---------------------------------------------------------------- wrk Lua
# Every script ends with the same done(): one JSON line with the figures.
cat > "$work/report.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,"errors":%d,"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
lua_script() { # name, body
    { printf '%s\n' "$2"; cat "$work/report.lua"; } > "$work/$1.lua"
}
lua_script me 'wrk.headers["authorization"] = "Bearer " .. os.getenv("SK_TOKEN")'
lua_script login 'wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = "{\"email\":\"reader@bench.test\",\"password\":\"bench horse battery staple\"}"'
lua_script search 'local lib = os.getenv("SK_LIB")
local qs = { "q=river", "q=the+golden", "q=borges+history", "q=lovelace&sort=recently_added",
  "language=fr&available=true", "q=mountain&year_from=1950&year_to=1990", "q=C0001", "tag=signed&sort=title",
  "q=zzzz", "q=of&location=Annex" }
local i = 0
wrk.headers["authorization"] = "Bearer " .. os.getenv("SK_READER")
function request()
  i = i + 1
  return wrk.format("GET", "/api/v1/libraries/" .. lib .. "/titles?" .. qs[(i % #qs) + 1] .. "&limit=20")
end'
lua_script circ 'local n = 0
function setup(thread) thread:set("slot", n); n = n + 1 end
local lib, copies, members, threads = os.getenv("SK_LIB"), tonumber(os.getenv("SK_COPIES")), tonumber(os.getenv("SK_MEMBERS")), tonumber(os.getenv("SK_THREADS"))
-- Each run lends and returns its own range of copies (SK_CIRC_FROM, SK_CIRC_COUNT),
-- so a second run does not start on copies the first left on loan.
local from, count = tonumber(os.getenv("SK_CIRC_FROM") or "0"), tonumber(os.getenv("SK_CIRC_COUNT") or os.getenv("SK_COPIES"))
local per, first, i, lending
function init(args)
  per = math.floor(count / threads); first = from + slot * per; i = 0; lending = true
end
wrk.headers["authorization"] = "Bearer " .. os.getenv("SK_TOKEN")
wrk.headers["content-type"] = "application/json"
function request()
  local k = first + i
  i = i + 1
  local lend = lending
  if i == per then i = 0; lending = not lending end
  if lend then
    return wrk.format("POST", "/api/v1/libraries/" .. lib .. "/checkout", nil, string.format("{\"barcode\":\"C%06d\",\"card\":\"M%04d\"}", k, k % members))
  end
  return wrk.format("POST", "/api/v1/libraries/" .. lib .. "/checkin", nil, string.format("{\"barcode\":\"C%06d\"}", k))
end'

# ------------------------------------------------------------- one backend
results="$work/results.md"
: > "$results"

metric() { # name suffix (sum|count) -> value from /metrics
    curl -s -H "Authorization: Bearer bench-metrics-token-0123" "http://127.0.0.1:$port/metrics" | awk -v m="shelfkeeper_hash_seconds_$1" '$1==m {print $2}'
}

run_wrk() { # label script connections [extra wrk args...]
    local label="$1" script="$2" conns="$3"; shift 3
    local threads=2
    [ "$conns" -lt 2 ] && threads=1
    local out="$work/$be-$(echo "$label" | tr -c 'a-zA-Z0-9' '_').txt"
    SK_THREADS=$threads wrk -t"$threads" -c"$conns" -d"${duration}s" --timeout 15s -s "$work/$script.lua" "$@" "http://127.0.0.1:$port$path" > "$out" 2>&1 || true
    local r
    r="$(grep '^RESULT ' "$out" | sed 's/^RESULT //')"
    if [ -z "$r" ]; then echo "wrk failed for $label: $(cat "$out")" >&2; return; fi
    python3 - "$be" "$label" "$conns" "$r" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results" <<'PY'
import json, sys
be, label, conns, r, load = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
print("| %s | %s | %s | %s | %.2f | %.2f | %d | %s |" % (be, label, conns, format(round(r["rps"]), ","), r["p50_ms"], r["p99_ms"], r["errors"], load))
PY
    tail -1 "$results" >&2
}

bench_one() {
    be="$1"
    local dir="$work/$be"
    mkdir -p "$dir"
    local smtp_port
    smtp_port="$(free_port)"
    mkdir -p "$dir/mail"
    python3 "$work/smtp_sink.py" "$smtp_port" "$dir/mail" &
    pids+=($!)
    port="$(free_port)"
    local db_url
    if [ "$be" = postgres ]; then
        local name="sk_bench_$(date +%s)_$$"
        psql -q "$pg_admin/postgres" -c "CREATE DATABASE $name" >/dev/null
        pg_dbs+=("$name")
        db_url="$pg_admin/$name"
    else
        db_url="sqlite://$dir/server.sqlite3"
    fi
    cat > "$dir/server.toml" <<TOML
listen = "127.0.0.1:$port"
database_url = "$db_url"
data_dir = "$dir"
public_url = "http://127.0.0.1:$port"
token_secret = "bench-secret-bench-secret-bench-secret-0123"
metrics_token = "bench-metrics-token-0123"
access_token_ttl_secs = 3600
log_format = "json"
# Queued logins wait for a hashing slot: 300 connections of logins queue
# about 300 / (hashes per second) seconds.
hash_queue_ms = 15000

[smtp]
host = "127.0.0.1"
port = $smtp_port

# Every request of the benchmark comes from 127.0.0.1.
[limits]
login_attempts_per_ip_per_minute = 100000000
reset_requests_per_ip_per_hour = 100000
TOML
    "$bin" --config "$dir/server.toml" > "$dir/server.log" 2>&1 &
    local server=$!
    pids+=($server)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    echo "[$be] seeding" >&2
    local t0=$SECONDS
    local seeded
    seeded="$(python3 "$work/seed.py" "$port" "$dir/mail" "${SK_BENCH_TITLES:-4000}" "${SK_BENCH_MEMBERS:-200}")"
    eval "$seeded"
    echo "[$be] seeded $COPIES titles with a copy each and $MEMBERS members in $((SECONDS - t0)) s" >&2
    export SK_TOKEN="$TOKEN" SK_READER="$READER" SK_LIB="$LIB" SK_COPIES="$COPIES" SK_MEMBERS="$MEMBERS"

    path=/api/v1/auth/me
    run_wrk "GET /auth/me" me 32
    run_wrk "GET /auth/me" me 300
    path=/api/v1/auth/login
    local s0 c0 s1 c1
    s0="$(metric sum)"; c0="$(metric count)"
    run_wrk "POST /auth/login" login 1
    s1="$(metric sum)"; c1="$(metric count)"
    python3 -c "import sys; s0,c0,s1,c1=map(float,sys.argv[1:]); ms=(s1-s0)/(c1-c0)*1000; print('[$be] single argon2id hash (server histogram, 1 connection): %.1f ms over %d hashes = %.1f hashes/s per core' % (ms, c1-c0, 1000/ms))" \
        "${s0:-0}" "${c0:-0}" "$s1" "$c1" | tee -a "$work/hash.txt" >&2
    run_wrk "POST /auth/login" login 4
    run_wrk "POST /auth/login" login 16
    run_wrk "POST /auth/login" login 300
    path="/api/v1/libraries/$LIB/titles"
    run_wrk "GET /titles (search mix)" search 32
    path="/api/v1/libraries/$LIB/checkout"
    SK_CIRC_FROM=0 SK_CIRC_COUNT=$((COPIES / 2)) run_wrk "POST checkout/checkin" circ 32
    # The same with few desks at once: the latency of one check-out when
    # it does not queue behind 31 others on two cores.
    SK_CIRC_FROM=$((COPIES / 2)) SK_CIRC_COUNT=$((COPIES / 2)) run_wrk "POST checkout/checkin" circ 4
    # /me while logins keep the hashing pool full.
    path=/api/v1/auth/login
    local bg_out="$work/$be-login-bg.txt"
    wrk -t1 -c16 -d"$((duration + 2))s" --timeout 15s -s "$work/login.lua" "http://127.0.0.1:$port$path" > "$bg_out" 2>&1 &
    local bg=$!
    sleep 1
    path=/api/v1/auth/me
    run_wrk "GET /auth/me during 16 logins" me 32
    wait "$bg" || true
    local r
    r="$(grep '^RESULT ' "$bg_out" | sed 's/^RESULT //')"
    [ -n "$r" ] && python3 - "$be" "$r" "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results" <<'PY'
import json, sys
be, r, load = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
print("| %s | %s | %s | %s | %.2f | %.2f | %d | %s |" % (be, "(the logins meanwhile)", 16, format(round(r["rps"]), ","), r["p50_ms"], r["p99_ms"], r["errors"], load))
PY
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for be in sqlite postgres; do
    if [ "$backend" = "$be" ] || [ "$backend" = both ]; then bench_one "$be"; fi
done

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); wrk $(wrk -v 2>&1 | head -1 | cut -d' ' -f2); ${duration} s per run; work directory $work"
cat "$work/hash.txt"
echo
echo "| store | request | connections | RPS | p50 ms | p99 ms | errors | load (1/5/15 min) |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
cat "$results"
