#!/usr/bin/env python3
"""The core's module import graph, and a check that it has no cycle.

Every path a file of core/src names (`use` items and paths written inline in
code, comments and strings left out) is resolved to the module that defines
the item: through `super::`/`self::`/`crate::`, through submodules, and
through the `pub use` re-exports a module makes (so `use super::Status` from
a sibling counts as an edge to the file that defines `Status`, not to the
parent that re-exports it). A module's edges to its own ancestors or
descendants are left out: a parent declaring and re-exporting its children is
structure, not a dependency.

Checked (exit status 1 on a cycle):
  * between the core's top-level modules (crate::rt, crate::sched, ...);
  * between the files of every directory listed in STRICT.
Cycles inside other directories are printed as "note:" lines and do not
fail, until they are fixed and their directory joins STRICT.

Usage: .ci/module-cycles.py [--dot] [SRC_DIR]   (default core/src)
  --dot prints the top-level graph in Graphviz form instead of checking.
"""

import os
import re
import sys

# Directories whose files must not import each other in a cycle.
STRICT = ["sched"]

# Known edges that close a cycle between top-level modules, left out of the
# check until they are removed (an entry that no longer exists is an error,
# so the list only shrinks). obs/ holds one reporter per component, and four
# of them take the component's own types (errors, breaker states, samples):
# the fix is to move each reporter into its component (obs keeping only the
# shared machinery: names, metric helpers, the event! macro) or to pass plain
# values, as obs/sched.rs now does.
KNOWN = {
    ("obs", "limit"),  # obs/adaptive.rs, bulkhead.rs, rate.rs
    ("obs", "policy"),  # obs/policy.rs, retry.rs: policy::Error
    ("obs", "resilience"),  # obs/breaker.rs, retry.rs
    ("obs", "sync"),  # obs/semaphore.rs: TryAcquireError
}


