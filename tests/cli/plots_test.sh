#!/usr/bin/env bash
# forja plots show / diff on a pipeline whose stage writes a loss curve (CSV), a
# confusion matrix (CSV, in the cache), a ROC curve (JSON) and an image (PNG):
# every plot drawn into one HTML page and SVG files (parsed with a real XML
# parser), --json's points, a diff of two commits overlaid in one chart, a
# dvc.yaml repository's plots, and each kind of bad input as one clear error.
# The examples of docs/plots.md are the ones run here.
source "$(dirname "$0")/../lib/common.sh"

PY=${FORJA_SOURCE}/.venv/bin/python
[[ -x $PY ]] || PY=python3
json_check() {  # json_check PYTHON-EXPR-ON-d "$OUT"
  "$PY" -c "import json,sys; d=json.load(sys.stdin); assert $1, d" <<<"$2" && pass || fail "JSON check '$1' failed on: $2"
}
# svg_check FILE PYTHON-EXPR: the SVG parses as XML (xml.etree); `root` and `series`
# (the <g class="series"> elements) are in scope of the expression.
svg_check() {
  "$PY" - "$1" "$2" <<'PYEOF' && pass || fail "SVG check '$2' failed on $1"
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
series = [g for g in root.iter(NS + "g") if g.get("class") == "series"]
ok = eval(sys.argv[2])
if not ok:
    print([(g.get("data-rev"), g.get("data-points")) for g in series], file=sys.stderr)
sys.exit(0 if ok else 1)
PYEOF
}

new_repo
printf 'scale: 1\n' >params.yaml
cat >evaluate.py <<'PYEOF'
import json, os, struct, zlib
scale = int(open("params.yaml").read().split(":")[1])
os.makedirs("eval", exist_ok=True)
with open("eval/loss.csv", "w") as f:
    f.write("epoch,loss\n")
    for e in range(1, 6):
        f.write("%d,%s\n" % (e, round(scale / e, 4)))
with open("eval/cm.csv", "w") as f:
    f.write("actual,predicted\n")
    rows = [("cat", "cat")] * (3 * scale) + [("cat", "dog")] + [("dog", "dog")] * 4 + [("dog", "cat")] * scale
    f.writelines("%s,%s\n" % r for r in rows)
json.dump({"roc": [{"fpr": 0, "tpr": 0, "threshold": 1}, {"fpr": 0.1 * scale, "tpr": 0.8, "threshold": 0.5},
                   {"fpr": 1, "tpr": 1, "threshold": 0}]}, open("eval/roc.json", "w"))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) + \
      chunk(b"IDAT", zlib.compress(b"\x00" + bytes([40 * scale, 0, 0]))) + chunk(b"IEND", b"")
open("eval/importance.png", "wb").write(png)
PYEOF
cat >>forja.yaml <<'EOF'
stages:
  evaluate:
    cmd: python3 evaluate.py
    deps: [evaluate.py, params.yaml]
    plots:
      - eval/loss.csv: {cache: false, x: epoch, y: loss, title: Training loss}
      - eval/cm.csv: {template: confusion, x: actual, y: predicted}
      - eval/roc.json: {cache: false}
      - eval/importance.png: {cache: false}
plots:
  - roc:
      template: simple
      x: fpr
      y: {eval/roc.json: tpr}
      title: ROC
EOF

# --- nothing ran yet: a missing file is an error naming the plot --------------------
expect_fail 1 forja plots show
expect_contains "$OUT" "forja.yaml:"
expect_contains "$OUT" "plot 'eval/loss.csv': eval/loss.csv does not exist; run the stage that writes it"
expect_one_error_line "$OUT"

expect_ok forja run
expect_ok git add -A
expect_ok git commit -qm "scale 1"

# --- show: every plot, one page, one SVG per chart ------------------------------------
run forja plots show
expect_eq "$RC" 0
expect_eq "$OUT" "plots/index.html"
for f in eval_loss.csv.svg eval_cm.csv.svg eval_roc.json.svg roc.svg workspace_eval_importance.png; do
  [[ -f plots/$f ]] && pass || fail "plots/$f was not written: $(ls plots)"
