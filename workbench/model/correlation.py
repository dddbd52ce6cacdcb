"""Rank correlations between estimates, imposed with a Gaussian copula."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, Problem, clip, quote
from ..limits import MAX_CORRELATED

SHOWN_NAMES = 12  # estimates a message names; a long list is cut


def too_many_correlated(d: int) -> str:
    """The message for correlations among more distinct estimates than `limits.MAX_CORRELATED`."""
    return (f"correlations involve {d:,} distinct estimates (initiative.factor); at most {MAX_CORRELATED:,} "
            "can be correlated (limits.MAX_CORRELATED); correlate fewer")


def correlation_matrix(portfolio) -> tuple[list[tuple[int, str]], np.ndarray]:
    """The correlated variables (initiative index, factor) and their normal-scale correlation matrix.

    A Spearman rank correlation rho_s between two continuous margins is produced by a Gaussian
    copula with Pearson correlation 2 sin(pi rho_s / 6); the matrix of those must be positive
    semi-definite, or no joint distribution has the requested correlations.
    """
    position: dict[tuple[str, str], int] = {}
    for c in portfolio.correlations:
        for ref in (c.a, c.b):
            position.setdefault(ref, len(position))
    if len(position) > MAX_CORRELATED:  # before the d x d matrix and its O(d^3) decomposition
        raise InputError(Problem(too_many_correlated(len(position)), file=portfolio.source, column="correlations"))
    index = {id_: k for k, id_ in enumerate(portfolio.ids)}  # one pass, not `portfolio.index` per estimate
    unknown = [id_ for id_, _ in position if id_ not in index]
    if unknown:
        raise InputError(Problem(f"correlations refer to unknown id {quote(unknown[0])}", file=portfolio.source,
                                 column="correlations"))
    variables = [(index[id_], factor) for id_, factor in position]
    m = np.eye(len(variables))
    for c in portfolio.correlations:
        i, j = position[c.a], position[c.b]
        m[i, j] = m[j, i] = 2 * np.sin(np.pi * c.rho / 6)
    if variables:
        eigenvalues = np.linalg.eigvalsh(m)
        if eigenvalues[0] < -1e-10:
            refs = [clip(f"{a}.{f}", 40) for a, f in list(position)[:SHOWN_NAMES]]
            more = len(position) - len(refs)
            names = ", ".join(refs) + (f" and {more:,} more" if more > 0 else "")
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
