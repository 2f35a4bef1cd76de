"""fortran-ad: source-to-source automatic differentiation of unmodified Fortran."""

__version__ = "0.1.0"


def check(*args, **kwargs):  # the signature is fortran_ad.api.check's
    """``fortran_ad.check(...)``: see :func:`fortran_ad.api.check` (imported on first use)."""
    from fortran_ad.api import check as _check

    return _check(*args, **kwargs)
