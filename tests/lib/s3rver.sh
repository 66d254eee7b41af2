# A real S3 server for tests: s3rver (installed by scripts/setup into
# tools/node_modules) on 127.0.0.1, on a port the kernel picks, storing into a
# fresh temp folder. Source this file, then:
#
#   s3rver_start [bucket...]   # buckets to create (default: forja-test)
#   ... use $S3_ENDPOINT, $S3_BUCKET, and the AWS_* credentials it exports ...
#   s3rver_stop
#
# s3rver_start exports S3_ENDPOINT (http://127.0.0.1:PORT), S3_VHOST_ENDPOINT
# (http://s3.localhost:PORT, where <bucket>.s3.localhost serves virtual-host
# addressing), S3_PORT, S3_BUCKET (the first bucket), S3RVER_PID, S3RVER_DIR, S3RVER_LOG (one line per request),
# and AWS_ACCESS_KEY_ID=S3RVER, AWS_SECRET_ACCESS_KEY=S3RVER,
# AWS_DEFAULT_REGION=AWS_REGION=us-east-1 (s3rver's built-in account).
# It returns non-zero, with the reason on stderr, when the server does not come up.
#
# The server dies with its owner: S3RVER_OWNER_PID if set, else the sourcing
# shell ($$), so a test killed by a timeout leaves no server behind.
# Note: s3rver does not verify SigV4 signatures, only the access key id.

_s3rver_root() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  echo "${FORJA_SOURCE:-$here}"
}

s3rver_start() {
  local root bin buckets args b port i
  root=$(_s3rver_root)
  bin=$root/tools/node_modules/.bin/s3rver
  if [[ ! -x $bin ]]; then
    echo "s3rver_start: $bin is missing; run scripts/setup" >&2
    return 1
  fi
  buckets=("$@")
  ((${#buckets[@]})) || buckets=(forja-test)
  args=()
  for b in "${buckets[@]}"; do args+=(--configure-bucket "$b"); done

  S3RVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/forja-s3rver.XXXXXX") || return 1
  S3RVER_LOG=$S3RVER_DIR/s3rver.log
  mkdir -p "$S3RVER_DIR/data"
  # Port 0: the kernel picks a free port, so parallel tests never collide.
  # s3rver makes listing continuation tokens with DES, which Node >= 17 (OpenSSL 3)
  # only has in its legacy provider: without it every second page is a 500.
  NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider" \
    "$bin" -d "$S3RVER_DIR/data" -a 127.0.0.1 -p 0 --service-endpoint localhost "${args[@]}" >"$S3RVER_LOG" 2>&1 </dev/null &
  S3RVER_PID=$!

  port=
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's/.*S3rver listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$S3RVER_LOG")
    [[ -n $port ]] && break
    if ! kill -0 "$S3RVER_PID" 2>/dev/null; then
      echo "s3rver_start: s3rver exited; its log:" >&2
      cat "$S3RVER_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ -z $port ]]; then
    echo "s3rver_start: s3rver did not report its port within 30 s" >&2
    s3rver_stop
    return 1
  fi
  # Listening is not the same as serving: wait for an answer to a real request.
  for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done

  # A separate program, not a ( subshell ): a subshell would inherit the fds
  # bash keeps for its own redirections, holding a caller's pipe open forever.
  nohup bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                 kill "$2" 2>/dev/null && sleep 1 && rm -rf "$3"' \
    s3rver-watchdog "${S3RVER_OWNER_PID:-$$}" "$S3RVER_PID" "$S3RVER_DIR" >/dev/null 2>&1 </dev/null &
  disown $! 2>/dev/null || true

  export S3RVER_PID S3RVER_DIR S3RVER_LOG
  export S3_PORT=$port
  export S3_ENDPOINT=http://127.0.0.1:$port
  export S3_VHOST_ENDPOINT=http://s3.localhost:$port
  export S3_BUCKET=${buckets[0]}
  export AWS_ACCESS_KEY_ID=S3RVER
  export AWS_SECRET_ACCESS_KEY=S3RVER
  export AWS_DEFAULT_REGION=us-east-1
  export AWS_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE
}

# Stops the server s3rver_start started (or the one S3RVER_PID/S3RVER_DIR name)
# and removes its folder.
s3rver_stop() {
  local i
  if [[ -n ${S3RVER_PID:-} ]]; then
    kill "$S3RVER_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$S3RVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$S3RVER_PID" 2>/dev/null; then kill -9 "$S3RVER_PID" 2>/dev/null || true; fi
    wait "$S3RVER_PID" 2>/dev/null || true  # reaps it when this shell started it
  fi
  if [[ -n ${S3RVER_DIR:-} && $S3RVER_DIR == */forja-s3rver.* ]]; then
    rm -rf "$S3RVER_DIR"
  fi
  unset S3RVER_PID S3RVER_DIR S3RVER_LOG
  return 0
}
