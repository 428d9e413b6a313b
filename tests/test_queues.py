"""The queue helpers the policies share: GhostHashes, HashFifo and NodeLists, against models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cache_api.policies.queues import (
    GHOST_CELLS_PER_KEY,
    NO_OWNER,
    SEQUENCE_BITS,
    STALE_SLACK,
    GhostHashes,
    HashFifo,
    NodeLists,
)


def _cell_index(ghost: GhostHashes, h: int) -> int:
    return (h >> SEQUENCE_BITS) & ghost.mask


def test_ghost_remembers_the_last_size_adds_and_forgets_a_taken_key() -> None:
    ghost = GhostHashes(2)  # the last 2 adds, in a table of 8 cells
    a, b, c = (n << SEQUENCE_BITS for n in (1, 2, 3))  # three different cells
    for h in (a, b, c):
        ghost.add(h)
    assert not ghost.take(a)  # 2 adds ago: too old
    assert ghost.take(b)
    assert not ghost.take(b)  # taken: forgotten
    assert ghost.take(c)
    assert not ghost.take(4 << SEQUENCE_BITS)  # never added


def test_ghost_a_later_add_in_the_same_cell_forgets_the_earlier_key() -> None:
    ghost = GhostHashes(4)  # 16 cells
    a = 5 << SEQUENCE_BITS
    b = a + (16 << SEQUENCE_BITS)  # the same cell, another fingerprint
    ghost.add(a)
    ghost.add(b)
    assert _cell_index(ghost, a) == _cell_index(ghost, b)
    assert not ghost.take(a)
    assert ghost.take(b)


def test_ghost_growing_keeps_the_keys_its_cells_hold() -> None:
    ghost = GhostHashes(2)
    hashes = [n << SEQUENCE_BITS for n in range(1, 4)]
    for h in hashes:
        ghost.add(h)
    ghost.resize(100)  # a larger table, re-placed: the last 100 adds count now, as if it had
    assert len(ghost.cells) >= GHOST_CELLS_PER_KEY * 100  # always been this size
    assert [ghost.take(h) for h in hashes] == [True, True, True]
    ghost.resize(1)  # shrinking keeps the table and narrows the window
    ghost.add(hashes[0])
    ghost.add(hashes[1])
    assert [ghost.take(h) for h in hashes[:2]] == [False, True]


HASHES = st.integers(-(2**63), 2**63 - 1)


@given(
    size=st.integers(0, 12),
    pool=st.lists(HASHES, min_size=1, max_size=40, unique=True),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 39)), max_size=300),
)
def test_ghost_behaves_as_a_direct_mapped_window(
    size: int, pool: list[int], ops: list[tuple[bool, int]]
) -> None:
    """A hash is remembered exactly when it was added within the last ``size`` adds, not taken
    since, and no later add landed in its cell (pools of random 64-bit hashes, whose high bits
    collide in a small table)."""
    ghost = GhostHashes(size)
    window = max(size, 1)
    adds = 0
    cells: dict[int, tuple[int, int]] = {}  # cell -> (hash, number of the add) of its last add
    for is_add, n in ops:
        h = pool[n % len(pool)]
        cell = _cell_index(ghost, h)
        if is_add:
            ghost.add(h)
            adds += 1
            cells[cell] = (h, adds)
        else:
            last = cells.get(cell)
            expected = (
                last is not None
                and last[0] >> SEQUENCE_BITS == h >> SEQUENCE_BITS
                and adds - last[1] < window
            )
            assert ghost.take(h) == expected
            if expected:
                del cells[cell]


def test_hash_fifo_skips_taken_records_of_a_hash_queued_again() -> None:
    fifo = HashFifo()
    for h in (1, 2, 3):
        fifo.append(h)
    assert fifo.take(1)
    assert not fifo.take(1)
    fifo.append(1)  # behind 2 and 3 now; its taken record is still at the old end
    assert len(fifo) == 3
    assert [fifo.pop_oldest() for _ in range(3)] == [2, 3, 1]
    assert len(fifo) == 0
    with pytest.raises(IndexError):
        fifo.pop_oldest()


def test_hash_fifo_compacts_when_stale_records_pile_up() -> None:
    fifo = HashFifo()
    fifo.append(-1)
    for n in range(10 * STALE_SLACK):  # a ghost whose hashes all come back
        fifo.append(n * 2**40)
        assert fifo.take(n * 2**40)
        assert len(fifo._order) - fifo._read <= 2 * len(fifo) + STALE_SLACK + 1
    assert len(fifo) == 1
    assert fifo.pop_oldest() == -1


# Hashes that share their low bits, so that the index's chains, shifts and growth are exercised.
fifo_hashes = st.integers(0, 40).map(lambda n: (n % 5) + (n << 40) - (n % 2) * 2**62)


@given(ops=st.lists(st.tuples(st.sampled_from("aaptq"), fifo_hashes), max_size=400))
def test_hash_fifo_behaves_as_a_list(ops: list[tuple[str, int]]) -> None:
    """Appends (a queued hash moves to the newest end), pops of the oldest, takes of any hash
    and lookups match a plain list, and the records never exceed twice the live hashes plus
    the slack (and the one append)."""
    fifo = HashFifo()
    model: list[int] = []
    for op, h in ops:
        if op == "a":
            fifo.append(h)
            if h in model:
                model.remove(h)
            model.append(h)
        elif op == "p" and model:
            assert fifo.pop_oldest() == model.pop(0)
        elif op == "t":
            assert fifo.take(h) == (h in model)
            if h in model:
                model.remove(h)
        assert len(fifo) == len(model)
        assert len(fifo._order) - fifo._read <= 2 * len(model) + STALE_SLACK + 1
    assert [fifo.pop_oldest() for _ in range(len(model))] == model


def _contents(lists: NodeLists, head: int) -> list[int]:
    """The owners of the list of sentinel ``head``, oldest first, walked by ``next`` and
    checked against the walk back by ``prev``."""
    forward, slot = [], lists.oldest(head)
    while slot != head:
        forward.append(slot)
        slot = lists.next[slot]
    backward, slot = [], lists.prev[head]
    while slot != head:
        backward.append(slot)
        slot = lists.prev[slot]
    assert backward == forward[::-1]
    assert all(lists.tag[s] == head for s in forward)
    return [lists.owners[s] for s in forward]


def test_node_lists_by_hand() -> None:
    lists = NodeLists()
    a_list, b_list = lists.new_list(10), lists.new_list(20)
    assert lists.is_empty(a_list) and lists.tag[a_list] == 10
    x, y = lists.allocate(100), lists.allocate(101)
    lists.push_newest(a_list, x)
    lists.push_newest(a_list, y)
    assert _contents(lists, a_list) == [100, 101]
    lists.move_to_newest(a_list, x)
    assert _contents(lists, a_list) == [101, 100]
    lists.move_to_newest(b_list, y)
    assert _contents(lists, a_list) == [100] and _contents(lists, b_list) == [101]
    lists.unlink(x)
    lists.release(x)
    assert lists.is_empty(a_list) and lists.owners[x] == NO_OWNER
    assert lists.allocate(102) == x  # a released node is reused
    assert lists.remove(y) == 101  # unlink, release and the owner it held, at once
    assert lists.is_empty(b_list) and lists.owners[y] == NO_OWNER
    assert lists.allocate(103) == y
    lists.release(x)  # z leaves (it was in no list)
    v = lists.add(b_list, 104, 7)  # allocate, push_newest and a value, in one call
    assert v == x and lists.value[v] == 7 and _contents(lists, b_list) == [104]


@given(ops=st.lists(st.tuples(st.sampled_from("amud"), st.integers(0, 9), st.integers(0, 2))))
def test_node_lists_behave_as_python_lists(ops: list[tuple[str, int, int]]) -> None:
    """Appends, moves to the newest end (of the same list or another), unlinks with release,
    and drops of emptied lists: every list reads the same both ways as a model's."""
    lists = NodeLists()
    heads = [lists.new_list(n) for n in range(3)]
    model: list[list[int]] = [[], [], []]
    slot_of: dict[int, int] = {}
    for op, n, which in ops:
        k, head = n, heads[which]
        if op == "a" and k not in slot_of:
            if n % 2:
                slot_of[k] = lists.allocate(k)
                lists.push_newest(head, slot_of[k])
                lists.value[slot_of[k]] = n
            else:
                slot_of[k] = lists.add(head, k, n)  # the same three steps in one call
            model[which].append(k)
        elif op == "m" and k in slot_of:
            lists.move_to_newest(head, slot_of[k])
            for queue in model:
                if k in queue:
                    queue.remove(k)
            model[which].append(k)
        elif op == "u" and k in slot_of:
            slot = slot_of.pop(k)
            if n % 2:
                lists.unlink(slot)
                lists.release(slot)
            else:
                assert lists.remove(slot) == k
            for queue in model:
                if k in queue:
                    queue.remove(k)
        elif op == "d" and not model[which]:  # an emptied list goes, a new one takes its place
            lists.release(head)
            heads[which] = lists.new_list(which)
        for h, queue in zip(heads, model, strict=True):
            assert _contents(lists, h) == queue
            assert lists.is_empty(h) == (not queue)
        assert all(lists.value[slot] == k for k, slot in slot_of.items())
