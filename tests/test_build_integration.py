"""Build integration: ``fortran-ad deps``, ``--cmake-dir``/``--make-dir``, and examples/heat1d
built with Make (make/fortran-ad.mk) and with CMake (FortranAD.cmake, by include() and by
find_package), including what a rebuild regenerates, judged by file modification times.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from conftest import REPO_ROOT, run_cli

EXAMPLE = REPO_ROOT / "examples" / "heat1d"
SOURCES = ["heat_params.f90", "heat_cost.f90", "heat_model.f90"]
AD_ARGS = ["--head", "heat_run", "--wrt", "u0,kappa", "--of", "cost"]
# In compile order: the tape runtime, then derivative files in source order (heat_params.f90
# holds no routine, so it has no derivative file).
GENERATED = ["fad_tape.f90", "heat_cost_b.f90", "heat_model_b.f90"]
FAD = Path(sys.executable).parent / "fortran-ad"
MAKE = shutil.which("make")
CMAKE = shutil.which("cmake")
NINJA = shutil.which("ninja")
TIMEOUT = 120

needs_make = pytest.mark.skipif(MAKE is None, reason="make not installed")
needs_cmake = pytest.mark.skipif(CMAKE is None, reason="cmake not installed")


# ---- deps, data folders (no compiler needed) ---------------------------------------------------


def test_deps_prints_what_diff_writes_in_compile_order(tmp_path: Path) -> None:
    out = tmp_path / "ad"
    proc = run_cli(["deps", *SOURCES, *AD_ARGS, "-o", str(out)], cwd=EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [str(out / name) for name in GENERATED]
    assert not out.exists(), "deps must not write anything"

    proc = run_cli([*SOURCES, *AD_ARGS, "-o", str(out)], cwd=EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(GENERATED)


def test_deps_forward_mode_has_tangent_files_and_no_tape() -> None:
    proc = run_cli(["deps", *SOURCES, *AD_ARGS, "--mode", "forward"], cwd=EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["heat_cost_d.f90", "heat_model_d.f90"]


def test_deps_reports_input_errors_like_diff(tmp_path: Path) -> None:
    args = ["deps", *SOURCES, "--head", "heat_run", "--wrt", "nosuch", "-o", str(tmp_path / "o")]
    proc = run_cli(args, cwd=EXAMPLE)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--wrt name 'nosuch' is not a dummy argument of 'heat_run'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cmake_and_make_dirs_hold_the_shipped_files() -> None:
    cmake_dir = Path(run_cli(["--cmake-dir"]).stdout.strip())
    make_dir = Path(run_cli(["--make-dir"]).stdout.strip())
    cmake_files = {"FortranAD.cmake", "FortranADConfig.cmake", "FortranADConfigVersion.cmake"}
    assert {p.name for p in cmake_dir.iterdir()} == cmake_files
    assert {p.name for p in make_dir.iterdir()} == {"fortran-ad.mk"}
    # Every data file is covered by the package-data globs, so a wheel ships it.
    package = REPO_ROOT / "fortran_ad"
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["fortran_ad"]
    shipped = {p for g in globs for p in package.glob(g)}
    for path in [*cmake_dir.iterdir(), *make_dir.iterdir()]:
        assert path in shipped, f"{path} is not in [tool.setuptools.package-data]"
    # The repository's cmake/ and make/ forward to these files (one copy of each).
    for name in cmake_files:
        assert f"fortran_ad/data/cmake/{name}" in (REPO_ROOT / "cmake" / name).read_text()
    assert "fortran_ad/data/make/fortran-ad.mk" in (REPO_ROOT / "make/fortran-ad.mk").read_text()


# ---- helpers for the builds --------------------------------------------------------------------


def _run(cmd: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
        text=True, timeout=TIMEOUT,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n"
                    f"{proc.stderr}")  # fmt: skip
    return proc.stdout + proc.stderr


def _copy_example(tmp_path: Path) -> Path:
    src = tmp_path / "heat1d"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build*", "ad", "*.o", "*.mod"))
    return src


def _mtimes(paths: Iterable[Path]) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in paths}


def _changed(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in after if before.get(name) != after[name]}


def _touch_after(path: Path, reference: Path) -> None:
    """Make ``path`` newer than ``reference`` (and not in the future)."""
    path.touch()
    if path.stat().st_mtime_ns <= reference.stat().st_mtime_ns:
        t = reference.stat().st_mtime_ns + 1_000_000
        os.utime(path, ns=(t, t))


def _edit_cost_source(src: Path) -> None:
    """A real edit of heat_cost.f90: one more comment line shifts the source lines the
    derivative's comments name, so heat_cost_b.f90 changes and heat_model_b.f90 does not."""
    path = src / "heat_cost.f90"
    text = path.read_text()
    path.write_text(text.replace("subroutine heat_misfit(", "! edited\nsubroutine heat_misfit(", 1))


def _check_passes(exe: Path) -> None:
    out = _run([exe], cwd=exe.parent)
    assert "gradient check passed" in out, out


# ---- Make --------------------------------------------------------------------------------------


