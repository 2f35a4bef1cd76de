"""Gradient check of the heat1d adjoint through its Python bindings (the Python twin of
main.f90): same inputs, the gradient from ``fortran_ad.load(DIR).gradient(...)``, and its
directional derivative against a central finite difference. Exits 1 when they differ by more
than 1e-6 (relative).

    python check_gradient.py DIR     # DIR: where `fortran-ad ... --python heat1d_py -o DIR` built
"""

import sys

import numpy as np

import fortran_ad

N, NT, DT, TOL, H = 40, 200, 1.0e-4, 1.0e-6, 1.0e-5


def main(directory: str) -> int:
    model = fortran_ad.load(directory)
    x = np.arange(1, N + 1) / (N + 1)
    inputs = {
        "n": N,
        "nt": NT,
        "dt": DT,
        "kappa": 1.0,
        "u0": np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x),
        "target": 0.8 * np.sin(np.pi * x),
    }
    cost, grad = model.value_and_gradient(**inputs)
    print(f"cost            = {cost:24.16e}")
    print(f"norm(dcost/du0) = {np.linalg.norm(grad['u0']):24.16e}")
    print(f"dcost/dkappa    = {grad['kappa']:24.16e}")

    # central difference along (du0, dkappa); the cost comes back from the adjoint call
    du0, dkappa = np.cos(np.arange(1, N + 1)), 0.7

    def cost_at(step: float) -> float:
        moved = {**inputs, "kappa": 1.0 + step * dkappa, "u0": inputs["u0"] + step * du0}
        return model.value_and_gradient(**moved)[0]

    fd = (cost_at(H) - cost_at(-H)) / (2 * H)
    ad = float(grad["u0"] @ du0 + grad["kappa"] * dkappa)
    rel = abs(ad - fd) / max(abs(fd), np.finfo(float).tiny)
    print(f"adjoint  <g, d> = {ad:24.16e}")
    print(f"central diff    = {fd:24.16e}")
    print(f"relative error  = {rel:10.3e}")
    if rel > TOL:
        print("gradient check FAILED")
        return 1
    print("gradient check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