def strip_comments_and_strings(text):
    """Code only: comments, string and char literals become spaces."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not re.match(r"\w", text[i - 1] if i else " "):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            i = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]):
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            i += len(m.group(0))
            out.append("' '")
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segments after `crate`
        self.file = file
        self.children = {}  # name -> Module
        self.exports = {}  # name -> absolute path (tuple) it re-exports
        self.glob_exports = []  # absolute module paths re-exported with *
        self.refs = []  # absolute paths (tuples) the file names
        self.code = ""


def child_file(dir_, name):
    for cand in (os.path.join(dir_, name + ".rs"), os.path.join(dir_, name, "mod.rs")):
        if os.path.exists(cand):
            return cand
    return None


def load(src):
    root = Module((), os.path.join(src, "lib.rs"))
    todo = [root]
    while todo:
        m = todo.pop()
        m.code = strip_comments_and_strings(open(m.file, encoding="utf-8").read())
        # `mod x;` declarations (inline `mod x { ... }` blocks stay in their file).
        for name in re.findall(r"^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", m.code, re.M):
            # A file's children live in a directory named after it (x.rs -> x/),
            # mod.rs and lib.rs children beside them.
            base = os.path.basename(m.file)
            cdir = os.path.dirname(m.file) if base in ("mod.rs", "lib.rs") else m.file[:-3]
            f = child_file(cdir, name)
            if f is None:
                continue
            c = Module(m.path + (name,), f)
            m.children[name] = c
            todo.append(c)
    return root


def modules(m):
    yield m
    for c in m.children.values():
        yield from modules(c)


def use_trees(code):
    """The tree of each `use ...;` item."""
    return re.findall(r"\buse\s+([^;]+);", code)


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (aliases dropped)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def rec(prefix, t):
        i = t.find("{")
        if i < 0:
            out.append(prefix + t)
            return
        head, body = t[:i], t[i + 1:-1]
        parts, depth, cur = [], 0, ""
        for ch in body:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        for p in parts:
            if p:
                rec(prefix + head, p)

    rec("", tree)
    return out


def absolute(m, segs):
    """Segments of a path written in module m, made absolute; None if external."""
    if not segs:
        return None
    if segs[0] == "crate":
        return tuple(segs[1:])
    base = list(m.path)
    if segs[0] in ("self", "super"):
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                if not base:
                    return None
                base.pop()
            segs = segs[1:]
        return tuple(base) + tuple(segs)
    if segs[0] in m.children:
        return tuple(m.path) + tuple(segs)
    return None


def find(root, path):
    m = root
    for s in path:
        if s not in m.children:
            return None
        m = m.children[s]
    return m


def resolve(root, path, depth=0):
    """The defining module of the item at absolute `path` (longest module
    prefix, followed through re-exports)."""
    m = root
    for i, s in enumerate(path):
        if s in m.children:
            m = m.children[s]
            continue
        if s in m.exports and depth < 20:
            target = m.exports[s] + tuple(path[i + 1:])
            return resolve(root, target, depth + 1)
        for g in m.glob_exports:
            gm = find(root, g)
            if gm is not None and (s in gm.children or s in gm.exports) and depth < 20:
                return resolve(root, g + tuple(path[i:]), depth + 1)
        return m
    return m


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dot = "--dot" in sys.argv
    src = args[0] if args else "core/src"
    root = load(src)
    mods = list(modules(root))
    # Re-exports first, so that paths through them resolve.
    for m in mods:
        for tree in re.findall(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", m.code):
            for p in expand(tree):
                segs = p.split("::")
                a = absolute(m, segs)
                if a is None:
                    continue
                if segs[-1] == "*":
                    m.glob_exports.append(a[:-1])
                else:
                    m.exports[a[-1]] = a
    for m in mods:
        for tree in use_trees(m.code):
            for p in expand(tree):
                a = absolute(m, [s for s in p.split("::") if s != "*"])
                if a is not None:
                    m.refs.append(a)
        for p in re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", m.code):
            a = absolute(m, p.split("::"))
            if a is not None:
                m.refs.append(a)

    edges = set()
    for m in mods:
        for r in m.refs:
            t = resolve(root, r)
            if t is None:
                continue
            a, b = m.path, t.path
            if a[: len(b)] == b or b[: len(a)] == a:
                continue  # ancestor or descendant
            edges.add((a, b))

    def graph_at(prefix):
        """Edges between the children of the module at `prefix`."""
        g = {}
        k = len(prefix)
        for a, b in edges:
            if a[:k] == prefix and b[:k] == prefix and len(a) > k and len(b) > k and a[k] != b[k]:
                g.setdefault(a[k], set()).add(b[k])
        return g

    if dot:
        g = graph_at(())
        print("digraph core {")
        for a in sorted(g):
            for b in sorted(g[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0

    failed = False
    top = graph_at(())
    for a, b in sorted(KNOWN):
        if b in top.get(a, set()):
            top[a].discard(b)
            print(f"note: known edge {a} -> {b} left out of the check (see KNOWN)")
        else:
            print(f"error: known edge {a} -> {b} is gone: remove it from KNOWN")
            failed = True
    checked = [()] + [tuple(d.split("/")) for d in STRICT]
    for m in mods:
        if not m.children:
            continue
        g = top if not m.path else graph_at(m.path)
        for cyc, comp in cycles(g):
            where = "crate" if not m.path else "crate::" + "::".join(m.path)
            line = f"cycle in {where}: " + " -> ".join(cyc + [cyc[0]])
            if len(comp) > len(cyc):
                line += " (all of {" + ", ".join(comp) + "} reach each other)"
            if m.path in checked:
                print("error: " + line)
                failed = True
            else:
                print("note: " + line)
    for p in checked:
        where = "crate" if not p else "crate::" + "::".join(p)
        n = sum(len(v) for v in graph_at(p).values())
        print(f"checked {where}: {n} edges")
    if failed:
        print("module import cycles found (above); see .ci/module-cycles.py")
        return 1
    print("no import cycle between the core's top-level modules or inside " + ", ".join(STRICT))
    return 0


def cycles(g):
    """One cycle per strongly connected component of more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                strong(w)
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
            if len(comp) > 1:
                out.append((shortest_cycle(g, set(comp)), sorted(comp)))

    nodes = set(g) | {w for vs in g.values() for w in vs}
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def shortest_cycle(g, comp):
    """A shortest cycle through the smallest node of a component (BFS)."""
    start = min(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(g.get(v, ())):
                if w not in comp:
                    continue
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return list(reversed(path))
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(comp)


if __name__ == "__main__":
    sys.exit(main())
