#!/usr/bin/env bash
# Each feature of the crates users pick features of builds alone and with
# every other one (what `cargo hack check --each-feature --feature-powerset
# --depth 2 --no-dev-deps` does), by a loop rather than an installed tool:
# nothing to download or compile before it starts. `cargo check` of the
# library targets only, so no dev-dependency is built.
#
#   bash .ci/features.sh            every package below
#   bash .ci/features.sh weir-mcp   one of them
set -euo pipefail
cd "$(dirname "$0")/.."

packages=("${@:-weir weir-core weir-mcp weir-tower}")
# shellcheck disable=SC2206 # split the default list on spaces
packages=(${packages[*]})

# The feature sets of a package, one per line, comma separated: none, each
# alone, each pair, all. Read from `cargo metadata`, so a new feature is
# checked without editing this file.
feature_sets() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import itertools, json, sys
pkg = next(p for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1])
names = sorted(f for f in pkg["features"] if f != "default")
sets = [()] + [(f,) for f in names] + list(itertools.combinations(names, 2)) + [tuple(names)]
seen = set()
for s in sets:
    if s not in seen:
        seen.add(s)
        print(",".join(s) or "-")
' "$1"
}

checked=0
start=$SECONDS

# One `cargo check`; a warning fails it too (an import used only under a
# feature is the usual one), without RUSTFLAGS, which would rebuild every
# dependency apart from the other steps' builds.
check() {
  local pkg=$1 label=$2
  shift 2
  printf '%-12s %s\n' "$pkg" "$label"
  local out
  if ! out=$(cargo check -q -p "$pkg" --lib "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "FEATURES FAILED: $pkg with $label" >&2
    exit 1
  fi
  if grep -q '^warning' <<<"$out"; then
    printf '%s\n' "$out" >&2
    echo "FEATURES FAILED: $pkg with $label: warnings" >&2
    exit 1
  fi
  checked=$((checked + 1))
}
for pkg in "${packages[@]}"; do
  while read -r set; do
    args=(--no-default-features)
    [ "$set" != "-" ] && args+=(--features "$set")
    check "$pkg" "${set/#-/(no features)}" "${args[@]}"
  done < <(feature_sets "$pkg")
  # The default set too (the facade's default picks smol).
  check "$pkg" "(default features)"
done
echo "features: $checked feature sets checked in $((SECONDS - start)) s"
