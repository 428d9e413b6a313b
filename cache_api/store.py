"""The in-process store: entries, capacity, accounting, expiry and counters.

It knows nothing of HTTP. Every method takes ``now`` (monotonic seconds, read
once per request by the caller), so a request sees one instant and tests drive
time by hand. It is not thread-safe by design: the server touches it only from
its event-loop thread, as Redis does from its main thread.

Capacity is by count (``NUMBER_OF_SLOTS``, 0 = no limit) and by accounted bytes
(``MAX_MEMORY``, 0 = no limit). A write that does not fit first reclaims
expired entries, earliest first; only when none is left does it ask the
policy (``EVICTION_POLICY``) for victims, or refuse if the policy never evicts.
An entry larger than the whole byte capacity is refused before anything is
evicted.

Cost: get, put and delete are O(1) plus the policy's O(1) hooks, amortized
over the expiry wheel (see ``expiry``) and over the evictions a write needs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from librt.strings import (
    BytesWriter,
    read_f64_le,
    read_i16_le,
    read_i32_le,
    write_f64_le,
    write_i16_le,
    write_i32_le,
)
from mypy_extensions import i32, i64

from cache_api.expiry import COMPACT_MIN_REFS, ExpiryWheel
from cache_api.table import KEY_LENGTH_AT, MAX_KEY_BYTES, Table
from cache_api.types import FOREVER, Cache, Found, Key, Policy, PutResult

ENTRY_OVERHEAD_BYTES: Final = 59
"""Bytes one entry costs beyond its key, value and Content-Type lengths.

Measured as resident memory by ``bench/entry_overhead.py``: 1 M entries of
100-byte values with a TTL and the default Content-Type (shared between
entries, yet charged to each) grew RSS by this much per entry beyond those
lengths (2026-12-07; 107 B with a dict of key objects): the table's list
pointer, fingerprint and cells, the packed entry's ``bytes`` header and head, and the
wheel reference, with pymalloc's rounding. The policy's own bookkeeping is
added on top (``Policy.per_entry_bytes``).
"""

# Entry layout
# ------------
# What: each entry is ONE immutable ``bytes`` object in the table (``table``), ending with its key:
#   [expires_at: float64][type: uint8][key length: int16][handle: int32][value bytes][key]
#   [expires_at: float64][INLINE_TYPE][key length: int16][handle: int32][len: uint32][Content-Type]
#       [value bytes][key]                                                      (type = INLINE_TYPE)
# ``type`` indexes the store's table of distinct Content-Types, of which there
# are few (``MAX_SHARED_CONTENT_TYPES``); any beyond them are stored inline.
# ``handle`` is there only under a policy that ``keeps_handles``: the number
# its ``on_insert`` returned (see ``types.Policy``).
# Why: every Python object costs a header. An entry object, a float, a value
# object and a key object cost about 140 bytes more per entry than one packed
# object whose head is 11 bytes; a read answers with a copy (small) or a view
# (large) of the value alone. The key at the end lets the table compare it in
# place with a native ``endswith``, and the head stays at fixed offsets. The
# handle saves such a policy a slot -> node table for 4 bytes.
# Cost: a write copies the value once; a read unpacks 11 to 15 bytes, with
# ``librt.strings.read_f64_le`` / ``read_i32_le`` and a byte index: compiled, all are native,
# where ``struct`` built a tuple, a float and an int for every read (about 900 instructions).
ENTRY_HEAD: Final = struct.Struct("<dBh")
HANDLE: Final = struct.Struct("<i")
INLINE_TYPE_LENGTH: Final = struct.Struct("<I")
INLINE_TYPE: Final = 255
MAX_SHARED_CONTENT_TYPES: Final = INLINE_TYPE
"""Distinct Content-Types kept once in the store; entries of any others carry theirs."""
VIEW_FROM_BYTES: Final = 4096
"""Entries of at least this many bytes are read as a zero-copy view; smaller ones are
copied, which is cheaper than making a view (measured: 118 ns against 384 ns at 100 B)."""

COPY_ONCE_FROM_BYTES: Final = 4096
"""Values of at least this many bytes are packed by joining a packed head, the value and
the key (one copy of the value); smaller ones are written into a ``librt.strings.BytesWriter``,
whose native calls cost about 700 instructions less than ``struct``'s generic call, its boxed
float and the join, at the price of a second copy of the value."""
_pack_head: Final = ENTRY_HEAD.pack
TYPE_OFFSET: Final = 8
"""Where the type byte sits in ``ENTRY_HEAD``: after the float64 expiry."""
_HEAD_SIZE: Final = 11
"""``ENTRY_HEAD.size``, as a literal so that mypyc folds it (a test checks the two agree)."""
HANDLE_OFFSET: Final = _HEAD_SIZE
"""Where a policy's handle sits, when the policy keeps handles: after ``ENTRY_HEAD``."""
_HANDLE_SIZE: Final = 4
"""``HANDLE.size``, as a literal (a test checks the two agree)."""


