#!/usr/bin/env bash
# Remotes (local folders): remote add/list/default/remove, push/fetch/pull, gc and
# verify on a remote, and a corrupt remote object being refused.
source "$(dirname "$0")/../lib/common.sh"

STORE="$TEST_TMP/store"
new_repo
make_files data 200
head -c 3000000 /dev/urandom >big.bin
expect_ok forja add data big.bin
git add -A && git commit -qm v1

# --- remote add / list / default / remove -------------------------------------
expect_fail 1 forja push
expect_contains "$OUT" "no remote is configured; add one with forja remote add NAME URL"
expect_ok forja remote add store "$STORE"
expect_contains "$OUT" "(default)"
expect_ok forja remote add other ../elsewhere
run forja remote list
expect_contains "$OUT" "store	$STORE	(default)"
expect_contains "$OUT" "other	../elsewhere"
run forja remote list --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert [r["name"] for r in d]==["store","other"] and d[0]["default"] and not d[1]["default"], d' <<<"$OUT" && pass || fail "remote list --json: $OUT"
expect_fail 1 forja remote add store /tmp/x
expect_contains "$OUT" "already exists"
expect_fail 1 forja remote add "bad name" /tmp/x
expect_fail 1 forja remote add weird ftp://host/x
expect_contains "$OUT" "is not supported"
expect_ok forja remote default other
expect_contains "$(cat forja.yaml)" 'default_remote: "other"'
expect_ok forja remote remove other
expect_fail 1 forja remote remove other
expect_contains "$OUT" "no remote named 'other'"
expect_ok forja remote default store
# The rewritten forja.yaml keeps its comments and still parses.
expect_contains "$(cat forja.yaml)" "# How a workspace file shares bytes"
expect_ok forja status

# --- push -----------------------------------------------------------------------
expect_ok forja push
expect_contains "$OUT" "Pushed 202 objects"
# Objects sit at <remote>/sha256/ab/cdef... and verify with sha256sum.
bad=0
while read -r f; do
  name=${f#"$STORE/sha256/"}
  [[ $(sha256sum <"$f" | cut -c1-64) == "${name/\//}" ]] || bad=1
done < <(find "$STORE/sha256" -type f)
expect_eq "$bad" "0"
expect_eq "$(find "$STORE/sha256" -type f | wc -l)" "202"
expect_ok forja push
expect_contains "$OUT" "Pushed 0 objects (0 B) to 'store'; 202 were already there."
run forja push --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["transferred"]==0 and d["present"]==202, d' <<<"$(grep -v '^Pushed' <<<"$OUT")" && pass || fail "push --json: $OUT"

# An interrupted push resumes: only what is missing is sent.
find "$STORE/sha256" -type f | head -50 | xargs rm -f
expect_ok forja push
expect_contains "$OUT" "Pushed 50 objects"

# --- a clone elsewhere pulls everything -------------------------------------------
git commit -qam "add remote store"
git clone -q "$REPO" "$TEST_TMP/clone"
cd "$TEST_TMP/clone"
expect_fail 1 forja status
expect_contains "$OUT" "data: not in cache"
expect_ok forja fetch data
expect_contains "$OUT" "Fetched 201 objects"
[[ ! -e data ]] && pass || fail "fetch must not touch the workspace"
expect_ok forja pull
expect_contains "$OUT" "big.bin: 1 file written"
diff -r "$REPO/data" data >/dev/null && pass || fail "pulled data differs"
cmp -s "$REPO/big.bin" big.bin && pass || fail "pulled big.bin differs"
expect_ok forja status
expect_ok forja verify

# A corrupt object on the remote is refused on download, and nothing half-written stays.
chmod -R u+w .forja/cache big.bin && rm -rf .forja/cache big.bin
h=$(sed -n 's/^hash: sha256://p' big.bin.forja)
chmod u+w "$STORE/sha256/${h:0:2}/${h:2}"
echo garbage >"$STORE/sha256/${h:0:2}/${h:2}"
expect_fail 3 forja pull big.bin
expect_contains "$OUT" "the remote copy is corrupt: run forja verify --remote store"
expect_one_error_line "$OUT"
expect_eq "$(find .forja/cache -type f | wc -l)" "0"
# verify --remote finds it and quarantines it; a push from the original repo repairs it.
expect_fail 1 forja verify --remote store
expect_contains "$OUT" "corrupt: sha256/${h:0:2}/${h:2}"
[[ -f $STORE/quarantine/$h ]] && pass || fail "remote object not quarantined"
(cd "$REPO" && forja -q push) && pass || fail "repair push failed"
expect_ok forja pull big.bin
cmp -s "$REPO/big.bin" big.bin && pass || fail "repaired big.bin differs"
expect_ok forja verify --remote store --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["checked"]==202 and d["corrupt"]==[], d' <<<"$OUT" && pass || fail "verify --json: $OUT"

# Missing objects on the remote are named.
cd "$REPO"
echo only-local >local.txt && forja -q add local.txt
cd "$TEST_TMP/clone"
cp "$REPO/local.txt.forja" .
expect_fail 1 forja pull local.txt
expect_contains "$OUT" "missing on remote 'store' (e.g. local.txt)"

# --- gc on the cache and on the remote ----------------------------------------------
cd "$REPO"
expect_ok forja push
echo v2 >data/f0.txt.new && mv -f data/f0.txt.new data/f0.txt
expect_ok forja add data
git add -A && git commit -qm v2
expect_ok forja push
run forja gc
expect_contains "$OUT" "Would remove 2 objects"  # v1's f0.txt and v1's manifest
before=$(find .forja/cache/sha256 -type f | wc -l)
expect_eq "$(find .forja/cache/sha256 -type f | wc -l)" "$before"
expect_ok forja gc --all-commits
expect_contains "$OUT" "Nothing to remove"
run forja gc --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["objects"])==2 and not d["removed"], d' <<<"$OUT" && pass || fail "gc --json: $OUT"
expect_ok forja gc --force
expect_contains "$OUT" "Removed 2 objects"
expect_eq "$(find .forja/cache/sha256 -type f | wc -l)" "$((before - 2))"
expect_ok forja status
expect_ok forja gc --remote store
expect_contains "$OUT" "Would remove 2 objects from the remote 'store'"
expect_ok forja gc --remote store --force
expect_ok forja gc --remote store
expect_contains "$OUT" "Nothing to remove"

# remote modify (the README's table): one setting in forja.yaml, checked, and --unset;
# with --local the same in .forja/config.local.
new_repo modify
expect_ok forja remote add s3 s3://b/p -o endpoint=http://127.0.0.1:1
expect_ok forja remote modify s3 retries 7
expect_contains "$(forja remote list)" "retries=7"
expect_fail 1 forja remote modify s3 retries many
expect_contains "$OUT" "retries 'many' must be a whole number"
expect_ok forja remote modify --unset s3 retries
expect_not_contains "$(cat forja.yaml)" "retries"
expect_ok forja remote modify --local s3 access_key_id AKIDLOCAL
expect_contains "$(cat .forja/config.local)" "AKIDLOCAL"
expect_not_contains "$(cat forja.yaml)" "AKIDLOCAL"
expect_ok forja remote modify --local --unset s3 access_key_id
expect_not_contains "$(cat .forja/config.local)" "AKIDLOCAL"

finish
