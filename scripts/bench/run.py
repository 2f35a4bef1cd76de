#!/usr/bin/env python3
"""fortran-ad vs JAX on the NPBench kernels of ``legacy_samples/npbench``.

    python scripts/bench/run.py --preset S|M|L [--kernels gemm,atax] [--repeat 5]
                                [--form matmul|loops] [--out DIR] [--tape-limit 4G]
                                [--threads 1,2] [--jax-threads 1] [--malloc-keep 1G]
                                [--climate]

Which Fortran is timed (column ``form``): NPBench's NumPy and the JAX side write the dense
linear algebra of gemm, k2mm, k3mm, doitgen, atax, bicg, mvt, gesummv and gemver with ``@``
(the JAX side also symm and trmm: the full matrix built from the triangle, then ``@``);
``--form matmul`` (the default) times their MATMUL versions (``<kernel>_mm`` in
legacy_samples/npbench/npb_blas_mm.f90, cases in matmul.toml), whose MATMUL statements
fortran-ad keeps as library calls, and ``--form loops`` the PolyBench loop nests of
npb_blas.f90 (the gradient-checked sample). Every other kernel is a loop nest in both.
All Fortran (primal, adjoint, driver) is compiled with the same flags: with
``-fexternal-blas -lopenblas`` when OpenBLAS is installed (``apt-get install
libopenblas-dev``; one thread, OPENBLAS_NUM_THREADS=1), else MATMUL is libgfortran's; the
CSV's ``form`` column says which.

Per kernel: generate the fortran-ad adjoint, build it with ``gfortran -O3 -march=native``
(one thread; with ``--threads 1,2``, the default, also the gradient on 2 threads, column
``F grad 2 thr ms``, wall clock: the loop nests with ``--parallelize-adjoint``, whose loops the
dependence analysis proves parallel run as OpenMP loops, the MATMUL versions with OpenBLAS on 2
threads), run the primal and gradient of JAX (CPU, jit, x64) and of fortran-ad on the same
inputs, check that the gradients agree (max abs difference / max abs JAX gradient <= --rtol,
per input), then report the median of
``--repeat`` timings after one warm-up (for JAX the first, compiling call: at preset M one
``jax.grad`` call of the triangular solvers takes long enough that a second warm-up costs
minutes). Times are process CPU times (Fortran ``cpu_time``, Python ``time.process_time``):
on a shared machine wall time mostly measures waiting. The 2-thread column is wall time and
means something only on an idle machine.
``--malloc-keep SIZE`` makes glibc keep freed heap in both processes: blocks up to
min(SIZE, 32 MiB) come from the heap (``M_MMAP_THRESHOLD``) and up to SIZE of free heap stays
mapped (``M_TRIM_THRESHOLD``): ``mallopt`` in the runner, which runs JAX, and
``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` for the Fortran programs. By default glibc
returns freed heap to the kernel, and every call page-faults its temporaries back in (XLA's
buffers and gfortran's array temporaries alike): at preset M about half of the Fortran symm
and trmm gradient times and of JAX's trmm gradient time. (An earlier ``--malloc-pad``, glibc's
``M_TOP_PAD``, also switched off glibc's adaptive mmap threshold, so every block above 128 KiB
was mmapped afresh: vadv's Fortran ran 2x slower under it.)
Writes ``npbench_<preset>.csv`` and ``npbench_<preset>.png`` (speed-up bars, log scale)
into --out and prints a Markdown table with geometric and arithmetic means; ``--merge``
does only that, from the CSVs of earlier runs: runs made in parts join, and a kernel measured
in several runs gets the per-column median of its times (JAX's times of some stencils differ
3-fold from one process to the next). Kernels JAX cannot
reverse-differentiate, gradients that disagree and fortran-ad failures stay in the table
with their status.

``--climate`` also runs ``scripts/bench_adjoint.py`` on every other sample under each
checkpoint policy (adjoint/primal ratio and peak tape; ``--climate-preset check|bench``).
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))  # the repository: fortran_ad

import fortran_side  # noqa: E402
import jax_side  # noqa: E402
import report  # noqa: E402
from sizes import BY_HEAD, KERNELS, MM_TOML, PRESETS  # noqa: E402

MIB = 1024**2
STATUS_NO_JAX_GRAD = "jax: no reverse mode"
STATUS_DIFFER = "gradients differ"


def compare(f: dict, j: dict) -> float:
    """Largest over inputs of max|f - j| / max|j| (absolute when the JAX gradient is 0)."""
    import numpy as np

    worst = 0.0
    for name, gj in j.items():
        gf = f.get(name)
        if gf is None or gf.shape != gj.shape:
            return math.inf
        scale = float(np.max(np.abs(gj))) if gj.size else 0.0
        err = float(np.max(np.abs(gf - gj))) if gj.size else 0.0
        worst = max(worst, err / scale if scale > 0 else err)
    return worst


def bench_kernel(head: str, preset: str, args: argparse.Namespace, root: Path, jk) -> report.Row:
    k = BY_HEAD[head]
    sizes = k.sizes(preset)
    row = report.Row(head, ",".join(f"{n}={v}" for n, v in sizes.items() if n not in k.fixed))
    fhead = k.fortran_head(args.form)
    toml = MM_TOML if fhead != head else fortran_side.SAMPLE_TOML
    row.form = f"matmul ({args.blas.name})" if fhead != head else "loops"
    try:
        built = fortran_side.build(
            fhead,
            sizes,
            root / head,
            args.tape_limit,
            args.checkpoint,
            toml,
            args.blas,
            gradient_only=not args.joint_adjoint,
        )
    except fortran_side.CaseError as exc:
        row.status = exc.status
        row.notes.append(str(exc)[:500])
        return row
    shapes = fortran_side.shapes(built.spec, sizes)
    data = jax_side.inputs(head, k.wrt, shapes, args.seed)
    jr = jax_side.run(jk[head], sizes, data, args.repeat)
    row.j_primal_ms = 1e3 * jr.primal_s
    if jr.grad_s is None:
        row.status = STATUS_NO_JAX_GRAD
        row.notes.append(jr.error)
    else:
        row.j_grad_ms = 1e3 * jr.grad_s
    try:
        fr = fortran_side.run(built, sizes, data, args.repeat, args.timeout)
    except fortran_side.CaseError as exc:
        row.status = exc.status
        row.notes.append(str(exc)[:500])
        return row
    row.f_primal_ms, row.f_grad_ms = 1e3 * fr.primal_s, 1e3 * fr.adjoint_s
    if 2 in args.threads:
        two = two_threads(fhead, sizes, toml, data, args, root / f"{head}-2t")
        if isinstance(two, str):
            row.notes.append(two)
        else:
            row.f_grad_2t_ms = 1e3 * two.adjoint_s
            if jr.grad_s is not None:
                err2 = compare(two.grads, jr.grads)
                if not err2 <= args.rtol:
                    row.notes.append(f"2-thread gradient differs from JAX: {err2:.1e}")
                    row.status = STATUS_DIFFER
    row.tape_mib = fr.peak_bytes / MIB
    if not math.isclose(fr.cost, jr.cost, rel_tol=1e-8, abs_tol=1e-12):
        row.notes.append(f"objective differs: Fortran {fr.cost:.15e}, JAX {jr.cost:.15e}")
    if jr.grad_s is not None:
        row.rel_err = compare(fr.grads, jr.grads)
        if not row.rel_err <= args.rtol:
            row.status = STATUS_DIFFER
    return row


def two_threads(fhead: str, sizes: dict, toml: Path, data, args, workdir: Path):
    """The gradient on 2 threads (wall clock; fortran_side.build), or why not."""
    try:
        built = fortran_side.build(
            fhead,
            sizes,
            workdir,
            args.tape_limit,
            args.checkpoint,
            toml,
            args.blas,
            gradient_only=not args.joint_adjoint,
            threads=2,
        )
        return fortran_side.run(built, sizes, data, args.repeat, args.timeout, threads=2)
    except fortran_side.CaseError as exc:
        return f"2 threads: {exc.status}: {str(exc)[:300]}"


def climate(preset: str, policies: list[str]) -> int:
    """bench_adjoint on every sample but npbench, once per checkpoint policy."""
    ba = fortran_side.ba
    samples = sorted({c.sample for c in ba.load_cases()} - {"npbench"})
    status = 0
    for policy in policies:
        print(f"\n## climate samples, checkpoint policy {policy}\n", flush=True)
        status |= ba.main(["--preset", preset, "--samples", ",".join(samples),
                           "--checkpoint", policy])  # fmt: skip
    return status


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ba = fortran_side.ba
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=(*PRESETS, "check"), default="S")
    p.add_argument("--kernels", default="", help="comma-separated heads (default: all)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument(
        "--form",
        choices=("matmul", "loops"),
        default="matmul",
        help="time the MATMUL versions where NPBench uses @ (default), or the loop nests",
    )
    p.add_argument("--rtol", type=float, default=1e-8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--tape-limit", type=ba._bytes, default=4 * 1024**3)
    p.add_argument("--checkpoint", choices=ba.POLICIES, default=ba.Options.checkpoint)
    p.add_argument(
        "--joint-adjoint",
        action="store_true",
        help="time the joint adjoint, which also leaves the primal outputs (default: the "
        "gradient-only adjoint, what jax.grad computes)",
    )
    p.add_argument(
        "--threads",
        default="1,2",
        help="fortran-ad gradients timed at these thread counts: 1 (process CPU time) and 2 "
        "(--parallelize-adjoint, wall clock); default 1,2",
    )
    p.add_argument("--jax-threads", type=int, default=1, help="1, or 0 for JAX's default")
    p.add_argument(
        "--malloc-keep",
        type=ba._bytes,
        default=0,
        help="glibc keeps up to this much freed heap (M_TRIM_THRESHOLD; blocks up to 32M from "
        "the heap: M_MMAP_THRESHOLD) in JAX's process and the Fortran programs alike, e.g. 1G "
        "(default: glibc's: freed heap goes back to the kernel and is page-faulted in again)",
    )
    p.add_argument("--timeout", type=float, default=1800.0)
    p.add_argument("--keep", type=Path, default=None, help="keep the Fortran builds here")
    p.add_argument("--climate", action="store_true", help="also the climate samples' table")
    p.add_argument("--climate-preset", choices=("check", "bench"), default="bench")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="only report: merge CSVs of earlier runs of this preset (partial runs join; a "
        "kernel in several runs gets the median of each time)",
    )
    args = p.parse_args(argv)
    heads = [h.strip() for h in args.kernels.split(",") if h.strip()] or [k.head for k in KERNELS]
    unknown = [h for h in heads if h not in BY_HEAD]
    if unknown:
        p.error(f"unknown kernels: {', '.join(unknown)}")
    args.heads = heads
    args.threads = {int(x) for x in args.threads.split(",") if x.strip()}
    if not args.threads <= {1, 2} or 1 not in args.threads:
        p.error("--threads: 1 or 1,2")
    args.blas = fortran_side.find_blas()
    if args.blas.name != "openblas":
        print(
            "run.py: OpenBLAS not found: the MATMUL kernels run libgfortran's MATMUL and the "
            "table does not compare with jax's BLAS (scripts/setup.sh installs libopenblas-dev)",
            file=sys.stderr,
        )
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


MMAP_MAX = 32 * 1024**2  # glibc refuses a larger M_MMAP_THRESHOLD on 64-bit


def keep_heap(size: int) -> None:
    """glibc serves blocks up to min(size, 32 MiB) from the heap and keeps up to ``size``
    bytes of it when freed: in this process (JAX) by ``mallopt``, in the Fortran programs
    (started later) by the environment."""
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc = ctypes.CDLL(None)
    settings = ((M_MMAP_THRESHOLD, min(size, MMAP_MAX)), (M_TRIM_THRESHOLD, size))
    if not hasattr(libc, "mallopt"):
        raise SystemExit("--malloc-keep needs glibc (mallopt)")
    for option, value in settings:
        if libc.mallopt(option, ctypes.c_int(min(value, 2**31 - 1))) != 1:
            raise SystemExit(f"--malloc-keep: mallopt({option}, {value}) failed")
    os.environ["MALLOC_MMAP_THRESHOLD_"] = str(min(size, MMAP_MAX))
    os.environ["MALLOC_TRIM_THRESHOLD_"] = str(size)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the Fortran programs run in subprocesses while JAX's thread pool exists; they exec at once
    warnings.filterwarnings("ignore", message="os.fork\\(\\) was called", category=RuntimeWarning)
    if args.merge:
        order = {k.head: i for i, k in enumerate(KERNELS)}
        rows = report.medians([r for path in args.merge for r in report.read_csv(path)])
        return finish(sorted(rows, key=lambda r: order[r.kernel]), args)
    if args.malloc_keep:
        keep_heap(args.malloc_keep)
    jax_side.configure(args.jax_threads)
    jk = jax_side.kernels()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fad-npbench-") as tmp:
        root = args.keep.resolve() if args.keep else Path(tmp)
        for head in args.heads:
            t0 = time.perf_counter()
            print(f"[npbench] {head} ...", file=sys.stderr, flush=True)
            row = bench_kernel(head, args.preset, args, root, jk)
            rows.append(row)
            args.out.mkdir(parents=True, exist_ok=True)  # so far: an interrupted run keeps them
            report.write_csv(rows, args.out / f"npbench_{args.preset}.csv")
            print(
                f"[npbench] {head}: {row.status}, speed-up {row.speedup:.3g}, "
                f"ratio {row.ratio:.3g} ({time.perf_counter() - t0:.0f} s)"
                + "".join(f"\n    {n}" for n in row.notes),
                file=sys.stderr,
                flush=True,
            )
    return finish(rows, args)


def finish(rows: list[report.Row], args: argparse.Namespace) -> int:
    """Table, CSV and plot of ``rows``; the climate samples when asked; the exit status."""
    args.out.mkdir(parents=True, exist_ok=True)
    blas = " -fexternal-blas -lopenblas" if any("openblas" in r.form for r in rows) else ""
    title = (
        f"preset {args.preset}: fortran-ad (gfortran -O3 -march=native{blas}, 1 thread, CPU "
        "time; 2 threads: wall clock) vs "
        f"jax.grad (jit, x64, {args.jax_threads or 'default'} thread(s)); "
        f"median of {args.repeat}"
    )
    print(f"{title}\n")
    print(report.table(rows))
    report.write_csv(rows, args.out / f"npbench_{args.preset}.csv")
    report.plot(rows, args.out / f"npbench_{args.preset}.png", title)
    status = 1 if any(r.status not in ("ok", STATUS_NO_JAX_GRAD) for r in rows) else 0
    if args.climate:
        status |= climate(args.climate_preset, list(fortran_side.ba.POLICIES))
    return status


if __name__ == "__main__":
    sys.exit(main())
