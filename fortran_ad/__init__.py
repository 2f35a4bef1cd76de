"""fortran-ad: source-to-source automatic differentiation of unmodified Fortran."""

__version__ = "0.1.0"
