#!/usr/bin/env bash
# Every JSON text forja writes is valid UTF-8 (issue 11, finding 16): a file name
# that is not UTF-8 (Linux allows any bytes) made `forja status --json` die with
# "internal error: invalid UTF-8 byte" (exit 4). Now the byte is written as U+FFFD
# and the command does its job.
source "$(dirname "$0")/../lib/common.sh"

new_repo
mkdir d && printf 'x\n' >d/ok.txt
expect_ok forja add d
printf 'y\n' >"d/new$(printf '\376')"  # 0xFE: never valid in UTF-8
expect_fail 1 forja status --json      # 1: a difference, not 4: a bug
valid=$(printf '%s' "$OUT" | python3 -c 'import json, sys; j = json.loads(sys.stdin.buffer.read().decode("utf-8")); print(ascii(j[0]["added"]))' 2>&1)
expect_eq "$valid" "['new\\ufffd']"
expect_not_contains "$OUT" "internal error"

finish
