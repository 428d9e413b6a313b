"""Fast bulk loaders: pipelined HTTP PUTs over raw keep-alive sockets, memcached
text-protocol ``set … noreply`` and RESP for ``redis-cli --pipe``.

The HTTP loader keeps ``connections`` sockets open and has up to ``depth``
requests in flight on each (HTTP/1.1 pipelining), so a single Python process
can push tens of thousands of PUTs per second.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from procs import LOOPBACK, run_tool

KEY_PREFIX = "k:"
KEY_DIGITS = 7
DEFAULT_CONNECTIONS = 16
DEFAULT_DEPTH = 64
MAX_BATCH_BYTES = 1024 * 1024  # fewer requests in flight for big values
RECV_BYTES = 1 << 18
LOAD_TIMEOUT_S = 120.0  # memcached/redis loads
LOAD_TIMEOUT_BASE_S = 30.0
LOAD_MIN_RATE = 4000.0  # objects/s: an HTTP load slower than this is reported as hung
IO_TIMEOUT_S = 10.0
HEADER_END = b"\r\n\r\n"
STATUS_OFFSET = len(b"HTTP/1.1 ")
STATUS_DIGITS = 3
HTTP_OK = 200
MEMCACHED_BATCH = 2000
REDIS_KEY_FORMAT = "key:{:012d}"  # what redis-benchmark's -r substitutes


def key_name(n: int) -> str:
    """The cache key of object number ``n`` (``k:0000042``)."""
    return f"{KEY_PREFIX}{n:0{KEY_DIGITS}d}"


def value_bytes(size: int) -> bytes:
    """The value stored under every key: ``size`` bytes of 'v'."""
    return b"v" * size


@dataclass
class LoadReport:
    """Outcome of a bulk load."""

    count: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Objects per second."""
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> int:
        """Responses that were not 200."""
        return sum(n for code, n in self.statuses.items() if code != HTTP_OK)