done
svg_check plots/eval_loss.csv.svg 'len(series) == 1 and series[0].get("data-points") == "5" and root.find(NS + "title").text == "Training loss"'
svg_check plots/eval_cm.csv.svg 'root.get("data-template") == "confusion" and len([r for r in root.iter(NS + "rect") if r.get("class") == "cell"]) == 4'
# The confusion matrix counts: cat->cat 3, cat->dog 1, dog->dog 4, dog->cat 1.
svg_check plots/eval_cm.csv.svg 'sorted(t.text for t in root.iter(NS + "text") if t.get("class") == "count") == ["1", "1", "3", "4"]'
svg_check plots/roc.svg 'any(l.get("class") == "chance" for l in root.iter(NS + "line")) and series[0].get("data-points") == "3"'
# eval/roc.json without x or y: x is the step, y the last field (threshold), as DVC draws it.
svg_check plots/eval_roc.json.svg 'any(t.text == "step" for t in root.iter(NS + "text")) and any(t.text == "threshold" for t in root.iter(NS + "text"))'
html=$(cat plots/index.html)
expect_contains "$html" "src=\"data:image/png;base64,iVBORw0KGgo"
expect_contains "$html" "<h2>eval/loss.csv</h2>"
expect_not_contains "$html" "<script"
expect_not_contains "$html" "https://"
"$PY" -c "import sys, xml.etree.ElementTree as ET; h=open('plots/index.html').read(); ET.fromstring(h[h.index('<body>'):h.index('</body>')+7])" \
  && pass || fail "index.html's body is not well-formed"

# --- --json: the points of every series -----------------------------------------------
run forja plots show --json -o report
expect_eq "$RC" 0
json_check 'd["html"] == "report/index.html" and [p["id"] for p in d["plots"]] == ["eval/loss.csv", "eval/cm.csv", "eval/roc.json", "eval/importance.png", "roc"]' "$OUT"
json_check 'd["plots"][0]["series"][0]["points"][:2] == [{"x": 1, "y": 1}, {"x": 2, "y": 0.5}]' "$OUT"
json_check 'd["plots"][0]["x_label"] == "epoch" and d["plots"][0]["y_label"] == "loss"' "$OUT"
json_check 'd["plots"][4]["series"][0]["points"][1] == {"x": 0.1, "y": 0.8}' "$OUT"
json_check 'd["plots"][3]["image"] and d["plots"][3]["revisions"][0]["rev"] == "workspace"' "$OUT"
[[ -f report/index.html ]] && pass || fail "-o report wrote no report/index.html"

# A target narrows; a file no definition names is drawn with DVC's defaults; options override.
run forja plots show eval/loss.csv --json --svg-only -o one
json_check '[p["id"] for p in d["plots"]] == ["eval/loss.csv"] and d["html"] is None' "$OUT"
[[ ! -f one/index.html ]] && pass || fail "--svg-only wrote index.html"
printf 'feature,importance\nage,0.1\nincome,0.7\nzip,0.2\n' >imp.csv
run forja plots show imp.csv -t bar_horizontal_sorted -x importance -y feature --json
json_check 'd["plots"][0]["template"] == "bar_horizontal_sorted" and d["plots"][0]["series"][0]["points"][1] == {"x": 0.7, "y": "income"}' "$OUT"
svg_check plots/imp.csv.svg '[t.text for t in root.iter(NS + "text") if t.get("text-anchor") == "end"][:3] == ["income", "zip", "age"]'
rm imp.csv

# --- diff: change the data, commit, overlay both revisions ------------------------------
printf 'scale: 2\n' >params.yaml
expect_ok forja run
expect_ok git add -A
expect_ok git commit -qm "scale 2"
run forja plots diff HEAD~1 --json
expect_eq "$RC" 0
json_check '[s["rev"] for s in d["plots"][0]["series"]] == ["HEAD~1", "workspace"]' "$OUT"
json_check 'd["plots"][0]["series"][0]["points"][1]["y"] == 0.5 and d["plots"][0]["series"][1]["points"][1]["y"] == 1' "$OUT"
# eval/cm.csv is cached (not in git): HEAD~1's comes from the cache by forja.lock's hash.
json_check 'len(d["plots"][1]["series"][0]["points"]) == 9 and len(d["plots"][1]["series"][1]["points"]) == 13' "$OUT"
json_check '[r["rev"] for r in d["plots"][3]["revisions"]] == ["HEAD~1", "workspace"]' "$OUT"
svg_check plots/eval_loss.csv.svg '[g.get("data-rev") for g in series] == ["HEAD~1", "workspace"] and len(list(root.iter(NS + "polyline"))) == 2'
svg_check plots/eval_cm.csv.svg 'len(series) == 2 and len([r for r in root.iter(NS + "rect") if r.get("class") == "cell"]) == 8'
run forja plots diff HEAD~1 HEAD --targets eval/loss.csv --json
json_check '[p["id"] for p in d["plots"]] == ["eval/loss.csv"] and [s["rev"] for s in d["plots"][0]["series"]] == ["HEAD~1", "HEAD"]' "$OUT"
run forja plots diff
expect_eq "$RC" 0
expect_contains "$(cat plots/index.html)" "forja plots: HEAD workspace"
expect_fail 1 forja plots diff nosuchrev
expect_contains "$OUT" "nosuchrev"
expect_one_error_line "$OUT"

