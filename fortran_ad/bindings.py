"""The Pythonic layer over a module built by ``fortran-ad ... --python NAME -o DIR``.

``fortran_ad.load(DIR)`` imports NAME from DIR and returns a :class:`Derivative`;
``Derivative.gradient(**inputs)`` copies the inputs (Fortran order, the routine's dtypes),
zeroes every derivative argument, seeds the objective (``--of``) with 1, calls the generated
routine and returns ``{wrt name: gradient}``. The manifest ``NAME.fad.json`` written by the
build says which argument is what, so nothing here parses Fortran.

Conventions of the generated routine (Tapenade's): in reverse mode the adjoint of an input is
incremented, so it must start at zero; the seed of an output is consumed. Inputs are never
modified: the routine updates its ``intent(inout)`` arguments in place, on copies.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import operator
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from fortran_ad.build.manifest import MANIFEST_SUFFIX, Arg, Manifest

__all__ = ["Derivative", "load"]


def load(directory: str | Path, name: str | None = None) -> Derivative:
    """Import the module built into ``directory`` (``name``: which one, when several are)."""
    folder = Path(directory).resolve()
    if name is None:
        found = sorted(folder.glob(f"*{MANIFEST_SUFFIX}"))
        if len(found) != 1:
            what = "no module" if not found else f"{len(found)} modules"
            raise FileNotFoundError(
                f"{what} built by `fortran-ad --python` in {folder}"
                + ("" if not found else "; pass name= to choose one")
            )
        manifest_path = found[0]
    else:
        manifest_path = folder / f"{name}{MANIFEST_SUFFIX}"
    manifest = Manifest.from_json(manifest_path.read_text())
    return Derivative(manifest, _import(manifest.name, folder))


def _import(name: str, folder: Path) -> ModuleType:
    loaded = sys.modules.get(name)
    if loaded is not None:
        where = Path(getattr(loaded, "__file__", "") or "").resolve().parent
        if where != folder:
            raise ImportError(
                f"a different module '{name}' is already imported (from {where}); "
                "build each model under its own --python name"
            )
        return loaded
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.Div: lambda a, b: int(a / b),  # Fortran integer division truncates toward zero
}


def _extent(text: str, values: Mapping[str, Any]) -> int:
    """Evaluate a declared bound ("n + 1", "nz*ncol", "max(n, 1)") from integer inputs."""

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            v = values[node.id.lower()]
            if isinstance(v, np.ndarray | np.generic):
                v = v.item()
            if not isinstance(v, int | np.integer):
                raise KeyError(node.id)
            return int(v)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            f = {"max": max, "min": min}.get(node.func.id.lower())
            if f is not None and node.args:
                return f(ev(a) for a in node.args)
        raise KeyError(ast.dump(node))

    return ev(ast.parse(text.strip(), mode="eval").body)


def _shape(arg: Arg, values: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The declared shape of ``arg`` from the integer inputs; None when it cannot be told
    (assumed shape, or bounds naming something that is not an integer input)."""
    shape = []
    for d in arg.dims:
        lo, _, hi = d.rpartition(":")
        try:
            extent = _extent(hi, values) - (_extent(lo, values) if lo.strip() else 1) + 1
        except (KeyError, SyntaxError, ZeroDivisionError, TypeError):
            return None
        shape.append(max(extent, 0))
    return tuple(shape)


