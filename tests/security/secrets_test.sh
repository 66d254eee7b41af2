#!/usr/bin/env bash
# Secrets and the download cache (issue 11, findings 10, 11, 15):
# - credentials are refused in the versioned forja.yaml (remote add, a cloned file)
#   and kept in .forja/config.local; nothing secret is printed, logged or stored;
# - a PostgreSQL password never appears at start-up or in connection errors, and a
#   libpq key=value store string is PostgreSQL, never a SQLite file named after it;
# - the per-user download cache is a private folder (owner and mode checked) and
#   what is found in it is rehashed before use.
source "$(dirname "$0")/../lib/common.sh"

SECRET=Zq8SeCrEt5x7

no_secret() {  # $1: what, $2: text
  if [[ $2 == *"$SECRET"* ]]; then fail "$1 shows the secret:"$'\n'"$2"; else pass; fi
}

# ---- credentials refused in forja.yaml -----------------------------------------------------------
new_repo creds
before=$(cat forja.yaml)
for args in "s3 s3://AKIAEXAMPLE:$SECRET@bucket/prefix" \
            "s3 s3://bucket/prefix -o endpoint=http://user:$SECRET@127.0.0.1:9000" \
            "s3 s3://bucket/prefix -o secret_access_key=$SECRET" \
            "s3 s3://bucket/prefix -o endpoint=http://127.0.0.1:9000/?X-Amz-Signature=$SECRET" \
            "store file://user:$SECRET@/mnt/x"; do
  # shellcheck disable=SC2086
  expect_fail 1 forja remote add $args
  expect_contains "$OUT" "credentials do not belong in forja.yaml (it is versioned)"
  expect_contains "$OUT" ".forja/config.local"
  expect_contains "$OUT" "AWS_ACCESS_KEY_ID"
  expect_one_error_line "$OUT"
  no_secret "remote add $args" "$OUT"
done
expect_eq "$(cat forja.yaml)" "$before"
expect_ok forja remote list
no_secret "remote list" "$OUT"
# The store's password does not go into forja.yaml either.
printf 'tracking:\n  uri: postgresql://forja:%s@127.0.0.1:1/db\n' "$SECRET" >>forja.yaml
expect_fail 1 forja exp list
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "tracking.uri: a password does not belong in forja.yaml"
expect_contains "$OUT" "PGPASSWORD"
no_secret "exp list with a password in tracking.uri" "$OUT"
printf '%s\n' "$before" >forja.yaml

# A cloned repository's forja.yaml with a secret in it: refused, named by file and line, not echoed.
cat >>forja.yaml <<EOF
remotes:
  s3:
    url: s3://AKIAEXAMPLE:$SECRET@bucket/prefix
EOF
sed -i '/^remotes: {}$/d' forja.yaml
expect_fail 1 forja status
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "remotes.s3.url: credentials do not belong in forja.yaml"
no_secret "status with a secret in forja.yaml" "$OUT"
expect_fail 1 forja remote list
no_secret "remote list with a secret in forja.yaml" "$OUT"
printf '%s\n' "$before" >forja.yaml

# ---- .forja/config.local holds them --------------------------------------------------------------
source "$FORJA_SOURCE/tests/lib/s3rver.sh"
if s3rver_start forja-secrets 2>"$TEST_TMP/s3rver.err"; then
  at_exit s3rver_stop
  key=$AWS_ACCESS_KEY_ID s3secret=$AWS_SECRET_ACCESS_KEY
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  export AWS_SHARED_CREDENTIALS_FILE=$TEST_TMP/no-credentials
  expect_ok forja remote add s3 "s3://forja-secrets/p" -o "endpoint=$S3_ENDPOINT" -o region=us-east-1
  echo data >a.txt && expect_ok forja add a.txt
  expect_fail 1 forja push                       # no credentials anywhere yet
  expect_contains "$OUT" "no S3 credentials"
  expect_ok forja remote modify --local s3 access_key_id "$key"
  expect_ok forja remote modify --local s3 secret_access_key "$s3secret"
  expect_eq "$(stat -c %a .forja/config.local)" "600"
  expect_ok forja -v push
  expect_contains "$OUT" "Pushed 1 object"
  expect_ok forja remote list
  expect_contains "$OUT" "secret_access_key=*** (local)"
  expect_not_contains "$OUT" "$s3secret"
  expect_ok forja remote list --json
  expect_not_contains "$OUT" "$s3secret"
  expect_not_contains "$(cat forja.yaml)" "$s3secret"
  expect_eq "$(git status --porcelain --ignored=no -- .forja)" ""   # never versioned
  # Credentials stay out of forja.yaml even through modify without --local.
  expect_fail 1 forja remote modify s3 secret_access_key "$SECRET"
  no_secret "remote modify" "$OUT"
  expect_not_contains "$(cat forja.yaml)" "$SECRET"
  # A wrong secret in config.local: the error does not quote it.
  expect_ok forja remote modify --local s3 access_key_id "NOTAKEY$SECRET"
  rm -rf .forja/cache && expect_fail 3 forja -v pull
  no_secret "pull with a refused key" "$OUT"
  # Another branch's remote in config.local is kept, unused; a removed remote's credentials go.
  cat >.forja/config.local <<EOF
