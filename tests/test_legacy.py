"""Legacy Fortran (issue #8): the preprocessor and its line map, INCLUDE locations, --form,
GO TO structuring, statement functions, F77 types, and the located errors of what is not
supported (exit 2, ``file:line:col: error:``, nothing written).

Derivatives of whole legacy models are checked by the generic sample tests
(legacy_samples/ocean_box_f77, cpp_column, box_model_f77 in tests/test_samples_ad.py).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from fortran_ad import cli
from fortran_ad.api import check
from fortran_ad.errors import FortranADError
from fortran_ad.frontend.cpp import Preprocessor
from fortran_ad.frontend.preprocess import Preprocessing, read_source
from fortran_ad.ir.nodes import SourceLoc

LOC = SourceLoc("x.F90", 1, 1)


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``fortran-ad ARGS`` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(args)
    return rc, out.getvalue(), err.getvalue()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# -------------------------------------------------------------------------- preprocessor


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("defined(A) && !defined(B)", True),
        ("defined B || A > 2", False),
        ("A == 1 && (N*2 + 1) % 4 == 3", True),
        ("UNKNOWN", False),
        ("N / 2 >= 0x0", True),
        ("SQ(N) == 1 ? 1 : 0", None),  # ?: is not supported: a located error
    ],
)
def test_if_expressions(expr: str, value: bool | None) -> None:
    pp = Preprocessor(("A", "N=1"))
    pp.run("x.F90", "#define SQ(x) ((x)*(x))\n")
    if value is None:
        with pytest.raises(FortranADError, match="cannot evaluate #if"):
            pp.evaluate(expr, LOC)
    else:
        assert pp.evaluate(expr, LOC) is value


def test_macros_expand_outside_strings_and_comments() -> None:
    text = (
        "#define K 0.5_dp\n"
        "#define AXPY(a, x, y) (a)*(x) + (y)\n"
        "z = AXPY(K, u(i), v(i)) ! K here stays\n"
        "print *, 'K stays', K\n"
    )
    out, _ = Preprocessor().run("x.F90", text)
    lines = out.splitlines()
    assert lines[2] == "z = (0.5_dp)*(u(i)) + (v(i)) ! K here stays"
    assert lines[3] == "print *, 'K stays', 0.5_dp"


def test_line_map_through_ifdef_and_include(tmp_path: Path) -> None:
    write(tmp_path, "inc.h", "/* a C comment\n   over two lines */\n#define TWO 2\ny = TWO\n")
    src = write(
        tmp_path,
        "m.F90",
        '#include "inc.h"\n#ifdef FAST\nx = 1\n#else\nx = 3\n#endif\nz = 4\n',
    )
    source = read_source(str(src), pp=Preprocessing(("FAST",)))
    lines = source.text.splitlines()
    inc = str(tmp_path / "inc.h")
    assert lines[3] == "y = 2" and source.origin(4) == (inc, 4)
    assert lines[5] == "x = 1" and source.origin(6) == (str(src), 3)
    assert lines[7] == "" and source.origin(8) == (str(src), 5)  # the #else branch
    assert lines[9] == "z = 4" and source.origin(10) == (str(src), 7)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("#ifdef A\nx = 1\n", 1, "#if without #endif"),
        ("x = 1\n#endif\n", 2, "#endif without #if"),
        ('#include "nope.h"\n', 1, "cannot find include file 'nope.h'"),
        ("#error no model chosen\n", 1, "#error no model chosen"),
        ("#frobnicate\n", 1, "unknown preprocessor directive '#frobnicate'"),
        ("#define F(a, b) a+b\nx = F(1)\n", 2, "macro 'F' takes 2 arguments, given 1"),
        ("#if 1 +\n#endif\n", 1, "cannot evaluate #if expression"),
    ],
)
def test_preprocessor_errors_are_located(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    src = write(tmp_path, "bad.F90", text)
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--wrt", "x", "-o", str(out)])
    assert rc == 2
    assert f"{src}:{line}:1: error: {message}" in err
    assert not out.exists()


def test_errors_in_included_files_name_the_included_file(tmp_path: Path) -> None:
    write(tmp_path, "decl.inc", "      DOUBLE PRECISION X, Y\n      REAL )( BROKEN\n")
    src = write(
        tmp_path,
        "m.f",
        "      SUBROUTINE S(X, Y)\n      INCLUDE 'decl.inc'\n      Y = X\n      END\n",
    )
    rc, _, err = run_cli([str(src), "--wrt", "x", "-o", str(tmp_path / "out")])
    assert rc == 2
    assert f"{tmp_path / 'decl.inc'}:2:1: error: syntax error" in err


def test_include_dirs_and_adjoint_comments_name_the_included_file(tmp_path: Path) -> None:
    (tmp_path / "inc").mkdir()
    write(tmp_path / "inc", "body.inc", "      Y = X*X\n")
    src = write(
        tmp_path,
        "m.f",
        "      SUBROUTINE S(X, Y)\n      DOUBLE PRECISION X, Y\n"
        "      INCLUDE 'body.inc'\n      END\n",
    )
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--wrt", "x", "-o", str(out)])
    assert rc == 2 and "cannot find include file 'body.inc'" in err
    rc, _, err = run_cli([str(src), "--wrt", "x", "-I", str(tmp_path / "inc"), "-o", str(out)])
    assert rc == 0, err
    assert "! adjoint of body.inc:1" in (out / "m_b.f90").read_text()


def test_form_flag_overrides_the_suffix(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        "old.f90",
        "      SUBROUTINE S(X, Y)\nC     FIXED FORM IN A .f90 FILE\n      DOUBLE PRECISION X, Y\n"
        "      Y = X*X +\n     &    X\n      END\n",
    )
    out = tmp_path / "out"
    rc, _, _ = run_cli([str(src), "--wrt", "x", "-o", str(out)])
    assert rc == 2
    rc, _, err = run_cli([str(src), "--wrt", "x", "--form", "fixed", "-o", str(out)])
    assert rc == 0, err


# -------------------------------------------------------------------------- GO TO and friends

GOTO_MODEL = """\
      SUBROUTINE ITER(N, X, Y)
      INTEGER*4 N, I, IT
      REAL*8 X(N), Y, S
      DOUBLE PRECISION A, B, F
      F(A, B) = A*A + SIN(B)
      Y = 0.0D0
      IT = 0
   10 CONTINUE
      IT = IT + 1
      S = 0.0D0
      DO 20 I = 1, N
         IF (X(I) .LT. 0.0D0) GOTO 20
         S = S + F(X(I), Y) + 0.1D0*X(I)
   20 CONTINUE
      CALL ACC(N, X, S)
      Y = 0.5D0*Y + S/DBLE(N)
      IF (IT .LT. 4) GOTO 10
      GOTO (30, 40) MOD(IT, 2) + 1
      Y = Y*2
   30 Y = Y + 1.0D0
      IF (Y - 3.0D0) 40, 50, 50
   40 Y = Y*Y
   50 CONTINUE
      END
      SUBROUTINE ACC(N, X, S)
      INTEGER*4 N, I
      REAL*8 X(*), S
      DO 10 I = 1, N
         S = S + 0.01D0*X(I)**2
   10 CONTINUE
      END
