#!/usr/bin/env bash
# forja import dvc against the real DVC (3.67, pinned in .venv): a repository made with
# dvc add, dvc stage add, dvc repro and dvc push is taken over by forja in a fresh clone
# (no DVC cache), and forja pull brings every file back byte-identical from the DVC
# remote (a folder, then S3 on s3rver), verifying md5s. Bad input: a tampered object on
# the remote, .dvc files with an escaping path, an unknown hash or a DVC 2 output, and a
# hostile .dir listing are refused with one clear line and nothing written.
source "$(dirname "$0")/../lib/common.sh"
DVC=$FORJA_SOURCE/.venv/bin/dvc
[[ -x $DVC ]] || { echo "skip: $DVC is missing (run scripts/setup)"; exit 77; }
dvc() { "$DVC" "$@"; }
export DVC_NO_ANALYTICS=1 DVC_NO_UPDATER=1 DVC_SITE_CACHE_DIR=$TEST_TMP/dvc-site

# --- a DVC repository, made by DVC ------------------------------------------------------
ORIG=$TEST_TMP/orig
STORE=$TEST_TMP/dvc-store
mkdir -p "$ORIG" && cd "$ORIG" && git init -q
dvc init -q || { fail "dvc init failed"; finish; }
head -c 300000 /dev/urandom >data.bin
head -c 5000 /dev/urandom >extra.bin  # used by no stage
make_files images 20
mkdir -p images/nested && printf 'deep\r\nwindows line ends\r\n' >images/nested/crlf.txt
printf 'train:\n  n: 3\n' >params.yaml
dvc add -q data.bin images extra.bin || fail "dvc add failed"
dvc stage add -q -n train -p train.n -d data.bin -d images -o model.out \
  "cat data.bin images/f1.txt > model.out" || fail "dvc stage add failed"
dvc stage add -q -n evaluate -d model.out -M metrics.json \
  "wc -c < model.out | sed 's/.*/{\"bytes\": &}/' > metrics.json" || fail "dvc stage add (metrics) failed"
dvc repro -q || fail "dvc repro failed"
dvc remote add -q -d store ../dvc-store || fail "dvc remote add failed"
dvc push -q || fail "dvc push failed"
git add -A && git commit -qm "dvc data"
[[ -d $STORE/files/md5 ]] && pass || fail "dvc push wrote no files/md5 layout"

# --- before the take-over: a clear message, not silence ---------------------------------
git clone -q "$ORIG" "$TEST_TMP/clone" && cd "$TEST_TMP/clone"
expect_fail 1 forja status
expect_contains "$OUT" "this is a DVC repository: run forja import dvc"
expect_one_error_line "$OUT"

# forja set up by hand in a DVC repository: a note says what is missing.
git clone -q "$ORIG" "$TEST_TMP/inited" && (cd "$TEST_TMP/inited" && forja -q init) || fail "forja init failed"
(cd "$TEST_TMP/inited" && "$FORJA" status) >"$TEST_TMP/inited.out" 2>&1 && pass || fail "forja status failed"
expect_contains "$(cat "$TEST_TMP/inited.out")" "note: data.bin.dvc is not taken over by forja yet; forja import dvc"

# --- dry run writes nothing ------------------------------------------------------------
expect_ok forja import dvc --dry-run
expect_contains "$OUT" "would take over data.bin (data.bin.dvc): only on the DVC remote"
expect_contains "$OUT" "would take over stage train (dvc.lock) into forja.lock"
[[ ! -e forja.yaml && ! -e .forja && ! -e data.bin.forja ]] && pass || fail "--dry-run wrote files"

