"""Eviction policies, each a small class behind the ``types.Policy`` hooks.

``REGISTRY`` maps the ``EVICTION_POLICY`` setting's values to the classes;
adding a policy means adding one module and one row here.
"""

from cache_api.policies.fifo import NewestFirst, OldestFirst
from cache_api.policies.lru import LRU
from cache_api.policies.reject import Reject
from cache_api.types import Policy

REGISTRY: dict[str, type[Policy]] = {
    "REJECT": Reject,
    "OLDEST_FIRST": OldestFirst,
    "NEWEST_FIRST": NewestFirst,
    "LRU": LRU,
}


def make_policy(name: str) -> Policy:
    """A new, empty policy for the ``EVICTION_POLICY`` value ``name``."""
    return REGISTRY[name]()


__all__ = ["REGISTRY", "make_policy"]