"""


@pytest.mark.gfortran
def test_goto_statement_functions_and_assumed_size_differentiate(tmp_path: Path) -> None:
    """Backward GO TO loop, GO TO the end of a labelled DO (CYCLE), computed GO TO, arithmetic
    IF, a statement function, REAL*8 / INTEGER*4 and an assumed-size X(*) callee: both modes
    pass the finite-difference, dot-product and Taylor checks."""
    src = write(tmp_path, "iter.f", GOTO_MODEL)
    report = check([src], wrt="x", of="y", head="iter", sizes={"n": 5}, modes="reverse,forward")
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent", "dot_product", "taylor"} <= {r.test for r in report.rows}


def test_goto_becomes_structured_code(tmp_path: Path) -> None:
    src = write(tmp_path, "iter.f", GOTO_MODEL)
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--head", "iter", "--wrt", "x", "--of", "y",
                          "--mode", "forward", "-o", str(out)])  # fmt: skip
    assert rc == 0, err
    text = (out / "iter_d.f90").read_text()
    assert "go to" not in text.lower() and "select case (mod(it, 2) + 1)" in text
    assert "sin(" in text and "f(" not in text.replace("if(", "")  # F inlined


@pytest.mark.parametrize(
    ("body", "line", "label"),
    [  # a jump into a loop body; a jump out of two nested loops
        ("      GOTO 20\n      DO 30 I = 1, 2\n   20 Y = Y + X\n   30 CONTINUE\n", 3, "20"),
        (
            "      DO 30 I = 1, 2\n      DO 30 J = 1, 2\n      IF (Y .GT. 9.0D0) GOTO 40\n"
            "      Y = Y + X\n   30 CONTINUE\n   40 CONTINUE\n",
            4,
            "40",
        ),
    ],
)
def test_unstructured_goto_in_active_code_is_a_located_error(
    tmp_path: Path, body: str, line: int, label: str
) -> None:
    text = (
        "      SUBROUTINE S(X, Y)\n      DOUBLE PRECISION X, Y\n      INTEGER I, J\n"
        "      Y = 0.0D0\n" + body + "      END\n"
    )
    src = write(tmp_path, "s.f", text)
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--wrt", "x", "--of", "y", "-o", str(out)])
    assert rc == 2
    assert f"error: cannot turn GO TO {label} into structured control flow" in err
    assert f"{src}:" in err and not out.exists()


def test_unstructured_goto_in_passive_routine_is_fine(tmp_path: Path) -> None:
    text = (
        "      SUBROUTINE S(X, Y)\n      DOUBLE PRECISION X, Y\n      CALL P(K)\n"
        "      Y = X*DBLE(K)\n      END\n"
        "      SUBROUTINE P(K)\n      INTEGER K, I\n      K = 0\n      GOTO 20\n"
        "      DO 30 I = 1, 2\n   20 K = K + 1\n   30 CONTINUE\n      END\n"
    )
    src = write(tmp_path, "s.f", text)
    rc, _, err = run_cli([str(src), "--head", "s", "--wrt", "x", "--of", "y",
                          "-o", str(tmp_path / "out")])  # fmt: skip
    assert rc == 0, err


# -------------------------------------------------------------------------- COMMON, EQUIVALENCE


def test_equivalenced_active_variable_names_both(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        "eq.f",
        "      SUBROUTINE EQ(X, Y)\n      DOUBLE PRECISION X, Y, W, Z\n"
        "      EQUIVALENCE (W, Z)\n      W = X*2.0D0\n      Y = W*W\n      END\n",
    )
    rc, _, err = run_cli([str(src), "--wrt", "x", "--of", "y", "-o", str(tmp_path / "o")])
    assert rc == 2
    assert f"{src}:3:7: error: variable 'w' carries derivatives and is EQUIVALENCEd with 'z'" in err


COMMON_TWO = """\
      SUBROUTINE HEAD(X, Y)
      DOUBLE PRECISION X, Y, A, B
      COMMON /ST/ A, B
      A = X
      CALL STEP
      Y = B
      END
      SUBROUTINE STEP
      DOUBLE PRECISION {names}
      COMMON /ST/ {names}
      {second} = {first}**2
      END