@pytest.mark.gfortran
@needs_make
def test_make_builds_and_regenerates_only_what_changed(tmp_path: Path) -> None:
    src = _copy_example(tmp_path)
    mk = REPO_ROOT / "make" / "fortran-ad.mk"
    make = [MAKE or "make", f"FAD={FAD}", f"FORTRAN_AD_MK={mk}", "FFLAGS=-O0"]
    ad = src / "ad"
    files = [ad / name for name in GENERATED]
    stamp = ad / "fad.stamp"

    _run(make, cwd=src)
    assert sorted(p.name for p in ad.glob("*.f90")) == sorted(GENERATED)
    assert f"FAD_GENERATED := {' '.join(f'ad/{n}' for n in GENERATED)}" in (
        (ad / "fad-deps.mk").read_text()
    )
    _check_passes(src / "heat1d")

    # A no-op rebuild runs nothing: neither fortran-ad (stamp) nor rewrites.
    before = _mtimes([*files, stamp, src / "heat1d"])
    _run(make, cwd=src)
    assert _changed(before, _mtimes([*files, stamp, src / "heat1d"])) == set()

    # Touching a source re-runs fortran-ad, but identical outputs keep their time stamps.
    _touch_after(src / "heat_cost.f90", stamp)
    before = _mtimes(files)
    _run(make, cwd=src)
    assert stamp.stat().st_mtime_ns > (src / "heat_cost.f90").stat().st_mtime_ns
    assert _changed(before, _mtimes(files)) == set()

    # Editing heat_cost.f90 rewrites heat_cost_b.f90 only.
    _edit_cost_source(src)
    _run(make, cwd=src)
    assert _changed(before, _mtimes(files)) == {"heat_cost_b.f90"}
    _check_passes(src / "heat1d")

    # Changing the options regenerates (the options file changed), and back again.
    before = _mtimes([*files, ad / "fad-options"])
    _run([*make, "FAD_WRT=u0", "fad-generate"], cwd=src)
    changed = _changed(before, _mtimes([*files, ad / "fad-options"]))
    assert changed == {"fad-options", "heat_cost_b.f90", "heat_model_b.f90"}
    assert "! Head: heat_run; wrt: u0; of: cost" in (ad / "heat_model_b.f90").read_text()
    _run([*make, "fad-generate"], cwd=src)
    assert "! Head: heat_run; wrt: kappa, u0; of: cost" in (ad / "heat_model_b.f90").read_text()


# ---- CMake -------------------------------------------------------------------------------------

CMAKE_WAYS = [
    pytest.param("include", "Unix Makefiles", id="include-make"),
    pytest.param(
        "find_package",
        "Ninja",
        id="find_package-ninja",
        marks=pytest.mark.skipif(NINJA is None, reason="ninja not installed"),
    ),
]


@pytest.mark.gfortran
@needs_cmake
@pytest.mark.parametrize(("way", "generator"), CMAKE_WAYS)
def test_cmake_builds_and_regenerates_only_what_changed(
    tmp_path: Path, way: str, generator: str
) -> None:
    src = _copy_example(tmp_path)
    build = tmp_path / "build"
    cmake = CMAKE or "cmake"
    if way == "include":
        # The function is included from the checkout; fortran-ad is named explicitly.
        options = [f"-DFORTRAN_AD_SOURCE_DIR={REPO_ROOT}", f"-DFORTRAN_AD_EXECUTABLE={FAD}"]
        env = {}
        expect = f"heat1d: FortranAD included from {REPO_ROOT}"
    else:
        # find_package through CMAKE_PREFIX_PATH=$(fortran-ad --cmake-dir); fortran-ad on PATH.
        cmake_dir = _run([FAD, "--cmake-dir"], cwd=tmp_path).strip()
        options = [f"-DCMAKE_PREFIX_PATH={cmake_dir}"]
        env = {"PATH": f"{FAD.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        expect = f"heat1d: FortranAD from find_package ({cmake_dir})"
    out = _run([cmake, "-S", src, "-B", build, "-G", generator, *options], cwd=tmp_path, env=env)
    assert expect in out

    def build_all(*extra: str) -> str:
        return _run([cmake, "--build", build, "--parallel", "2", *extra], cwd=tmp_path, env=env)

    gen = build / "heat_ad_fad"
    files = [gen / name for name in GENERATED]
    stamp = gen / "fortran-ad.stamp"
    objects_dir = build / "CMakeFiles" / "heat_ad.dir" / "heat_ad_fad"

    def objects() -> list[Path]:
        return [objects_dir / f"{n}.o" for n in ("heat_cost_b.f90", "heat_model_b.f90")]

    build_all()
    assert sorted(p.name for p in gen.glob("*.f90")) == sorted(GENERATED)
    assert all(p.is_file() for p in objects())
    _check_passes(build / "heat1d")

    # A no-op rebuild runs nothing.
    before = _mtimes([*files, stamp, *objects()])
    build_all()
    assert _changed(before, _mtimes([*files, stamp, *objects()])) == set()

    # Touching a source re-runs fortran-ad; nothing generated changes, nothing derived recompiles.
    _touch_after(src / "heat_cost.f90", stamp)
    build_all()
    assert stamp.stat().st_mtime_ns > before["fortran-ad.stamp"]
    assert _changed(before, _mtimes([*files, *objects()])) == set()

    # Editing heat_cost.f90 rewrites and recompiles heat_cost_b.f90 only.
    _edit_cost_source(src)
    build_all()
    after = _mtimes([*files, *objects()])
    assert _changed(before, after) == {"heat_cost_b.f90", "heat_cost_b.f90.o"}
    _check_passes(build / "heat1d")

    # Changing WRT (a cache variable of the example) regenerates.
    _run([cmake, "-DHEAT1D_AD_WRT=u0", build], cwd=tmp_path, env=env)
    assert "--wrt\nu0\n" in (gen / "fortran-ad.args").read_text()
    build_all("--target", "heat_ad_generate")
    assert _changed(after, _mtimes(files)) == {"heat_cost_b.f90", "heat_model_b.f90"}
    assert "! Head: heat_run; wrt: u0; of: cost" in (gen / "heat_model_b.f90").read_text()
