"""Python bindings (``fortran-ad ... --python NAME``, ``fortran_ad.load``) on every sample.

Each sample case is built once per session (reverse mode; forward mode for a few), then:

* the gradient from ``fortran_ad.load(DIR).gradient(**inputs)`` equals the gradient a small
  Fortran program computes from the same inputs (written to a binary file), linked against the
  same objects, to 1e-12 relative;
* the forward-mode module's gradient (one tangent per input element) equals the reverse one;
* on the heat1d example, the gradient matches central finite differences and the raw f90wrap
  call ``NAME.<module>_b.<head>_b(...)`` gives the same numbers as the layer;
* errors: gfortran's message for a primal it rejects, bad module names, unsupported modes;
* CMake: examples/heat1d with ``-DHEAT1D_PYTHON=ON`` builds from a clean folder and both ctest
  gradient checks (Fortran and Python) pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import GFORTRAN, REPO_ROOT, SAMPLES, run_cli, sample_sources

import fortran_ad
from fortran_ad.ad.core.generate import head_signature
from fortran_ad.bindings import _shape
from fortran_ad.build.python import FFLAGS, build_python
from fortran_ad.checks.inputs import find_head
from fortran_ad.checks.spec import build_spec
from fortran_ad.driver import Options, load

pytestmark = pytest.mark.gfortran

# a case with ``python = false`` takes derived-type objects: --python refuses them (located)
CASES = [(s, c) for s in SAMPLES for c in s["case"] if c.get("python", True)]
# cases of one head differ by their -D defines (cpp_column)
CASE_IDS = [
    f"{s['name']}-{c['head']}" + "".join(f"-{d}" for d in c.get("defines", ())) for s, c in CASES
]
FORWARD = {"lorenz96-l96_run", "box_model_f77-npzrun", "warm_rain-kessler_run"}
EXAMPLE = REPO_ROOT / "examples" / "heat1d"
HEAT = ["heat_params.f90", "heat_cost.f90", "heat_model.f90"]
FAD = Path(sys.executable).parent / "fortran-ad"


@pytest.fixture(scope="session", autouse=True)
def tape_cache(tmp_path_factory: pytest.TempPathFactory):
    """The compiled tape is cached between builds (fortran_ad/runtime/cache.py): in a folder of
    this session, so the tests neither read nor fill the user's cache."""
    folder = tmp_path_factory.mktemp("fad-cache")
    old = os.environ.get("FORTRAN_AD_CACHE")
    os.environ["FORTRAN_AD_CACHE"] = str(folder)
    yield folder
    if old is None:
        del os.environ["FORTRAN_AD_CACHE"]
    else:
        os.environ["FORTRAN_AD_CACHE"] = old


class Built:
    """One sample case built with --python in ``folder`` (build files kept in ``build``)."""

    def __init__(self, root: Path, sample: dict[str, Any], case: dict[str, Any], mode: str):
        self.sample, self.case, self.mode = sample, case, mode
        self.sources = [str(p) for p in sample_sources(sample)]
        self.options = Options(
            sources=tuple(self.sources),
            out=root / "out",
            mode=mode,
            wrt=tuple(case["wrt"]),
            of=tuple(case["of"]),
            head=case["head"],
            defines=tuple(case.get("defines", ())),
        )
        index = sample["case"].index(case)
        self.name = f"fad_{sample['name']}_{case['head']}{index}_{mode}"
        self.build = root / "build"
        build_python(self.options, self.name, keep=self.build)
        self.model = fortran_ad.load(self.options.out)

    def inputs(self, seed: int = 7) -> dict[str, Any]:
        """The case's fixed values and random inputs in its ranges (declared shapes)."""
        program = load(self.sources, None, self.options.preprocessing)
        module, routine = find_head(program, self.case["head"], self.options.wrt)
        spec = build_spec(
            routine,
            module,
            {"reverse": head_signature(program, self.options)},
            self.options.wrt,
            self.options.of,
            self.case.get("check", {}),
            {k: tuple(v) for k, v in self.case.get("ranges", {}).items()},
        )
        rng = np.random.default_rng(seed)
        args = {a.name: a for a in self.model.manifest.args}
        values: dict[str, Any] = {}
        for d in spec.dummies:
            if d.fixed is not None:
                values[d.name] = d.fixed
        for d in spec.dummies:
            if d.fixed is None and args[d.name].intent != "out":
                shape = _shape(args[d.name], values)
                values[d.name] = (
                    rng.uniform(d.lo, d.hi, shape) if shape else rng.uniform(d.lo, d.hi)
                )
        self.spec = spec
        return values


