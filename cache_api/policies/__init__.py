"""Eviction policies, each a small class behind the ``types.Policy`` hooks.

``REGISTRY`` maps the ``EVICTION_POLICY`` setting's values to the classes;
adding a policy means adding one module and one row here.
"""

from cache_api.policies.capacity import CapacityAware
from cache_api.policies.fifo import NewestFirst, OldestFirst
from cache_api.policies.lfu import LFU
from cache_api.policies.lru import LRU
from cache_api.policies.reject import Reject
from cache_api.policies.s3fifo import S3Fifo
from cache_api.policies.sieve import Sieve
from cache_api.policies.volatile_ttl import VolatileTtl
from cache_api.policies.wtinylfu import WTinyLfu, WTinyLfuAdaptive
from cache_api.types import Policy

REGISTRY: dict[str, type[Policy]] = {
    "REJECT": Reject,
    "OLDEST_FIRST": OldestFirst,
    "NEWEST_FIRST": NewestFirst,
    "LRU": LRU,
    "SIEVE": Sieve,
    "S3_FIFO": S3Fifo,
    "W_TINYLFU": WTinyLfu,
    "W_TINYLFU_ADAPTIVE": WTinyLfuAdaptive,
    "LFU": LFU,
    "VOLATILE_TTL": VolatileTtl,
}


def make_policy(name: str, capacity: int = 0) -> Policy:
    """A new, empty policy for the ``EVICTION_POLICY`` value ``name``.

    ``capacity`` is the most entries the store will hold (``NUMBER_OF_SLOTS``),
    or 0 if only bytes bound it or nothing does. Policies that size queues by
    it (``capacity.CapacityAware``) then learn it from the live entry count at
    the first eviction; the others ignore it.
    """
    policy_class = REGISTRY[name]
    if issubclass(policy_class, CapacityAware):
        return policy_class(capacity)
    return policy_class()


__all__ = ["REGISTRY", "make_policy"]
