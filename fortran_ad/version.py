"""The version of fortran-ad (one place: the CMake package and the generated headers read it)."""

__version__ = "0.1.0"
