"""Symbol helpers: implicit typing, real-ness, and scope lookup across host and modules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from fortran_ad.ir import nodes as ir

DEFAULT_IMPLICIT = {
    **{c: ir.TypeSpec("real") for c in "abcdefghopqrstuvwxyz"},
    **{c: ir.TypeSpec("integer") for c in "ijklmn"},
}


NO_HOST = object()  # implicit_rules(inherited=NO_HOST): a scope with no host (Fortran defaults)


def implicit_rules(spec: tuple[ir.SpecItem, ...], inherited: object = NO_HOST) -> dict | None:
    """The implicit typing map for a scope (None under IMPLICIT NONE). ``inherited`` is the
    host's map (None when the host has IMPLICIT NONE), or NO_HOST."""
    explicit = [item for item in spec if isinstance(item, ir.Implicit)]
    if inherited is None and not explicit:
        return None  # the host's IMPLICIT NONE applies
    rules = dict(DEFAULT_IMPLICIT) if inherited in (NO_HOST, None) else dict(inherited)
    for item in explicit:
        if True:
            if not item.rules:
                return None
            for type_text, letters in item.rules:
                for part in letters.split(","):
                    lo, _, hi = part.strip().partition("-")
                    hi = hi or lo
                    for c in range(ord(lo), ord(hi) + 1):
                        rules[chr(c)] = _parse_type_text(type_text)
    return rules


def _parse_type_text(text: str) -> ir.TypeSpec:
    text = text.strip().lower()
    if "(" in text:
        base, _, kind = text.partition("(")
        return ir.TypeSpec(base.strip(), kind.rstrip(")").replace("kind=", "").strip())
    if "*" in text:
        base, _, kind = text.partition("*")
        return ir.TypeSpec(base.strip(), "*" + kind.strip())
    return ir.TypeSpec(text)


def implicit_type(name: str, rules: dict | None) -> ir.TypeSpec | None:
    if rules is None:
        return None
    return rules.get(name[0])


def is_real(sym: ir.Symbol | None) -> bool:
    return sym is not None and sym.type is not None and sym.type.is_real


def may_carry(sym: ir.Symbol | None) -> bool:
    """Can this variable hold a derivative? Reals, and derived types or complex values
    (which fortran-ad refuses with a located error where they become active)."""
    if sym is None or sym.type is None:
        return False
    return sym.type.is_real or sym.type.base.startswith(("type(", "class(", "complex"))


def type_bytes(t: ir.TypeSpec | None) -> int:
    """Bytes per element, for cost models and tape accounting (8 when unsure)."""
    if t is None:
        return 8
    if t.base == "double precision":
        return 8
    kind = (t.kind or "").lstrip("*")
    if kind in ("4", "real32", "sp", "int32"):
        return 4
    if t.base in ("integer", "logical") and not kind:
        return 4
    if t.base == "real" and not kind:
        return 4
    return 8


def type_name(sym: ir.Symbol | None) -> str | None:
    """``state_t`` for a ``type(state_t)`` (or ``class(state_t)``) symbol, else None."""
    if sym is None or sym.type is None or not sym.type.base.startswith(("type(", "class(")):
        return None
    return sym.type.base.split("(", 1)[1].rstrip(")").strip()


def component(
    sym: ir.Symbol | None, parts: list[str], types: dict[str, ir.TypeDef]
) -> ir.Symbol | None:
    """The symbol of ``sym%parts[0]%...`` (None if unknown, or through an array component of
    derived type). Through a variable that is an array of derived type (``cs%q`` of
    ``type(cell_t) :: cs(n)``) the variable's dimensions come first: the symbol of ``cs%q``
    has the dimensions ``(n, 3)``, as its subscripts in ``cs(i)%q(k)`` (ArrayRef.head)."""
    outer: tuple[ir.Dim, ...] = sym.dims if sym is not None else ()
    for k, part in enumerate(parts):
        tname = type_name(sym)
        if tname is None or tname not in types or (sym.rank and k > 0):
            return None
        sym = inherited(types, tname, lambda t, part=part: t.component(part))
        if sym is None:
            return None
    if outer and sym is not None:
        return replace(sym, dims=outer + sym.dims, attrs=sym.attrs | {"through_array"})
    return sym


def inherited(types: dict[str, ir.TypeDef], tname: str, get):
    """``get(typedef)`` of type ``tname`` or else of its nearest ancestor (EXTENDS) that has
    it: inherited components and bindings."""
    seen: set[str] = set()
    while tname in types and tname not in seen:
        seen.add(tname)
        found = get(types[tname])
        if found is not None:
            return found
        tname = types[tname].parent or ""
    return None


@dataclass
class ScopeTable:
    """Name lookup for one routine: its own symbols, its host's, then used modules'."""

    local: dict[str, ir.Symbol]
    host: ScopeTable | None = None
    modules: dict[str, ir.Symbol] = field(default_factory=dict)
    types: dict[str, ir.TypeDef] = field(default_factory=dict)  # derived types by name

    def lookup(self, name: str) -> ir.Symbol | None:
        if "%" in name:  # a component path s%p%c: the component's symbol
            base, *parts = name.split("%")
            return component(self.lookup(base), parts, self.types)
        if name in self.local:
            return self.local[name]
        if self.host is not None:
            found = self.host.lookup(name)
            if found is not None:
                return found
        return self.modules.get(name)

    def is_local(self, name: str) -> bool:
        return name in self.local


def module_access(m: ir.Module) -> tuple[bool, set[str], set[str]]:
    """(PRIVATE by default, names declared PRIVATE, names declared PUBLIC) of a module."""
    default_private, private, public = False, set(), set()
    for item in m.spec:
        text = getattr(item, "text", "").strip().lower()
        if text == "private":
            default_private = True
        elif text.startswith(("private", "public")):
            names = {n.strip() for n in text.split("::", 1)[-1].replace("private", "").split(",")}
            (private if text.startswith("private") else public).update(n for n in names if n)
        if isinstance(item, ir.TypeDecl):
            for e in item.entities:
                if "private" in item.attrs:
                    private.add(e.name)
                if "public" in item.attrs:
                    public.add(e.name)
    return default_private, private, public


def is_private(m: ir.Module, name: str) -> bool:
    default, private, public = module_access(m)
    return name in private or (default and name not in public)


#: owner prefix of COMMON members in global keys (ir/program.py, ad/core/common_blocks.py)
OWNER = "common:"


def block_of(sym: ir.Symbol | None) -> str | None:
    """The COMMON block ``sym`` is in ("" for blank COMMON), or None."""
    for a in sym.attrs if sym is not None else ():
        if a.startswith("common/"):
            return a[len("common/") : -1]
    return None
