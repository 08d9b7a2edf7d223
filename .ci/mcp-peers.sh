#!/usr/bin/env bash
# Installs the real MCP servers weir-mcp's tests talk to over stdio, at pinned
# versions, under target/mcp-peers/ (override with WEIR_MCP_PEERS_DIR):
#
#   npm/             @modelcontextprotocol/server-everything (Node, stdio)
#   py-mcp2/         a venv with the Python SDK `mcp` 2.x (modern era, 2026-07-28)
#   py-mcp1/         a venv with the Python SDK `mcp` 1.x (FastMCP, legacy era)
#
# Idempotent: each peer leaves a stamp naming its pinned version, and a peer
# whose stamp matches is not touched again, so a second run takes well under a
# second. Tests find the peers from CARGO_MANIFEST_DIR/../target/mcp-peers and
# skip loudly when one is missing, unless WEIR_REQUIRE_MCP_PEERS=1.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every version is pinned here, and only here.
EVERYTHING_VERSION="2026.8.31"
MCP2_VERSION="2.3.0"
MCP1_VERSION="1.30.0"

DEST="${WEIR_MCP_PEERS_DIR:-$PWD/target/mcp-peers}"
PYTHON="${WEIR_PYTHON:-python3}"
mkdir -p "$DEST"

have() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

install_everything() {
  local dir="$DEST/npm" stamp="$DEST/npm/.weir-stamp"
  local want="@modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
  if have "$stamp" "$want" && [ -f "$dir/node_modules/@modelcontextprotocol/server-everything/package.json" ]; then
    echo "mcp-peers: $want already installed"
    return
  fi
  command -v npm >/dev/null || { echo "mcp-peers: npm not found; cannot install $want" >&2; return 1; }
  echo "mcp-peers: installing $want"
  rm -rf "$dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --save-exact "$want" >/dev/null
  echo "$want" >"$stamp"
}

install_python_sdk() {
  local name="$1" version="$2"
  local dir="$DEST/$name" stamp="$DEST/$name/.weir-stamp"
  local want="mcp==$version"
  if have "$stamp" "$want" && [ -x "$dir/bin/python" ]; then
    echo "mcp-peers: $name ($want) already installed"
    return
  fi
  command -v "$PYTHON" >/dev/null || { echo "mcp-peers: $PYTHON not found; cannot install $want" >&2; return 1; }
  echo "mcp-peers: installing $want into $name"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$want"
  "$dir/bin/python" -c "import mcp, importlib.metadata as m; assert m.version('mcp') == '$version'"
  echo "$want" >"$stamp"
}

install_everything
install_python_sdk py-mcp2 "$MCP2_VERSION"
install_python_sdk py-mcp1 "$MCP1_VERSION"
echo "mcp-peers: ready in $DEST"
