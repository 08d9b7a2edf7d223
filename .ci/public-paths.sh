#!/usr/bin/env bash
# Fails when a public item of a published crate can be named by two paths
# (the rule is in the facade's crate docs, "Where things are"). Reads the
# docs rustdoc renders, so it sees exactly what users see.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo doc -q --no-deps --all-features \
  -p weir -p weir-core -p weir-smol -p weir-tokio -p weir-async-std -p weir-tower -p weir-mcp
python3 .ci/public_paths.py "$target/doc" weir weir_core weir_smol weir_tokio weir_async_std weir_tower weir_mcp