class Derivative:
    """The head's derivative routine with its argument roles: call it with keyword inputs."""

    def __init__(self, manifest: Manifest, module: ModuleType) -> None:
        self.manifest = manifest
        self.module = module  # the raw f90wrap module: module.<module>_b.<head>_b(...)
        owner = getattr(module, manifest.module) if manifest.module else module
        self.routine = getattr(owner, manifest.routine)
        self.mode = manifest.mode
        self.wrt = manifest.wrt
        self.of = manifest.of
        self._params = set(inspect.signature(self.routine).parameters)
        self._primal = [a for a in manifest.args if a.derivative_of is None]
        self._deriv = {a.derivative_of: a for a in manifest.args if a.derivative_of}

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<fortran_ad.Derivative {m.name}: {m.routine} ({m.mode}) of {', '.join(m.of)} "
            f"wrt {', '.join(m.wrt)}>"
        )

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names ``gradient`` needs (intent(out) arguments are allocated when not given)."""
        return tuple(a.name for a in self._primal if a.intent != "out")

    # ------------------------------------------------------------------ calls
    def gradient(self, **inputs: Any) -> dict[str, Any]:
        """``{wrt: d(of)/d(wrt)}`` of the scalar objective at ``inputs`` (floats for scalar
        inputs, arrays shaped like the inputs)."""
        return self.value_and_gradient(**inputs)[1]

    def value_and_gradient(self, **inputs: Any) -> tuple[float | None, dict[str, Any]]:
        """The objective and its gradient (one adjoint call; in forward mode, one tangent
        call per input element). The value is None when the objective is a scalar dummy
        without INTENT (F77): f2py passes those by value."""
        (objective,) = self._scalar_objective()
        if self.mode == "reverse":
            outputs, derivs = self._call(inputs, {objective: 1.0})
            return outputs.get(objective), {w: derivs[w] for w in self.wrt}
        values = self._prepare(inputs)
        grads: dict[str, Any] = {}
        value = 0.0
        for w in self.wrt:
            base = np.asarray(values[w])
            g = np.zeros(base.shape)
            for index in np.ndindex(base.shape):
                unit = np.zeros(base.shape)
                unit[index] = 1.0
                outputs, derivs = self._call(inputs, {w: unit if base.shape else 1.0})
                g[index] = derivs[objective]
                value = outputs.get(objective)
            grads[w] = float(g) if not base.shape else g
        return value, grads

    def vjp(self, seeds: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
        """Reverse mode: ``{wrt: Jᵀ seed}`` for seeds on the outputs (``{of: seed}``)."""
        self._need("reverse")
        return {w: d for w, d in self._call(inputs, seeds)[1].items() if w in self.wrt}

    def jvp(self, tangents: Mapping[str, Any], **inputs: Any) -> dict[str, Any]:
        """Forward mode: ``{of: J tangent}`` for directions on the inputs (``{wrt: dx}``)."""
        self._need("forward")
        return {o: d for o, d in self._call(inputs, tangents)[1].items() if o in self.of}

    # ------------------------------------------------------------------ internals
    def _need(self, mode: str) -> None:
        if self.mode != mode:
            raise TypeError(f"{self.manifest.name} was built in {self.mode} mode, not {mode}")

    def _scalar_objective(self) -> tuple[str]:
        scalar = [a.name for a in self._primal if a.name in self.of and not a.dims]
        if len(self.of) != 1 or len(scalar) != 1:
            raise TypeError(
                f"gradient needs one scalar objective; {self.manifest.name} has --of "
                f"{', '.join(self.of)} (use vjp/jvp with explicit seeds)"
            )
        return (scalar[0],)

    def _prepare(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Copies of the inputs in the routine's dtypes (Fortran order); intent(out) arrays
        the caller did not give are allocated from their declared bounds."""
        given = {k.lower(): v for k, v in inputs.items()}
        known = {a.name for a in self._primal}
        unknown = sorted(set(given) - known)
        if unknown:
            raise TypeError(
                f"unknown inputs {', '.join(unknown)}; {self.manifest.routine} takes "
                f"{', '.join(a.name for a in self._primal)}"
            )
        values: dict[str, Any] = {}
        missing = []
        for a in self._primal:
            if a.name in given:
                v = np.array(given[a.name], dtype=a.dtype, order="F", copy=True)
                if v.ndim != len(a.dims):
                    raise ValueError(
                        f"'{a.name}' has rank {v.ndim}, the routine wants {len(a.dims)}"
                    )
                values[a.name] = v
            elif a.intent == "out" or (a.intent is None and a.name in self.of):
                values[a.name] = None
            else:
                missing.append(a.name)
        if missing:
            raise TypeError(f"missing inputs: {', '.join(missing)}")
        for a in self._primal:
            shape = _shape(a, values) if a.dims else ()
            v = values[a.name]
            if v is None:
                if shape is None:
                    raise TypeError(f"give '{a.name}' (an array with bounds {a.dims})")
                values[a.name] = np.zeros(shape, dtype=a.dtype, order="F")
            elif shape is not None and v.shape != shape:
                raise ValueError(f"'{a.name}' has shape {v.shape}, its bounds {a.dims} say {shape}")
        return values

    def _call(
        self, inputs: Mapping[str, Any], seeds: Mapping[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Call the routine with derivative arguments set from ``seeds`` (zero elsewhere);
        returns (primal outputs, derivative values by primal name)."""
        values = self._prepare(inputs)
        seeds = {k.lower(): v for k, v in seeds.items()}
        bad = sorted(set(seeds) - set(self._deriv))
        if bad:
            raise TypeError(f"no derivative argument for {', '.join(bad)}")
        derivs: dict[str, np.ndarray] = {}
        for primal, a in self._deriv.items():
            d = np.zeros(np.shape(values[primal]), dtype=a.dtype, order="F")
            if primal in seeds:
                d[...] = seeds[primal]
            derivs[primal] = d
        kwargs = {}
        for a in self.manifest.args:
            if a.returned:
                continue
            v = derivs[a.derivative_of] if a.derivative_of else values[a.name]
            # f2py copies scalars passed as Python numbers: 0-d arrays are updated in place
            if not a.dims and (a.derivative_of is None and a.intent in ("in", None)):
                v = v.item()
            kwargs[a.pyname if a.pyname in self._params else a.name] = v
        result = self.routine(**kwargs)
        # intent(out) scalars (primal or derivative) come back from the wrapper, in order
        returned = [a for a in self.manifest.args if a.returned]
        results = (result,) if len(returned) == 1 else tuple(result or ())
        # a scalar without INTENT goes in by value (f2py): its new value is unknown
        lost = {a.name for a in self._primal if not a.dims and a.intent is None}
        outputs = {n: _plain(v) for n, v in values.items() if n not in lost}
        for a, r in zip(returned, results, strict=True):
            if a.derivative_of:
                derivs[a.derivative_of] = np.asarray(r)
            else:
                outputs[a.name] = float(np.asarray(r))
        return outputs, {n: _plain(v) for n, v in derivs.items()}


def _plain(v: Any) -> Any:
    """0-d arrays come back as Python numbers."""
    return v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v
