"""What the benchmark ran on: processor, memory, load and the versions that matter."""

from __future__ import annotations

import os
import platform
import sqlite3
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    system: str
    python: str
    sqlite: str
    sqlalchemy: str
    psycopg: str


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def describe_machine() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gib=_memory_gib(),
        system=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        sqlalchemy=sqlalchemy.__version__,
        psycopg=psycopg.__version__,
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by one process of this machine (a server backend), from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU time used so far by the PostgreSQL server's processes on this machine.

    Read from /proc, so it is known only for a local server (None otherwise);
    the difference over an import shows how much of its time the server worked.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    found = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name_end = text.rfind(")")
        if text[text.find("(") + 1 : name_end] != "postgres":
            continue
        fields = text[name_end + 2 :].split()
        # utime and stime are fields 14 and 15 of /proc/PID/stat (1-based), that is
        # 11 and 12 after the name.
        total += int(fields[11]) + int(fields[12])
        found = True
    return total / ticks if found else None


def traced_peak(call: Callable[[], object]) -> int:
    """The peak of Python allocations during the call (tracemalloc), in bytes."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
