"""User-facing errors: one exception type, printed like a compiler diagnostic."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: errors sit below the IR
    from fortran_ad.ir.nodes import SourceLoc


class FortranADError(Exception):
    """An error in the user's input, reported as ``file:line:col: error: message``.

    Raised for anything the user can fix (bad Fortran, unsupported active constructs, unknown
    ``--wrt`` names, unwritable output). Internal bugs stay ordinary exceptions.
    """

    def __init__(self, loc: SourceLoc | str | None, message: str, hint: str | None = None):
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.hint = hint

    def render(self) -> str:
        where = str(self.loc) if self.loc is not None else "fortran-ad"
        text = f"{where}: error: {self.message}"
        if self.hint:
            text += f"\n{where}: note: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.render()