# --- take-over in a fresh clone: nothing local, everything on the DVC remote -----------
expect_ok forja import dvc --json
expect_contains "$OUT" "remote store: ../dvc-store (default)"
expect_contains "$OUT" "stage train (dvc.lock) into forja.lock"
# As docs/dvc-compat.md shows it: DVC's order of stages, data a stage used fetched now.
expect_contains "$OUT" $'stage train (dvc.lock) into forja.lock\nstage evaluate (dvc.lock) into forja.lock'
expect_contains "$OUT" "data.bin (data.bin.dvc): sha256:$(sha256sum <"$ORIG/data.bin" | cut -c1-12) (from the dvc remote)"
expect_contains "$OUT" "extra.bin (extra.bin.dvc): only on the DVC remote: forja pull fetches it"
expect_eq "$(sed -n 's/^dvc-md5: "\(.*\)"$/\1/p' extra.bin.forja)" "$(md5sum <"$ORIG/extra.bin" | cut -c1-32)"
grep -q '^hash:' extra.bin.forja && fail "an unfetched pointer has a hash" || pass
expect_contains "$OUT" '"source": "not fetched"'
# dvc.lock's deps and outs were fetched (forja.lock has no "not fetched" state); the
# pointers of the same data got their hash then, so pull does not fetch them again.
expect_eq "$(sed -n 's/^hash: sha256://p' data.bin.forja)" "$(sha256sum <"$ORIG/data.bin" | cut -c1-64)"
grep -q 'dvc-md5: ' forja.lock && pass || fail "forja.lock keeps no md5"
expect_contains "$(cat forja.yaml)" 'url: "../dvc-store"'
# Until pulled, status shows the state and the other commands say what to do.
expect_fail 1 forja status
expect_contains "$OUT" $'\nextra.bin: not fetched (on the DVC remote; forja pull)\n'
expect_contains "$OUT" "data.bin: deleted"  # its bytes came with dvc.lock's stage
expect_contains "$OUT" $'images: deleted\nmodel.out: deleted'  # as docs/dvc-compat.md shows it
expect_not_contains "$OUT" "forja: error"
expect_fail 1 forja status --json
expect_contains "$OUT" '"state": "not fetched"'
expect_fail 1 forja status extra.bin
expect_contains "$OUT" "extra.bin: not fetched (on the DVC remote; forja pull)"
expect_fail 1 forja checkout extra.bin
expect_contains "$OUT" "not fetched yet; run forja pull"
git add -A && git commit -qm "taken over, not pulled yet"
expect_ok forja pull
expect_contains "$OUT" "Fetched 1 object"  # extra.bin: the rest came with dvc.lock's stages
cmp -s "$ORIG/extra.bin" extra.bin && pass || fail "extra.bin differs after pull"
cmp -s "$ORIG/data.bin" data.bin && pass || fail "data.bin differs after pull"
diff -r "$ORIG/images" images >/dev/null && pass || fail "images/ differs after pull"
cmp -s "$ORIG/model.out" model.out && pass || fail "model.out (a dvc.lock out) differs after pull"
expect_eq "$(sed -n 's/^hash: sha256://p' data.bin.forja)" "$(sha256sum <"$ORIG/data.bin" | cut -c1-64)"
grep -q '^hash: sha256:' images.forja && pass || fail "images.forja got no hash from pull"
expect_ok forja status
expect_contains "$OUT" "up to date"
# What DVC ran is what forja.lock says ran: dvc.yaml's stage is up to date, nothing reruns.
expect_ok forja status --pipeline
expect_contains "$OUT" "train: up to date"
expect_contains "$OUT" "evaluate: up to date"
expect_ok forja run
expect_contains "$OUT" "0 stages ran, 2 up to date"
# dvc.yaml's `metrics:` with cache: false: versioned by git, not cached by forja either.
expect_contains "$(grep -A6 '"metrics.json"' forja.lock)" "cache: false"
expect_contains "$(grep -A6 '"metrics.json"' forja.lock)" "metric: true"
# gc over the history: a commit with an unfetched pointer names no object and is no warning.
expect_ok forja gc --all-commits
expect_not_contains "$OUT" "missing field"
expect_contains "$OUT" "Nothing to remove"
CLONE_IMAGES_HASH=$(sed -n 's/^hash: //p' images.forja)

# --- take-over where the data is: workspace and DVC cache -------------------------------
cd "$ORIG"
expect_ok forja import dvc
expect_contains "$OUT" "data.bin (data.bin.dvc): sha256:"
expect_contains "$OUT" "(from the workspace)"
# The same version whichever way it came: a folder rebuilt from DVC's .dir listing hashes
# as the workspace folder does.
expect_eq "$(sed -n 's/^hash: //p' images.forja)" "$CLONE_IMAGES_HASH"
expect_ok forja status
git add -A && git commit -qm "taken over by forja"
# Again: nothing changes; a pointer forja made itself is never overwritten.
expect_ok forja import dvc
expect_contains "$OUT" "data.bin (data.bin.dvc): already taken over"
git diff --quiet && pass || fail "a second import changed versioned files"
printf 'mine\n' >mine.txt && expect_ok forja add mine.txt
printf 'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: mine.txt\n' >mine.txt.dvc
expect_ok forja import dvc
expect_contains "$OUT" "mine.txt.forja exists and is not mine.txt.dvc's version"
grep -q dvc-md5 mine.txt.forja && fail "forja's own pointer was overwritten" || pass
chmod u+w mine.txt; rm -f mine.txt mine.txt.dvc mine.txt.forja && git checkout -q -- .gitignore

