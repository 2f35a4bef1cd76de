"""Statement functions, ASSOCIATE and allocatable/pointer temporaries (features
``stmt-function``, ``associate``, ``allocatable``): constructs a frontend can lose or
misread, and whose derivatives depend on when a designator is evaluated.

- ``sf1(a, b) = a*tanh(b) + 0.5*a`` and ``sf2(a)``, which calls ``sf1`` and is declared
  *after* ``sf1``'s definition (gfortran accepts it; ECMWF's ``fcttre.func.h`` is written so);
- ``associate (fa => w(k))``, ``associate (fs => w(2:n - 1))`` (the selector's subscripts are
  evaluated once, at the ASSOCIATE), ``associate (fe => <expression>)`` (a value);
- ``allocate(al(n))`` or a POINTER ``pa`` allocated, assigned, read and deallocated, or ``al``
  allocated by the assignment itself;
- SAVE state (feature ``save-state``): a table ``svt`` filled on the first call from constants
  (``if (svf) ... svf = .false.``), and a SAVE scalar ``svw`` written before it is read; the
  derivative routine has its own copy of both, which must end each call as the primal's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fortran_ad.checks.fuzzgen.base import Ex, Loop, Routine, add, fit, fn, lit, mul, scale

if TYPE_CHECKING:
    from fortran_ad.checks.fuzzgen.stmts import Gen

#: The statement functions' specification lines (after every other declaration of a routine).
STMT_FUNCTIONS = [
    "real(dp) :: sfa, sfb, sf1",
    "sf1(sfa, sfb) = sfa*tanh(sfb) + 0.5_dp*sfa",
    "real(dp) :: sf2",
    "sf2(sfa) = 0.5_dp*sfa + 0.25_dp*sf1(sfa, sfa)",
]


#: The SAVE state's specification lines.
SAVE_STATE = [
    "logical, save :: svf = .true.",
    "real(dp), save :: svt(4), svw",
]  # (the DO variable svi is declared with the other loop variables)


def specs(uses) -> list[str]:
    """Specification lines for the names ``uses(name)`` says a routine's body mentions."""
    out = list(SAVE_STATE) if uses("svt") else []
    out += ["real(dp), allocatable :: al(:)"] if uses("al") else []
    out += ["real(dp), pointer :: pa(:)"] if uses("pa") else []
    return out + (STMT_FUNCTIONS if uses("sf1") or uses("sf2") else [])


def stmt_function(g: Gen, a: Ex, b: Ex) -> Ex:
    """A reference to ``sf1(a, b)`` or ``sf2(a)`` (arguments in [-R, R])."""
    a, b = fit(a), fit(b)
    if g.ch.chance(0.5):
        return Ex(f"sf1({a.text}, {b.text})", -1.5 * a.mag, 1.5 * a.mag)
    return Ex(f"sf2({a.text})", -0.875 * a.mag, 0.875 * a.mag)


def storage(g: Gen, r: Routine, loops: list[Loop], ind: int) -> list[str]:
    pad, body = "  " * ind, "  " * (ind + 1)
    ws = [v for v in r.reals if v.writable and v.rank == 1]
    kinds = []
    if "associate" not in g.exclude:
        kinds += ["element", "value"] + (["section"] if ws else [])
    if "allocatable" not in g.exclude and ws:
        kinds += ["allocatable", "pointer", "on-assignment"]
    if not kinds:
        return g.assign(r, loops, ind)
    kind = g.ch.choice(kinds)
    if kind == "value":
        ts = [v for v in r.reals if v.rank == 0 and v.writable and v.name != r.acc]
        e = fit(g.expr(r, loops, 2))
        fe = Ex("fe", e.lo, e.hi)
        new = fit(add(mul(fe, fn("tanh", [fe], -1, 1)), scale(fe, 0.5)))
        dst = (
            f"{g.ch.choice(ts).name} = {new.text}"
            if ts
            else f"{r.acc} = {r.acc} + {fit(new, 1.0).wrap(3)}"
        )
        return [f"{pad}associate (fe => {e.text})", f"{body}{dst}", f"{pad}end associate"]
    if kind == "element":
        t = g.target(r, loops)
        if t is None or "(" not in t:
            return g.assign(r, loops, ind)
        e = fit(g.expr(r, loops, 2), 1.0)
        new = fit(add(scale(Ex("fa", -2.0, 2.0), 0.5), e))
        return [f"{pad}associate (fa => {t})", f"{body}fa = {new.text}", f"{pad}end associate"]
    w = g.ch.choice(ws)
    if kind == "section":
        sec = g.ch.choice([(0, 0, 1), (1, 2, 1), (0, 1, 1)])
        rhs = fit(g.array_expr(r, sec, 2, w.name), 1.0)
        new = fit(add(scale(Ex("fs", w.lo, w.hi, arr=True), 0.5), rhs))
        head = f"{pad}associate (fs => {g.sec_text(w, *sec, whole_ok=g.ch.chance(0.5))})"
        return [head, f"{body}fs = {new.text}", f"{pad}end associate"]
    name = "pa" if kind == "pointer" else "al"
    value = fit(g.array_expr(r, (0, 0, 1), 2))
    out = [] if kind == "on-assignment" else [f"{pad}allocate({name}(n))"]
    out.append(f"{pad}{name} = {value.text}")
    if g.ch.chance(0.5):
        new = fit(
            add(
                scale(Ex(w.sec(), w.lo, w.hi, arr=True), 0.5),
                mul(lit(0.25), Ex(name, -2.0, 2.0, arr=True)),
            )
        )
        out.append(f"{pad}{w.sec()} = {new.text}")
    else:
        out.append(f"{pad}{r.acc} = {r.acc} + 0.1_dp*sum(tanh({name}))")
    return [*out, f"{pad}deallocate({name})"]


def save_state(g: Gen, r: Routine) -> tuple[list[str], list[str]]:
    """Lines that fill the SAVE table on the first call (the body's first lines) and lines
    that read it (the body's last, before the outputs): values in [0.625, 1]."""
    fill = [
        "if (svf) then",
        "  do svi = 1, 4",
        f"    svt(svi) = 0.5_dp + {g.ch.choice(['0.125_dp*svi', '0.5_dp/svi'])}",
        "  end do",
        "  svf = .false.",
        "end if",
    ]
    k = g.ch.integer(1, 4)
    e = fit(g.expr(r, [], 2), 1.0)
    if g.ch.chance(0.5):
        return fill, [f"{r.acc} = {r.acc} + 0.25_dp*svt({k})*{e.wrap(3)}"]
    return fill, [f"svw = {e.text}", f"{r.acc} = {r.acc} + 0.25_dp*svt({k})*svw"]
