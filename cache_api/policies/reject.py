"""REJECT: never evict; a write that does not fit is refused (HTTP 507).

The original service's default. It keeps no order, so it costs O(1) and no
bytes per entry: the cheapest policy, for caches sized never to fill.
"""

from typing import ClassVar

from cache_api.types import Policy


class Reject(Policy):
    """Evicts nothing. O(1) per operation, 0 bytes per entry.

    ``Policy`` itself tracks nothing and refuses to name a victim; this names it.
    """

    name: ClassVar[str] = "REJECT"
    evicts: ClassVar[bool] = False
    per_entry_bytes: ClassVar[int] = 0