# --- hostile text is escaped -------------------------------------------------------------
cp forja.yaml forja.yaml.good
sed -i 's/title: Training loss/title: "<script>alert(1)<\/script> \&"/' forja.yaml
expect_ok forja plots show
expect_not_contains "$(cat plots/index.html)" "<script>"
expect_contains "$(cat plots/index.html)" "&lt;script&gt;alert(1)&lt;/script&gt; &amp;"
svg_check plots/eval_loss.csv.svg 'root.find(NS + "title").text == "<script>alert(1)</script> &"'
cp forja.yaml.good forja.yaml

# --- bad input: one line each, naming file and line or field ------------------------------
cp eval/loss.csv loss.good
printf 'epoch,loss\n1,0.5\n2\n' >eval/loss.csv
expect_fail 1 forja plots show
expect_contains "$OUT" "eval/loss.csv:3: 1 fields, the header has 2"
expect_one_error_line "$OUT"
cp loss.good eval/loss.csv
printf '{"roc": [{"fpr": 0,}]}' >eval/roc.json
expect_fail 1 forja plots show eval/roc.json
expect_contains "$OUT" "eval/roc.json: not valid JSON: parse error at line 1"
expect_one_error_line "$OUT"
git checkout -q eval/roc.json
sed -i 's/y: loss, title/y: los, title/' forja.yaml
expect_fail 1 forja plots show
expect_contains "$OUT" "plot 'eval/loss.csv': eval/loss.csv (workspace) has no field 'los'; its fields: epoch, loss"
expect_one_error_line "$OUT"
cp forja.yaml.good forja.yaml
sed -i 's/template: simple/template: pie/' forja.yaml
expect_fail 1 forja plots show
expect_contains "$OUT" "plots[0].roc.template: unknown template 'pie'"
expect_one_error_line "$OUT"
cp forja.yaml.good forja.yaml
sed -i 's|y: {eval/roc.json: tpr}|y: {../outside.json: tpr}|' forja.yaml
expect_fail 1 forja plots show
expect_contains "$OUT" "plots[0].roc.y.../outside.json:"
expect_contains "$OUT" "name a file inside the repository"
expect_one_error_line "$OUT"
cp forja.yaml.good forja.yaml
expect_fail 1 forja plots show ../elsewhere.csv
expect_one_error_line "$OUT"
head -c 70000000 /dev/zero | tr '\0' 'a' >big.csv
expect_fail 1 forja plots show big.csv
expect_contains "$OUT" "big.csv: 70000000 bytes; a plot reads at most 67108864"
rm big.csv
expect_ok forja plots show

# --- a DVC repository: dvc.yaml's stage plots and top-level plots --------------------------
new_repo dvcrepo
mkdir -p eval
printf 'actual,predicted\n0,0\n0,1\n1,1\n' >eval/cm.csv
printf 'step,acc\n0,0.5\n1,0.75\n' >eval/acc.csv
printf '1,0.5\n2,0.25\n' >eval/raw.csv
cat >dvc.yaml <<'EOF'
stages:
  evaluate:
    cmd: "true"
    plots:
      - eval/acc.csv:
          cache: false
          y: acc
plots:
  - eval/cm.csv:
      template: confusion_normalized
      x: actual
      y: predicted
      title: Confusion (normalized)
  - eval/raw.csv:
      header: false
      x: "0"
      y: "1"
EOF
run forja plots show --json
expect_eq "$RC" 0
json_check '[p["id"] for p in d["plots"]] == ["eval/acc.csv", "eval/cm.csv", "eval/raw.csv"] and d["plots"][1]["template"] == "confusion_normalized"' "$OUT"
# header: false: a CSV without a header row, its columns named 0, 1, ... as DVC names them.
json_check 'd["plots"][2]["series"][0]["points"] == [{"x": 1, "y": 0.5}, {"x": 2, "y": 0.25}]' "$OUT"
svg_check plots/eval_cm.csv.svg 'sorted(t.text for t in root.iter(NS + "text") if t.get("class") == "count") == ["0.00", "0.50", "0.50", "1.00"]'

run forja plots --help
expect_contains "$OUT" "show"
expect_contains "$OUT" "diff"
run forja plots show --help
expect_contains "$OUT" "--svg-only"
expect_contains "$OUT" "bar_horizontal_sorted"
finish
