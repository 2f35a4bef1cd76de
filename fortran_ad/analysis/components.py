"""Per-component activity of derived types.

The activity analysis (analysis/activity.py) works per variable: ``s`` is active when any of its
real components is. This pass decides, per component of a TYPE, whether it can ever carry a
derivative; a component that cannot (a geometry field filled from passive data, a constant
coefficient) is passive in every object of that type: the derivative object's copy is never
allocated, zeroed, read or updated.

Rule (a least fixpoint, so that only derivations from a --wrt input count): the real component
``c`` of type ``T`` is varied when

* an object of type ``T`` (or one containing a ``T``) is itself a --wrt input, or
* some statement writes ``x%c`` (any designator ending in ``c`` whose parent is a ``T``) from a
  varied value: an assignment whose right-hand side reads a varied variable or component (or
  calls a function whose result is varied), an actual argument whose dummy is varied (or
  forced active: it gets a derivative at every call) in the callee, any actual argument of a
  routine without source (an MPI receive, say), a structure constructor ``T(...)`` with a
  varied argument (then every component of ``T``), or a pointer association ``p => x%c``
  (always, conservatively).
* Pointer components are always active (they alias data whose activity this pass cannot see).

Whole-object copies (``s = t``) copy components of the same type, so they keep the rule.
Reads of a plain variable count as varied when the per-variable analysis says so.
"""

from __future__ import annotations

from fortran_ad.ir import nodes as ir
from fortran_ad.ir.program import Program, RoutineInfo
from fortran_ad.ir.symbols import is_real, type_name
from fortran_ad.ir.walk import children, walk_stmts

Key = tuple[str, str]  # (type name, component name)


def _parent_key(name: str, info: RoutineInfo) -> Key | None:
    """``s%p%c`` → (type of ``s%p``, "c")."""
    if "%" not in name:
        return None
    parent, comp = name.rsplit("%", 1)
    tname = type_name(info.scope.lookup(parent))
    return (tname, comp) if tname is not None else None


