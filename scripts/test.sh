#!/usr/bin/env bash
# Set up (scripts/setup.sh), then lint (ruff check), format check (ruff format --check) and the
# test suite (pytest on every core; extra arguments are passed on: ./scripts/test.sh -k roundtrip).
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
# one worker per core (pytest-xdist): the suite is compile-bound and the tests are independent
step "pytest" python -m pytest -q -n auto "$@"

if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
  exit 1
fi
echo "all checks passed"
