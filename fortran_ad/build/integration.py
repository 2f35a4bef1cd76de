"""Build-system integration: what ``fortran-ad deps`` prints, and where the CMake/Make files live.

Build systems must know a rule's outputs before running it. ``fortran-ad deps FILES --wrt ...``
answers with the files ``fortran-ad FILES --wrt ...`` would write, one per line, in compile order
(the tape runtime first, then derivative files in source order). It runs the same pipeline as the
real command and keeps the result in memory, so the answer cannot drift from what is generated
(a file is written for a source only when it holds differentiated routines, and the names depend
on the mode).

The CMake package (``FortranADConfig.cmake``, ``FortranAD.cmake``) and the Make include
(``fortran-ad.mk``) ship inside the package under ``fortran_ad/data/``; ``cmake/`` and ``make/``
at the top of the repository forward to them, so there is one copy of each.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fortran_ad.frontend.load import load
from fortran_ad.options import Options

__all__ = ["CMAKE_DIR", "DATA_DIR", "MAKE_DIR", "RUNTIME_NAME", "planned_outputs"]

#: Build-system files shipped with the package.
DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"

#: Folder of ``FortranADConfig.cmake`` (what ``fortran-ad --cmake-dir`` prints): put it on
#: ``CMAKE_PREFIX_PATH`` or pass it as ``FortranAD_DIR`` for ``find_package(FortranAD)``.
CMAKE_DIR: Path = DATA_DIR / "cmake"

#: Folder of ``fortran-ad.mk`` (what ``fortran-ad --make-dir`` prints).
MAKE_DIR: Path = DATA_DIR / "make"

#: The tape runtime written next to reverse-mode derivatives; compiled before them.
RUNTIME_NAME = "fad_tape.f90"


def planned_outputs(options: Options) -> list[Path]:
    """The files ``differentiate(options)`` would write, in compile order, writing nothing.

    Paths are ``options.out / name``, as the ``diff`` command prints them. Errors in the input
    raise the same located ``FortranADError`` the real run would.
    """
    from fortran_ad.ad.core.generate import generate

    program = load(options.sources, options.fixed_form, options.preprocessing)
    files = generate(program, replace(options, explain=False))
    # Runtime first (derivative modules `use` it), then derivatives in source order.
    names = sorted(files, key=lambda name: name != RUNTIME_NAME)
    return [Path(options.out) / name for name in names]
