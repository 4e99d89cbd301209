#!/usr/bin/env python3
"""Fails (exit 1) when the module graph of a Rust crate's `src/` has a cycle.

Usage: module_cycles.py [SRC_DIR]     (default: crates/wechatpay-core/src)
       module_cycles.py --self-test   (runs the fixtures under .ci/tests/module_cycles/)

The graph is built from the code, not from comments:

* modules are grouped at the top level: `src/foo.rs` is `foo`, everything under `src/foo/`
  is `foo` too (its internal edges are ignored); `lib.rs` is the root and is not a node;
* an edge `a -> b` comes from a `use crate::b…` (grouped or not), a `crate::b::…` or
  `$crate::b::…` path anywhere in code, or a `super::…` path that climbs out of `a`;
* a path naming a root re-export (`crate::Name`, `use crate::{Name, …}`) is an edge to the
  module that defines `Name`, as read from `pub use m::{…}` lines in `lib.rs`;
* comments (doc comments included), string and char literals, and items under a
  `#[cfg(test)]`-like attribute (test modules, in-file or in their own file) are ignored.

Python 3.11 standard library only.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

MAX_CYCLES_PRINTED = 200


# ---------------------------------------------------------------------------------------
# Lexing: comments and literals out, code kept (with line numbers preserved).


def strip_comments_and_literals(text: str) -> str:
    """The text with comments and the contents of string/char literals replaced by spaces
    (newlines kept, so line numbers stay right)."""
    out: list[str] = []
    i, n = 0, len(text)

    def blank(s: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:i + 300])) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + blank(text[i:j])[2:])
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append('""' + blank(text[i:j])[2:])
            i = j
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}', '"') or a lifetime/label ('a).
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 2)
                j = n if j < 0 else j + 1
                out.append(blank(text[i:j]))
                i = j
            elif i + 2 < n and text[i + 2] == "'":
                out.append("   ")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\((?P<args>[^\]]*)\)\s*\]")


def is_test_cfg(args: str) -> bool:
    """`test`, `all(test, …)`, `any(test, …)`: but not `not(test)`."""
    return bool(re.search(r"\btest\b", args)) and not re.search(r"\bnot\s*\(", args)


def remove_test_items(code: str) -> tuple[str, list[str]]:
    """The code with every item under a test-only `cfg` blanked; also the names of test
    modules declared as `mod name;` (their files are skipped)."""
    skipped_files: list[str] = []
    chars = list(code)
    for m in reversed(list(CFG_TEST.finditer(code))):
        if not is_test_cfg(m.group("args")):
            continue
        # The item after the attribute (other attributes may come between).
        j = m.end()
        depth = 0
        end = len(code)
        k = j
        while k < len(code):
            ch = code[k]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = k + 1
                    break
            elif ch == ";" and depth == 0:
                end = k + 1
                decl = re.search(r"\bmod\s+(\w+)\s*;$", code[j:end])
                if decl:
                    skipped_files.append(decl.group(1))
                break
            k += 1
        for p in range(m.start(), end):
            if chars[p] != "\n":
                chars[p] = " "
    return "".join(chars), skipped_files


# ---------------------------------------------------------------------------------------
# The crate: files, modules, re-exports.


class Crate:
    def __init__(self, src: Path):
        self.src = src
        self.files: dict[Path, str] = {}  # file -> cleaned code
        self.top: set[str] = set()
        self.root_items: dict[str, str] = {}  # re-exported name -> defining top module
        self._read()

    def module_path(self, path: Path) -> list[str]:
        rel = path.relative_to(self.src).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] in ("mod", "lib") and (len(parts) > 1 or parts[-1] == "lib"):
            parts = parts[:-1]
        return parts

    def _read(self) -> None:
        skip: set[Path] = set()
        pending = [self.src / "lib.rs"]
        seen: set[Path] = set()
        while pending:
            path = pending.pop()
            if path in seen or path in skip or not path.exists():
                continue
            seen.add(path)
            code = strip_comments_and_literals(path.read_text(encoding="utf-8"))
            code, test_mods = remove_test_items(code)
            self.files[path] = code
            base = path.parent if path.name in ("lib.rs", "mod.rs") else path.with_suffix("")
            for name in test_mods:
                skip.update({base / f"{name}.rs", base / name / "mod.rs"})
            for name in re.findall(r"(?:^|[\s;}])(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
                for cand in (base / f"{name}.rs", base / name / "mod.rs"):
                    if cand.exists() and cand not in skip:
                        pending.append(cand)
        lib = self.files.get(self.src / "lib.rs", "")
        self.top = set(re.findall(r"(?:^|[\s;}])(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*[;{]", lib))
        for m in re.finditer(r"pub\s+use\s+(?:crate::)?(\w+)\s*::\s*(\{[^}]*\}|[\w:]+)\s*;", lib):
            module, rest = m.group(1), m.group(2)
            if module not in self.top:
                continue
            if rest.startswith("{"):
                names = [seg.strip() for seg in rest.strip("{}").split(",") if seg.strip()]
            else:
                names = [rest]
            for name in names:
                alias = re.search(r"\bas\s+(\w+)$", name)
                last = alias.group(1) if alias else name.split("::")[-1].strip()
                self.root_items[last] = module

    def resolve(self, first: str) -> str | None:
        """The top-level module a root path segment names (a module or a root re-export)."""
        if first in self.top:
            return first
        return self.root_items.get(first)

    def edges(self) -> dict[tuple[str, str], list[str]]:
        """(from, to) -> places (file:line) where the dependency is written."""
        found: dict[tuple[str, str], list[str]] = {}

        def add(a: str, b: str | None, path: Path, code: str, pos: int) -> None:
            if b is None or a == b:
                return
            line = code.count("\n", 0, pos) + 1
            found.setdefault((a, b), []).append(f"{path.relative_to(self.src)}:{line}")

        for path, code in self.files.items():
            mpath = self.module_path(path)
            if not mpath:
                continue  # lib.rs: declarations and re-exports, not a node
            me = mpath[0]
            # `use crate::{a::x, b, Name}` groups.
            for m in re.finditer(r"\$?crate\s*::\s*\{", code):
                body, depth, k = [], 1, m.end()
                while k < len(code) and depth:
                    ch = code[k]
                    depth += (ch == "{") - (ch == "}")
                    if depth == 0:
                        break
                    body.append(ch)
                    k += 1
                top_level, depth, cur = [], 0, []
                for ch in "".join(body):
                    if ch == "{":
                        depth += 1
                    elif ch == "}":
                        depth -= 1
                    if ch == "," and depth == 0:
                        top_level.append("".join(cur))
                        cur = []
                    else:
                        cur.append(ch)
                top_level.append("".join(cur))
                for seg in top_level:
                    first = re.match(r"\s*(\w+)", seg)
                    if first and first.group(1) != "self":
                        add(me, self.resolve(first.group(1)), path, code, m.start())
            # `crate::a…` and `$crate::a…` paths.
            for m in re.finditer(r"(?<![\w:])\$?crate\s*::\s*(\w+)", code):
                add(me, self.resolve(m.group(1)), path, code, m.start())
            # `super::…` paths (and `super::{…}` groups), resolved from where they are written.
            for m in re.finditer(r"(?<![\w:])((?:super\s*::\s*)+)(\w+|\{[^}]*\})", code):
                ups = m.group(1).count("super")
                here = mpath + inline_mods_at(code, m.start())
                if ups != len(here):
                    continue  # stays inside `me` (an internal edge), or climbs out of the crate
                names = re.findall(r"(?:^|[{,])\s*(\w+)", m.group(2)) if m.group(2).startswith("{") else [m.group(2)]
                for name in names:
                    if name != "self":
                        add(me, self.resolve(name), path, code, m.start())
        return found


def inline_mods_at(code: str, pos: int) -> list[str]:
    """Names of the inline `mod x { … }` blocks enclosing `pos`."""
    stack: list[str | None] = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{|[{}]", code[:pos]):
        tok = m.group(0)
        if tok.startswith("mod"):
            stack.append(m.group(1))
        elif tok == "{":
            stack.append(None)
        elif stack:
            stack.pop()
    return [s for s in stack if s is not None]


# ---------------------------------------------------------------------------------------
# Cycles.


def strongly_connected(nodes: list[str], succ: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(succ.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def elementary_cycles(comp: list[str], succ: dict[str, set[str]], limit: int) -> list[list[str]]:
    """Every elementary cycle inside one component, each started at its smallest node."""
    members = set(comp)
    cycles: list[list[str]] = []
    for start in sorted(comp):
        allowed = {v for v in members if v >= start}

        def walk(v: str, path: list[str], on_path: set[str]) -> None:
            if len(cycles) >= limit:
                return
            for w in sorted(succ.get(v, ())):
                if w not in allowed:
                    continue
                if w == start:
                    cycles.append(path + [start])
                elif w not in on_path:
                    on_path.add(w)
                    walk(w, path + [w], on_path)
                    on_path.discard(w)

        walk(start, [start], {start})
    return cycles


def check(src: Path, out=sys.stdout) -> int:
    crate = Crate(src)
    found = crate.edges()
    succ: dict[str, set[str]] = {}
    for a, b in found:
        succ.setdefault(a, set()).add(b)
    nodes = sorted(crate.top)
    components = strongly_connected(nodes, succ)
    print(f"{len(nodes)} modules, {len(found)} edges in {src}", file=out)
    if not components:
        print("ok: the module graph has no cycle", file=out)
        return 0
    total = 0
    for comp in components:
        print(f"\ncycle knot of {len(comp)} modules: {', '.join(comp)}", file=out)
        for cycle in elementary_cycles(comp, succ, MAX_CYCLES_PRINTED - total):
            total += 1
            print("  cycle: " + " -> ".join(cycle), file=out)
        for a in comp:
            for b in sorted(succ.get(a, set()) & set(comp)):
                places = found[(a, b)]
                more = f" (+{len(places) - 3} more)" if len(places) > 3 else ""
                print(f"    {a} -> {b}: {', '.join(places[:3])}{more}", file=out)
    if total >= MAX_CYCLES_PRINTED:
        print(f"(stopped after {MAX_CYCLES_PRINTED} cycles)", file=out)
    print(f"\nFAIL: the module graph has {total if total < MAX_CYCLES_PRINTED else 'many'} cycle(s)", file=out)
    return 1


# ---------------------------------------------------------------------------------------
# Self-test on fixture trees.


def self_test(here: Path) -> int:
    fixtures = here / "tests" / "module_cycles"
    failures = 0

    def expect(name: str, code: int, must: list[str], must_not: list[str]) -> None:
        nonlocal failures
        result = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), str(fixtures / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        text = result.stdout + result.stderr
        problems = []
        if result.returncode != code:
            problems.append(f"exit {result.returncode}, expected {code}")
        problems += [f"missing {s!r}" for s in must if s not in text]
        problems += [f"unexpected {s!r}" for s in must_not if s in text]
        if problems:
            failures += 1
            print(f"FAIL {name}: {'; '.join(problems)}\n{text}")
        else:
            print(f"ok   {name}")

    # a -> b (use crate::b), b -> c (via the root re-export `crate::CThing`), c -> a (super::
    # from c/inner.rs climbing to the root, then `a`): one knot of three.
    expect(
        "cyclic",
        1,
        ["4 modules, 4 edges", "cycle: a -> b -> c -> a", "b -> c: b.rs:", "c -> a: c/inner.rs:"],
        ["d ->", "tests.rs", "cycle: a -> c"],
    )
    # The same tree without the back edge; the would-be cycles hide in a doc comment, a
    # string, a `#[cfg(test)]` module (in-file and in its own file) and a block comment.
    expect("acyclic", 0, ["5 modules, 4 edges", "ok: the module graph has no cycle"], ["cycle:", "FAIL"])
    print("self-test: " + ("ok" if failures == 0 else f"{failures} failure(s)"))
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    if argv[1:2] == ["--self-test"]:
        return self_test(here)
    src = Path(argv[1]) if len(argv) > 1 else here.parent / "crates" / "wechatpay-core" / "src"
    if not (src / "lib.rs").exists():
        print(f"no lib.rs in {src}", file=sys.stderr)
        return 2
    return check(src)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