# --- a clone of the taken-over repository: pointers know sha256, the remote has only md5s
git clone -q "$ORIG" "$TEST_TMP/clone2" && cd "$TEST_TMP/clone2"
[[ ! -d $STORE/sha256 ]] && pass || fail "the remote should hold DVC's layout only so far"
expect_ok forja pull
cmp -s "$ORIG/data.bin" data.bin && pass || fail "data.bin differs (pulled by md5 for a known sha256)"
diff -r "$ORIG/images" images >/dev/null && pass || fail "images/ differs (pulled by md5)"
cmp -s "$ORIG/model.out" model.out && pass || fail "model.out differs (pulled by md5)"
git diff --quiet && pass || fail "pull changed versioned files of a taken-over clone"
# forja push copies the objects to forja's layout on the same remote; then pull uses it.
expect_ok forja push
[[ -d $STORE/sha256 && -d $STORE/files/md5 ]] && pass || fail "the remote should hold both layouts"
git clone -q "$ORIG" "$TEST_TMP/clone3" && cd "$TEST_TMP/clone3"
expect_ok forja pull
expect_contains "$OUT" "Fetched "
diff -r "$ORIG/images" images >/dev/null && pass || fail "images/ differs (pulled by sha256)"

# --- a tampered object on the DVC remote: refused, nothing half-written ----------------
git clone -q "$ORIG" "$TEST_TMP/tamper" && cd "$TEST_TMP/tamper"
git checkout -q HEAD~1  # the DVC-only commit
expect_ok forja import dvc
md5=$(sed -n 's/^dvc-md5: "\(.*\)"$/\1/p' extra.bin.forja)
obj=$STORE/files/md5/${md5:0:2}/${md5:2}
cp -p "$obj" "$TEST_TMP/good-object" && chmod u+w "$obj" && echo tampered >"$obj"
expect_fail 3 forja pull
expect_contains "$OUT" "extra.bin: remote 'store' returned bytes for files/md5/${md5:0:2}/${md5:2} whose md5 is"
expect_contains "$OUT" "refused (nothing written)"
expect_one_error_line "$OUT"
[[ ! -e extra.bin && ! -e data.bin ]] && pass || fail "a pull refused for a tampered object wrote files"
grep -q '^hash:' extra.bin.forja && fail "a refused object's hash was recorded" || pass
[[ -z $(find . -name '*.tmp-*' -not -path './.git/*') ]] && pass || fail "temp files left behind"
cp -p "$TEST_TMP/good-object" "$obj"
expect_ok forja pull
cmp -s "$ORIG/extra.bin" extra.bin && pass || fail "extra.bin differs after the remote was repaired"
# Tampered data a dvc.lock stage needs is refused by the import itself.
git clone -q "$ORIG" "$TEST_TMP/tamper2" && cd "$TEST_TMP/tamper2" && git checkout -q HEAD~1
md5=$(md5sum <"$ORIG/data.bin" | cut -c1-32)
obj=$STORE/files/md5/${md5:0:2}/${md5:2}
cp -p "$obj" "$TEST_TMP/good-object" && chmod u+w "$obj" && echo tampered >"$obj"
expect_fail 3 forja import dvc
expect_contains "$OUT" "data.bin: remote 'store' returned bytes for files/md5/${md5:0:2}/${md5:2} whose md5 is"
expect_one_error_line "$OUT"
[[ ! -e forja.lock && ! -e data.bin ]] && pass || fail "an import refused for a tampered object wrote forja.lock or data"
cp -p "$TEST_TMP/good-object" "$obj"
expect_ok forja import dvc
expect_ok forja pull
cmp -s "$ORIG/data.bin" data.bin && pass || fail "data.bin differs after the repaired import"

