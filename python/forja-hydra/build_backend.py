"""A PEP 517 backend for this one pure-Python package: it zips forja/ into a
wheel (and a tarball for an sdist). Nothing to download, so pip installs the
package offline; the metadata comes from pyproject.toml's [project] table."""
import base64
import hashlib
import io
import os
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "forja"


def _project():
    path = os.path.join(HERE, "pyproject.toml")
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # older Pythons: this file's [project] table is simple enough to read
        return _project_by_hand(path)
    with open(path, "rb") as f:
        return tomllib.load(f)["project"]


def _project_by_hand(path):
    import ast
    import re

    project, in_project = {}, False
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line.startswith("["):
                in_project = line == "[project]"
                continue
            m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*(.+)$', line)
            if in_project and m:
                project[m.group(1)] = ast.literal_eval(m.group(2))
    return project


def _metadata():
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: " + p["name"], "Version: " + p["version"],
             "Summary: " + p.get("description", "")]
    if "requires-python" in p:
        lines.append("Requires-Python: " + p["requires-python"])
    lines += ["Requires-Dist: " + d for d in p.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def _sources():
    root = os.path.join(HERE, NAME)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if fn.endswith(".py") or fn == "py.typed":
                full = os.path.join(dirpath, fn)
                yield full, os.path.relpath(full, HERE).replace(os.sep, "/")


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _dist_info():
    p = _project()
    return "%s-%s.dist-info" % (p["name"], p["version"])


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    d = os.path.join(metadata_directory, _dist_info())
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write(_metadata())
    return _dist_info()


def _wheel(wheel_directory, files):
    p = _project()
    name = "%s-%s-py3-none-any.whl" % (p["name"], p["version"])
    dist = _dist_info()
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        entries = list(files) + [
            (dist + "/METADATA", _metadata().encode()),
            (dist + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: forja build_backend\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        ]
        for arcname, data in entries:
            z.writestr(arcname, data)
            records.append(_record_line(arcname, data))
        records.append(dist + "/RECORD,,")
        z.writestr(dist + "/RECORD", "\n".join(records) + "\n")
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = []
    for full, arc in _sources():
        with open(full, "rb") as f:
            files.append((arc, f.read()))
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # A .pth file that puts this folder on sys.path.
    return _wheel(wheel_directory, [("forja_editable.pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    p = _project()
    base = "%s-%s" % (p["name"], p["version"])
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for fn in ("pyproject.toml", "build_backend.py"):
            t.add(os.path.join(HERE, fn), arcname=base + "/" + fn)
        for full, arc in _sources():
            t.add(full, arcname=base + "/" + arc)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
