#!/usr/bin/env bash
# forja_net_echo against curl, an independent client: an upload with "Expect: 100-continue"
# must not wait for curl's 1 s fallback; chunked uploads, HEAD, keep-alive reuse, async answers.
set -uo pipefail
: "${FORJA_NET_ECHO:?FORJA_NET_ECHO must name the forja_net_echo binary}"
command -v curl >/dev/null || { echo "curl_test: no curl, skipping"; exit 77; }

tmp=$(mktemp -d /tmp/forja-net-curl-XXXXXX)
passed=0
failed=0
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

"$FORJA_NET_ECHO" --port 0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$tmp/echo.out" 2>/dev/null && break
  sleep 0.05
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/echo.out")
[[ -n $port ]] || { echo "forja_net_echo did not start: $(cat "$tmp/echo.err")" >&2; exit 1; }
url=http://127.0.0.1:$port

head -c $((8 * 1024 * 1024)) /dev/urandom >"$tmp/big"

# 1. Expect: 100-continue (curl also sends it by itself for bodies over 1 MiB).
start=$(date +%s%N)
curl -sS -H 'Expect: 100-continue' --data-binary @"$tmp/big" "$url/echo" -o "$tmp/back" || fail "curl upload failed"
took_ms=$((($(date +%s%N) - start) / 1000000))
if cmp -s "$tmp/big" "$tmp/back"; then pass; else fail "the echoed body differs"; fi
if ((took_ms < 900)); then pass; else fail "the 100-continue upload took ${took_ms} ms (curl waited for 100 Continue?)"; fi

# 2. A chunked upload.
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "$url/echo" -o "$tmp/back2" || fail "chunked upload failed"
if cmp -s "$tmp/big" "$tmp/back2"; then pass; else fail "the chunked upload's echo differs"; fi

# 3. A body over the limit is refused with 413 before it is sent.
"$FORJA_NET_ECHO" --port 0 --max-body 1000 >"$tmp/small.out" 2>&1 &
small=$!
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/small.out" 2>/dev/null && break; sleep 0.05; done
sport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/small.out")
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' --data-binary @"$tmp/big" "http://127.0.0.1:$sport/echo")
kill "$small"; wait "$small" 2>/dev/null
[[ $code == 413 ]] && pass || fail "over the limit: expected 413, got $code"

# 4. HEAD: the length of the body, no body.
out=$(curl -sS -I "$url/hello")
grep -qi '^content-length: 99' <<<"$out" && pass || fail "HEAD: $out"
grep -qi '^server: forja' <<<"$out" && pass || fail "HEAD has no Server header: $out"

# 5. Several URLs on one connection: curl reuses it (keep-alive).
out=$(curl -sS -v "$url/hello" "$url/hello" "$url/hello" 2>&1 >/dev/null)
grep -q 'Re-using existing connection' <<<"$out" && pass || fail "curl did not reuse the connection: $out"

# 6. An async answer after 200 ms, and a 404.
body=$(curl -sS "$url/slow?ms=200")
[[ $body == '{"slept_ms": 200}' ]] && pass || fail "slow: $body"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/nope")
[[ $code == 404 ]] && pass || fail "expected 404, got $code"

# 7. Out of file descriptors: connections beyond get 503, the server does not spin, and it
#    recovers when connections close.
(ulimit -n 20 && exec "$FORJA_NET_ECHO" --port 0 --io-threads 1) >"$tmp/fd.out" 2>"$tmp/fd.err" &
fdpid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/fd.out" 2>/dev/null && break; sleep 0.05; done
fport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/fd.out")
conns=()
for i in $(seq 20); do
  exec {c}<>"/dev/tcp/127.0.0.1/$fport" && conns+=("$c")
done
sleep 0.3
got503=$(timeout 2 curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/hello" 2>/dev/null)
[[ $got503 == 503 ]] && pass || fail "out of fds: expected 503, got '$got503'"
cpu() { awk '{print $14 + $15}' "/proc/$fdpid/stat"; }
before=$(cpu)
sleep 1
after=$(cpu)
((after - before < 20)) && pass || fail "out of fds: the server used $((after - before)) ticks of CPU in 1 s idle"
for c in "${conns[@]}"; do exec {c}>&-; done
sleep 0.3
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/hello")
[[ $code == 200 ]] && pass || fail "after closing the connections: expected 200, got $code"
grep -q 'out of file descriptors' "$tmp/fd.err" && pass || fail "no warning about file descriptors: $(cat "$tmp/fd.err")"
kill "$fdpid"; wait "$fdpid" 2>/dev/null

# 8. SIGTERM stops it gracefully.
kill -TERM "$pid"
if wait "$pid"; then pass; else fail "forja_net_echo exited with $? on SIGTERM"; fi
pid=

echo "curl_test: $passed passed, $failed failed"
((failed == 0))