class ComponentActivity:
    def __init__(self, program: Program, varied: dict[str, set[str]]):
        self.program = program
        self.varied_vars = varied  # per routine, from the per-variable analysis
        self.types: dict[str, ir.TypeDef] = {}
        for info in program.routines.values():
            self.types.update(info.scope.types)
        self.keys: set[Key] = set()

    def whole(self, tname: str) -> None:
        """Every real component of ``tname``, nested types included."""
        td = self.types.get(tname)
        if td is None:
            return
        for c in td.components:
            inner = type_name(c)
            if inner is not None and inner != tname:
                self.whole(inner)
            elif is_real(c):
                self.keys.add((tname, c.name))

    def reads_varied(self, e: ir.Expr, info: RoutineInfo) -> bool:
        from fortran_ad.ir.intrinsic_table import NONDIFF

        if isinstance(e, ir.Name | ir.ArrayRef):
            key = _parent_key(e.name, info)
            if key is not None:
                sym = info.scope.lookup(e.name)
                if type_name(sym) is not None:  # a nested object: any of its components
                    return any((type_name(sym), c.name) in self.keys for c in self._comps(sym))
                return key in self.keys
            return e.name in self.varied_vars.get(info.name, set())
        if isinstance(e, ir.Call) and e.name in NONDIFF:
            return False
        callee = self.program.get(e.name) if isinstance(e, ir.Call) else None
        result = callee.routine.result if callee is not None else None
        if result and result in self.varied_vars.get(callee.name, set()):
            return True  # a user function whose result is varied
        if isinstance(e, ir.OpaqueExpr):
            return bool(set(e.names) & self.varied_vars.get(info.name, set()))
        if isinstance(e, ir.BinOp) and e.op not in ("+", "-", "*", "/", "**"):
            return False
        return any(self.reads_varied(c, info) for c in children(e))

    def _comps(self, sym: ir.Symbol) -> tuple[ir.Symbol, ...]:
        td = self.types.get(type_name(sym) or "")
        return td.components if td is not None else ()

    def mark(self, target: ir.Expr, info: RoutineInfo) -> None:
        if not isinstance(target, ir.Name | ir.ArrayRef):
            return
        key = _parent_key(target.name, info)
        if key is None:
            return
        sym = info.scope.lookup(target.name)
        if type_name(sym) is not None:
            self.whole(type_name(sym))
        else:
            self.keys.add(key)

    def visit(self, info: RoutineInfo) -> None:
        for s in walk_stmts(info.routine.body):
            if isinstance(s, ir.Assign):
                self._assign(s, info)
            elif isinstance(s, ir.PointerAssign):  # aliases: both sides, conservatively
                self.mark(s.value, info)
                self.mark(s.target, info)
            elif isinstance(s, ir.CallStmt):
                self._call(s.name, s.args, info)
            if isinstance(s, ir.Assign | ir.CallStmt):
                exprs = (s.value,) if isinstance(s, ir.Assign) else s.args
                for e in exprs:  # user functions (intrinsic ones write no argument)
                    for sub in _calls(e):
                        if self.program.get(sub.name) is not None:
                            self._call(sub.name, sub.args, info)

    def _assign(self, s: ir.Assign, info: RoutineInfo) -> None:
        v = s.value
        tname = type_name(info.scope.lookup(s.target.name)) if hasattr(s.target, "name") else None
        if isinstance(v, ir.Call) and v.name in self.types:  # structure constructor
            if any(self.reads_varied(a, info) for a in v.args):
                self.whole(v.name)
            return
        if tname is not None and isinstance(v, ir.Name | ir.ArrayRef) and "%" not in v.name:
            return  # whole-object copy: components of the same type
        if tname is not None and "%" in s.target.name and self.reads_varied(v, info):
            self.whole(tname)
            return
        if self.reads_varied(v, info):
            self.mark(s.target, info)

    def _call(self, name: str, args: tuple[ir.Expr, ...], info: RoutineInfo) -> None:
        from fortran_ad.ir.program import dummy_map

        comps = [a for a in args if isinstance(a, ir.Name | ir.ArrayRef) and "%" in a.name]
        if not comps:
            return
        callee = self.program.get(name)
        if callee is None:  # external (MPI receives too): any component it is given
            for a in comps:
                self.mark(a, info)
            return
        varied = self.varied_vars.get(callee.name, set())
        for d, actual in dummy_map(args, callee.routine).items():
            if actual in comps and d in varied:
                self.mark(actual, info)

    def run(self, head: str, wrt: set[str]) -> frozenset[Key]:
        info = self.program.routines[head]
        for n in wrt:  # an object: all its real components; a path state%h: that one
            t = type_name(info.scope.lookup(n))
            if t is not None:
                self.whole(t)
            elif "%" in n:
                key = _parent_key(n, info)
                if key is not None:
                    self.keys.add(key)
        while True:
            before = len(self.keys)
            for r in self.program.routines.values():
                self.visit(r)
            if len(self.keys) == before:
                return frozenset(self.keys)


def _calls(e: ir.Expr):
    if isinstance(e, ir.Call):
        yield e
    for c in children(e):
        yield from _calls(c)


def varied_components(program: Program, varied: dict[str, set[str]], head, wrt) -> frozenset[Key]:
    """The (type, component) pairs that may carry derivatives (see the module docstring)."""
    return ComponentActivity(program, varied).run(head, set(wrt))


def component_active(keys: frozenset[Key] | None, name: str, lookup) -> bool:
    """May the component designator ``name`` (``s%p%c``) carry a derivative? (None: no
    component analysis ran, every real component may.)"""
    if keys is None or "%" not in name:
        return True
    parent, comp = name.rsplit("%", 1)
    tname = type_name(lookup(parent))
    sym = lookup(name)
    if tname is None:
        return True
    if type_name(sym) is not None or (sym is not None and "pointer" in sym.attrs):
        return True  # a nested object (active when any component is), or an alias
    return (tname, comp) in keys
