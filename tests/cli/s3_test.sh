#!/usr/bin/env bash
# forja push / pull / fetch / gc / verify against a real S3 server (s3rver), with
# Debian's awscli as an independent witness that the objects are real S3 objects
# at the documented keys.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/s3rver.sh"
AWS=/usr/bin/aws
export FORJA_S3_RETRY_BASE_MS=1  # keep the "server down" case fast

s3rver_start forja-data || { fail "s3rver did not start"; finish; }
at_exit s3rver_stop
aws_s3() { "$AWS" --endpoint-url "$S3_ENDPOINT" "$@"; }

new_repo
make_files data 120
head -c 12000000 /dev/urandom >model.bin  # > multipart_threshold below: a multipart upload
expect_ok forja add data model.bin
expect_ok forja remote add s3 s3://forja-data/team/project -o endpoint="$S3_ENDPOINT" \
  -o region=us-east-1 -o multipart_threshold=5MiB -o multipart_chunk=5MiB
git add -A && git commit -qm "data on s3"

# --- push: only what is missing, at <prefix>/sha256/ab/cdef... ---------------------
expect_ok forja push
expect_contains "$OUT" "Pushed 122 objects"
keys=$(aws_s3 s3 ls --recursive s3://forja-data/team/project/ | awk '{print $4}')
expect_eq "$(grep -c '^team/project/sha256/[0-9a-f][0-9a-f]/[0-9a-f]\{62\}$' <<<"$keys")" "122"
h=$(sed -n 's/^hash: sha256://p' model.bin.forja)
aws_s3 s3 cp --quiet "s3://forja-data/team/project/sha256/${h:0:2}/${h:2}" "$TEST_TMP/model.from-aws"
expect_eq "$(sha256sum <"$TEST_TMP/model.from-aws" | cut -c1-64)" "$h"
expect_ok forja push
expect_contains "$OUT" "Pushed 0 objects (0 B) to 's3'; 122 were already there."

# --- a clone pulls from S3 -------------------------------------------------------------
git clone -q "$REPO" "$TEST_TMP/clone" && cd "$TEST_TMP/clone"
expect_ok forja pull
diff -r "$REPO/data" data >/dev/null && pass || fail "data pulled from S3 differs"
cmp -s "$REPO/model.bin" model.bin && pass || fail "model.bin pulled from S3 differs"
expect_ok forja status
expect_ok forja verify --remote s3
expect_contains "$OUT" "Verified 122 objects"

# A corrupt object on S3 is refused on download and named.
chmod -R u+w .forja/cache model.bin && rm -rf .forja/cache model.bin
echo tampered | aws_s3 s3 cp --quiet - "s3://forja-data/team/project/sha256/${h:0:2}/${h:2}"
expect_fail 3 forja pull model.bin
expect_contains "$OUT" "the remote copy is corrupt"
expect_one_error_line "$OUT"
expect_fail 1 forja verify --remote s3
expect_contains "$OUT" "corrupt: sha256/${h:0:2}/${h:2}"
aws_s3 s3api head-object --bucket forja-data --key "team/project/quarantine/$h" >/dev/null 2>&1 \
  && pass || fail "the corrupt object was not moved to quarantine/ on S3"
(cd "$REPO" && forja -q push) && pass || fail "repair push failed"
expect_ok forja pull model.bin
cmp -s "$REPO/model.bin" model.bin && pass || fail "repaired model.bin differs"

# --- gc on S3 -------------------------------------------------------------------------
cd "$REPO"
echo v2 >data/f0.txt.new && mv -f data/f0.txt.new data/f0.txt
expect_ok forja add data
expect_ok forja push
expect_ok forja gc --remote s3
expect_contains "$OUT" "Would remove 2 objects from the remote 's3'"
expect_ok forja gc --remote s3 --force
expect_eq "$(aws_s3 s3 ls --recursive s3://forja-data/team/project/sha256/ | wc -l)" "122"

# --- faults: one clear line, exit 3, nothing half-written ------------------------------
AWS_ACCESS_KEY_ID=NOT-A-KEY expect_fail 3 forja push
expect_contains "$OUT" "S3 refused the credentials"
expect_one_error_line "$OUT"

expect_ok forja remote add nobucket s3://no-such-bucket/x -o endpoint="$S3_ENDPOINT"
expect_fail 3 forja push -r nobucket
expect_contains "$OUT" "bucket 'no-such-bucket' does not exist"
expect_one_error_line "$OUT"

expect_ok forja remote add down s3://forja-data/x -o endpoint=http://127.0.0.1:9
expect_fail 3 forja push -r down
expect_contains "$OUT" "cannot reach http://127.0.0.1:9"
expect_contains "$OUT" "after 5 tries"
expect_one_error_line "$OUT"

# Credentials from ~/.aws/credentials via a profile.
mkdir -p "$TEST_TMP/aws"
printf '[ci]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$TEST_TMP/aws/credentials"
# Adding a remote needs no credentials (they may only exist where it is used).
expect_ok forja remote add viaprofile s3://forja-data/profiled -o endpoint="$S3_ENDPOINT" -o profile=ci
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$TEST_TMP/aws/credentials" \
  "$FORJA" push -r viaprofile >/dev/null 2>&1 && pass || fail "push with a credentials-file profile failed"
expect_eq "$(aws_s3 s3 ls --recursive s3://forja-data/profiled/ | wc -l)" "122"

finish
