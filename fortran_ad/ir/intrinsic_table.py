"""The Fortran 2008 intrinsic procedures: class, result type and rank rule, argument names.

The one place that knows what an intrinsic returns. ``ir/types.py`` types expressions with it;
``ad/core/rules.py`` derives from it which intrinsics carry no derivative (integer, logical and
character results, inquiry functions); ``normalize/intrinsics.py`` takes argument names from it.

Result codes (``Intrinsic.result``):
  arg      type and kind of the first argument (a KIND= argument replaces the kind)
  join     the type of mixed arithmetic over the positional arguments (MAX, DOT_PRODUCT, ...)
  absval   ABS: the real of a complex argument's kind, else the argument's type
  integer  integer, default kind unless KIND=        logical, character: likewise
  real     real, default kind unless KIND= (a complex argument without KIND= gives its kind)
  double   double precision                         complex, dcomplex: complex, complex(8)
  mold     the type of the second argument (TRANSFER)

Rank codes (``Intrinsic.rank``):
  elemental  the largest rank of the arguments       scalar   0
  reduce     rank(array) - 1 with DIM, else 0        loc      rank(array) - 1 with DIM, else 1
  bounds     0 with DIM, else 1                      one      1
  arg        rank of the first argument              two      2
  matmul     rank(a) + rank(b) - 2                   spread   rank(source) + 1
  reshape    the size of SHAPE (an array constructor), unpack: rank(mask), transfer: by SIZE/MOLD
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Intrinsic:
    name: str
    klass: str  # "elemental" | "inquiry" | "transformational"
    result: str
    rank: str
    args: tuple[str, ...] = ()  # dummy names in order (for positional arguments)

    def arg_index(self, dummy: str) -> int | None:
        return self.args.index(dummy) if dummy in self.args else None


TABLE: dict[str, Intrinsic] = {}


def _add(names: str, klass: str, result: str, rank: str, args: str = "") -> None:
    for name in names.split():
        TABLE[name] = Intrinsic(name, klass, result, rank, tuple(args.split()))


E, Q, T = "elemental", "inquiry", "transformational"

# -- elemental, result of the argument's type and kind -----------------------------------------
_add(
    "acos asin atan cos sin tan cosh sinh tanh acosh asinh atanh exp log log10 sqrt gamma "
    "log_gamma erf erfc erfc_scaled bessel_j0 bessel_j1 bessel_y0 bessel_y1 fraction nearest "
    "rrspacing scale set_exponent spacing conjg mod modulo sign dim iand ior ieor not ishft "
    "ishftc ibset ibclr ibits shifta shiftl shiftr merge_bits",
    E,
    "arg",
    "elemental",
    "x",
)
_add("merge", E, "arg", "elemental", "tsource fsource mask")
_add("aint anint", E, "arg", "elemental", "a kind")
_add("abs", E, "absval", "elemental", "a")
_add("atan2 hypot max min", E, "join", "elemental", "a1 a2")
_add("aimag", E, "real", "elemental", "z")
# specific names of the FORTRAN 77 generics
_add(
    "dsqrt dexp dlog dlog10 dsin dcos dtan dasin dacos datan datan2 dsinh dcosh dtanh dabs "
    "dsign dmod ddim dint dnint dmax1 dmin1 dprod dfloat dreal",
    E,
    "double",
    "elemental",
    "a",
)
_add("alog alog10 amod amax1 amin1 amax0 amin0 float sngl", E, "real", "elemental", "a")
_add("cabs", E, "absval", "elemental", "a")
_add("csqrt cexp clog csin ccos", E, "arg", "elemental", "a")
_add(
    "iabs isign idim max0 min0 max1 min1 idint idnint ifix", E, "integer", "elemental", "a"
)  # fmt: skip
# -- elemental conversions with KIND= --------------------------------------------------------
_add("int nint floor ceiling", E, "integer", "elemental", "a kind")
_add("real", E, "real", "elemental", "a kind")
_add("dble", E, "double", "elemental", "a")
_add("cmplx", E, "complex", "elemental", "x y kind")
_add("dcmplx", E, "dcomplex", "elemental", "x y")
_add("logical", E, "logical", "elemental", "l kind")
_add("ichar iachar", E, "integer", "elemental", "c kind")
_add("char achar", E, "character", "elemental", "i kind")
_add("index scan verify", E, "integer", "elemental", "string substring back kind")
_add("len_trim", E, "integer", "elemental", "string kind")
_add("exponent leadz trailz popcnt poppar", E, "integer", "elemental", "x")
_add("btest lge lgt lle llt is_iostat_end is_iostat_eor", E, "logical", "elemental", "a b")
_add("bge bgt ble blt", E, "logical", "elemental", "i j")
_add("adjustl adjustr", E, "character", "elemental", "string")
# -- inquiry ---------------------------------------------------------------------------------
_add("size", Q, "integer", "scalar", "array dim kind")
_add("lbound ubound", Q, "integer", "bounds", "array dim kind")
_add("shape", Q, "integer", "one", "source kind")
_add("len", Q, "integer", "scalar", "string kind")
_add("kind digits maxexponent minexponent precision radix range bit_size storage_size", Q,
     "integer", "scalar", "x")  # fmt: skip
_add("epsilon huge tiny", Q, "arg", "scalar", "x")
_add("allocated associated present is_contiguous", Q, "logical", "scalar", "a")
_add("new_line", Q, "character", "scalar", "a")
# -- transformational ------------------------------------------------------------------------
_add("sum product maxval minval iall iany iparity", T, "arg", "reduce", "array dim mask")
_add("norm2", T, "arg", "reduce", "x dim")
_add("count", T, "integer", "reduce", "mask dim kind")
_add("any all parity", T, "logical", "reduce", "mask dim")
_add("maxloc minloc", T, "integer", "loc", "array dim mask kind back")
_add("findloc", T, "integer", "loc", "array value dim mask kind back")
_add("dot_product", T, "join", "scalar", "vector_a vector_b")
_add("matmul", T, "join", "matmul", "matrix_a matrix_b")
_add("transpose", T, "arg", "two", "matrix")
_add("spread", T, "arg", "spread", "source dim ncopies")
_add("reshape", T, "arg", "reshape", "source shape pad order")
_add("pack", T, "arg", "one", "array mask vector")
_add("unpack", T, "arg", "unpack", "vector mask field")
_add("cshift", T, "arg", "arg", "array shift dim")
_add("eoshift", T, "arg", "arg", "array shift boundary dim")
_add("trim repeat", T, "character", "scalar", "string ncopies")
_add("selected_real_kind", T, "integer", "scalar", "p r radix")
_add("selected_int_kind selected_char_kind", T, "integer", "scalar", "r")
_add("transfer", T, "mold", "transfer", "source mold size")

# Piecewise-constant intrinsics with a real result: derivative zero almost everywhere; and the
# bit intrinsics, whose "arg" result is an integer (their arguments are integers).
PIECEWISE_CONSTANT = frozenset("aint anint dint dnint spacing".split())
BITS = frozenset(
    "iand ior ieor not ishft ishftc ibset ibclr ibits shifta shiftl shiftr merge_bits".split()
)


def lookup(name: str) -> Intrinsic | None:
    return TABLE.get(name.lower())


def of_class(klass: str) -> frozenset[str]:
    """The intrinsics of one class: "elemental", "inquiry" or "transformational"."""
    return frozenset(n for n, i in TABLE.items() if i.klass == klass)


def has_real_result(name: str) -> bool:
    """Can the intrinsic's result be real or complex (so that it may carry a derivative)?"""
    i = TABLE.get(name)
    return i is not None and i.result in (
        "arg",
        "join",
        "absval",
        "real",
        "double",
        "mold",
        "complex",
        "dcomplex",
    )


def nondifferentiable() -> frozenset[str]:
    """Intrinsics whose result carries no derivative: integer, logical and character results,
    inquiry functions (HUGE, EPSILON, ...) and piecewise constants (AINT, ...). Bit
    manipulation (IAND, ...) has integer operands, so no active argument reaches it."""
    out = {n for n, i in TABLE.items() if not has_real_result(n) or i.klass == "inquiry"}
    return frozenset(out | PIECEWISE_CONSTANT | BITS)


#: intrinsics whose result carries no derivative (activity stops there; ad/core/rules.py)
NONDIFF: frozenset[str] = nondifferentiable()
