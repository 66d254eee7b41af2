#!/usr/bin/env bash
# forja push / pull against an S3 server that verifies SigV4 signatures (moto's
# server mode with IAM authentication on, tests/lib/moto.sh): s3rver checks only
# the key id, so a wrong secret was never tested against a real server (issue 11).
# The right key works, multipart upload included; a wrong secret or an unknown key
# is one error line naming the remote and saying the credentials were refused,
# never printing a secret, and leaves nothing behind on either side. awscli,
# against the same server with the same keys, agrees.
source "$(dirname "$0")/../lib/common.sh"
source "$FORJA_SOURCE/tests/lib/faults.sh"
source "$FORJA_SOURCE/tests/lib/moto.sh"
AWS=/usr/bin/aws
export FORJA_S3_RETRY_BASE_MS=1

if ! moto_start forja-data; then
  ((MOTO_MISSING)) && exit 77
  fail "moto's server did not start"
  finish
fi
at_exit moto_stop
GOOD_KEY=$AWS_ACCESS_KEY_ID GOOD_SECRET=$AWS_SECRET_ACCESS_KEY
BAD_SECRET="wrong-${GOOD_SECRET:6}"  # same length and shape; another secret
aws_s3() { "$AWS" --endpoint-url "$S3_ENDPOINT" "$@"; }
bucket_keys() { aws_s3 s3 ls --recursive s3://forja-data/ | awk '{print $4}' | sort; }
with_bad_secret() { AWS_SECRET_ACCESS_KEY=$BAD_SECRET "$@"; }
with_unknown_key() { AWS_ACCESS_KEY_ID=AKIANOTAREALKEY00000 "$@"; }
expect_aws_refused() {  # ERROR_CODE
  if [[ $RC -ne 0 ]]; then pass; else fail "awscli was not refused:"$'\n'"$OUT"; fi
  expect_contains "$OUT" "$1"
}

# The refusal: exit 3, one line that names the remote and the refusal, no secret.
expect_refused() {
  expect_eq "$RC" 3
  expect_one_error_line "$OUT"
  expect_contains "$OUT" "remote 's3'"
  expect_contains "$OUT" "refused the credentials"
  expect_not_contains "$OUT" "$BAD_SECRET"
  expect_not_contains "$OUT" "$GOOD_SECRET"
}

# ---- awscli: the server really checks signatures ------------------------------------
echo "-- awscli"
echo hello >"$TEST_TMP/hello.txt"
aws_s3 s3 cp --quiet "$TEST_TMP/hello.txt" s3://forja-data/witness/hello.txt && pass || fail "awscli with the right key was refused"
run with_bad_secret aws_s3 s3 ls s3://forja-data/
expect_aws_refused SignatureDoesNotMatch
run with_bad_secret aws_s3 s3 cp "$TEST_TMP/hello.txt" s3://forja-data/witness/bad.txt
expect_aws_refused SignatureDoesNotMatch
run with_unknown_key aws_s3 s3 ls s3://forja-data/
expect_aws_refused InvalidAccessKeyId
expect_eq "$(bucket_keys)" "witness/hello.txt"

# ---- forja with a wrong secret: refused, nothing written ----------------------------
new_repo
make_files data 30
head -c 7000000 /dev/urandom >model.bin  # over multipart_threshold: a multipart upload
expect_ok forja add data model.bin
expect_ok forja remote add s3 s3://forja-data/team/project -o endpoint="$S3_ENDPOINT" \
  -o region=us-east-1 -o multipart_threshold=5MiB -o multipart_chunk=5MiB
git add -A && git commit -qm "data on s3"

echo "-- push with a wrong secret"
run with_bad_secret forja push
expect_refused
expect_eq "$(bucket_keys)" "witness/hello.txt"  # no object, no part, nothing
run with_unknown_key forja push
expect_refused
expect_eq "$(bucket_keys)" "witness/hello.txt"
expect_eq "$(aws_s3 s3api list-multipart-uploads --bucket forja-data --query 'length(Uploads || `[]`)')" "0"

# ---- forja with the right key ---------------------------------------------------------
echo "-- push and pull with the right key"
expect_ok forja push
expect_contains "$OUT" "Pushed 32 objects"
expect_eq "$(bucket_keys | grep -c '^team/project/sha256/')" 32
h=$(pointer_hash model.bin.forja)
aws_s3 s3 cp --quiet "s3://forja-data/team/project/sha256/${h:0:2}/${h:2}" "$TEST_TMP/model.from-aws"
expect_eq "$(sha256sum <"$TEST_TMP/model.from-aws" | cut -c1-64)" "$h"  # awscli reads what forja signed and sent
expect_ok forja verify --remote s3
expect_contains "$OUT" "Verified 32 objects"

git clone -q "$REPO" "$TEST_TMP/clone" && cd "$TEST_TMP/clone"
echo "-- pull with a wrong secret"
run with_bad_secret forja pull
expect_refused
expect_missing data
expect_missing model.bin
expect_eq "$(find .forja/cache -type f 2>/dev/null | grep -c /sha256/)" 0
expect_ok forja pull
cmp -s "$REPO/model.bin" model.bin && pass || fail "model.bin pulled from moto differs"
diff -r "$REPO/data" data >/dev/null && pass || fail "data pulled from moto differs"
expect_ok forja status
expect_contains "$OUT" "up to date"

# ---- an object awscli uploads with the right key is one forja can fetch ------------------
echo "-- awscli writes, forja reads"
cd "$REPO"
echo "from awscli" >note.txt
expect_ok forja add note.txt
n=$(pointer_hash note.txt.forja)
aws_s3 s3 cp --quiet note.txt "s3://forja-data/team/project/sha256/${n:0:2}/${n:2}" && pass || fail "awscli upload failed"
chmod -R u+w .forja/cache && rm -rf .forja/cache/sha256 note.txt
expect_ok forja pull note.txt
expect_eq "$(cat note.txt)" "from awscli"
finish