remotes:
  s3: {access_key_id: "NOTAKEY$SECRET", secret_access_key: "$s3secret"}
  elsewhere: {secret_access_key: "$SECRET"}
EOF
  expect_ok forja remote list
  expect_ok forja remote list
  no_secret "remote list with another branch's remote" "$OUT"
  expect_ok forja remote modify --local s3 region us-east-1
  expect_contains "$(cat .forja/config.local)" "elsewhere"
  expect_ok forja remote remove s3
  expect_not_contains "$(cat .forja/config.local)" "NOTAKEY"
  expect_ok forja remote list
else
  fail "s3rver did not start: $(cat "$TEST_TMP/s3rver.err")"
fi

# ---- PostgreSQL: redacted at start-up and in errors; key=value strings --------------------------
cd "$TEST_TMP" || exit 1
mkdir -p pgcwd && cd pgcwd || exit 1
expect_fail 3 forja exp list --store "postgresql://forja:$SECRET@127.0.0.1:1/db"
expect_contains "$OUT" "postgresql://forja:***@127.0.0.1:1/db"
no_secret "a PostgreSQL connection error" "$OUT"
expect_fail 3 forja exp list --store "host=127.0.0.1 port=1 user=forja dbname=db password=$SECRET"
expect_contains "$OUT" "PostgreSQL"
no_secret "a key=value connection error" "$OUT"
FORJA_TRACKING_URI="host=127.0.0.1 port=1 dbname=db password='a $SECRET'" expect_fail 3 forja exp list
no_secret "a key=value FORJA_TRACKING_URI" "$OUT"
# A store URI forja does not know is quoted in the error, redacted.
expect_fail 1 forja exp list --store "mysql://forja:$SECRET@127.0.0.1/db"
expect_contains "$OUT" "unknown store URI 'mysql://forja:***@127.0.0.1/db'"
no_secret "an unknown store URI" "$OUT"
expect_fail 1 forja exp list --store "host=127.0.0.1 password='$SECRET"
expect_contains "$OUT" "invalid PostgreSQL connection string"
no_secret "a malformed key=value string" "$OUT"
expect_eq "$(ls -A)" ""   # no SQLite file named after the string

pg=$TEST_TMP/pg
if PG_URI=$(bash "$FORJA_SOURCE/tests/lib/postgres.sh" start "$pg" 2>"$TEST_TMP/pg.err"); then
  at_exit "bash '$FORJA_SOURCE/tests/lib/postgres.sh' stop '$pg'"
  port=$(cat "$pg/port")
  # trust authentication: the password is sent and ignored, so the server starts.
  # "$FORJA", not the forja() function: $! must be the server itself, or kill leaves it running.
  "$FORJA" server --port 0 --auth off --artifacts "$TEST_TMP/art" \
    --store "postgresql://forja:$SECRET@127.0.0.1:$port/forja_test" >"$TEST_TMP/pgserver.log" 2>&1 &
  PGSERVER=$!
  at_exit "kill $PGSERVER 2>/dev/null"
  for _ in $(seq 200); do grep -q 'http://' "$TEST_TMP/pgserver.log" && break; sleep 0.05; done
  kill "$PGSERVER" 2>/dev/null && wait "$PGSERVER" 2>/dev/null
  log=$(cat "$TEST_TMP/pgserver.log")
  expect_contains "$log" "store postgresql://forja:***@127.0.0.1:$port/forja_test"
  no_secret "forja server's start-up" "$log"
  # The README's promise: any libpq key=value string.
  expect_ok forja exp list --store "host=127.0.0.1 port=$port user=forja dbname=forja_test password=$SECRET"
  expect_contains "$OUT" "Default"
  no_secret "exp list through a key=value string" "$OUT"
  expect_eq "$(ls -A)" ""
else
  fail "PostgreSQL did not start: $(cat "$TEST_TMP/pg.err")"
fi

# ---- the download cache: a private folder, checked --------------------------------------------
# With HOME and XDG_CACHE_HOME unset the cache is $TMPDIR/forja-<uid>; TMPDIR is the test's.
T=$TEST_TMP/tmp
mkdir -p "$T" "$TEST_TMP/outside"
cache=$T/forja-$(id -u)
nohome() { env -u HOME -u XDG_CACHE_HOME TMPDIR="$T" "$@"; }
cd "$TEST_TMP/outside" || exit 1
nohome "$FORJA" serve nosuch/1 >/dev/null 2>&1
expect_eq "$(stat -c '%a %u' "$cache")" "700 $(id -u)"
chmod 0777 "$cache"
run nohome "$FORJA" serve nosuch/1
expect_eq "$RC" "1"
expect_contains "$OUT" "the cache folder $cache has mode 0777"
expect_contains "$OUT" "refused"
expect_one_error_line "$OUT"
chmod 0700 "$cache"
if [[ $(id -u) -eq 0 ]]; then
  chown 65534 "$cache"
  run nohome "$FORJA" serve nosuch/1
  expect_contains "$OUT" "belongs to uid 65534"
  expect_eq "$RC" "1"
  chown 0 "$cache"