def _put_request(key: str, body: bytes, ttl_s: int) -> bytes:
    """One serialized HTTP/1.1 PUT of ``body`` under ``key``."""
    head = (
        f"PUT /object/{key}?ttl={ttl_s} HTTP/1.1\r\nHost: {LOOPBACK}\r\n"
        f"Content-Type: application/octet-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Pipe:
    """One keep-alive connection with a pipelined batch in flight."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((LOOPBACK, port), timeout=IO_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.out = memoryview(b"")
        self.inbuf = bytearray()
        self.pending = 0

    def queue(self, requests: list[bytes]) -> None:
        """Queue a batch of serialized requests for sending."""
        self.out = memoryview(b"".join(requests))
        self.pending += len(requests)

    def flush(self) -> None:
        """Send as much of the queued batch as the socket takes."""
        if self.out:
            sent = self.sock.send(self.out)
            self.out = self.out[sent:]

    def read(self, statuses: dict[int, int]) -> None:
        """Read what arrived and count complete responses by status."""
        chunk = self.sock.recv(RECV_BYTES)
        if not chunk:
            raise ConnectionError("server closed a pipelined connection")
        self.inbuf += chunk
        self.pending -= _consume_responses(self.inbuf, statuses)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def _consume_responses(buf: bytearray, statuses: dict[int, int]) -> int:
    """Strip complete HTTP responses off the front of ``buf``; return how many."""
    done = 0
    pos = 0
    while True:
        head_end = buf.find(HEADER_END, pos)
        if head_end < 0:
            break
        head = bytes(buf[pos:head_end]).lower()
        length = 0
        marker = head.find(b"content-length:")
        if marker >= 0:
            line_end = head.find(b"\r\n", marker)
            raw = head[marker + len(b"content-length:") : line_end if line_end > 0 else None]
            length = int(raw.strip())
        end = head_end + len(HEADER_END) + length
        if end > len(buf):
            break
        status = int(head[STATUS_OFFSET : STATUS_OFFSET + STATUS_DIGITS])
        statuses[status] = statuses.get(status, 0) + 1
        done += 1
        pos = end
    del buf[:pos]
    return done


def _batches(keys: range, depth: int) -> Iterator[range]:
    """Split ``keys`` into consecutive ranges of at most ``depth``."""
    for start in range(keys.start, keys.stop, depth):
        yield range(start, min(start + depth, keys.stop))


def http_put_range(
    port: int,
    keys: range,
    size: int,
    ttl_s: int,
    *,
    connections: int = DEFAULT_CONNECTIONS,
    depth: int = DEFAULT_DEPTH,
    timeout_s: float | None = None,
) -> LoadReport:
    """PUT keys ``keys`` (numbers, see key_name) with ``size``-byte values.

    Fails after ``timeout_s`` (default: 30 s plus 1 s per 4,000 objects) or
    when the server sends nothing for IO_TIMEOUT_S.
    """
    if timeout_s is None:
        timeout_s = LOAD_TIMEOUT_BASE_S + len(keys) / LOAD_MIN_RATE
    body = value_bytes(size)
    depth = max(1, min(depth, MAX_BATCH_BYTES // max(size, 1)))
    batches = _batches(keys, depth)
    statuses: dict[int, int] = {}
    selector = selectors.DefaultSelector()
    pipes = [_Pipe(port) for _ in range(min(connections, max(1, len(keys))))]
    started = time.monotonic()
    try:
        for pipe in pipes:
            if _refill(pipe, batches, body, ttl_s):
                selector.register(pipe.sock, _events(pipe), pipe)
        while selector.get_map():
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"bulk load did not finish in {timeout_s}s")
            ready = selector.select(timeout=IO_TIMEOUT_S)
            if not ready:
                raise TimeoutError(f"server silent for {IO_TIMEOUT_S}s during bulk load")
            for sel_key, mask in ready:
                pipe = sel_key.data
                if mask & selectors.EVENT_WRITE:
                    pipe.flush()
                if mask & selectors.EVENT_READ:
                    pipe.read(statuses)
                if pipe.pending == 0 and not _refill(pipe, batches, body, ttl_s):
                    selector.unregister(pipe.sock)
                else:
                    selector.modify(pipe.sock, _events(pipe), pipe)
    finally:
        selector.close()
        for pipe in pipes:
            pipe.close()
    return LoadReport(len(keys), time.monotonic() - started, statuses)


def _events(pipe: _Pipe) -> int:
    """Selector events to wait for: read always, write while output is queued."""
    return selectors.EVENT_READ | (selectors.EVENT_WRITE if pipe.out else 0)


def _refill(pipe: _Pipe, batches: Iterator[range], body: bytes, ttl_s: int) -> bool:
    """Queue the next batch on ``pipe``; False when there is nothing left."""
    batch = next(batches, None)
    if batch is None:
        return False
    pipe.queue([_put_request(key_name(n), body, ttl_s) for n in batch])
    return True


def memcached_set_range(port: int, keys: range, size: int, ttl_s: int) -> LoadReport:
    """Store keys with memcached's text protocol (``noreply``), then sync."""
    body = value_bytes(size)
    started = time.monotonic()
    with socket.create_connection((LOOPBACK, port), timeout=LOAD_TIMEOUT_S) as sock:
        for batch in _batches(keys, MEMCACHED_BATCH):
            sock.sendall(
                b"".join(
                    f"set {key_name(n)} 0 {ttl_s} {size} noreply\r\n".encode() + body + b"\r\n"
                    for n in batch
                )
            )
        sock.sendall(b"version\r\n")
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                break
            reply += chunk
    if not reply.startswith(b"VERSION"):
        raise RuntimeError(f"memcached load failed: {reply[:200]!r}")
    return LoadReport(len(keys), time.monotonic() - started, {HTTP_OK: len(keys)})


def memcached_stats(port: int) -> dict[str, str]:
    """memcached's ``stats`` as a dict of strings."""
    with socket.create_connection((LOOPBACK, port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"stats\r\n")
        reply = b""
        while not reply.endswith(b"END\r\n"):
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                break
            reply += chunk
    stats: dict[str, str] = {}
    for line in reply.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT":
            stats[parts[1]] = parts[2]
    return stats


def _resp(*parts: bytes) -> bytes:
    """A RESP array of bulk strings (one redis command)."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def redis_set_commands(keys: range, size: int, ttl_s: int | None, key_format: str = "{}") -> bytes:
    """RESP for SET of every key (``key_format`` formats the key number)."""
    body = value_bytes(size)
    extra = (b"EX", str(ttl_s).encode()) if ttl_s else ()
    return b"".join(_resp(b"SET", key_format.format(n).encode(), body, *extra) for n in keys)


def redis_pipe(port: int, commands: bytes, timeout_s: float = LOAD_TIMEOUT_S) -> LoadReport:
    """Feed RESP ``commands`` to ``redis-cli --pipe``; fail unless all replied OK."""
    started = time.monotonic()
    done = run_tool(
        ["redis-cli", "-h", LOOPBACK, "-p", str(port), "--pipe"],
        timeout_s=timeout_s,
        stdin_data=commands,
    )
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0 or "errors: 0" not in output:
        raise RuntimeError(f"redis-cli --pipe failed: {output}{done.stderr!r}")
    replies = int(output.rsplit("replies:", 1)[1].split()[0])
    return LoadReport(replies, time.monotonic() - started, {HTTP_OK: replies})


def redis_info(port: int, section: str = "memory") -> dict[str, str]:
    """``INFO <section>`` of a redis-server as a dict of strings."""
    done = run_tool(
        ["redis-cli", "-h", LOOPBACK, "-p", str(port), "info", section],
        timeout_s=IO_TIMEOUT_S,
    )
    info: dict[str, str] = {}
    for line in done.stdout.decode(errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            info[name.strip()] = value.strip()
    return info
