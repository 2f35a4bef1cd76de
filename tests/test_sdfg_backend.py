"""The SDFG back end: ``--emit sdfg`` files open with ``dace.SDFG.from_file`` and validate, and
the DaCe-compiled adjoint (``--backend dace``) agrees with the Fortran back end's adjoint to
1e-12 (relative, per variable) when both are called from the same Fortran driver.

Supported samples: the PolyBench kernels jacobi_2d, seidel_2d, heat_3d (no tape), gemm (tape),
cholesky and lu (a call as a nested SDFG, whole arrays and integers on the tape), lorenz96
(nested calls, assumed-shape arrays, MOD/SIZE in integer expressions), cpp_column with
-DDRAG -DDAMPING=2 (a preprocessed .F90), plus a synthetic routine
with IF/ELSE IF, SELECT CASE ranges, MERGE and math intrinsics. The other bundled samples use
constructs this back end refuses with a located error (tested below).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

dace = pytest.importorskip("dace")

from fortran_ad.backends.sdfg_check import build_both, max_relative_difference, run  # noqa: E402
from fortran_ad.cli import main  # noqa: E402
from fortran_ad.driver import Options  # noqa: E402

pytestmark = [
    pytest.mark.skipif(shutil.which("gfortran") is None, reason="needs gfortran"),
    pytest.mark.filterwarnings("ignore:.*uninitialized transient"),  # the init state's touch
    pytest.mark.filterwarnings("ignore:Found constant"),
]

ROOT = Path(__file__).resolve().parents[1]
NPB = ROOT / "legacy_samples" / "npbench"
NPB_SOURCES = [str(NPB / s) for s in tomllib.loads((NPB / "sample.toml").read_text())["sources"]]
# sample:head
SUPPORTED = [
    f"npbench:{h}" for h in ("gemm", "jacobi_2d", "seidel_2d", "heat_3d", "cholesky", "lu")
] + ["lorenz96:l96_run", "cpp_column:1"]
STEMS = {"l96_run": "l96_b.f90", "column_run": "column_b.f90", "gemm": "npb_blas_b.f90",
         "cholesky": "npb_solvers_b.f90", "lu": "npb_solvers_b.f90"}  # fmt: skip
TAPED = ("gemm", "cholesky", "lu", "l96_run", "column_run")
CALLS = ("cholesky", "lu", "l96_run")
CASES = {c["head"]: c for c in tomllib.loads((NPB / "sample.toml").read_text())["case"]}
CASES["l96_run"] = {"wrt": ["x", "forcing"]}
CASES["column_run"] = {"wrt": ["u", "forcing"]}

BRANCHY = """\
module branchy
  implicit none
  integer, parameter :: dp = kind(1.0d0)
  real(dp), parameter :: half = 0.5_dp
contains
  subroutine branchy_run(n, mode, x, y, cost)
    integer, intent(in) :: n, mode
    real(dp), intent(in) :: x(n)
    real(dp), intent(inout) :: y(0:n + 1)
    real(dp), intent(out) :: cost
    real(dp) :: s
    integer :: i, k
    s = 0.0_dp
    do i = 1, n
      if (x(i) > half) then
        y(i) = y(i) + sqrt(x(i))*exp(-x(i))
      else if (x(i) > 0.25_dp) then
        y(i) = max(y(i - 1), x(i))**2
      else
        y(i) = y(i + 1)*x(i)
      end if
      select case (mode)
      case (1)
        s = s + tanh(y(i))
      case (2:3)
        s = s + y(i)*log(1.0_dp + x(i))
      case default
        s = s + abs(y(i))
      end select
    end do
    k = n/2 + 1
    cost = s*x(k)
  end subroutine branchy_run
end module branchy
"""


def _case(sample: str, which: str) -> tuple[Options, dict]:
    """A sample's case by index ("1") or by head ("gemm")."""
    folder = ROOT / "legacy_samples" / sample
    spec = tomllib.loads((folder / "sample.toml").read_text())
    c = next(c for k, c in enumerate(spec["case"]) if which in (str(k), c["head"]))
    sources = tuple(str(folder / s) for s in spec["sources"])
    defines = tuple(c.get("defines", ()))
    wrt, of = tuple(c["wrt"]), tuple(c["of"])
    return Options(sources=sources, head=c["head"], wrt=wrt, of=of, defines=defines), c


