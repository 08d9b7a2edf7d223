#!/usr/bin/env python3
"""One public path per item, checked over the docs rustdoc rendered.

rustdoc writes one page per public path of an item: an item re-exported
under a second public path gets a second page (inlined), or a line in the
"Re-exports" list of a module whose original is public elsewhere. Two pages
are the same item when their "Source" links point at the same lines. Fails
(exit 1) listing every item with more than one path, and every non-inlined
re-export of a crate's own item. Usage: public_paths.py DOC_DIR CRATE...
"""
import html
import os
import re
import sys
from collections import defaultdict

ITEM = re.compile(r'^(struct|enum|trait|fn|type|macro|constant|static|union|traitalias|attr|derive)\.(.+)\.html$')
# The item's own "Source" link sits in the heading (impls carry others).
SRC = re.compile(r'<span class="sub-heading"><a class="src" href="([^"]+)"')
REEXPORTS = re.compile(r'<h2 id="reexports"')
REEXPORT_LINE = re.compile(r'<dt id="reexport\.[^"]*"><code>(.*?)</code></dt>')


def pages(root):
    for dirpath, _, files in os.walk(root):
        for f in files:
            m = ITEM.match(f)
            if m:
                yield os.path.join(dirpath, f), m.group(1), m.group(2)


def main(doc, crates):
    bad = []
    for crate in crates:
        root = os.path.join(doc, crate)
        if not os.path.isdir(root):
            bad.append(f'{crate}: no docs at {root} (was cargo doc run?)')
            continue
        seen = defaultdict(list)
        for path, kind, name in pages(root):
            text = open(path, encoding='utf-8').read()
            if 'http-equiv="refresh"' in text[:600]:
                continue  # a redirect stub left at a private module's path
            rel = os.path.relpath(path, doc)
            m = SRC.search(text)
            if m:
                key = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
            else:
                key = f'{kind}:{name}:no-source:{rel}'
            seen[key].append(rel)
        for key, paths in sorted(seen.items()):
            if len(paths) > 1:
                shown = ', '.join(sorted('::'.join(p[:-5].split('/')[:-1] + [p.split('/')[-1].split('.')[1]]) for p in paths))
                bad.append(f'{crate}: one item, {len(paths)} paths: {shown}')
        # A module page listing "Re-exports" of the crate's own items names them twice.
        for dirpath, _, files in os.walk(root):
            if 'index.html' not in files:
                continue
            text = open(os.path.join(dirpath, 'index.html'), encoding='utf-8').read()
            if not REEXPORTS.search(text):
                continue
            section = text[text.index('id="reexports"'):]
            for line in REEXPORT_LINE.findall(section):
                plain = html.unescape(re.sub(r'<[^>]+>', '', line))
                here = os.path.relpath(dirpath, doc).replace('/', '::')
                bad.append(f'{crate}: {here} has `{plain}`, an item that already has a public path')
    if bad:
        print('Items with more than one public path (see the "Where things are" rule in src/lib.rs):')
        for b in bad:
            print('  ' + b)
        return 1
    print(f'one public path per item: {", ".join(crates)}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2:]))
