"""Derived types, POINTER association and defined operators, in reverse and forward mode.

Each program is checked numerically (finite differences, dot product, Taylor test) with real
gfortran, so a derivative lost through a component, a pointer or an operator fails the check;
the conventions of the generated code (derivative objects of the SAME type, no copied type
definitions) are read from the generated text; unsupported aliasing is a located error.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from fortran_ad import api, cli

DATA = Path(__file__).parent / "data" / "derived"
BOTH = ("reverse", "forward")


def _check(source: str, wrt: list[str], of: str, sizes: dict, modes=BOTH) -> None:
    report = api.check([str(DATA / source)], wrt=wrt, of=[of], sizes=sizes, modes=modes)
    assert report.ok, report.table()
    assert {"fd_adjoint", "fd_tangent"} & {r.test for r in report.rows}


def _generate(
    tmp_path: Path, source: str, wrt: str, of: str, mode: str = "reverse", *extra: str
) -> str:
    args = [str(DATA / source), "--wrt", wrt, "--of", of, "--mode", mode, *extra]
    assert cli.main([*args, "-o", str(tmp_path / "out")]) == 0
    suffix = {"reverse": "b", "forward": "d", "vector": "dv", "vector-reverse": "bv"}[mode]
    return (tmp_path / "out" / f"{Path(source).stem}_{suffix}.f90").read_text()


def _error(tmp_path: Path, text: str, mode: str = "reverse", wrt: str = "x", of: str = "y") -> str:
    (tmp_path / "e.f90").write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.chdir(tmp_path):
        rc = cli.main(["e.f90", "--wrt", wrt, "--of", of, "--mode", mode, "-o", "out"])
    assert rc == 2, err.getvalue()
    assert not (tmp_path / "out").exists(), "nothing is written on an error"
    return err.getvalue()


# ------------------------------------------------------------------------------ derivatives


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("source", "wrt", "of", "sizes"),
    [
        ("nested.f90", ["x", "c"], "cost", {"n": 5, "nt": 3}),
        ("modvar.f90", ["x"], "y", {"n": 4}),
        ("pointers.f90", ["x"], "y", {"n": 4}),
        ("operators.f90", ["x", "y"], "f", {}),
        ("alloc_ranks.f90", ["x"], "y", {}),
        ("cells.f90", ["x", "a"], "y", {"n": 5}),
        ("passive_components.f90", ["x"], "y", {"n": 5}),
    ],
    ids=[
        "nested-allocatable-components",
        "module-variable",
        "pointers",
        "operators",
        "allocatable-scalar-and-rank-2",
        "arrays-of-derived-types",
        "passive-components",
    ],  # fmt: skip
)
def test_derivatives_pass_the_check(source: str, wrt: list[str], of: str, sizes: dict) -> None:
    _check(source, wrt, of, sizes)


def test_derivative_object_has_the_same_type(tmp_path: Path) -> None:
    for mode, suffix in (("reverse", "b"), ("forward", "d")):
        text = _generate(tmp_path / mode, "nested.f90", "x,c", "cost", mode)
        assert re.search(rf"subroutine step_{suffix}\(s, s{suffix}\)", text)
        assert f"type(state_t), intent(inout) :: s{suffix}" in text
        assert f"call init_{suffix}(s, s{suffix}, n, x, x{suffix}, c, c{suffix})" in text
        assert "use nested_types" in text  # the primal's types, reached by USE ...
        assert not re.search(r"^\s*type\s+(::\s*)?\w+\s*$", text, re.M)  # ... never copied
        assert "isize" not in text.lower()
        # allocatable components of derivative objects are allocated alongside the primal's
        assert f"allocate(s{suffix}%h, mold=s%h)" in text
        # components: s%h(i) has the derivative s<b|d>%h(i); passive integers have none
        assert f"s{suffix}%p%c" in text and f"s{suffix}%steps" not in text


def test_tape_saves_components(tmp_path: Path) -> None:
    """A (joint) call that overwrites a state is bracketed by pushes/pops of its components;
    the allocation status and bounds of an allocatable component are saved with it."""
    text = _generate(tmp_path, "nested.f90", "x,c", "cost", "reverse", "--calls", "joint")
    run = text[text.index("subroutine nested_run_b") :]
    assert "if (allocated(s%h)) then\n        call fad_push(s%h)\n" in run
    assert "call fad_push(lbound(s%h))" in run and "call fad_push(allocated(s%h))" in run
    assert "allocate(s%h(fad_lbound1(1):fad_ubound1(1)))" in run  # reallocated on a pop
    assert "call fad_push(s%p%w)" in run and "call fad_pop(s%p%w)" in run
    assert "call fad_push(s%steps)" in run  # integers are restored too
    assert "call fad_push(s)" not in run


def test_module_variable_derivative_lives_in_the_derivative_module(tmp_path: Path) -> None:
    text = _generate(tmp_path, "modvar.f90", "x", "y")
    head = text[: text.index("contains")]
    assert "module mv_b" in head and "type(field_t) :: gb" in head


def test_pointer_derivatives_follow_their_targets(tmp_path: Path) -> None:
    for mode, suffix in (("reverse", "b"), ("forward", "d")):
        text = _generate(tmp_path / mode, "pointers.f90", "x", "y", mode)
        assert f"p{suffix} => work{suffix}" in text
        assert f"g{suffix}%view => g{suffix}%h" in text
        assert f"coef{suffix}" not in text  # a pointer to passive data stays passive
        assert f"real(dp), pointer :: p{suffix}(:)" in text


def test_operators_call_the_derivatives_of_their_procedures(tmp_path: Path) -> None:
    text = _generate(tmp_path, "operators.f90", "x,y", "f")
    assert "c = vec_add(c, fad_tmp" in text  # a + b resolved to the module procedure
    # a structure constructor is assigned per component (tag takes its default)
    assert all(f"    {line}\n" in text for line in ("b%x = y(1)", "b%y = y(2)", "b%tag = 0"))
    assert "call vec_add_b(" in text and "call scale_vec_b(" in text
    assert "call vec_cross_b(a, ab, c, cb," in text  # the defined operator .cross.
    # c*c: the adjoint of c is passed once; the second dummy gets a temporary
    assert re.search(r"call vec_dot_b\(c, cb, c, fad_aliasb\d+, ", text)
    tangent = _generate(tmp_path / "fwd", "operators.f90", "x,y", "f", "forward")
    assert "call vec_dot_d(c, cd, c, cd, " in tangent


# ------------------------------------------------------------------------------ errors

LOOP_POINTER = """\
module m
  implicit none
