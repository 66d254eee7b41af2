"""Every template's SVG, drawn with hostile text, is well-formed XML (parsed by
xml.etree), shows the text as written (escaped, not as markup) and has one
series group per revision with its points."""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<b>&amp;\"quote\" 'x' \ufffd]]>"  # \x01 is not XML: drawn as U+FFFD
TEMPLATES = ["linear", "simple", "scatter", "smooth", "confusion", "confusion_normalized",
             "bar_horizontal", "bar_horizontal_sorted"]


def main():
    failures = []
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([os.environ["RENDER_TOOL"], out], check=True)
        for t in TEMPLATES:
            root = ET.parse(os.path.join(out, t + ".svg")).getroot()
            if root.tag != NS + "svg":
                failures.append(f"{t}: root is {root.tag}")
            if root.find(NS + "title").text != HOSTILE:
                failures.append(f"{t}: title {root.find(NS + 'title').text!r}")
            texts = ["".join(e.itertext()) for e in root.iter(NS + "text")]
            if HOSTILE not in texts:
                failures.append(f"{t}: the hostile title is not a text element: {texts[:5]}")
            if any(e.tag == NS + "b" for e in root.iter()):
                failures.append(f"{t}: text became markup")
            series = [g for g in root.iter(NS + "g") if g.get("class") == "series"]
            revs = [g.get("data-rev") for g in series]
            if revs != ["rev " + HOSTILE, "workspace"]:
                failures.append(f"{t}: series {revs}")
            for g in series:
                if g.get("data-points") != "3":
                    failures.append(f"{t}: {g.get('data-rev')} has {g.get('data-points')} points")
            if t in ("linear", "simple"):
                lines = [len(p.get("points").split()) for p in root.iter(NS + "polyline")]
                if lines != [3, 3]:
                    failures.append(f"{t}: polylines {lines}")
            if t.startswith("confusion"):
                cells = [c for c in root.iter(NS + "rect") if c.get("class") == "cell"]
                if len(cells) != 8:  # 2 labels x 2 labels x 2 revisions
                    failures.append(f"{t}: {len(cells)} cells")
            # The HTML page holds the same SVG inline: parse its body as XML too.
            html = open(os.path.join(out, t + ".html"), encoding="utf-8").read()
            body = html[html.index("<body>"):html.index("</body>") + len("</body>")]
            ET.fromstring(body)
            if "<script" in html or "http://" in html.replace("http://www.w3.org/2000/svg", ""):
                failures.append(f"{t}: the page has a script or a network reference")
    for f in failures:
        print("FAIL", f)
    print(f"{len(TEMPLATES)} templates checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
