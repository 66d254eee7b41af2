#!/usr/bin/env python3
"""Checks that docs/architecture.md's module table matches the #include graph of src/forja/.

Every module X's "depends on" column must list exactly the forja modules that files in
src/forja/X/ include, then exactly the third-party libraries they include (THIRD_PARTY below
names them by header), and every forja include must point down the table (to a module listed
above X), so the docs cannot drift from the code and no cycle can creep in. One line per
discrepancy; exit 1 if there is any. Also: no header under src/forja/ includes a third-party
library (heavy headers stay in .cc files), except nlohmann's json_fwd.hpp, which only declares.
And each module's CMakeLists.txt links exactly what its sources include: the libraries of the
forja modules and the third-party targets (CLI11, header-only, is not linked), so a module's
tests that link its library alone find every symbol, and no link line hides a dependency.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DOC = os.path.join(ROOT, "docs", "architecture.md")
SRC = os.path.join(ROOT, "src", "forja")
INCLUDE = re.compile(r'^\s*#\s*include\s+"forja/([A-Za-z0-9_]+)/')
SYSTEM_INCLUDE = re.compile(r'^\s*#\s*include\s+<([^>]+)>')
# The third-party libraries the docs name, by the headers that bring them in. The C++ and POSIX
# headers are not listed: every module may use them.
THIRD_PARTY = [
    ("yaml-cpp", re.compile(r"yaml-cpp/")),
    ("nlohmann-json", re.compile(r"nlohmann/")),
    ("CLI11", re.compile(r"CLI/")),
    ("libcurl", re.compile(r"curl/")),
    ("SQLite", re.compile(r"sqlite3\.h$")),
    ("libpq", re.compile(r"libpq-fe\.h$")),
    ("OpenSSL", re.compile(r"openssl/")),
    ("protobuf", re.compile(r"google/protobuf/")),  # serve's gRPC messages
    ("nghttp2", re.compile(r"nghttp2/")),  # net's HTTP/2 (gRPC's transport)
]
THIRD_PARTY_NAMES = {name for name, _ in THIRD_PARTY}


CMAKE_TARGETS = {
    "yaml-cpp": "yaml-cpp",
    "nlohmann_json::nlohmann_json": "nlohmann-json",
    "CURL::libcurl": "libcurl",
    "SQLite::SQLite3": "SQLite",
    "PkgConfig::LIBPQ": "libpq",
    "OpenSSL::Crypto": "OpenSSL",
    "PkgConfig::NGHTTP2": "nghttp2",
    # serve's protoc-generated code, compiled once, linked to protobuf (an interface library
    # without it when protobuf is not installed): serve's way to link protobuf.
    "forja_serve_grpc": "protobuf",
}
LINK = re.compile(r"target_link_libraries\(\s*([A-Za-z0-9_]+)([^)]*)\)", re.S)


def linked(module):
    """The forja modules and third-party libraries module's CMakeLists.txt links its target to."""
    target = "forja" if module == "cli" else f"forja_{module}"
    path = os.path.join(SRC, module, "CMakeLists.txt")
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    mods, libs = set(), set()
    for hit in LINK.finditer(text):
        if hit.group(1) != target:
            continue
        for word in hit.group(2).split():
            if word in CMAKE_TARGETS:
                libs.add(CMAKE_TARGETS[word])
            elif word.startswith("forja_"):
                mods.add(word[len("forja_"):])
    return os.path.relpath(path, ROOT), mods, libs


def third_party(header):
    for name, pattern in THIRD_PARTY:
        if pattern.match(header):
            return name
    return None


def read_table():
    order, deps, in_section = [], {}, False
    with open(DOC, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                in_section = line.strip() == "## Modules"
                continue
            if not in_section or not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 4 or cells[0] in ("module", "") or set(cells[0]) <= set("-: "):
                continue
            order.append(cells[0])
            deps[cells[0]] = [d.strip() for d in cells[-1].split(",") if d.strip()]
    return order, deps


def main():
    order, deps = read_table()
    problems = []
    if not order:
        print(f"{DOC}: no module table under '## Modules'")
        return 1
    modules = sorted(d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d)))
    for m in modules:
        if m not in deps:
            problems.append(f"src/forja/{m}/ exists but the docs' module table has no row for {m}")
    for m in order:
        if m not in modules:
            problems.append(f"the docs' module table lists {m} but there is no src/forja/{m}/")
    rank = {m: i for i, m in enumerate(order)}
    for m in modules:
        if m not in deps:
            continue
        listed = {d for d in deps[m] if d in modules}
        listed_libs = {d for d in deps[m] if d in THIRD_PARTY_NAMES}
        for d in deps[m]:
            if d not in modules and d not in THIRD_PARTY_NAMES:
                problems.append(f"docs list '{d}' for {m}: neither a module nor a known library ({', '.join(sorted(THIRD_PARTY_NAMES))})")
        seen, seen_libs = {}, {}
        folder = os.path.join(SRC, m)
        for dirpath, _, files in os.walk(folder):
            for name in sorted(files):
                if not name.endswith((".h", ".cc", ".cpp", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        hit = INCLUDE.match(line)
                        if hit and hit.group(1) != m:
                            seen.setdefault(hit.group(1), (os.path.relpath(path, ROOT), n))
                        lib = SYSTEM_INCLUDE.match(line)
                        if lib and third_party(lib.group(1)):
                            seen_libs.setdefault(third_party(lib.group(1)), (os.path.relpath(path, ROOT), n))
                            if name.endswith((".h", ".hpp")) and lib.group(1) != "nlohmann/json_fwd.hpp":
                                problems.append(f"{os.path.relpath(path, ROOT)}:{n} is a header and includes <{lib.group(1)}>: "
                                                "include it in the .cc file (the docs promise heavy headers stay out of headers)")
        for dep, (path, n) in sorted(seen.items()):
            if dep not in listed:
                problems.append(f"{path}:{n} includes forja/{dep}/... but the docs' table does not list {dep} for {m}")
            if dep in rank and rank[dep] >= rank[m]:
                problems.append(f"{path}:{n} includes forja/{dep}/..., which is not below {m} in the docs' table (an upward arrow)")
        for dep in sorted(listed - set(seen)):
            problems.append(f"docs say {m} depends on {dep} but nothing in src/forja/{m} includes forja/{dep}/")
        for lib, (path, n) in sorted(seen_libs.items()):
            if lib not in listed_libs:
                problems.append(f"{path}:{n} includes {lib} but the docs' table does not list {lib} for {m}")
        for lib in sorted(listed_libs - set(seen_libs)):
            problems.append(f"docs say {m} uses {lib} but nothing in src/forja/{m} includes it")
        cmake, link_mods, link_libs = linked(m)
        for dep in sorted(set(seen) - link_mods):
            problems.append(f"{cmake}: {m} includes forja/{dep}/ but does not link forja_{dep}")
        for dep in sorted(link_mods - set(seen)):
            problems.append(f"{cmake}: {m} links forja_{dep} but includes nothing of forja/{dep}/")
        for lib in sorted(set(seen_libs) - link_libs - {"CLI11"}):
            problems.append(f"{cmake}: {m} includes {lib} but does not link it")
        for lib in sorted(link_libs - set(seen_libs)):
            problems.append(f"{cmake}: {m} links {lib} but includes none of its headers")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} discrepancies between docs/architecture.md and src/forja/")
        return 1
    print(f"module table matches the include graph ({len(modules)} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