# --- hostile or unverifiable .dvc files: refused with the reason ------------------------
bad_dvc() {  # NAME CONTENT EXPECTED-MESSAGE
  local dir=$TEST_TMP/bad-$1
  rm -rf "$dir" && git clone -q "$ORIG" "$dir" && cd "$dir" && git checkout -q HEAD~1
  printf '%s\n' "$2" >"$1.dvc"
  expect_fail 1 forja import dvc
  expect_contains "$OUT" "$3"
  expect_one_error_line "$OUT"
  [[ -z $(find . -type f -name '*?.forja' -not -path './.git/*') && ! -e forja.yaml ]] && pass || fail "$1: files written"
}
bad_dvc escape $'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: ../../escape' \
  "escape.dvc:5: outs: path '../../escape'"
bad_dvc gitdir $'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  hash: md5\n  path: .git/hooks/post-checkout' \
  "outs: path '.git/hooks/post-checkout'"
bad_dvc sha1 $'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  hash: sha1\n  path: x' \
  "has hash 'sha1'; forja verifies only DVC 3's 'md5'"
bad_dvc badmd5 $'outs:\n- md5: b1946ac92492d2347c6235b4d26111zz\n  hash: md5\n  path: x' \
  "is not 32 lowercase hex digits"
bad_dvc dvc2 $'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: x' \
  "has no 'hash: md5': it was written by DVC 2"

# A .dir listing on the remote that names a path outside its folder.
cd "$TEST_TMP/bad-dvc2" && rm -f dvc2.dvc
listing='[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "../../outside"}]'
lmd5=$(printf '%s' "$listing" | md5sum | cut -c1-32)
mkdir -p "$STORE/files/md5/${lmd5:0:2}" && printf '%s' "$listing" >"$STORE/files/md5/${lmd5:0:2}/${lmd5:2}.dir"
printf 'outs:\n- md5: %s.dir\n  nfiles: 1\n  hash: md5\n  path: evil\n' "$lmd5" >evil.dvc
expect_ok forja import dvc
expect_fail 1 forja pull evil
expect_contains "$OUT" "relpath '../../outside'"
expect_one_error_line "$OUT"
[[ ! -e evil && ! -e ../outside && ! -e ../../outside ]] && pass || fail "a hostile .dir listing wrote files"

# --- stages with wdir: dvc.lock's paths are relative to the stage's wdir -----------------
# Also per-output settings DVC honours: push: false (dvc push leaves the out) and remote:
# (dvc push and pull use that remote for it), in dvc.yaml and in a .dvc file.
WD=$TEST_TMP/wdir
mkdir -p "$WD/data" "$WD/eval" && cd "$WD" && git init -q && dvc init -q
printf 'a\nb\nc\n' >data/in.txt
printf 'evaluate:\n  threshold: 0.5\n' >eval/params.yaml
printf 'n: 2\n' >params.yaml
cat >dvc.yaml <<'YAML'
stages:
  prep:
    cmd: head -n ${n} data/in.txt > data/prep.txt && echo scratch > scratch.txt
    deps: [data/in.txt]
    params: [n]
    outs: [data/prep.txt, {scratch.txt: {push: false}}]
  evaluate:
    wdir: eval
    cmd: cat ../data/prep.txt > report.txt && echo '{}' > scores.json
    deps: [../data/prep.txt]
    params: [evaluate.threshold]
    outs: [{report.txt: {remote: side}}]
    metrics: [{scores.json: {cache: false}}]