@pytest.fixture(scope="module", params=SUPPORTED)
def sample_runs(request, tmp_path_factory):
    """One DaCe compile per sample case: the Fortran and the DaCe runs of one driver."""
    sample, which = request.param.split(":")
    options, c = _case(sample, which)
    work = tmp_path_factory.mktemp(f"dace_{c['head']}")
    exes = build_both(options, work, c["check"], c.get("ranges", {}))
    return c["head"], work, run(exes["fortran"]), run(exes["dace"])


def test_dace_adjoint_matches_fortran(sample_runs):
    head, _, fortran, dace_run = sample_runs
    diffs = max_relative_difference(fortran, dace_run)
    assert set(diffs) >= {n + "b" for n in CASES[head]["wrt"]}
    assert max(diffs.values()) <= 1e-12, diffs
    for n in CASES[head]["wrt"]:  # a gradient, not zeros on both sides
        assert max(abs(v) for v in fortran.values[n + "b"]) > 0


def test_interface_has_the_fortran_signature(sample_runs):
    head, work, _, _ = sample_runs

    def header(path: Path) -> list[str]:
        text = path.read_text().splitlines()
        return [ln.strip() for ln in text if ln.strip().startswith(("module ", "subroutine "))]

    stem = STEMS.get(head, "npb_stencils_b.f90")
    fortran = header(work / "fortran" / stem)
    dace_side = header(work / "dace" / stem)
    assert f"subroutine {head}_b(" in " ".join(dace_side)
    assert [s for s in dace_side if s.startswith(f"subroutine {head}_b(")] == [
        s for s in fortran if s.startswith(f"subroutine {head}_b(")
    ]
    assert [s for s in dace_side if s.startswith("module ")] == [
        s for s in fortran if s.startswith("module ")
    ]
    assert (work / "dace" / f"lib{head}_b.so").is_file()


