"""Hedge: how W_TINYLFU_ADAPTIVE shares its evictions between recency and frequency.

What: two experts propose a victim whenever the cache is full. *Recency*
names the least recently used entry (LRU's choice); *frequency* names the
loser of W-TinyLFU's admission contest. ``choose_recency()`` says which one
this eviction follows, so that over many evictions recency decides a
``recency_share`` of them. When a key that one expert evicted is requested
again soon after (its ghost remembers it), that expert erred, and the share
moves away from it.

Algorithm: Hedge (Freund & Schapire, "A decision-theoretic generalization of
on-line learning", 1997) over the two experts, as LeCaR (Vietri et al.,
"Driving Cache Replacement with ML-based LeCaR", HotStorage 2018) and
CACHEUS (Rodriguez et al., FAST 2021) use it for LRU and LFU: each mistake
multiplies the erring expert's weight by ``exp(-LEARNING_RATE x loss)``.
Only the expert that was followed can be caught erring, and the rarely
followed one is followed rarely, so a mistake's loss is weighted by the
inverse of that expert's share, as EXP3 does (Auer et al., 2002), capped at
``MAX_LOSS``. The choice is deterministic: a credit accumulates the share
and recency is followed each time it reaches one (error diffusion), so the
same requests always give the same evictions. Neither share falls below
``MIN_SHARE``, so that a change of workload can still be noticed.

Why: the window that W_TINYLFU_ADAPTIVE's ghosts resize reacts one entry per
ghost hit; where recency wins from the first eviction on (the ``sprite`` file
system trace at 10 %), it loses hundreds of misses while it grows. Hedge moves
the share by a constant factor per mistake, so a dozen mistakes turn the
policy into LRU, and as many the other way turn it back.

Parameters: ``LEARNING_RATE``, ``MAX_LOSS``, ``START_SHARE``, ``MIN_SHARE``.

Cost: O(1) per eviction (an addition and a comparison) and per mistake (one
``exp``); three floats of state.
"""

from __future__ import annotations

import math
from typing import Final, final

LEARNING_RATE: Final = 0.1
"""Hedge's rate: a mistake of loss 1 multiplies the erring expert's weight by exp(-0.1)."""

MAX_LOSS: Final = 3.0
"""Cap on a mistake's importance-weighted loss (1 / the erring expert's share)."""

START_SHARE: Final = 0.05
"""Recency's share of the evictions at first: mostly W-TinyLFU, which loops and scans need."""

MIN_SHARE: Final = 0.003
"""Least share of the evictions either expert keeps."""


@final
class Hedge:
    """The share of evictions recency decides, learned from each expert's mistakes. O(1)."""

    def __init__(self, start_share: float = START_SHARE, min_share: float = MIN_SHARE) -> None:
        self.recency_share = start_share
        """Of the evictions, the share that follows recency (the rest follow frequency)."""
        self.min_share = min_share
        self._credit = 0.0

    def choose_recency(self) -> bool:
        """Whether this eviction follows recency (``recency_share`` of the calls, evenly spread)."""
        credit = self._credit + self.recency_share
        if credit >= 1.0:
            self._credit = credit - 1.0
            return True
        self._credit = credit
        return False

    def recency_erred(self) -> None:
        """A key recency evicted was requested again: follow recency less."""
        share = self.recency_share
        self._set(share * self._penalty(share), 1.0 - share)

    def frequency_erred(self) -> None:
        """A key frequency evicted was requested again: follow recency more."""
        share = self.recency_share
        self._set(share, (1.0 - share) * self._penalty(1.0 - share))

    def _penalty(self, share: float) -> float:
        """The factor on the weight of an expert that erred while followed ``share`` of the
        time."""
        loss = MAX_LOSS if share * MAX_LOSS <= 1.0 else 1.0 / share
        return math.exp(-LEARNING_RATE * loss)

    def _set(self, recency: float, frequency: float) -> None:
        share = recency / (recency + frequency)
        self.recency_share = min(max(share, self.min_share), 1.0 - self.min_share)
