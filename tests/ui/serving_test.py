"""How forja server serves its embedded web UI, over plain HTTP (no browser): the files and
their content types, strong ETags that are the SHA-256 of the bytes, 304s, cache lifetimes,
the security headers on every UI answer, client routes answering index.html, API 404s still
JSON, and the UI public on a server whose API needs a token.

    python tests/ui/serving_test.py
"""
import base64
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "api"))
from harness import Checks, Server, forja, fresh_store, tempdir  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

if os.environ.get("FORJA_UI", "ON").upper() in ("OFF", "0", "FALSE", "NO"):
    print("SKIP: forja was built without its web UI (FORJA_UI=OFF)")
    sys.exit(77)

# script-src names index.html's inline scripts by hash (read from the page below).
CSP = ("default-src 'self'; script-src 'self'{scripts}; style-src 'self'; img-src 'self' blob:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

c = Checks()
tmp = tempdir()
store = fresh_store("sqlite", tmp)
srv = Server(store, artifacts=os.path.join(tmp, "objects"))


def get(path, method="GET", headers=None, body=None):
    """(status, headers as a lower-case dict, body bytes)"""
    req = urllib.request.Request(srv.url + path, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def security_headers(h, what):
    c.eq(h.get("content-security-policy"), CSP, what + ": Content-Security-Policy")
    c.eq(h.get("x-content-type-options"), "nosniff", what + ": X-Content-Type-Options")
    c.eq(h.get("referrer-policy"), "no-referrer", what + ": Referrer-Policy")
    c.eq(h.get("x-frame-options"), "DENY", what + ": X-Frame-Options")
    # Left out on purpose (docs/ui.md): it swaps renderer processes on every first page.
    c.eq(h.get("cross-origin-opener-policy"), None, what + ": no Cross-Origin-Opener-Policy")


# ---- index.html ----------------------------------------------------------------------------
status, h, index = get("/")
html = index.decode()
# The inline scripts (the early fetches of the runs page and others), each allowed by its
# SHA-256, and no other.
inline = re.findall(r"<script>(.*?)</script>", html, re.S)
CSP = CSP.format(scripts="".join(
    " 'sha256-" + base64.b64encode(hashlib.sha256(x.encode()).digest()).decode() + "'" for x in inline))
c.true(any("/api/2.0/forja/runs/window?" in x for x in inline), "index.html has the runs page's early fetch inline")
# The comparison's script preloads its code: the build wrote the chunks' names into its list,
# each one a file the server has.
chunks = [json.loads(m) for x in inline for m in re.findall(r"var code = (\[.*?\]);", x)]
c.true(len(chunks) == 1 and any("/ComparePage-" in f for f in chunks[0]) and any("/LineChart-" in f for f in chunks[0])
       and any(f.endswith(".css") for f in chunks[0]),
       "index.html's comparison script names the comparison's chunks to preload")
for f in chunks[0] if chunks else []:
    c.eq(get(f)[0], 200, f"the preloaded {f} is served")
c.eq(status, 200, "GET / answers")
c.eq(h.get("content-type"), "text/html; charset=utf-8", "/ is HTML")
security_headers(h, "/")
c.eq(h.get("etag"), '"' + hashlib.sha256(index).hexdigest() + '"', "the ETag is the SHA-256 of the bytes")
c.eq(h.get("cache-control"), "no-cache", "index.html is revalidated on every load")
c.true('<div id="app">' in html, "index.html holds the app's root")
c.eq(re.findall(r"<script(?![^>]*\bsrc=)(?!>)[^>]*>", html), [], "no inline script with attributes (the CSP "
     "allows only plain <script> blocks, by hash)")
c.eq(re.findall(r"(?:src|href)=\"(?:https?:)?//[^\"]*\"", html), [], "nothing from another origin (works air-gapped)")
assets = re.findall(r"(?:src|href)=\"(/assets/[^\"]+)\"", html)
c.true(any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets),
       f"index.html loads a script and a style sheet from /assets/ ({assets})")

# The same bytes at /index.html; 304 for its ETag, also among others and weak; 200 for another.
status, h2, again = get("/index.html")
c.eq((status, again), (200, index), "/index.html is the same file")
etag = h["etag"]
status, h304, body = get("/", headers={"If-None-Match": etag})
c.eq((status, body), (304, b""), "If-None-Match with its ETag: 304, no body")
c.eq(h304.get("etag"), etag, "the 304 names the ETag")
security_headers(h304, "the 304")
c.eq(get("/", headers={"If-None-Match": '"nope", W/' + etag})[0], 304, "an ETag list, weak form: 304")
c.eq(get("/", headers={"If-None-Match": '"' + "0" * 64 + '"'})[0], 200, "another ETag: 200")
status, hh, body = get("/", method="HEAD")
c.eq((status, body, hh.get("content-length")), (200, b"", str(len(index))), "HEAD / : the length, no body")

# ---- hashed assets -------------------------------------------------------------------------
types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
for a in assets:
    status, h, body = get(a)
    c.eq(status, 200, a)
    c.eq(h.get("content-type"), types.get(os.path.splitext(a)[1]), a + ": content type")
    c.eq(h.get("cache-control"), "public, max-age=31536000, immutable", a + ": kept for good (the name is its hash)")
    c.eq(h.get("etag"), '"' + hashlib.sha256(body).hexdigest() + '"', a + ": ETag")
    security_headers(h, a)
    if a.endswith(".css"):
        c.eq(re.findall(rb"url\((?!['\"]?/)[^)]*\)", body), [], a + ": no external url() (fonts, images)")
        c.true(b"@import" not in body and b"@font-face" not in body, a + ": no imports, no web fonts")
status, h, body = get("/favicon.svg")
c.eq((status, h.get("content-type")), (200, "image/svg+xml"), "the icon is served as SVG")

# ---- client routes, unknown files, the API -------------------------------------------------
for path in ("/experiments/1", "/experiments/1/runs/abc", "/some/client/route?x=1"):
    status, h, body = get(path)
    c.eq((status, body), (200, index), f"{path}: index.html (a client route)")
    security_headers(h, path)
status, h, body = get("/assets/no-such-file.js")
c.eq(status, 404, "an unknown asset is a 404, not the page (a script must never be HTML)")
c.eq(h.get("content-type"), "text/plain; charset=utf-8", "the 404 is plain text")
security_headers(h, "the asset 404")
status, h, body = get("/api/2.0/mlflow/no/such/route")
c.eq((status, h.get("content-type")), (404, "application/json"), "an API 404 stays JSON")
c.true(b"ENDPOINT_NOT_FOUND" in body, "with MLflow's error code")
status, h, body = get("/", method="POST", body=b"{}", headers={"Content-Type": "application/json"})
c.eq((status, h.get("content-type")), (404, "application/json"), "POST / is no UI request: a JSON 404")
c.eq(get("/health")[2], b"OK", "/health is still the server's")
srv.stop()

# ---- a server whose API needs a token: the UI is public, the data is not ---------------------
forja("server", "token", "create", "--store", store, "--name", "reader", "--role", "read")
srv = Server(store, artifacts=os.path.join(tmp, "objects"))
status, h, body = get("/")
c.eq((status, body), (200, index), "with tokens required, the page still loads (it asks for a token)")
status, h, body = get(assets[0])
c.eq(status, 200, "and its assets")
c.eq(get("/api/2.0/mlflow/experiments/search?max_results=1")[0], 401, "the API needs the token")
srv.stop()
c.finish()