YAML
printf 'on the side remote\n' >side.bin
dvc repro -q || fail "dvc repro (wdir) failed"
dvc add -q side.bin || fail "dvc add side.bin failed"
sed -i 's/^  path: side.bin$/  path: side.bin\n  remote: side/' side.bin.dvc
dvc remote add -q -d wstore "$TEST_TMP/wstore" && dvc remote add -q side "$TEST_TMP/wside" || fail "dvc remote add failed"
dvc push -q || fail "dvc push (wdir) failed"
git add -A && git commit -qm "dvc repro with wdir"
in_store() {  # STORE FILE: whether DVC pushed FILE's bytes to STORE
  local m; m=$(md5sum <"$2" | cut -c1-32)
  [[ -f $1/files/md5/${m:0:2}/${m:2} ]]
}
# What DVC did, so that forja is checked against it:
in_store "$TEST_TMP/wside" eval/report.txt && in_store "$TEST_TMP/wside" side.bin && pass || fail "dvc push did not use remote: side"
in_store "$TEST_TMP/wstore" scratch.txt || in_store "$TEST_TMP/wside" scratch.txt && fail "dvc pushed a push: false out" || pass
expect_ok forja import dvc
expect_contains "$OUT" "stage evaluate (dvc.lock) into forja.lock"
expect_contains "$(cat forja.lock)" '"eval/report.txt"'
expect_contains "$(cat forja.lock)" '      eval/params.yaml:'
expect_contains "$(grep -A6 '"eval/scores.json"' forja.lock)" "metric: true"
expect_contains "$(grep -A6 '"eval/report.txt"' forja.lock)" "remote: side"
expect_contains "$(grep -A6 '"scratch.txt"' forja.lock)" "push: false"
expect_contains "$(cat side.bin.forja)" $'\nremote: side'
expect_ok forja status --pipeline
expect_contains "$OUT" "evaluate: up to date"
expect_contains "$OUT" "prep: up to date"
expect_not_contains "$OUT" "push: false"
sed -i 's/0.5/0.7/' eval/params.yaml
expect_fail 1 forja status --pipeline
expect_contains "$OUT" "evaluate: changed: param evaluate.threshold changed (0.5 -> 0.7)"
git checkout -q -- eval/params.yaml
# forja push: the push: false out stays, remote: side outs go to side, the rest to the default.
expect_ok forja push
expect_contains "$OUT" "scratch.txt: push: false; not pushed"
sha_in() { [[ -n $(find "$1/sha256" -name "$(sha256sum <"$2" | cut -c3-64)" 2>/dev/null) ]]; }
sha_in "$TEST_TMP/wside" eval/report.txt && sha_in "$TEST_TMP/wside" side.bin && pass || fail "forja push did not use remote: side"
sha_in "$TEST_TMP/wstore" data/prep.txt && pass || fail "forja push did not send data/prep.txt to the default remote"
sha_in "$TEST_TMP/wstore" scratch.txt || sha_in "$TEST_TMP/wside" scratch.txt && fail "forja pushed a push: false out" || pass
# forja run keeps both settings in forja.lock (as it keeps cache: false).
expect_ok forja run --force
expect_contains "$(grep -A6 '"scratch.txt"' forja.lock)" "push: false"
expect_contains "$(grep -A6 '"eval/report.txt"' forja.lock)" "remote: side"
git checkout -q -- forja.lock 2>/dev/null || true
# A clone without DVC's cache: report.txt and side.bin come from remote: side (DVC's layout).
rm -rf "$TEST_TMP/wdir-clone" && git clone -q "$WD" "$TEST_TMP/wdir-clone" && cd "$TEST_TMP/wdir-clone"
rm -rf "$TEST_TMP/wstore/sha256" "$TEST_TMP/wside/sha256"  # DVC's layout only, as after dvc push
git rm -q --cached forja.yaml forja.lock side.bin.forja 2>/dev/null; rm -f forja.yaml forja.lock side.bin.forja
expect_ok forja import dvc
expect_contains "$OUT" "stage evaluate (dvc.lock) into forja.lock"
expect_contains "$OUT" "stage 'prep' not taken over: out 'scratch.txt'"  # never pushed, as DVC left it
expect_ok forja pull
cmp -s "$WD/side.bin" side.bin && pass || fail "side.bin differs after pull from remote: side"
cmp -s "$WD/eval/report.txt" eval/report.txt && pass || fail "eval/report.txt differs after pull"
# The remote: gone from forja.yaml: one line per path naming the file, the default is used.
expect_ok forja remote remove side
expect_ok forja push
expect_contains "$OUT" "forja.lock: eval/report.txt: remote 'side' is not in forja.yaml (forja remote add side URL); the default remote is used"
expect_contains "$OUT" "side.bin.forja: side.bin: remote 'side' is not in forja.yaml"
sha_in "$TEST_TMP/wstore" side.bin && pass || fail "side.bin did not go to the default remote"
# A remote: that names no taken-over remote: one line naming file:line, the default is used.
rm -rf "$TEST_TMP/wdir-noremote" && git clone -q "$WD" "$TEST_TMP/wdir-noremote" && cd "$TEST_TMP/wdir-noremote"
git rm -q --cached forja.yaml forja.lock side.bin.forja 2>/dev/null; rm -f forja.yaml forja.lock side.bin.forja
sed -i 's/^  remote: side$/  remote: elsewhere/' side.bin.dvc
expect_ok forja import dvc
expect_contains "$OUT" "side.bin.dvc:6: 'side.bin' has remote: elsewhere, a remote not taken over from .dvc/config; forja pull and push use the default remote for it"
expect_not_contains "$(cat side.bin.forja)" "remote:"
# dvc.lock in a subfolder (DVC reads sub/dvc.yaml too): refused naming it, nothing written.
rm -rf "$TEST_TMP/wdir-sub" && git clone -q "$WD" "$TEST_TMP/wdir-sub" && cd "$TEST_TMP/wdir-sub"
git rm -q --cached forja.yaml forja.lock side.bin.forja 2>/dev/null; rm -f forja.yaml forja.lock side.bin.forja
mkdir -p sub && printf 'stages:\n  s:\n    cmd: echo > o.txt\n    outs: [o.txt]\n' >sub/dvc.yaml
printf 'schema: \x272.0\x27\nstages: {}\n' >sub/dvc.lock
expect_fail 1 forja import dvc
expect_contains "$OUT" "forja: error: sub/dvc.lock: forja import dvc takes over only the dvc.lock at the repository root"
expect_contains "$OUT" "move sub/dvc.yaml's stages into the root dvc.yaml with wdir: sub"
expect_one_error_line "$OUT"
[[ ! -e forja.yaml && ! -e .forja ]] && pass || fail "a refused import (sub/dvc.lock) wrote files"
cd "$WD"
# A dvc.lock path that leaves the repository through the wdir: one line, nothing written.
rm -rf "$TEST_TMP/wdir-bad" && git clone -q "$WD" "$TEST_TMP/wdir-bad" && cd "$TEST_TMP/wdir-bad"
sed -i 's#path: ../data/prep.txt#path: ../../../etc/passwd#' dvc.lock
expect_fail 1 forja import dvc
expect_contains "$OUT" "stage 'evaluate': deps: path '../../../etc/passwd' (in wdir 'eval')"
expect_contains "$OUT" "dvc.lock:"
expect_one_error_line "$OUT"
[[ ! -e forja.yaml && ! -e forja.lock ]] && pass || fail "a refused wdir import wrote files"

