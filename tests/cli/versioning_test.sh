#!/usr/bin/env bash
# forja init / add / status / checkout, driven as a user would.
source "$(dirname "$0")/../lib/common.sh"

# --- init ---------------------------------------------------------------
mkdir -p "$TEST_TMP/nogit" && cd "$TEST_TMP/nogit"
expect_fail 1 forja init
expect_contains "$OUT" "not the top of a git repository"
expect_one_error_line "$OUT"
expect_ok forja init --no-scm
[[ -d .forja/cache && -f forja.yaml ]] && pass || fail "init --no-scm did not create .forja/ and forja.yaml"

new_repo
expect_contains "$(cat .gitignore)" "/.forja/"
cp forja.yaml /tmp/forja.yaml.before.$$
expect_ok forja init
expect_contains "$OUT" "already initialized"
cmp -s forja.yaml /tmp/forja.yaml.before.$$ && pass || fail "second init changed forja.yaml"
rm -f /tmp/forja.yaml.before.$$
expect_eq "$(grep -c '^/.forja/$' .gitignore)" "1"

# --- add a file and a folder ----------------------------------------------
make_files data/images 300
mkdir -p data/images/nested/deeper && echo deep >data/images/nested/deeper/x.bin
printf 'a,b\n1,2\n' >data/table.csv
expect_ok forja add data/images data/table.csv
expect_contains "$OUT" "added data/images: 301 files"
expect_contains "$OUT" "added data/table.csv"
expect_contains "$(cat data/images.forja)" "kind: dir"
expect_contains "$(cat data/images.forja)" "files: 301"
expect_contains "$(cat data/table.csv.forja)" "hash: sha256:$(printf 'a,b\n1,2\n' | sha256sum | cut -c1-64)"
expect_contains "$(cat data/.gitignore)" "/images"
expect_contains "$(cat data/.gitignore)" "/table.csv"
# The object is at the documented place and sha256sum verifies it.
h=$(printf 'a,b\n1,2\n' | sha256sum | cut -c1-64)
obj=.forja/cache/sha256/${h:0:2}/${h:2}
[[ -f $obj ]] && pass || fail "object $obj missing"
expect_eq "$(sha256sum <"$obj" | cut -c1-64)" "$h"
# The folder's manifest object lists every file, sorted, and hashes to the pointer's hash.
mh=$(sed -n 's/^hash: sha256://p' data/images.forja)
manifest=.forja/cache/sha256/${mh:0:2}/${mh:2}
expect_eq "$(head -1 "$manifest")" "forja-manifest 1"
expect_eq "$(($(wc -l <"$manifest") - 1))" "301"
expect_eq "$(sha256sum <"$manifest" | cut -c1-64)" "$mh"
# Hardlinked workspace files are read-only (default link types on ext4: hardlink).
if [[ $(stat -c %h data/table.csv) -ge 2 ]]; then
  [[ ! -w data/table.csv || $(id -u) -eq 0 ]] && pass
  expect_eq "$(stat -c %a data/table.csv)" "444"
fi

# --- status ------------------------------------------------------------------
expect_ok forja status
expect_contains "$OUT" "up to date (2 tracked paths)"
run forja status --json
expect_eq "$RC" "0"
expect_contains "$OUT" '"state": "unchanged"'
python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and {x["path"] for x in d}=={"data/images","data/table.csv"}' <<<"$OUT" && pass || fail "status --json is not the expected JSON: $OUT"

# Modify (by replacing, as editors do), add and delete files inside the folder.
echo changed >data/images/f1.txt.new && mv -f data/images/f1.txt.new data/images/f1.txt
echo brand-new >data/images/extra.txt
rm -f data/images/f2.txt
expect_fail 1 forja status
expect_contains "$OUT" "data/images: modified (1 added, 1 modified, 1 deleted)"
run forja status -v data/images
expect_contains "$OUT" "added:    data/images/extra.txt"
expect_contains "$OUT" "modified: data/images/f1.txt"
expect_contains "$OUT" "deleted:  data/images/f2.txt"
run forja status --json data/images
python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; assert d["state"]=="modified" and d["added"]==["extra.txt"] and d["modified"]==["f1.txt"] and d["deleted"]==["f2.txt"], d' <<<"$OUT" && pass || fail "status --json details wrong: $OUT"

