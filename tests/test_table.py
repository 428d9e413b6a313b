"""The store's table: slots, lookups by key in place, removal by backward shift, growth."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from librt.strings import BytesWriter, write_i16_le

from cache_api.table import EMPTY_BLOB, KEY_LENGTH_AT, MIN_CELLS, Table


def blob_of(key: bytes, value: bytes = b"v") -> bytes:
    """A blob as the store lays it out: ``KEY_LENGTH_AT`` bytes, the key's length, ..., the key."""
    writer = BytesWriter()
    writer.write(b"\0" * KEY_LENGTH_AT)
    write_i16_le(writer, len(key))
    writer.write(value)
    writer.write(key)
    return writer.getvalue()


def put(table: Table, key: bytes, key_hash: int) -> int:
    slot = table.claim(key_hash)
    table.entries[slot] = blob_of(key)
    return slot


def test_find_compares_the_whole_key_not_a_suffix_or_the_hash() -> None:
    table = Table()
    slot = put(table, b"ab", 7)
    assert table.find(b"ab", 7) == slot
    assert table.find(b"b", 7) == -1  # a suffix of the stored key, same hash
    assert table.find(b"xab", 7) == -1  # longer, ending with the stored key
    assert table.find(b"ab", 7 + 2**31) == slot  # only 31 bits of the hash are kept
    assert table.find(b"ab", 8) == -1


def test_a_removed_slot_is_reused_and_the_chain_behind_it_stays_findable() -> None:
    table = Table()
    slots = [put(table, b"k%d" % i, 3) for i in range(5)]  # one home cell: a chain of 5
    table.remove(slots[1])
    assert table.entries[slots[1]] == EMPTY_BLOB
    assert len(table) == 4
    assert [table.find(b"k%d" % i, 3) for i in range(5)] == [
        slots[0],
        -1,
        slots[2],
        slots[3],
        slots[4],
    ]
    assert put(table, b"new", 3) == slots[1]


def test_chains_that_wrap_around_the_end_of_the_cells() -> None:
    table = Table()
    last = MIN_CELLS - 1
    keys = [b"w%d" % i for i in range(4)]
    slots = {k: put(table, k, last) for k in keys}  # home: the last cell; three wrap to 0..2
    other = put(table, b"home0", 0)  # home 0, pushed behind the wrapped chain
    table.remove(slots[keys[0]])
    table.remove(slots[keys[2]])
    assert table.find(b"home0", 0) == other
    assert table.find(keys[1], last) == slots[keys[1]]
    assert table.find(keys[3], last) == slots[keys[3]]
    assert table.find(keys[0], last) == table.find(keys[2], last) == -1


# Few distinct hashes, so that chains, wrap-arounds and shifts are common.
hashes = st.integers(0, 11).map(lambda n: n * (MIN_CELLS // 2) + (n % 3) * 2**31)
ops = st.lists(st.tuples(st.booleans(), st.integers(0, 40), hashes), max_size=300)


@given(ops=ops)
def test_behaves_as_a_dict(ops: list[tuple[bool, int, int]]) -> None:
    """Inserts and removes with colliding hashes, across growths: every key is found at its
    slot, nothing else is found, live slots are distinct and the count is right."""
    table = Table()
    model: dict[bytes, tuple[int, int]] = {}
    for insert, n, key_hash in ops:
        key = b"key%d" % n
        if insert and key not in model:
            model[key] = (put(table, key, key_hash), key_hash)
        elif not insert and key in model:
            table.remove(model.pop(key)[0])
        assert len(table) == len(model)
    assert len({slot for slot, _ in model.values()}) == len(model)
    for n in range(41):
        key = b"key%d" % n
        for _, key_hash in model.values():
            found = table.find(key, key_hash)
            if key in model and model[key][1] == key_hash:
                assert found == model[key][0]
            else:
                assert found == -1
    for key, (slot, _) in model.items():
        assert table.entries[slot] == blob_of(key)
