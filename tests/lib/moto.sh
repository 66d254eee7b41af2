# An S3 server that verifies SigV4 signatures, for tests: moto's server mode
# (moto[server], pinned in scripts/requirements.txt, in .venv) on 127.0.0.1, on a
# port the kernel picks, with IAM authentication enforced after set-up
# (tests/lib/moto_server.py). s3rver (tests/lib/s3rver.sh) checks only the key
# id; this one refuses a request signed with the wrong secret. Source this file, then:
#
#   moto_start [bucket...]   # buckets to create (default: forja-test)
#   ... use $S3_ENDPOINT, $S3_BUCKET, and the AWS_* credentials it exports ...
#   moto_stop
#
# moto_start exports S3_ENDPOINT (http://127.0.0.1:PORT), S3_PORT, S3_BUCKET (the
# first bucket), MOTO_PID, MOTO_LOG, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
# (a key of an IAM user allowed everything; every other key or secret is refused),
# AWS_DEFAULT_REGION=AWS_REGION=us-east-1. It returns non-zero, with the reason on
# stderr, when the server does not come up; 77-worthy only when moto is not
# installed (MOTO_MISSING=1 then).
#
# The server dies with its owner: MOTO_OWNER_PID if set, else the sourcing shell.

_moto_root() {
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  echo "${FORJA_SOURCE:-$here}"
}

moto_start() {
  local root py dir i
  root=$(_moto_root)
  py=$root/.venv/bin/python
  MOTO_MISSING=0
  if [[ ! -x $py ]] || ! "$py" -c 'import moto.server' 2>/dev/null; then
    MOTO_MISSING=1
    echo "moto_start: moto[server] is not installed in $root/.venv; run scripts/setup" >&2
    return 1
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/forja-moto.XXXXXX") || return 1
  MOTO_DIR=$dir
  MOTO_LOG=$dir/moto.log
  "$py" "$root/tests/lib/moto_server.py" "$@" >"$dir/ready" 2>"$MOTO_LOG" </dev/null &
  MOTO_PID=$!
  for ((i = 0; i < 600; i++)); do
    grep -qx ready "$dir/ready" 2>/dev/null && break
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
      echo "moto_start: moto's server exited; its log:" >&2
      cat "$MOTO_LOG" >&2
      return 1
    fi
    sleep 0.1
  done
  if ! grep -qx ready "$dir/ready"; then
    echo "moto_start: moto's server was not ready within 60 s" >&2
    moto_stop
    return 1
  fi
  local port key secret
  port=$(sed -n 's/^MOTO_PORT=//p' "$dir/ready")
  key=$(sed -n 's/^MOTO_ACCESS_KEY_ID=//p' "$dir/ready")
  secret=$(sed -n 's/^MOTO_SECRET_ACCESS_KEY=//p' "$dir/ready")

  # A separate program, not a ( subshell ): see s3rver.sh.
  nohup bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
                 kill "$2" 2>/dev/null && sleep 1 && rm -rf "$3"' \
    moto-watchdog "${MOTO_OWNER_PID:-$$}" "$MOTO_PID" "$MOTO_DIR" >/dev/null 2>&1 </dev/null &
  disown $! 2>/dev/null || true

  export MOTO_PID MOTO_DIR MOTO_LOG
  export S3_PORT=$port
  export S3_ENDPOINT=http://127.0.0.1:$port
  export S3_BUCKET=${1:-forja-test}
  export AWS_ACCESS_KEY_ID=$key
  export AWS_SECRET_ACCESS_KEY=$secret
  export AWS_DEFAULT_REGION=us-east-1
  export AWS_REGION=us-east-1
  unset AWS_SESSION_TOKEN AWS_PROFILE
}

# Stops the server moto_start started and removes its folder.
moto_stop() {
  local i
  if [[ -n ${MOTO_PID:-} ]]; then
    kill "$MOTO_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$MOTO_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$MOTO_PID" 2>/dev/null; then kill -9 "$MOTO_PID" 2>/dev/null || true; fi
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  if [[ -n ${MOTO_DIR:-} && $MOTO_DIR == */forja-moto.* ]]; then
    rm -rf "$MOTO_DIR"
  fi
  unset MOTO_PID MOTO_DIR MOTO_LOG
  return 0
}