# Touching a file without changing it is not a change (rehash proves it).
touch data/table.csv
expect_ok forja status data/table.csv

# A deleted file is "deleted"; its bytes are still cached.
rm -f data/table.csv
expect_fail 1 forja status data/table.csv
expect_contains "$OUT" "data/table.csv: deleted"

# --- checkout ------------------------------------------------------------------
# Refuses to throw away changes forja never stored.
expect_fail 1 forja checkout data/images
expect_contains "$OUT" "a change forja has not stored"
expect_one_error_line "$OUT"
[[ -f data/images/extra.txt ]] && pass || fail "refused checkout still removed a file"
expect_ok forja checkout --force
expect_ok forja status
[[ ! -e data/images/extra.txt ]] && pass || fail "checkout kept a file the manifest does not list"
expect_eq "$(cat data/table.csv)" "$(printf 'a,b\n1,2')"

# --- versions: add a change, switch with git, checkout --------------------------
git add data/images.forja data/table.csv.forja data/.gitignore .gitignore forja.yaml
git commit -qm v1
v1_f5=$(cat data/images/f5.txt)
echo v2 >data/images/f5.txt.new && mv -f data/images/f5.txt.new data/images/f5.txt
echo added-in-v2 >data/images/v2only.txt
expect_ok forja add data/images
expect_contains "$OUT" "added data/images: 302 files"
git commit -qam v2
old_obj=.forja/cache/sha256/$(printf '%s\n' "$v1_f5" | sha256sum | cut -c1-2)
[[ -d $old_obj ]] && pass
git checkout -q HEAD~1
expect_fail 1 forja status
expect_contains "$OUT" "data/images: modified"
expect_ok forja checkout
expect_eq "$(cat data/images/f5.txt)" "$v1_f5"
[[ ! -e data/images/v2only.txt ]] && pass || fail "v1 checkout left v2's file"
expect_ok forja status
git checkout -q -
sleep 0.2  # files younger than 100 ms are "racy" and rehashed once; keep this check exact
expect_ok forja checkout data/images
expect_eq "$(cat data/images/f5.txt)" "v2"
expect_eq "$(cat data/images/v2only.txt)" "added-in-v2"

# Re-adding unchanged data rehashes nothing and reports it unchanged.
run forja -v add data/images
expect_contains "$OUT" "unchanged data/images"
expect_contains "$OUT" "hashed 0 of 302 files"

# Identical files are stored once.
new_repo dedupe
mkdir d && for i in 1 2 3; do echo same >d/c$i; done
expect_ok forja add d
expect_eq "$(find .forja/cache/sha256 -type f | wc -l)" "2"  # one content + the manifest
expect_ok forja status

# --- refusals ------------------------------------------------------------------
new_repo refusals
mkdir -p data/inner && echo x >data/inner/a && echo y >data/b
expect_ok forja add data/inner
expect_fail 1 forja add data
expect_contains "$OUT" "contains tracked data (data/inner)"
expect_fail 1 forja add data/inner/a
expect_contains "$OUT" "inside data/inner, which forja already tracks"
expect_fail 1 forja add data/inner.forja
expect_contains "$OUT" "is a forja pointer file"
echo tracked >ingit.txt && git add ingit.txt && git commit -qm "in git"
expect_fail 1 forja add ingit.txt
expect_contains "$OUT" "ingit.txt is tracked by git"
expect_fail 1 forja status nothing-here
expect_contains "$OUT" "nothing-here is not tracked by forja"
expect_one_error_line "$OUT"

# -C runs elsewhere; relative paths resolve from the current folder.
cd "$TEST_TMP"
expect_ok forja -C refusals status
mkdir -p refusals/sub && cd refusals/sub
expect_ok forja status ../data/inner

# --- copy link type: files stay writable and independent ----------------------
new_repo copies
sed -i 's/link: \[reflink, hardlink, copy\]/link: [copy]/' forja.yaml
echo content >f.txt
expect_ok forja add f.txt
expect_eq "$(stat -c %h f.txt)" "1"
[[ -w f.txt ]] && pass || fail "a copied file should stay writable"
echo edit >>f.txt
expect_fail 1 forja status
expect_ok forja checkout --force f.txt
expect_eq "$(cat f.txt)" "content"

finish
