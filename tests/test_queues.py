"""The queue helpers the policies share: ``GhostKeys`` against a model of its promise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cache_api.policies.queues import GhostKeys


def test_ghost_keeps_the_last_generation_and_drops_older_ones_together() -> None:
    ghost = GhostKeys(4)  # generations of 2 keys
    for k in (b"a", b"b", b"c"):
        ghost.add(k)
    assert len(ghost) == 3  # a, b (older); c (recent)
    ghost.add(b"d")  # recent is full: it becomes the older generation, a and b go
    assert not ghost.take(b"a")
    assert not ghost.take(b"b")
    assert ghost.take(b"c")
    assert not ghost.take(b"c")  # taken: forgotten
    assert ghost.take(b"d")
    assert len(ghost) == 0


def test_ghost_take_forgets_a_key_added_twice() -> None:
    ghost = GhostKeys(4)
    for k in (b"a", b"b", b"a"):  # the second a lands in the recent generation, the first stays
        ghost.add(k)
    assert ghost.take(b"a")
    assert not ghost.take(b"a")


OPS = st.lists(st.tuples(st.booleans(), st.integers(0, 30)), max_size=300)


@given(size=st.integers(0, 12), ops=OPS)
def test_ghost_remembers_its_last_half_size_of_adds(size: int, ops: list[tuple[bool, int]]) -> None:
    """A key added within the last ``size // 2`` adds, and not taken since, is remembered; a
    key taken since its last add (or never added) is not; at most ``size`` keys (one) are held."""
    ghost = GhostKeys(size)
    generation = max(size // 2, 1)
    adds = 0
    last_add: dict[bytes, int] = {}  # key -> number of the add, for keys not taken since
    for is_add, n in ops:
        k = str(n).encode()
        if is_add:
            ghost.add(k)
            adds += 1
            last_add[k] = adds
        else:
            remembered = ghost.take(k)
            added = last_add.pop(k, None)
            if added is None:
                assert not remembered
            elif adds - added < generation:
                assert remembered
        assert len(ghost) <= 2 * generation
