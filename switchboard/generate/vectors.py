"""NumPy and Polars helpers every drawing step uses: strings picked by index, random
digits and letters, element-wise concatenation, weighted draws, timestamps before the
as-of and weighted sampling of a territory's members; and the time units draws are in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

_HOUR = 3600
_DAY = 86_400
_YEAR = 365 * _DAY


def _pick(values: Sequence[str] | np.ndarray, index: np.ndarray) -> pl.Series:
    """values[index] as a String Series."""
    return pl.Series(values=list(values), dtype=pl.String).gather(index)


def _digits(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    return pl.Series(rng.integers(0, 10**width, n)).cast(pl.String).str.zfill(width)


def _letters(rng: np.random.Generator, n: int, alphabet: str) -> pl.Series:
    return _pick(list(alphabet), rng.integers(0, len(alphabet), n))


def _concat(*parts: pl.Series | str) -> pl.Series:
    """Element-wise string concatenation of Series and scalar strings."""
    return pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()


def _choice(rng: np.random.Generator, options: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """n draws from options with probabilities p (normalised here)."""
    return options[rng.choice(len(options), size=n, p=p / p.sum())]


def _ago(as_of: np.datetime64, seconds: np.ndarray) -> np.ndarray:
    """Timestamps `seconds` before as_of, to the second (microsecond dtype for Polars)."""
    return (as_of - np.asarray(np.round(seconds), dtype="timedelta64[s]")).astype("datetime64[us]")


def _sample_members(
    rng: np.random.Generator,
    territory: np.ndarray,
    member_territory: np.ndarray,
    member_rep: np.ndarray,
    member_weight: np.ndarray,
) -> np.ndarray:
    """For each record, a rep drawn from its territory's members in proportion to weight.

    One searchsorted over the members' cumulative weight shares offset by territory index:
    a record in territory t with draw u lands on the member whose slice of [t, t+1) holds u.
    """
    order = np.argsort(member_territory, kind="stable")
    mt, mr, mw = member_territory[order], member_rep[order], member_weight[order]
    n_terr = int(max(mt.max(), territory.max())) + 1
    totals = np.bincount(mt, weights=mw, minlength=n_terr)
    used = np.bincount(territory, minlength=n_terr) > 0
    empty = np.flatnonzero(used & (totals <= 0))
    if len(empty):
        raise ValueError(f"territories without a member to own records: {empty.tolist()}")
    before = np.cumsum(totals) - totals
    share = (np.cumsum(mw) - before[mt]) / totals[mt]
    share[np.r_[mt[1:] != mt[:-1], True]] = 1.0  # last member closes its slice exactly
    position = np.searchsorted(mt + share, territory + rng.random(len(territory)), side="right")
    return mr[np.minimum(position, len(mr) - 1)]