# --- S3: DVC 3's layout on s3rver, DVC's remote config with endpointurl and keys --------
source "$FORJA_SOURCE/tests/lib/s3rver.sh"
if [[ -x /usr/bin/aws ]] && s3rver_start dvc-data; then
  at_exit s3rver_stop
  /usr/bin/aws --endpoint-url "$S3_ENDPOINT" s3 cp --quiet --recursive "$STORE/files" s3://dvc-data/team/dvc/files \
    || fail "copying DVC's layout to s3rver failed"
  rm -rf "$TEST_TMP/s3clone" && git clone -q "$ORIG" "$TEST_TMP/s3clone" && cd "$TEST_TMP/s3clone"
  git checkout -q HEAD~1
  dvc remote add -q -d s3store s3://dvc-data/team/dvc || fail "dvc remote add s3 failed"
  dvc remote modify -q s3store endpointurl "$S3_ENDPOINT"
  dvc remote modify -q s3store region us-east-1
  dvc remote modify -q --local s3store access_key_id S3RVER
  dvc remote modify -q --local s3store secret_access_key S3RVER
  noenv=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$FORJA")  # the keys must come from DVC's config.local
  expect_ok "${noenv[@]}" import dvc
  expect_contains "$OUT" "remote s3store: s3://dvc-data/team/dvc (default) (credentials in .forja/config.local)"
  grep -q S3RVER forja.yaml && fail "credentials went to forja.yaml" || pass
  grep -q 'secret_access_key' .forja/config.local && pass || fail "credentials not in .forja/config.local"
  expect_ok "${noenv[@]}" pull -r s3store
  cmp -s "$ORIG/data.bin" data.bin && pass || fail "data.bin differs after pull from S3"
  cmp -s "$ORIG/extra.bin" extra.bin && pass || fail "extra.bin differs after pull from S3"
  diff -r "$ORIG/images" images >/dev/null && pass || fail "images/ differs after pull from S3"
  cmp -s "$ORIG/model.out" model.out && pass || fail "model.out differs after pull from S3"
else
  echo "note: s3rver or awscli unavailable; the S3 case was not run"
fi

finish