contains
  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in), target :: x(n)
    real(8), intent(out) :: y
    real(8), target :: b(n)
    real(8), pointer :: p(:)
    integer :: t
    b = 2.0d0*x
    y = 0.0d0
    do t = 1, 3
      if (mod(t, 2) == 1) then
        p => x
      else
        p => b
      end if
      y = y + sum(p**2)
    end do
  end subroutine s
end module m
"""


def test_pointer_reassociated_in_a_loop_is_a_located_error(tmp_path: Path) -> None:
    err = _error(tmp_path, LOOP_POINTER)
    assert "e.f90:15:" in err and "pointer 'p' is re-associated inside a loop" in err


@pytest.mark.gfortran
def test_pointer_reassociated_in_a_loop_is_fine_in_forward_mode(tmp_path: Path) -> None:
    (tmp_path / "p.f90").write_text(LOOP_POINTER)
    report = api.check([str(tmp_path / "p.f90")], wrt=["x"], of=["y"], sizes={"n": 4},
                       modes=("forward",))  # fmt: skip
    assert report.ok, report.table()


TWICE = """\
module m
  implicit none
contains
  subroutine s(x, y)
    real(8), intent(in), target :: x(3)
    real(8), intent(out) :: y
    real(8), target :: b(3)
    real(8), pointer :: p(:)
    p => x
    y = sum(p)
    b = y*x
    p => b
    y = y*sum(p)
  end subroutine s
end module m
"""


def test_pointer_associated_twice_is_a_located_error(tmp_path: Path) -> None:
    err = _error(tmp_path, TWICE)
    assert "e.f90:12:" in err and "re-associated again (first at line 9)" in err


UNRESOLVED = """\
module m
  implicit none
  type v_t
    real(8) :: a
  end type v_t
contains
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    type(v_t) :: u, w
    u%a = x
    w = u - u
    y = w%a
  end subroutine s