def entry_size(key: Key, value: bytes, content_type: bytes, overhead: i64) -> i64:
    """The accounted bytes of one entry: the one size function."""
    return len(key) + len(value) + len(content_type) + overhead


@dataclass(frozen=True, slots=True)
class StoreStats:
    """A snapshot of the store's counters."""

    items: int
    bytes: int
    max_items: int
    max_bytes: int
    hits: int
    misses: int
    sets: int
    deletes: int
    evictions: int
    expirations: int
    rejected_writes: int


class Store(Cache):
    """Objects by key, with TTLs, capacity by count and bytes, and an eviction policy."""

    def __init__(self, policy: Policy, *, max_items: int = 0, max_bytes: int = 0) -> None:
        self._table = Table()
        self._entries = self._table.entries
        """The table's blobs by slot (the same list, read directly on every request)."""
        self._policy = policy
        self._wheel = ExpiryWheel()
        self._max_items: i64 = max_items
        self._max_bytes: i64 = max_bytes
        self._limited = bool(max_items or max_bytes)
        self._evicts = policy.evicts
        self._overhead: i64 = ENTRY_OVERHEAD_BYTES + policy.per_entry_bytes
        self._handles = policy.keeps_handles
        self._value_at: i64 = _HEAD_SIZE + _HANDLE_SIZE if self._handles else _HEAD_SIZE
        """Where a value (or an inline Content-Type's length) starts in an entry."""
        self._bytes: i64 = 0
        self._content_types: list[bytes] = []
        self._content_type_ids: dict[bytes, int] = {}
        self._last_type = b""
        self._last_type_id = -1
        """The last write's Content-Type and its id (-1: none yet); most clients send one."""
        self._writer = BytesWriter()
        """Where ``_pack`` builds every small entry: one writer for all, not one per write."""
        self.hits = 0
        self.misses = 0
        self.sets = 0
        self.deletes = 0
        self.evictions = 0
        self.expirations = 0
        self.rejected_writes = 0

    def __len__(self) -> int:
        return len(self._table)

    @property
    def policy(self) -> Policy:
        """The eviction policy in use."""
        return self._policy

    def get(self, key: Key, now: float) -> Found | None:
        """The live object at ``key``, or None if it is missing or expired (and then reclaimed)."""
        key_hash: i64 = hash(key)
        slot = self._table.find(key, key_hash)
        if slot >= 0:
            blob = self._entries[slot]
            if now < read_f64_le(blob, 0):
                self.hits += 1
                if self._handles:
                    self._policy.on_access(i64(read_i32_le(blob, HANDLE_OFFSET)))
                else:
                    self._policy.on_access(slot)
                content_type = blob[TYPE_OFFSET]
                if content_type != INLINE_TYPE:  # _decode's common case, inlined for speed
                    start = self._value_at
                    end = len(blob) - len(key)
                    if len(blob) < VIEW_FROM_BYTES:
                        return blob[start:end], self._content_types[content_type]
                    return memoryview(blob)[start:end], self._content_types[content_type]
                return self._decode(blob)
            self._expire(slot, blob)
        self.misses += 1
        return None

    def put(self, key: Key, value: bytes, content_type: bytes, ttl: int, now: float) -> PutResult:
        """Store ``value`` at ``key`` for ``ttl`` whole seconds (0 = forever).

        Returns ``STORED``, ``REJECTED_FULL`` (no room, the policy never evicts;
        an old value at ``key`` is kept) or ``TOO_LARGE`` (larger than ``MAX_MEMORY``).
        A key longer than ``table.MAX_KEY_BYTES`` is a ValueError (the API's limit is lower).
        """
        if len(key) > MAX_KEY_BYTES:
            raise ValueError(f"a key is at most {MAX_KEY_BYTES} bytes")
        size = entry_size(key, value, content_type, self._overhead)
        if self._max_bytes and size > self._max_bytes:
            self.rejected_writes += 1
            return PutResult.TOO_LARGE
        key_hash: i64 = hash(key)
        slot = self._table.find(key, key_hash)
        old: bytes | None = None
        replaced = None
        if slot >= 0:
            old = self._entries[slot]
            replaced = read_f64_le(old, 0)
            if replaced <= now:
                self._expire(slot, old)
                slot = -1
                old = replaced = None
        old_size: i64 = 0 if old is None else self._size_of(old)
        new_items: i64 = 0 if old is not None else 1
        if self._limited and not self._fits(new_items, size - old_size):
            self._reclaim_expired(now, new_items, size - old_size)
            if not self._evicts and not self._fits(new_items, size - old_size):
                self.rejected_writes += 1
                return PutResult.REJECTED_FULL
        if old is not None:
            self._release(slot, old, old_size)
        while self._limited and not self._fits(new_items, size):
            victim = self._policy.victim()
            blob = self._entries[victim]
            self._bytes -= self._size_of(blob)
            self._table.remove(victim)
            self.evictions += 1
        expires_at = now + ttl if ttl else FOREVER
        if slot < 0:
            slot = self._table.claim(key_hash)
        handle = self._policy.on_insert(slot, key_hash, expires_at)
        self._entries[slot] = self._pack(key, value, content_type, expires_at, handle)
        self._bytes += size
        if ttl:
            wheel = self._wheel
            wheel.add(slot, expires_at, replaced)
            if wheel.refs > COMPACT_MIN_REFS and wheel.needs_compaction(len(self._table)):
                self._rebuild_wheel()
        self.sets += 1
        return PutResult.STORED

    def delete(self, key: Key, now: float) -> bool:
        """Remove the entry at ``key``; False if it was missing or expired."""
        key_hash: i64 = hash(key)
        slot = self._table.find(key, key_hash)
        if slot < 0:
            return False
        blob = self._entries[slot]
        if read_f64_le(blob, 0) <= now:
            self._expire(slot, blob)
            return False
        self._unlink(slot, blob, self._size_of(blob))
        self.deletes += 1
        return True

    def expire_due(self, now: float, limit: int) -> int:
        """Reclaim up to ``limit`` entries expired at ``now``, earliest first; return how many."""
        reclaimed = 0
        while reclaimed < limit:
            slot = self._wheel.pop_expired(now, self._expiry_of)
            if slot is None:
                break
            self._expire(slot, self._entries[slot])
            reclaimed += 1
        return reclaimed

    def inspect(self, key: Key) -> tuple[Found, float] | None:
        """The object at ``key`` and its ``expires_at``, expired or not; no counter moves."""
        slot = self._table.find(key, hash(key))
        if slot < 0:
            return None
        blob = self._entries[slot]
        return self._decode(blob), read_f64_le(blob, 0)

    def all_keys(self) -> list[Key]:
        """Every stored key, expired or not; O(n), for tests and tools."""
        return [_key_of(blob) for blob in self._entries if blob]

    def stats(self) -> StoreStats:
        """A snapshot of the counters, items and bytes."""
        return StoreStats(
            items=len(self._table),
            bytes=self._bytes,
            max_items=self._max_items,
            max_bytes=self._max_bytes,
            hits=self.hits,
            misses=self.misses,
            sets=self.sets,
            deletes=self.deletes,
            evictions=self.evictions,
            expirations=self.expirations,
            rejected_writes=self.rejected_writes,
        )

    def _pack(
        self, key: Key, value: bytes, content_type: bytes, expires_at: float, handle: i64
    ) -> bytes:
        """One entry as one ``bytes`` object (see "Entry layout" above)."""
        type_id = self._last_type_id
        if type_id < 0 or content_type != self._last_type:
            type_id = self._type_id(content_type)
        if type_id != INLINE_TYPE:
            if len(value) < COPY_ONCE_FROM_BYTES:
                entry = self._writer
                entry.truncate(0)
                write_f64_le(entry, expires_at)
                entry.append(type_id)
                write_i16_le(entry, len(key))
                if self._handles:
                    write_i32_le(entry, i32(handle))
                entry.write(value)
                entry.write(key)
                return entry.getvalue()
            return b"".join((self._head(expires_at, type_id, len(key), handle), value, key))
        return b"".join(
            (
                self._head(expires_at, INLINE_TYPE, len(key), handle),
                INLINE_TYPE_LENGTH.pack(len(content_type)),
                content_type,
                value,
                key,
            )
        )

    def _type_id(self, content_type: bytes) -> int:
        """The id of ``content_type`` in the shared table (added if there is room), else
        ``INLINE_TYPE``; remembered as the last write's."""
        type_id = self._content_type_ids.get(content_type)
        if type_id is None:
            if len(self._content_types) >= MAX_SHARED_CONTENT_TYPES:
                return INLINE_TYPE
            type_id = self._content_type_ids[content_type] = len(self._content_types)
            self._content_types.append(content_type)
        self._last_type, self._last_type_id = content_type, type_id
        return type_id

    def _head(self, expires_at: float, type_id: int, key_length: int, handle: i64) -> bytes:
        """An entry's head: ``ENTRY_HEAD``, then the handle if the policy keeps handles."""
        if self._handles:
            return _pack_head(expires_at, type_id, key_length) + HANDLE.pack(handle)
        return _pack_head(expires_at, type_id, key_length)

    def _layout(self, blob: bytes) -> tuple[int, bytes]:
        """Where a packed entry's value starts, and its Content-Type."""
        type_id = blob[TYPE_OFFSET]
        if type_id != INLINE_TYPE:
            return self._value_at, self._content_types[type_id]
        type_start = self._value_at + INLINE_TYPE_LENGTH.size
        start = type_start + INLINE_TYPE_LENGTH.unpack_from(blob, self._value_at)[0]
        return start, blob[type_start:start]

    def _decode(self, blob: bytes) -> Found:
        """The value (copied when small, else a view) and Content-Type of a packed entry."""
        start, content_type = self._layout(blob)
        end = len(blob) - read_i16_le(blob, KEY_LENGTH_AT)
        value = blob[start:end] if len(blob) < VIEW_FROM_BYTES else memoryview(blob)[start:end]
        return value, content_type

    def _fits(self, new_items: i64, new_bytes: i64) -> bool:
        """Whether ``new_items`` more entries of ``new_bytes`` more bytes fit now."""
        if self._max_items and len(self._table) + new_items > self._max_items:
            return False
        return not self._max_bytes or self._bytes + new_bytes <= self._max_bytes

    def _reclaim_expired(self, now: float, new_items: i64, new_bytes: i64) -> None:
        """Reclaim expired entries, earliest first, until the write fits or none is left."""
        if not self._wheel.due(now):
            return
        while not self._fits(new_items, new_bytes):
            slot = self._wheel.pop_expired(now, self._expiry_of)
            if slot is None:
                return
            self._expire(slot, self._entries[slot])

    def _expire(self, slot: i64, blob: bytes) -> None:
        self._unlink(slot, blob, self._size_of(blob))
        self.expirations += 1

    def _unlink(self, slot: i64, blob: bytes, size: i64) -> None:
        """Remove the entry ``blob`` at ``slot``, of accounted ``size``."""
        self._table.remove(slot)
        self._release(slot, blob, size)

    def _release(self, slot: i64, blob: bytes, size: i64) -> None:
        """Give back the bytes and the policy's place of the entry ``blob`` at ``slot``, of
        accounted ``size``; the table still holds it (an overwrite replaces it in place)."""
        self._bytes -= size
        if self._handles:
            self._policy.on_delete(i64(read_i32_le(blob, HANDLE_OFFSET)))
        else:
            self._policy.on_delete(slot)

    def _size_of(self, blob: bytes) -> i64:
        """``entry_size`` of a stored entry, from its lengths (nothing is copied)."""
        start, content_type = self._layout(blob)
        return len(blob) - start + len(content_type) + self._overhead

    def _expiry_of(self, slot: int) -> float | None:
        blob = self._entries[slot]
        return read_f64_le(blob, 0) if blob else None

    def _rebuild_wheel(self) -> None:
        """Drop stale references: re-index every entry with a finite TTL. O(n), after ≥ n writes."""
        self._wheel.clear()
        entries = self._entries
        for slot in range(len(entries)):
            blob = entries[slot]
            if blob:
                expires_at = read_f64_le(blob, 0)
                if expires_at != FOREVER:
                    self._wheel.add(slot, expires_at)


def _key_of(blob: bytes) -> Key:
    """The key a stored entry ends with."""
    return blob[len(blob) - read_i16_le(blob, KEY_LENGTH_AT) :]
