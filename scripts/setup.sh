#!/usr/bin/env bash
# Shared set-up for scripts/test.sh and scripts/demo.sh (may also be run on its own).
#
#   * installs gfortran, cmake, make, Open MPI (mpif90, mpirun), OpenBLAS and NetCDF-Fortran with
#     apt-get when they are missing (Debian, as root);
#   * creates the virtual environment .venv in the repository root with Python 3.11;
#   * runs `pip install -e '.[test]'` unless a stamp shows pyproject.toml unchanged since then.
#
# When sourced it leaves REPO_ROOT and VENV set and .venv/bin first on PATH.
# Idempotent: a second run only checks and prints nothing but one line.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
export REPO_ROOT VENV

_setup_say() { printf 'setup: %s\n' "$*" >&2; }

_setup_system_packages() {
  local missing=()
  command -v gfortran >/dev/null 2>&1 || missing+=(gfortran)
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  command -v make >/dev/null 2>&1 || missing+=(make)
  # MPI programs (issue #13): the adjoints run on the real MPI library
  command -v mpif90 >/dev/null 2>&1 || missing+=(openmpi-bin libopenmpi-dev)
  # the benchmarks link MATMUL to OpenBLAS (scripts/bench/run.py, gfortran -fexternal-blas)
  [[ -e "$(gfortran -print-file-name=libopenblas.so 2>/dev/null)" ]] || missing+=(libopenblas-dev)
  # NOAA's SENA model builds with NetCDF-Fortran (scripts/bench/sena.py)
  command -v nf-config >/dev/null 2>&1 || missing+=(libnetcdff-dev)
  if ! command -v python3.11 >/dev/null 2>&1 && ! command -v python3 >/dev/null 2>&1; then
    missing+=(python3.11)
  fi
  local py
  py="$(command -v python3.11 || command -v python3 || true)"
  if [[ -z "$py" ]] || ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3.11-venv)
  fi
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      _setup_say "missing ${missing[*]} and not root: install them and run again"
      return 1
    fi
  fi
  _setup_say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

_setup_python() {
  local py
  py="$(command -v python3.11 || command -v python3)"
  if ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    _setup_say "need Python 3.11 (dace 1.0.2, f90wrap 0.3.0); $py is $("$py" --version 2>&1)"
    return 1
  fi
  printf '%s\n' "$py"
}

_setup_venv() {
  local py
  py="$(_setup_python)"
  if [[ ! -x "$VENV/bin/python" ]] \
    || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    _setup_say "creating $VENV"
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
  fi
  # The stamp covers pyproject.toml, the interpreter and the repository path (an editable
  # install points at the tree it was made from, so a copied .venv must be refreshed).
  local stamp="$VENV/.fortran-ad-stamp" want
  want="$(
    {
      sha256sum "$REPO_ROOT/pyproject.toml"
      "$VENV/bin/python" --version
      printf '%s\n' "$REPO_ROOT"
    } | sha256sum | cut -d' ' -f1
  )"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$VENV/bin/python" -c 'import fortran_ad' >/dev/null 2>&1; then
    _setup_say "environment up to date ($VENV)"
    return 0
  fi
  _setup_say "pip install -e '.[test]' (the first time takes a minute or two)"
  rm -f "$stamp"
  local log="$VENV/pip-install.log"
  if ! (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install -e '.[test]') >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    _setup_say "pip install failed (full log: $log)"
    return 1
  fi
  printf '%s\n' "$want" >"$stamp"
}

_setup_system_packages
_setup_venv
export PATH="$VENV/bin:$PATH"