"""


def test_common_declared_with_other_names_is_a_located_error(tmp_path: Path) -> None:
    src = write(tmp_path, "c.f", COMMON_TWO.format(names="P, Q", first="P", second="Q"))
    rc, _, err = run_cli([str(src), "--wrt", "x", "--of", "y", "-o", str(tmp_path / "o")])
    assert rc == 2
    assert f"{src}:10:7: error: COMMON /st/ carries derivatives but 'step' names" in err


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize(("block", "name"), [("/ST/", "st"), ("", "fad_blank")])
def test_common_derivative_blocks(tmp_path: Path, mode: str, block: str, name: str) -> None:
    text = COMMON_TWO.format(names="A, B", first="A", second="B").replace("/ST/", block)
    src = write(tmp_path, "c.f", text)
    out = tmp_path / "o"
    rc, _, err = run_cli([str(src), "--wrt", "x", "--of", "y", "--mode", mode, "-o", str(out)])
    assert rc == 0, err
    suffix = "b" if mode == "reverse" else "d"
    text = (out / f"c_{suffix}.f90").read_text()
    assert text.count(f"common /{name}_{suffix}/ a{suffix}, b{suffix}") == 2  # head and step


@pytest.mark.gfortran
def test_blank_common_derivatives_pass_the_check(tmp_path: Path) -> None:
    text = COMMON_TWO.format(names="A, B", first="A", second="B").replace("/ST/", "")
    src = write(tmp_path, "c.f", text)
    report = check([src], wrt="x", of="y", head="head", modes="reverse,forward")
    assert report.ok, report.table()


def test_common_in_vector_modes_is_a_located_error(tmp_path: Path) -> None:
    src = write(tmp_path, "c.f", COMMON_TWO.format(names="A, B", first="A", second="B"))
    rc, _, err = run_cli([str(src), "--wrt", "x", "--of", "y", "--mode", "vector",
                          "-o", str(tmp_path / "o")])  # fmt: skip
    assert rc == 2
    assert f"{src}:3:7: error: COMMON /st/ carries derivatives: not supported in the vector" in err


# -------------------------------------------------------------------------------- ENTRY
ENTRY_HEAD = (
    "      SUBROUTINE H(N, Q, C)\n      INTEGER N\n      DOUBLE PRECISION Q(N), C, D(N)\n"
    "      CALL E(N, Q, D)\n      C = D(1)**2\n      END\n"
)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "      IF (N .GT. 0) THEN\n      ENTRY E(N, Q, D)\n      END IF\n",
            11,
            "ENTRY inside an IF or DO construct is not supported",
        ),
        (
            "      SAVE W\n      W = W + 1.0D0\n      ENTRY E(N, Q, D)\n",
            12,
            "with saved local 'w'",
        ),
        (
            "      ENTRY E(N, Q, D)\n      D(1) = A*Q(1)\n",
            10,
            "entry 'e' uses 'a', a dummy of 't' that it does not receive",
        ),
    ],
)
def test_entry_refusals_are_located(tmp_path: Path, body: str, line: int, message: str) -> None:
    text = ENTRY_HEAD + (
        "      SUBROUTINE T(N, Q, D, A)\n      INTEGER N\n"
        "      DOUBLE PRECISION Q(N), D(N), A, W\n" + body + "      END\n"
    )
    src = write(tmp_path, "e.f", text)
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--head", "h", "--wrt", "q", "--of", "c", "-o", str(out)])
    assert rc == 2, err
    assert f"{src}:{line}:" in err and message in err, err
    assert not out.exists() and "Traceback" not in err


@pytest.mark.gfortran
def test_entry_points_get_their_own_derivatives(tmp_path: Path) -> None:
    """Both entry points differentiated and checked (the entry_f77 sample covers a model)."""
    text = ENTRY_HEAD.replace(
        "CALL E(N, Q, D)", "CALL T(N, Q, D, 2.0D0)\n      CALL E(N, Q, D)"
    ) + (
        "      SUBROUTINE T(N, Q, D, A)\n      INTEGER N\n      DOUBLE PRECISION Q(N), D(N), A\n"
        "      Q(1) = A*SIN(Q(1))\n      ENTRY E(N, Q, D)\n      D(1) = Q(1)*Q(N)\n      END\n"
    )
    src = write(tmp_path, "e.f", text)
    out = tmp_path / "out"
    rc, _, err = run_cli([str(src), "--head", "h", "--wrt", "q", "--of", "c", "-o", str(out)])
    assert rc == 0, err
    adj = (out / "e_b.f90").read_text()
    assert "subroutine t_b(" in adj and "subroutine e_b(" in adj
    report = check([str(src)], wrt=["q"], of=["c"], head="h", sizes={"n": 5},
                   modes=("reverse", "forward"))  # fmt: skip
    assert report.ok, report.table()