@pytest.fixture(scope="session", params=CASES, ids=CASE_IDS)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    sample, case = request.param
    return Built(tmp_path_factory.mktemp(f"py-{case['head']}"), sample, case, "reverse")


def _reference_program(b: Built, values: dict[str, Any]) -> str:
    """A Fortran program: real inputs from fad_in.bin (argument order, Fortran order), seeds
    1 on the objective, zero adjoints, one call of <head>_b, gradients to fad_out.bin."""
    spec = b.spec
    args = {a.name: a for a in b.model.manifest.args}
    lines = ["program fad_reference", *(f"  {u}" for u in spec.uses)]
    if spec.module:
        lines += [f"  use {spec.module}", f"  use {spec.module}_b, only: {spec.head}_b"]
    # an internal subroutine: its parameters and dummies' names hide the used modules' names
    lines += ["  implicit none", "  call fad_run()", "contains", "subroutine fad_run()"]
    lines += [*(f"  {p}" for p in spec.params), "  integer :: fad_u"]
    call = []
    for d in spec.dummies:
        shape = f"({', '.join([':'] * d.rank)})" if d.rank else ""
        alloc = ", allocatable" if d.rank else ""
        lines.append(f"  {d.type}{alloc} :: {d.name}{shape}")
        call.append(d.name)
        if d.has_b:
            lines.append(f"  {d.type}{alloc} :: fad_b_{d.name}{shape}")
            call.append(f"fad_b_{d.name}")
    for d in spec.dummies:
        if d.category != "real" and d.fixed is not None:
            value = str(int(d.fixed)) if d.category == "integer" else f".{str(d.fixed).lower()}."
            lines.append(f"  {d.name} = {value}")
    for d in spec.dummies:
        if d.rank:
            lines.append(f"  allocate({d.name}{d.dims})")
        if d.has_b:
            lines.append(f"  allocate(fad_b_{d.name}, mold={d.name})" if d.rank else "")
            lines.append(f"  fad_b_{d.name} = {'1' if d.of else '0'}")
    lines.append("  open(newunit=fad_u, file='fad_in.bin', access='stream', form='unformatted')")
    for d in spec.dummies:
        if d.category == "real" and args[d.name].intent != "out":
            lines.append(f"  read(fad_u) {d.name}")
    lines += ["  close(fad_u)", f"  call {spec.head}_b({', '.join(call)})"]
    lines.append("  open(newunit=fad_u, file='fad_out.bin', access='stream', form='unformatted')")
    lines += [f"  write(fad_u) fad_b_{w}" for w in b.options.wrt]
    lines += ["  close(fad_u)", "end subroutine fad_run", "end program fad_reference", ""]
    return "\n".join(lines)


def _fortran_gradient(b: Built, values: dict[str, Any], folder: Path) -> dict[str, np.ndarray]:
    folder.mkdir()
    (folder / "reference.f90").write_text(_reference_program(b, values))
    objects = sorted(b.build.glob("[0-9][0-9][0-9]_*.o"))
    exe = folder / "reference"
    cmd = [
        GFORTRAN,
        *FFLAGS,
        "-ffree-line-length-none",
        "-I",
        b.build / "mod",
        "reference.f90",
        *objects,
        "-o",
        exe,
    ]
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = {a.name: a for a in b.model.manifest.args}
    with open(folder / "fad_in.bin", "wb") as f:
        for d in b.spec.dummies:
            if d.category == "real" and args[d.name].intent != "out":
                v = np.asarray(values[d.name], dtype=args[d.name].dtype)
                f.write(v.tobytes(order="F"))
    proc = subprocess.run([str(exe)], cwd=folder, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    raw = np.fromfile(folder / "fad_out.bin", dtype=np.float64)
    out, at = {}, 0
    for w in b.options.wrt:
        shape = np.shape(values[w])
        size = int(np.prod(shape))
        out[w] = raw[at : at + size].reshape(shape, order="F")
        at += size
    assert at == raw.size
    return out


def _relerr(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b), initial=0.0) / max(np.max(np.abs(b)), 1e-300))


# ---- every sample: the binding's gradient is the Fortran program's -----------------------------