fi
mv "$cache" "$T/elsewhere" && ln -s "$T/elsewhere" "$cache"
run nohome "$FORJA" serve nosuch/1
expect_contains "$OUT" "is a symlink, refused"
rm "$cache" && mv "$T/elsewhere" "$cache"

# ---- what is found in that cache is rehashed -------------------------------------------------
mkdir -p "$TEST_TMP/pkg"
write_test_package "$TEST_TMP/pkg"
"$FORJA" server --port 0 --auth off --artifacts "$TEST_TMP/srv-art" --store "sqlite:///$TEST_TMP/srv.db" \
  >"$TEST_TMP/server.log" 2>&1 &
SERVER=$!
at_exit "kill $SERVER 2>/dev/null"
for _ in $(seq 200); do grep -q 'http://' "$TEST_TMP/server.log" && break; sleep 0.05; done
URL=$(grep -o 'http://[0-9.:]*' "$TEST_TMP/server.log" | head -1)
run nohome "$FORJA" models register --store "$URL" churn "$TEST_TMP/pkg"
expect_eq "$RC" "0"
run nohome "$FORJA" models download --store "$URL" churn/1 "$TEST_TMP/dl1"
expect_eq "$RC" "0"
expect_eq "$(cat "$TEST_TMP/dl1/model.yaml")" "$(cat "$TEST_TMP/pkg/model.yaml")"
# Plant, in the cache, a model.yaml object and a manifest under the package's name that lists it.
obj() { echo "$cache/cache/sha256/${1:0:2}/${1:2}"; }
planted=$'format: 1\nflavor: xgboost\nmodel: model.json\n# planted\nsignature:\n  inputs:\n    - {name: features, datatype: FP32, shape: [-1, 4]}\n  outputs:\n    - {name: probability, datatype: FP32, shape: [-1]}'
phash=$(printf '%s\n' "$planted" | sha256sum | cut -c1-64)
mkdir -p "$(dirname "$(obj "$phash")")" && printf '%s\n' "$planted" >"$(obj "$phash")"
psize=$(printf '%s\n' "$planted" | wc -c)
mhash=$(grep -l 'forja-manifest' "$cache"/cache/sha256/*/* | head -1)
manifest_name=$(basename "$(dirname "$mhash")")$(basename "$mhash")
jhash=$(sha256sum "$TEST_TMP/pkg/model.json" | cut -c1-64)
chmod u+w "$mhash"
{
  echo "forja-manifest 1"
  grep ' model.json$' "$mhash"
  echo "$phash $psize 644 model.yaml"
} >"$mhash.new" && mv "$mhash.new" "$mhash"
expect_contains "$(cat "$mhash")" "$phash"
run nohome "$FORJA" models download --store "$URL" churn/1 "$TEST_TMP/dl2"
expect_eq "$RC" "0"
expect_eq "$(cat "$TEST_TMP/dl2/model.yaml")" "$(cat "$TEST_TMP/pkg/model.yaml")"
expect_not_contains "$(cat "$TEST_TMP/dl2/model.yaml")" "planted"
# The bad manifest was replaced by the server's bytes: the cache holds what its names say.
expect_eq "$(sha256sum "$(obj "$manifest_name")" | cut -c1-64)" "$manifest_name"
# A corrupt file object (not the manifest) is refetched too.
chmod u+w "$(obj "$jhash")" && echo garbage >"$(obj "$jhash")"
run nohome "$FORJA" models download --store "$URL" churn/1 "$TEST_TMP/dl3"
expect_eq "$RC" "0"
expect_eq "$(cat "$TEST_TMP/dl3/model.json")" "$(cat "$TEST_TMP/pkg/model.json")"
# forja predict (and forja serve) check a package out under packages/<hash>; a folder there that
# this process did not write is verified against the rehashed manifest and replaced when it differs.
printf 'features\n1\n' >"$TEST_TMP/in.csv"
nohome "$FORJA" predict --store "$URL" churn/1 -i "$TEST_TMP/in.csv" -o "$TEST_TMP/out.csv" >/dev/null 2>&1
checkout=$cache/packages/$manifest_name
expect_eq "$(cat "$checkout/model.yaml")" "$(cat "$TEST_TMP/pkg/model.yaml")"
chmod -R u+w "$checkout" && printf '%s\n' "$planted" >"$checkout/model.yaml"
nohome "$FORJA" predict --store "$URL" churn/1 -i "$TEST_TMP/in.csv" -o "$TEST_TMP/out.csv" >/dev/null 2>&1
expect_eq "$(cat "$checkout/model.yaml")" "$(cat "$TEST_TMP/pkg/model.yaml")"
kill "$SERVER" 2>/dev/null

finish
