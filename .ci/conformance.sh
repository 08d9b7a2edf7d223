#!/usr/bin/env bash
# The official MCP conformance suite against weir-mcp's client (issue 12).
#
#   bash .ci/conformance.sh install   # Node 22 + the suite under target/mcp-peers/conformance (idempotent)
#   bash .ci/conformance.sh run       # install, build the CLI, run every non-auth client scenario
#                                     # of both dated requirement sets; fails on any failed check
#   bash .ci/conformance.sh list      # the scenarios `run` would run
#
# Environment: WEIR_CONFORMANCE_RUNTIMES (default "smol tokio async-std") picks the runtimes the client
# program runs on; WEIR_CONFORMANCE_ONLY="rev:scenario ..." narrows the run (for debugging).
#
# Pins, and why:
# - Node 22.23.3: the suite needs Node >= 22 and the machine has 20. Only package registries are
#   reachable, so Node comes from npm as the prebuilt `node-<os>-<arch>` package (the payload the `node`
#   meta-package installs through a preinstall script; taking it directly needs no install script).
# - @modelcontextprotocol/conformance 0.2.0-alpha.12: the newest release. It carries both frozen
#   requirement sets (`list --requirements 2025-11-25|2026-07-28`; the sets were frozen in alpha.11,
#   so alpha.10, which rmcp pins, cannot list them) and every client scenario issue 12 names.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=22.23.3
CONFORMANCE_VERSION=0.2.0-alpha.12
REVISIONS=(2025-11-25 2026-07-28)

PEERS="$PWD/target/mcp-peers"
DIR="$PEERS/conformance"
NODE="$DIR/node_modules/.bin/node"
SUITE="$DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"

node_package() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "conformance.sh: no Node package for $(uname -m)" >&2; exit 1 ;;
  esac
  echo "node-$(uname -s | tr '[:upper:]' '[:lower:]')-$arch"
}

installed() {
  [[ -x "$NODE" && -f "$SUITE" ]] || return 1
  [[ "$("$NODE" --version 2>/dev/null)" == "v$NODE_VERSION" ]] || return 1
  [[ "$("$NODE" "$SUITE" --version 2>/dev/null)" == "$CONFORMANCE_VERSION" ]]
}

install() {
  if installed; then
    echo "conformance: Node $NODE_VERSION and @modelcontextprotocol/conformance $CONFORMANCE_VERSION already in $DIR"
    return
  fi
  command -v npm >/dev/null || { echo "conformance.sh: npm is needed to fetch Node 22 and the suite" >&2; exit 1; }
  mkdir -p "$DIR"
  # A package.json of our own keeps npm from walking up into the repository.
  [[ -f "$DIR/package.json" ]] || echo '{"name":"weir-conformance-peers","private":true}' >"$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --ignore-scripts --save-exact \
    "$(node_package)@$NODE_VERSION" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION"
  installed || { echo "conformance.sh: install finished but $NODE or $SUITE is not the pinned version" >&2; exit 1; }
  echo "conformance: installed Node $("$NODE" --version) and the suite $("$NODE" "$SUITE" --version) in $DIR"
}

suite() { PATH="$(dirname "$NODE"):$PATH" "$NODE" "$SUITE" "$@"; }

# The client scenarios a revision requires, read from the suite itself (the frozen sets), without auth,
# plus json-schema-2020-12-preservation, which the sets list as "not scored, added after release" and
# issue 12 requires all the same.
scenarios() {
  local rev=$1
  suite list --client --requirements "$rev" |
    awk '/^Client scenarios/ {on = 1; next} /^$/ {on = 0} on && $1 == "-" {print $2}' |
    grep -v '^auth/'
  echo json-schema-2020-12-preservation
}

list() {
  for rev in "${REVISIONS[@]}"; do
    for s in $(scenarios "$rev"); do echo "$rev:$s"; done
  done
}

run() {
  install
  cargo build -p weir-mcp --example mcp --all-features
  local bin="$PWD/target/debug/examples/mcp"
  local out="$PWD/target/conformance-results"
  rm -rf "$out"
  local runtimes=${WEIR_CONFORMANCE_RUNTIMES:-smol tokio async-std}
  local cases=${WEIR_CONFORMANCE_ONLY:-$(list)}
  local passed=0 failed=0 failures=()
  for rt in $runtimes; do
    for case in $cases; do
      local rev=${case%%:*} scenario=${case#*:}
      printf '\n---- %s %s (runtime %s) ----\n' "$rev" "$scenario" "$rt"
      # The suite splits --command on spaces and appends the server URL as the last argument.
      if suite client --command "$bin --runtime $rt" --scenario "$scenario" --spec-version "$rev" \
        --timeout 30000 -o "$out/$rt/$rev"; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1))
        failures+=("$rt $rev $scenario")
      fi
    done
  done
  echo
  for f in "${failures[@]}"; do echo "conformance FAILED: $f (results under $out)"; done
  echo "conformance: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}

case "${1:-run}" in
  install) install ;;
  list) install; list ;;
  run) run ;;
  *) echo "usage: $0 [install|list|run]" >&2; exit 2 ;;
esac