def test_gradient_equals_fortran_program(built: Built, tmp_path: Path) -> None:
    values = built.inputs()
    snapshot = {k: np.copy(v) for k, v in values.items()}
    grad = built.model.gradient(**values)
    assert set(grad) == set(built.options.wrt)
    for k, v in values.items():  # the inputs are copied, never modified
        np.testing.assert_array_equal(v, snapshot[k])
    again = built.model.gradient(**values)  # no state left behind (tape, COMMON adjoints)
    for w in built.options.wrt:
        np.testing.assert_array_equal(again[w], grad[w])
    reference = _fortran_gradient(built, values, tmp_path / "ref")
    for w in built.options.wrt:
        assert np.shape(grad[w]) == np.shape(values[w])
        assert np.any(reference[w] != 0.0), f"gradient wrt {w} is zero"
        assert _relerr(grad[w], reference[w]) <= 1e-12, w


def test_forward_module_gives_the_reverse_gradient(
    built: Built, tmp_path_factory: pytest.TempPathFactory
) -> None:
    case_id = f"{built.sample['name']}-{built.case['head']}"
    if case_id not in FORWARD or built.case.get("defines"):
        pytest.skip("forward bindings are built for a few samples only (CI time)")
    fwd = Built(tmp_path_factory.mktemp("fwd"), built.sample, built.case, "forward")
    assert fwd.model.mode == "forward" and fwd.model.manifest.routine.endswith("_d")
    values = built.inputs()
    reverse = built.model.gradient(**values)
    forward = fwd.model.gradient(**values)
    for w in built.options.wrt:
        assert _relerr(forward[w], reverse[w]) <= 1e-10, w


# ---- heat1d: finite differences, the raw f90wrap call, CLI -------------------------------------


@pytest.fixture(scope="module")
def heat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("heat") / "py"
    args = [*HEAT, "--head", "heat_run", "--wrt", "u0,kappa", "--of", "cost"]
    proc = run_cli([*args, "--python", "heatpy_test", "-o", str(out)], cwd=EXAMPLE)
    assert proc.returncode == 0, proc.stderr
    listed = {Path(line).name for line in proc.stdout.split()}
    assert {"heat_model_b.f90", "heatpy_test.py", "heatpy_test.fad.json"} <= listed
    assert any(n.startswith("_heatpy_test.") and n.endswith(".so") for n in listed)
    return out


def _heat_inputs(n: int = 30) -> dict[str, Any]:
    x = np.arange(1, n + 1) / (n + 1)
    u0 = np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x)
    return {"n": n, "nt": 100, "dt": 1e-4, "kappa": 1.0, "u0": u0, "target": 0.8 * u0}


def test_tape_is_compiled_once_and_cached(heat: Path, tape_cache: Path) -> None:
    (entry,) = tape_cache.glob("fad_tape-*")
    kept = {p.name for p in entry.iterdir()}  # the object and every module the file defines
    assert {"fad_tape.o", "fad_tape.mod"} <= kept
    assert all(name.endswith(".mod") for name in kept - {"fad_tape.o"})
    before = (entry / "fad_tape.o").stat().st_mtime_ns
    out = heat.parent / "again"
    args = [*HEAT, "--head", "heat_run", "--wrt", "u0", "--of", "cost", "-o", str(out)]
    assert run_cli([*args, "--python", "heatpy_again"], cwd=EXAMPLE).returncode == 0
    assert list(tape_cache.glob("fad_tape-*")) == [entry]
    assert (entry / "fad_tape.o").stat().st_mtime_ns == before
    assert fortran_ad.load(out).gradient(**_heat_inputs())["u0"].shape == (30,)


def test_gradient_matches_central_differences(heat: Path) -> None:
    model = fortran_ad.load(heat)
    values = _heat_inputs()
    cost, grad = model.value_and_gradient(**values)
    assert cost > 0
    rng = np.random.default_rng(3)
    du0, dkappa = rng.uniform(-1, 1, values["u0"].shape), 0.5
    h = 1e-5

    def f(s: float) -> float:
        moved = {**values, "u0": values["u0"] + s * du0, "kappa": values["kappa"] + s * dkappa}
        return model.value_and_gradient(**moved)[0]

    fd = (f(h) - f(-h)) / (2 * h)
    ad = float(grad["u0"] @ du0 + grad["kappa"] * dkappa)
    assert abs(ad - fd) <= 1e-6 * abs(fd), (ad, fd)


