"""The one random-number policy of the package: every generator is derived here.

A generator is named by the analysis seed, a purpose and optional keys:

    stream(seed, "evaluation", "card-payments")   # the evaluation draws of one block
    stream(seed, "selection", "card-payments")    # the scenarios plans are chosen on
    stream(seed, "ties")                          # random tie-breaking in rankings

Purposes and keys are hashed into numpy's `SeedSequence` spawn key, so streams are
statistically independent of each other, and the same (seed, purpose, keys) gives the same
numbers in every front end, process and machine. Nothing else in the package creates a
generator: a new purpose is one new name here, not a new derivation.
"""

from __future__ import annotations

import hashlib

import numpy as np

#: Every purpose a stream is made for, so that no two parts of the package share one by accident.
PURPOSES = (
    "evaluation",   # draws every figure shown is estimated on (ranking, plan value, risk)
    "selection",    # scenarios the optimizer chooses plans on
    "replication",  # further selection sets, one per optimality-gap replication
    "ties",         # random order among equal scores
    "simulate",     # the streaming engine's draws (`simulate`), per replicate
    "simulate-ties",
    "sobol",        # Saltelli base matrices of Sobol indices
    "bootstrap",    # bootstrap intervals of Sobol indices
    "evpi-subset",  # the scenarios EVPI re-optimizes on when there are too many
    "calibration-bootstrap",  # standard errors of a calibration's shift and widening
    "synthetic-history",      # the bundled synthetic history of estimates and actuals
)


def fresh_seed() -> int:
    """A new seed from the operating system's entropy, for runs without one (printed by callers)."""
    return int(np.random.SeedSequence().generate_state(1)[0])


def check_seed(seed: int | None) -> int:
    """The seed to use: `seed` itself, or a fresh one when None."""
    if seed is None:
        return fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"a seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def _word(key: str | int) -> int:
    """A stable 32-bit code of a key (Python's hash() changes between processes)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and 0 <= key < 2**32:
        return int(key)
    return int.from_bytes(hashlib.blake2b(str(key).encode("utf-8"), digest_size=4).digest(), "little")


def seed_sequence(seed: int, purpose: str, *keys: str | int) -> np.random.SeedSequence:
    """The SeedSequence of one purpose (and keys) of an analysis seeded with `seed`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown random stream purpose {purpose!r}; add it to workbench.rng.PURPOSES")
    return np.random.SeedSequence(check_seed(seed), spawn_key=(_word(purpose), *map(_word, keys)))


def stream(seed: int, purpose: str, *keys: str | int) -> np.random.Generator:
    """The generator of one purpose (and keys) of an analysis seeded with `seed`."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, purpose, *keys)))
