"""A small bounded Levenberg–Marquardt least-squares solver in numpy (the calibration fit's)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: Logits are kept within ±8 (0.03 % from a bound) so a parameter pushed to a bound keeps a
#: gradient and can come back.
LOGIT_LIMIT = 8.0


def least_squares(
    residuals: Callable[[FloatArray], FloatArray],
    start: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-9,
) -> tuple[FloatArray, float]:
    """Minimise ``sum(residuals(x)**2)`` for ``lower < x < upper`` (Levenberg–Marquardt on a
    logistic reparameterisation, forward-difference Jacobian). Returns (x, cost)."""
    span = upper - lower
    inner = np.clip((start - lower) / span, 1e-4, 1 - 1e-4)
    z = np.log(inner / (1.0 - inner))

    def to_x(zz: FloatArray) -> FloatArray:
        return np.asarray(lower + span / (1.0 + np.exp(-zz)))

    r = residuals(to_x(z))
    cost = float(r @ r)
    damping = 1e-2
    step = 1e-5
    for _ in range(max_iterations):
        jac = np.empty((r.size, z.size))
        for j in range(z.size):
            dz = z.copy()
            dz[j] += step
            jac[:, j] = (residuals(to_x(dz)) - r) / step
        grad = jac.T @ r
        normal = jac.T @ jac
        improved = converged = False
        while damping < 1e10:
            lhs = normal + damping * np.diag(np.maximum(np.diag(normal), 1e-12))
            try:
                delta = np.linalg.solve(lhs, -grad)
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            z_new = np.clip(z + delta, -LOGIT_LIMIT, LOGIT_LIMIT)
            r_new = residuals(to_x(z_new))
            cost_new = float(r_new @ r_new)
            if cost_new < cost:
                converged = cost - cost_new < tolerance * max(cost, 1e-12)
                z, r, cost = z_new, r_new, cost_new
                damping = max(damping / 3.0, 1e-7)
                improved = True
                break
            damping *= 4.0
        if not improved or converged:
            break
    return to_x(z), cost