end module m
"""


def test_operator_without_an_interface_is_a_located_error(tmp_path: Path) -> None:
    err = _error(tmp_path, UNRESOLVED)
    assert "e.f90:12:" in err and "operator '-' on derived type 'v_t'" in err


@pytest.mark.gfortran
@pytest.mark.parametrize(
    ("source", "wrt", "of", "sizes"),
    [
        ("nested.f90", ["x", "c"], "cost", {"n": 5, "nt": 3}),
        ("cells.f90", ["x", "a"], "y", {"n": 5}),
        ("passive_components.f90", ["x"], "y", {"n": 5}),
    ],
    ids=["nested-allocatable-components", "arrays-of-derived-types", "passive-components"],
)
def test_vector_modes_pass_the_check(source: str, wrt: list[str], of: str, sizes: dict) -> None:
    """Derivative objects get the leading direction dimension (``type(state_t) ::
    sd(nbdirs)``); statements on their components loop over the directions."""
    modes = ("vector", "vector-reverse")
    report = api.check([str(DATA / source)], wrt=wrt, of=[of], sizes=sizes, modes=modes)
    assert report.ok, report.table()
    assert {"vector_fd", "vreverse_fd"} <= {r.test for r in report.rows}


@pytest.mark.parametrize("mode", ["reverse", "forward", "vector", "vector-reverse"])
def test_passive_components_are_never_touched(tmp_path: Path, mode: str) -> None:
    """Per-component activity: ``area``, ``dx``, ``mask`` (real, filled from passive data) and
    ``nsteps`` of the derivative objects are never allocated, zeroed, read or updated; ``h``
    is."""
    text = _generate(tmp_path, "passive_components.f90", "x", "y", mode)
    d = "b" if "reverse" in mode else "d"
    derivs = [f"g{d}", f"g0{d}"]
    touched = re.findall(rf"\b(?:{'|'.join(derivs)})(?:\([^)]*\))?%(\w+)", text)
    assert set(touched) == {"h"}, set(touched)


def test_vector_mode_derivative_objects(tmp_path: Path) -> None:
    text = _generate(tmp_path, "cells.f90", "x,a", "y", "vector")
    assert "type(cell_t), intent(inout) :: csd(:, :)" in text
    assert re.search(r"do fad_d\d+ = 1, nbdirs\n\s+csd\(fad_d\d+, i\)%h = ", text)
    assert "call relax_dv(cs(i), csd(:, i), a, ad(:), nbdirs)" in text


@pytest.mark.parametrize("mode", ["vector", "vector-reverse"])
def test_vector_modes_refuse_whole_array_components(tmp_path: Path, mode: str) -> None:
    """A pointer view of a whole array component has no per-direction form."""
    err = _error(tmp_path, (DATA / "pointers.f90").read_text(), mode, wrt="x", of="y")
    assert "error: vector modes cannot carry the whole array component 'g%view'" in err
    assert re.search(r"e\.f90:\d+:\d+: error", err)


ARRAY_COMPONENT_OF_TYPES = """\
module m
  implicit none
  type p_t
    real(8) :: a
  end type p_t
  type box_t
    type(p_t) :: ps(2)
  end type box_t
contains
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    type(box_t) :: b
    b%ps(1)%a = x
    y = b%ps(1)%a**2
  end subroutine s
end module m
"""


@pytest.mark.parametrize("mode", BOTH)
def test_array_component_of_derived_type_is_a_located_error(tmp_path: Path, mode: str) -> None:
    """Arrays of derived type work (test_derivatives_pass_the_check[arrays-of-derived-types]);
    an array COMPONENT of derived type (``b%ps(1)%a``) does not yet."""
    err = _error(tmp_path, ARRAY_COMPONENT_OF_TYPES, mode)
    assert re.search(r"e\.f90:1[45]:\d+: error: cannot differentiate .*'b % ps\(1\) % a'", err)


def test_array_of_derived_type_references(tmp_path: Path) -> None:
    """``cs(i)%q(k)`` keeps the element's subscripts on the variable, the derivative is an
    array of the same type, and whole-array zeroing loops over the elements."""
    text = _generate(tmp_path, "cells.f90", "x,a", "y")
    assert "type(cell_t), intent(inout) :: csb(:)" in text
    assert "type(cell_t) :: gb(2, 2)" in text
    assert re.search(r"csb\(i - 1\)%q\(2\) = csb\(i - 1\)%q\(2\) \+ ", text)
    assert re.search(r"do fad_e\d+ = lbound\(csb, 1\), ubound\(csb, 1\)", text)
    assert "allocate(csb(i)%w, mold=cs(i)%w)" in text


PASSIVE = """\
module m
  implicit none
  type cfg_t
    integer :: n = 3
    real(8) :: scale = 2.0d0
  end type cfg_t
contains
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    type(cfg_t) :: cfg
    cfg%n = 4
    y = x*cfg%scale*cfg%n
  end subroutine s
end module m
"""


def test_passive_derived_variable_gets_no_derivative(tmp_path: Path) -> None:
    (tmp_path / "p.f90").write_text(PASSIVE)
    assert cli.main([str(tmp_path / "p.f90"), "--wrt", "x", "--of", "y", "-o", str(tmp_path)]) == 0
    text = (tmp_path / "p_b.f90").read_text()
    assert "cfgb" not in text and "xb = xb + cfg%n*cfg%scale*yb" in text


UNKNOWN_TYPE = """\
module unk
  use libtypes, only: blob_t
  implicit none
contains
  subroutine s(x, y)
    real(8), intent(in) :: x
    real(8), intent(out) :: y
    type(blob_t) :: b
    b%v = 2.0d0*x
    y = b%v**2
  end subroutine s
end module unk
"""


def test_type_defined_outside_the_sources_is_a_located_error(tmp_path: Path) -> None:
    """Its components cannot be known: an error, not a passive (zero) derivative."""
    err = _error(tmp_path, UNKNOWN_TYPE)
    assert "e.f90:5:" in err and "definition of derived type 'blob_t' is not in the sources" in err


def test_saving_an_object_with_a_pointer_component_is_a_located_error(tmp_path: Path) -> None:
    err = _error(tmp_path, (DATA / "pointer_component.f90").read_text())
    assert re.search(r"e\.f90:\d+:\d+: error: the adjoint would save a 'v_t' object", err)
    assert "pointer component 'p'" in err


@pytest.mark.gfortran
def test_pointer_component_in_forward_mode() -> None:
    _check("pointer_component.f90", ["x"], "y", {}, modes=("forward",))
