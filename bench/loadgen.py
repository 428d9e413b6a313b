"""Run the load generators (wrk, redis-benchmark) and parse what they print."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from procs import LOOPBACK, run_tool

WRK_DIR = Path(__file__).resolve().parent / "wrk"
WRK_THREADS = 1  # one load-generator core, one thread
WRK_TIMEOUT_S = 5
TOOL_SLACK_S = 20.0  # startup, Lua init and teardown on top of the duration
US_PER_UNIT = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
BYTES_PER_UNIT = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


@dataclass
class LoadResult:
    """One load-generator measurement."""

    rps: float
    p50_ms: float | None
    p99_ms: float | None
    requests: int
    errors: int  # socket errors (connect/read/write/timeout)
    non_2xx: int
    transfer_bytes_s: float | None = None


def _duration_us(text: str) -> float:
    """A wrk duration such as ``1.23ms`` in microseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unparsable wrk duration {text!r}")
    return float(match.group(1)) * US_PER_UNIT[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Parse ``wrk --latency`` output into a LoadResult."""
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps_match:
        raise ValueError(f"no Requests/sec in wrk output:\n{output}")
    latency = {
        pct: _duration_us(value) / US_PER_UNIT["ms"]
        for pct, value in re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE)
    }
    total_match = re.search(r"(\d+) requests in", output)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    transfer_match = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    transfer = None
    if transfer_match:
        transfer = float(transfer_match.group(1)) * BYTES_PER_UNIT.get(transfer_match.group(2), 1)
    return LoadResult(
        rps=float(rps_match.group(1)),
        p50_ms=latency.get("50"),
        p99_ms=latency.get("99"),
        requests=int(total_match.group(1)) if total_match else 0,
        errors=errors,
        non_2xx=int(non_2xx_match.group(1)) if non_2xx_match else 0,
        transfer_bytes_s=transfer,
    )


def run_wrk(
    port: int,
    script: str,
    script_args: list[str],
    connections: int,
    duration_s: int,
) -> LoadResult:
    """Run wrk with one of the Lua scripts in bench/wrk/ against a loopback port."""
    cmd = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{duration_s}s",
        f"--timeout={WRK_TIMEOUT_S}s",
        "--latency",
        "-s",
        str(WRK_DIR / script),
        f"http://{LOOPBACK}:{port}",
        "--",
        *script_args,
    ]
    done = run_tool(cmd, timeout_s=duration_s + TOOL_SLACK_S)
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(
            f"wrk failed ({done.returncode}): {done.stderr.decode(errors='replace')}\n{output}"
        )
    return parse_wrk(output)


def parse_redis_csv(output: str) -> dict[str, LoadResult]:
    """Parse ``redis-benchmark --csv`` output: test name -> LoadResult."""
    results: dict[str, LoadResult] = {}
    for row in csv.DictReader(io.StringIO(output)):
        test = row.get("test", "").upper()
        if not test:
            continue
        results[test] = LoadResult(
            rps=float(row["rps"]),
            p50_ms=float(row["p50_latency_ms"]) if "p50_latency_ms" in row else None,
            p99_ms=float(row["p99_latency_ms"]) if "p99_latency_ms" in row else None,
            requests=0,
            errors=0,
            non_2xx=0,
        )
    return results


def run_redis_benchmark(
    port: int,
    tests: str,
    *,
    value_bytes: int,
    connections: int,
    requests: int,
    keyspace: int,
    timeout_s: float,
) -> dict[str, LoadResult]:
    """Run redis-benchmark (no pipelining, random keys) and return per-test results."""
    cmd = [
        "redis-benchmark",
        "-h",
        LOOPBACK,
        "-p",
        str(port),
        "-t",
        tests,
        "-d",
        str(value_bytes),
        "-c",
        str(connections),
        "-n",
        str(requests),
        "-P",
        "1",
        "-r",
        str(keyspace),
        "--csv",
    ]
    done = run_tool(cmd, timeout_s=timeout_s)
    output = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(
            f"redis-benchmark failed ({done.returncode}): "
            f"{done.stderr.decode(errors='replace')}\n{output}"
        )
    results = parse_redis_csv(output)
    for result in results.values():
        result.requests = requests
    return results
