"""fortran-ad: source-to-source automatic differentiation of unmodified Fortran."""

from fortran_ad.version import __version__ as __version__


def check(*args, **kwargs):  # the signature is fortran_ad.api.check's
    """``fortran_ad.check(...)``: see :func:`fortran_ad.api.check` (imported on first use)."""
    from fortran_ad.api import check as _check

    return _check(*args, **kwargs)


def load(*args, **kwargs):  # the signature is fortran_ad.bindings.load's
    """``fortran_ad.load(DIR)``: the module built by ``fortran-ad ... --python NAME -o DIR`` as
    a :class:`fortran_ad.bindings.Derivative` (``.gradient(**inputs)``); see
    :func:`fortran_ad.bindings.load` (imported on first use: NumPy loads only when needed)."""
    from fortran_ad.bindings import load as _load

    return _load(*args, **kwargs)