def test_raw_f90wrap_call_matches_the_layer(heat: Path) -> None:
    model = fortran_ad.load(heat)
    raw = model.module  # import heatpy_test
    values = _heat_inputs()
    u0b = np.zeros(values["n"], order="F")
    kappab = np.zeros(())  # a 0-d array: f2py updates it in place
    cost = raw.heat_model_b.heat_run_b(
        values["n"], values["nt"], values["dt"], values["kappa"], kappab,
        values["u0"], u0b, values["target"], 1.0,
    )  # fmt: skip
    value, grad = model.value_and_gradient(**values)
    assert cost == value
    np.testing.assert_array_equal(u0b, grad["u0"])
    assert float(kappab) == grad["kappa"]


def test_layer_reports_bad_inputs(heat: Path) -> None:
    model = fortran_ad.load(heat)
    values = _heat_inputs()
    with pytest.raises(TypeError, match="missing inputs: target"):
        model.gradient(**{k: v for k, v in values.items() if k != "target"})
    with pytest.raises(TypeError, match="unknown inputs bogus"):
        model.gradient(**values, bogus=1)
    with pytest.raises(ValueError, match="'u0' has shape"):
        model.gradient(**{**values, "u0": values["u0"][:-1]})
    with pytest.raises(TypeError, match="built in reverse mode"):
        model.jvp({"u0": values["u0"]}, **values)


def test_primal_compile_error_shows_gfortran_message(tmp_path: Path) -> None:
    src = tmp_path / "bad.f90"
    src.write_text(
        "module bad\ncontains\n  subroutine f(x, y)\n    real, intent(in) :: x\n"
        "    real, intent(out) :: y\n    integer :: k\n    k = 'abc'\n    y = x*x + k\n"
        "  end subroutine f\nend module bad\n"
    )
    out = tmp_path / "out"
    proc = run_cli([str(src), "--wrt", "x", "--of", "y", "--python", "badpy", "-o", str(out)])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{src}:7:8: error: gfortran cannot compile the primal source bad.f90" in proc.stderr
    assert "Error:" in proc.stderr  # gfortran's own message follows as a note
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--python", "1bad"], "--python '1bad' is not a valid Python module name"),
        (["--python", "ok", "--mode", "vector"], "--python supports --mode reverse and forward"),
    ],
)
def test_bad_python_options_are_errors(tmp_path: Path, extra: list[str], message: str) -> None:
    args = [*HEAT, "--head", "heat_run", "--wrt", "u0", "--of", "cost", "-o", str(tmp_path / "o")]
    proc = run_cli([*args, *extra], cwd=EXAMPLE)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists()


# ---- CMake: fortran_ad_add_derivatives(... PYTHON <name>) -------------------------------------


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cmake_builds_python_module_and_its_gradient_check(tmp_path: Path) -> None:
    src = tmp_path / "heat1d"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build*", "ad", "*.o", "*.mod"))
    build = tmp_path / "build"
    env = {**os.environ}

    def run(*cmd: str | Path) -> str:
        proc = subprocess.run(
            [str(c) for c in cmd], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    options = [f"-DFORTRAN_AD_SOURCE_DIR={REPO_ROOT}", f"-DFORTRAN_AD_EXECUTABLE={FAD}"]
    run("cmake", "-S", src, "-B", build, "-DHEAT1D_PYTHON=ON", *options)
    run("cmake", "--build", build, "--parallel", "2")
    pydir = build / "heat_ad_fad" / "python"
    manifest = pydir / "heat1d_py.fad.json"
    assert manifest.is_file() and list(pydir.glob("_heat1d_py.*.so"))
    out = run("ctest", "--test-dir", build, "--output-on-failure", "-V")
    assert out.count("gradient check passed") == 2, out
    assert "heat1d_python_gradient" in out
    # a no-op rebuild does not rebuild the module; a source edit does
    before = manifest.stat().st_mtime_ns
    run("cmake", "--build", build)
    assert manifest.stat().st_mtime_ns == before
    cost = src / "heat_cost.f90"
    cost.write_text("! edited\n" + cost.read_text())
    run("cmake", "--build", build)
    assert manifest.stat().st_mtime_ns > before
    assert run("ctest", "--test-dir", build, "-R", "python").count("100% tests passed") == 1