def test_emit_sdfg_writes_the_two_sdfgs(tmp_path):
    c = CASES["jacobi_2d"]
    args = [*NPB_SOURCES, "--head", "jacobi_2d", "--wrt", ",".join(c["wrt"])]
    assert main([*args, "--of", "cost", "--emit", "sdfg", "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jacobi_2d.sdfg", "jacobi_2d_b.sdfg"]
    for path in tmp_path.iterdir():
        dace.SDFG.from_file(str(path)).validate()


def test_sdfg_files_validate(sample_runs):
    """The .sdfg files the DaCe build wrote (the same as --emit sdfg writes)."""
    from dace.sdfg.state import LoopRegion

    head, work, _, _ = sample_runs
    for name in (f"{head}.sdfg", f"{head}_b.sdfg"):
        sdfg = dace.SDFG.from_file(str(work / "dace" / name))
        sdfg.validate()
        assert any(isinstance(b, LoopRegion) for b in sdfg.all_control_flow_blocks())
    adj = dace.SDFG.from_file(str(work / "dace" / f"{head}_b.sdfg"))
    wcr = [e for e, _ in adj.all_edges_recursive() if getattr(e.data, "wcr", None)]
    assert wcr, "adjoint accumulations should be WCR sum memlets"
    maps = [n for n, _ in adj.all_nodes_recursive() if isinstance(n, dace.nodes.MapEntry)]
    assert maps, "the adjoint of cost = sum(...) is a parallel band"
    assert ("fad_tape_float64" in adj.arrays) == (head in TAPED)
    nested = [n for n, _ in adj.all_nodes_recursive() if isinstance(n, dace.nodes.NestedSDFG)]
    assert bool(nested) == (head in CALLS)  # calls are nested SDFGs


def test_branches_and_select_match_fortran(tmp_path):
    from dace.sdfg.state import ConditionalBlock

    src = tmp_path / "branchy.f90"
    src.write_text(BRANCHY)
    opts = Options(sources=(str(src),), wrt=("x", "y"), of=("cost",))
    out = tmp_path / "sdfg"
    assert main([str(src), "--wrt", "x,y", "--of", "cost", "--emit", "sdfg", "-o", str(out)]) == 0
    adj = dace.SDFG.from_file(str(out / "branchy_run_b.sdfg"))
    adj.validate()
    blocks = [b for b in adj.all_control_flow_blocks() if isinstance(b, ConditionalBlock)]
    assert len(blocks) >= 4  # IF and SELECT in both sweeps
    ranges = {"x": [0.0, 1.0], "y": [-1.0, 1.0]}
    exes = build_both(opts, tmp_path / "run", {"n": 9, "mode": 3}, ranges)
    fortran, dace_run = run(exes["fortran"]), run(exes["dace"])
    assert max(max_relative_difference(fortran, dace_run).values()) <= 1e-12
    assert max(abs(v) for v in fortran.values["xb"]) > 0


def test_unsupported_construct_is_a_located_error(tmp_path, capsys):
    folder = ROOT / "legacy_samples" / "advection_diffusion"
    out = tmp_path / "o"
    srcs = [str(folder / "advdif_params.f90"), str(folder / "advdif.f90")]
    args = [*srcs, "--head", "advdif_run", "--wrt", "dq,vel,kappa", "--of", "cost"]
    code = main([*args, "--emit", "sdfg", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "advdif.f90:79:7: error: the SDFG back end cannot call 'limited_slope'" in err
    assert not out.exists()


def test_emit_and_backend_are_exclusive(tmp_path, capsys):
    args = [*NPB_SOURCES, "--head", "gemm", "--wrt", "a", "--of", "cost", "-o", str(tmp_path / "o")]
    assert main([*args, "--emit", "sdfg", "--backend", "dace"]) == 2
    assert "choose one of --emit sdfg and --backend dace" in capsys.readouterr().err
    assert main([*args, "--emit", "sdfg", "--mode", "forward"]) == 2
    assert "--mode reverse only" in capsys.readouterr().err


def test_state_between_calls_is_refused(tmp_path, capsys):
    """A module variable would become a transient reset on every call: refuse it."""
    src = tmp_path / "modvar.f90"
    src.write_text(
        "module modvar\n  implicit none\n  integer, parameter :: dp = kind(1.0d0)\n"
        "  real(dp) :: scale_factor = 2.0_dp\ncontains\n"
        "  subroutine modvar_run(n, x, cost)\n    integer, intent(in) :: n\n"
        "    real(dp), intent(in) :: x(n)\n    real(dp), intent(out) :: cost\n"
        "    integer :: i\n    cost = 0.0_dp\n    do i = 1, n\n"
        "      cost = cost + scale_factor*x(i)**2\n    end do\n"
        "  end subroutine modvar_run\nend module modvar\n"
    )
    out = tmp_path / "o"
    assert main([str(src), "--wrt", "x", "--of", "cost", "--emit", "sdfg", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "modvar.f90:4:3: error: 'scale_factor' lives between calls" in err
    assert not out.exists()


def test_do_concurrent_is_a_map_with_private_scalars(tmp_path):
    """A declared-parallel loop becomes one Map; its scalar temporary stays a tasklet local."""
    src = tmp_path / "dc.f90"
    src.write_text(
        "module dc\n  implicit none\n  integer, parameter :: dp = kind(1.0d0)\ncontains\n"
        "  subroutine dc_run(n, x, y, cost)\n    integer, intent(in) :: n\n"
        "    real(dp), intent(in) :: x(n)\n    real(dp), intent(out) :: y(n), cost\n"
        "    real(dp) :: t\n    integer :: i\n    do concurrent (i = 1:n)\n"
        "      t = x(i)*x(i)\n      y(i) = t + sin(t)\n    end do\n    cost = 0.0_dp\n"
        "    do i = 1, n\n      cost = cost + y(i)\n    end do\n"
        "  end subroutine dc_run\nend module dc\n"
    )
    out = tmp_path / "o"
    assert main([str(src), "--wrt", "x", "--of", "cost", "--emit", "sdfg", "-o", str(out)]) == 0
    primal = dace.SDFG.from_file(str(out / "dc_run.sdfg"))
    primal.validate()
    maps = [n for n, _ in primal.all_nodes_recursive() if isinstance(n, dace.nodes.MapEntry)]
    assert [m.map.params for m in maps] == [["i"]]  # the sum into cost stays sequential
    tasklets = [n for n, _ in primal.all_nodes_recursive() if isinstance(n, dace.nodes.Tasklet)]
    mapped = [t for t in tasklets if "sin" in t.code.as_string]
    assert len(mapped) == 1 and len(mapped[0].out_connectors) == 1  # y only, t is private
