"""Rank correlations between estimates, imposed with a Gaussian copula."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, Problem


def correlation_matrix(portfolio) -> tuple[list[tuple[int, str]], np.ndarray]:
    """The correlated variables (initiative index, factor) and their normal-scale correlation matrix.

    A Spearman rank correlation rho_s between two continuous margins is produced by a Gaussian
    copula with Pearson correlation 2 sin(pi rho_s / 6); the matrix of those must be positive
    semi-definite, or no joint distribution has the requested correlations.
    """
    variables: list[tuple[int, str]] = []
    position: dict[tuple[str, str], int] = {}
    for c in portfolio.correlations:
        for ref in (c.a, c.b):
            if ref not in position:
                position[ref] = len(variables)
                variables.append((portfolio.index(ref[0]), ref[1]))
    m = np.eye(len(variables))
    for c in portfolio.correlations:
        i, j = position[c.a], position[c.b]
        m[i, j] = m[j, i] = 2 * np.sin(np.pi * c.rho / 6)
    if variables:
        eigenvalues = np.linalg.eigvalsh(m)
        if eigenvalues[0] < -1e-10:
            names = ", ".join(f"{a}.{f}" for a, f in position)
            raise InputError(Problem(
                f"the correlations are inconsistent: their matrix is not positive semi-definite "
                f"(smallest eigenvalue {eigenvalues[0]:.3f}); check the pairs among {names}",
                file=portfolio.source, column="correlations"))
    return variables, m


def copula_factor(m: np.ndarray) -> np.ndarray:
    """The symmetric square root L of m (L @ L.T == m), also for singular (semi-definite) m.

    Symmetric, so L is block-diagonal wherever m is: each variable is driven only by the normals
    of its own correlated set. (An eigenvector factor would mix sets that share an eigenvalue
    and put the normal of one variable under another's name, which Sobol groups rely on.)
    """
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T
