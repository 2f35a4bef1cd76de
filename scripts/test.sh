#!/usr/bin/env bash
# Set up (scripts/setup.sh), then lint (ruff check), format check (ruff format --check) and the
# test suite (pytest; extra arguments are passed on: ./scripts/test.sh -k roundtrip -x).
# Runs every step, then exits non-zero if any of them failed.
set -euo pipefail

# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$REPO_ROOT"

failed=()
step() {
  local name="$1"
  shift
  printf '== %s\n' "$name"
  if ! "$@"; then
    failed+=("$name")
  fi
}

step "ruff check" ruff check fortran_ad tests scripts
step "ruff format --check" ruff format --check fortran_ad tests scripts
step "pytest" python -m pytest -q "$@"

if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
echo "all checks passed"
