"""Running the installed CLI as a user would, and timing it: wall time and peak memory of one
child process, medians, and a description of the machine the figures come from."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Variables of the developer's own setup that must not leak into a benchmark run.
_PRIVATE_VARIABLES = (
    "CURSOR_API_KEY",
    "CURSOR_API_BASE_URL",
    "CURSOR_BILLING_CONFIG",
    "CURSOR_BILLING_DATA_DIR",
    "CURSOR_BILLING_DEBUG",
    # pip byte-compiles a package it installs; a run without .pyc files would time the
    # compiler too (about 0.1 s a run), which no installed copy pays.
    "PYTHONDONTWRITEBYTECODE",
)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_bytes: int
    stdout_bytes: int
    stdout: str  # only when asked for


def byte_compile() -> None:
    """Byte-compile the package the CLI runs, as `pip install` does, before anything is timed."""
    import compileall

    import cursor_billing

    compileall.compile_dir(Path(cursor_billing.__file__).parent, quiet=1)


def cli_path() -> str:
    """The `cursor-billing` script installed beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "cursor-billing"
    if beside.exists():
        return str(beside)
    found = shutil.which("cursor-billing")
    if found is None:
        raise SystemExit("cursor-billing is not installed: pip install -e . first")
    return found


def clean_env(home: Path, **variables: str) -> dict[str, str]:
    """The environment of a user with no config of their own (config dir under `home`)."""
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE_VARIABLES}
    env["XDG_CONFIG_HOME"] = str(home / "xdg-config")
    env["XDG_CACHE_HOME"] = str(home / "xdg-cache")  # compiled templates: the bench's own
    env["COLUMNS"] = "120"
    env.update(variables)
    return env


def run(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    capture: bool = False,
    accept: tuple[int, ...] = (0,),
) -> Run:
    """Run one command to its end; wall time and the peak resident memory of that child alone.
    An exit code outside `accept` is an error (`check` exits 4 when it finds something).

    stdout goes to a file, never a pipe the harness would have to drain while timing."""
    out_path = cwd / ".bench-stdout"
    with open(out_path, "wb") as out, open(cwd / ".bench-stderr", "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in accept:
        message = (cwd / ".bench-stderr").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(args)} exited {child.returncode}:\n{message}")
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    stdout = out_path.read_text(errors="replace") if capture else ""
    return Run(seconds, peak, out_path.stat().st_size, stdout)


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired(numerators: list[float], denominators: list[float]) -> float:
    """The median of the ratios of runs made side by side (the i-th of each list in one round):
    pairing keeps a ratio meaningful when the shared machine's speed drifts between rounds."""
    if len(numerators) != len(denominators):
        raise ValueError("pairs need as many runs on each side")
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "commit": _commit(),
    }


def _commit() -> str:
    """The checked-out commit (read only), and whether the tree had local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changes = subprocess.run(
            # --no-optional-locks: never touch the index another process may be writing.
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} + local changes" if changes else head
