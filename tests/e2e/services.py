"""Process management and throwaway backing services (PostgreSQL, Redis) for the e2e harness.

Everything here is pytest-free library code.  Every process is started in its own session (and
therefore its own process group) and tagged with a unique environment marker, so teardown can stop
exactly the processes this harness started, by pid / process group, and never by name:

* ``killpg(pgid, ...)`` reaches the component and everything that stayed in its group;
* processes that moved to their own process group (the Airflow task supervisor ``setpgid``'s each
  task process, the triggerer does the same for its trigger runner) are found through the ``/proc``
  parent tree and, should they have been orphaned, through the environment marker they inherited.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Environment variable carrying the per-deployment marker (inherited by every descendant process).
MARKER_ENV = "AIRFLOW_E2E_DEPLOYMENT"
#: Environment variable carrying the per-process marker (``<component>-<index>-<generation>``).
PROCESS_MARKER_ENV = "AIRFLOW_E2E_PROCESS"


class ServiceError(RuntimeError):
    """A managed process or backing service failed to start, or died unexpectedly."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now.

    There is an unavoidable race between closing the probe socket and the service binding the port;
    it is acceptable for tests, and services fail loudly (with their log) when it happens.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> bool:
    """Wait until something accepts TCP connections on ``host:port``; return whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        time.sleep(0.2)
    return False


def tail(path: Path, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a text file (empty string when it does not exist)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    text = data[-200_000:].decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# /proc helpers (Linux only; the harness targets the Debian CI machine)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    """A snapshot of one running process."""

    pid: int
    ppid: int
    pgid: int
    start_time: int  # clock ticks since boot; with ``pid`` it identifies a process despite pid reuse
    cmdline: str


def _read_stat(pid: int) -> tuple[int, int, int] | None:
    """Return ``(ppid, pgid, starttime)`` of ``pid`` from ``/proc/<pid>/stat``, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    if fields[0] == "Z":  # zombies are already dead; their parent reaps them
        return None
    return int(fields[1]), int(fields[2]), int(fields[19])


def process_info(pid: int) -> ProcessInfo | None:
    """Return a snapshot of ``pid`` or None when it no longer exists (or is a zombie)."""
    stat = _read_stat(pid)
    if stat is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmdline = ""
    return ProcessInfo(pid=pid, ppid=stat[0], pgid=stat[1], start_time=stat[2], cmdline=cmdline.strip())


def all_processes() -> list[ProcessInfo]:
    """Snapshot every live process on the machine."""
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := process_info(int(entry))) is not None:
            result.append(info)
    return result


def descendants(root_pid: int) -> list[ProcessInfo]:
    """Return all live descendants of ``root_pid`` (not including it), parents before children."""
    children: dict[int, list[ProcessInfo]] = {}
    for info in all_processes():
        children.setdefault(info.ppid, []).append(info)
    result: list[ProcessInfo] = []
    queue = [root_pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            result.append(child)
            queue.append(child.pid)
    return result


def processes_with_env(name: str, value: str) -> list[ProcessInfo]:
    """Return live processes whose environment contains ``name=value`` (needs same uid or root)."""
    needle = f"{name}={value}".encode()
    result = []
    for info in all_processes():
        if info.pid == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{info.pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in environ:
            result.append(info)
    return result


def _still_same(info: ProcessInfo) -> bool:
    """Whether the process in a snapshot is still alive (and its pid was not reused)."""
    stat = _read_stat(info.pid)
    return stat is not None and stat[2] == info.start_time


def signal_processes(infos: Iterable[ProcessInfo], sig: int) -> None:
    """Send ``sig`` to each snapshotted process that is still the same process."""
    for info in infos:
        if _still_same(info):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(info.pid, sig)


def wait_gone(infos: Sequence[ProcessInfo], timeout: float) -> list[ProcessInfo]:
    """Wait until the snapshotted processes are gone; return those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    alive = [i for i in infos if _still_same(i)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [i for i in alive if _still_same(i)]
    return alive


# --------------------------------------------------------------------------------------------------
# Managed process
# --------------------------------------------------------------------------------------------------


def _user_ids(user: str | None) -> tuple[int | None, int | None, list[int] | None]:
    """uid, gid and (empty) supplementary groups to run a child as ``user``; Nones keep ours."""
    if user is None:
        return None, None, None
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid, []


class ManagedProcess:
    """One long-running child process with its output captured to a log file.

    The process runs in a new session, so its pid is also its process-group id.  ``stop`` and
    ``kill`` signal that group and every descendant that left it, and wait until all are gone.
    Restarting (``start`` after ``stop``/``kill``) appends to the same log file after a marker line.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
        user: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.stop_signal = stop_signal
        self.user = user
        self.generation = 0
        self.proc: subprocess.Popen[bytes] | None = None
        #: Set when the harness stopped/killed it on purpose, so liveness checks do not complain.
        self.expected_down = True

    @property
    def pid(self) -> int | None:
        """Pid (= process-group id) of the current incarnation, or None if never started."""
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        """Start (or restart) the process; raises ServiceError if it is still running."""
        if self.is_running():
            raise ServiceError(f"{self.name} is already running (pid {self.pid})")
        self.generation += 1
        env = dict(self.env)
        env[PROCESS_MARKER_ENV] = f"{self.name}-{self.generation}-{os.getpid()}"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(
                f"\n===== e2e harness: starting {self.name} (generation {self.generation}) =====\n".encode()
            )
            log.flush()
            uid, gid, groups = _user_ids(self.user)
            self.proc = subprocess.Popen(
                self.argv,
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session => own process group, pgid == pid
                user=uid,
                group=gid,
                extra_groups=groups,
            )
        self.expected_down = False

    def is_running(self) -> bool:
        """Whether the main process of the current incarnation is alive."""
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self) -> int | None:
        """Exit code of the current incarnation, None while running or never started."""
        return None if self.proc is None else self.proc.poll()

    def tree(self) -> list[ProcessInfo]:
        """Snapshot the main process and all its live descendants."""
        if not self.is_running() or self.pid is None:
            return []
        root = process_info(self.pid)
        return ([root] if root else []) + descendants(self.pid)

    def orphans(self) -> list[ProcessInfo]:
        """Live processes of the current incarnation found by marker (includes re-parented orphans)."""
        if self.generation == 0:
            return []
        return processes_with_env(PROCESS_MARKER_ENV, f"{self.name}-{self.generation}-{os.getpid()}")

    def stop(self, grace: float = 20.0) -> None:
        """Stop gracefully, like systemd's ``KillMode=mixed``.

        ``stop_signal`` goes to the main process only, so it can shut down its own children in
        order (a Celery warm shutdown, the triggerer stopping its trigger runner, ...); whatever
        of the tree is still alive after ``grace`` seconds is SIGKILLed, group by group.
        """
        self.expected_down = True
        if self.proc is None:
            return
        victims = self._snapshot()
        if self.is_running():
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
        # Children get a moment to follow their parent before being killed.
        wait_gone(victims, timeout=2.0)
        self._kill_all(victims)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process tree at once; with the default SIGKILL this is a crash.

        Every process-group led by a process of the tree gets ``sig`` (so does any process of
        the tree outside those groups); with another signal, survivors are SIGKILLed after 5 s.
        """
        self.expected_down = True
        if self.proc is None:
            return
        victims = self._snapshot()
        self._signal_tree(victims, sig)
        if sig != signal.SIGKILL:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5.0)
        self._kill_all(victims)

    def _snapshot(self) -> list[ProcessInfo]:
        # Taken before signalling: once a parent dies its children are re-parented and the tree
        # cannot be walked any more.  The marker sweep in _kill_all catches anything missed here.
        return list({v.pid: v for v in self.tree() + self.orphans()}.values())

    def _signal_tree(self, victims: list[ProcessInfo], sig: int) -> None:
        assert self.proc is not None
        victim_pids = {v.pid for v in victims}
        # Whole groups led by processes of this tree (never a foreign group) ...
        groups = {v.pgid for v in victims if v.pgid in victim_pids}
        if self.is_running():
            groups.add(self.proc.pid)
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
        # ... and individually the members of the tree outside these groups.
        signal_processes([v for v in victims if v.pgid not in groups], sig)

    def _kill_all(self, victims: list[ProcessInfo]) -> None:
        """SIGKILL what is left of ``victims`` plus late/orphaned marker processes; reap the main pid."""
        assert self.proc is not None
        leftovers = [v for v in list({v.pid: v for v in victims + self.orphans()}.values()) if _still_same(v)]
        if leftovers:
            self._signal_tree(leftovers, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if still := wait_gone(leftovers, timeout=10):
            raise ServiceError(f"{self.name}: processes survived SIGKILL: {[p.pid for p in still]}")

    def log_text(self) -> str:
        """Full captured output (all generations)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def describe(self, lines: int = 40) -> str:
        """Status line plus the tail of the log, for error messages."""
        if self.proc is None:
            status = "never started"
        elif self.is_running():
            status = f"running (pid {self.pid})"
        else:
            status = f"exited with code {self.exit_code()}"
        header = f"--- {self.name}: {status}; log {self.log_path} (last {lines} lines) ---"
        return f"{header}\n{tail(self.log_path, lines)}"


# --------------------------------------------------------------------------------------------------
# PostgreSQL and Redis
# --------------------------------------------------------------------------------------------------


def find_postgres_bin_dir() -> Path | None:
    """Locate the directory holding ``initdb``/``postgres``.

    Debian installs them under ``/usr/lib/postgresql/<major>/bin`` (not on PATH); prefer the
    newest major version there, then fall back to PATH.
    """
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
        reverse=True,
    )
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    return None


def find_redis_server() -> Path | None:
    """Locate the ``redis-server`` binary."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    return Path(found) if found else None


def missing_services(postgres: bool = True, redis: bool = True) -> list[str]:
    """Names of missing binaries needed for the Celery/PostgreSQL setup (empty when all present)."""
    missing = []
    if postgres and find_postgres_bin_dir() is None:
        missing.append("postgresql (initdb/postgres)")
    if redis and find_redis_server() is None:
        missing.append("redis-server")
    return missing


class PostgresServer:
    """A throwaway PostgreSQL cluster (``initdb`` in a temp dir) on a free 127.0.0.1 port.

    PostgreSQL refuses to run as root, so when the tests run as root the cluster is created and run
    as the ``postgres`` system user (created by the Debian package).  The data directory therefore
    lives in its own ``mkdtemp`` directory owned by that user, outside pytest's root-only tmp dir.
    Durability is switched off (``fsync=off`` etc.): the cluster only lives for one test.
    """

    def __init__(self, log_dir: Path, env: Mapping[str, str], database: str = "airflow") -> None:
        bin_dir = find_postgres_bin_dir()
        if bin_dir is None:
            raise ServiceError("PostgreSQL binaries not found; run scripts/install-os-packages.sh")
        self.bin_dir = bin_dir
        self.database = database
        self.user = "airflow"  # database role; the OS user is only relevant for file ownership
        self.port = free_port()
        self.os_user = "postgres" if os.geteuid() == 0 else None
        self.base_dir = Path(tempfile.mkdtemp(prefix="airflow-e2e-pg-"))
        self.data_dir = self.base_dir / "data"
        self.log_dir = log_dir
        self._env = dict(env)
        self.process: ManagedProcess | None = None

    @property
    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL for Airflow (psycopg2 driver)."""
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def celery_result_backend(self) -> str:
        """Celery result backend URL pointing at the same database."""
        return f"db+postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, argv: Sequence[str], timeout: float = 120) -> None:
        uid, gid, groups = _user_ids(self.os_user)
        result = subprocess.run(
            list(argv),
            env=self._env,
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=uid,
            group=gid,
            extra_groups=groups,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"{argv[0]} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )

    def start(self, timeout: float = 60.0) -> None:
        """``initdb``, start ``postgres`` in the foreground (so we own its pid), create the database."""
        if self.os_user is not None:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.base_dir, pw.pw_uid, pw.pw_gid)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",  # only reachable from 127.0.0.1 and a private socket dir
                "--encoding=UTF8",
                "--no-instructions",
                "--no-sync",
            ]
        )
        self.process = ManagedProcess(
            "postgres",
            [
                str(self.bin_dir / "postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-k",
                str(self.base_dir),  # unix socket in the private dir, not /var/run/postgresql
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            env=self._env,
            log_path=self.log_dir / "postgres.log",
            cwd=self.base_dir,
            stop_signal=signal.SIGINT,  # "fast" shutdown; SIGTERM would wait for clients
            user=self.os_user,
        )
        self.process.start()
        deadline = time.monotonic() + timeout
        while True:
            if not self.process.is_running():
                raise ServiceError(f"postgres exited during start-up\n{self.process.describe()}")
            probe = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
                timeout=10,
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise ServiceError(f"postgres not ready after {timeout}s\n{self.process.describe()}")
            time.sleep(0.3)
        self._run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                self.database,
            ]
        )

    def stop(self) -> None:
        """Stop the server and delete the cluster directory."""
        if self.process is not None:
            self.process.stop(grace=20)
        shutil.rmtree(self.base_dir, ignore_errors=True)


class RedisServer:
    """A private ``redis-server`` on a free 127.0.0.1 port, without persistence."""

    def __init__(self, work_dir: Path, env: Mapping[str, str]) -> None:
        binary = find_redis_server()
        if binary is None:
            raise ServiceError("redis-server not found; run scripts/install-os-packages.sh")
        self.port = free_port()
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess(
            "redis",
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work_dir),
                "--daemonize",
                "no",
            ],
            env=env,
            log_path=work_dir / "redis.log",
            cwd=work_dir,
        )

    @property
    def url(self) -> str:
        """Broker URL for Celery."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until the port accepts connections."""
        self.process.start()
        if not wait_for_port(self.port, timeout):
            raise ServiceError(f"redis not listening after {timeout}s\n{self.process.describe()}")

    def stop(self) -> None:
        """Stop the server."""
        self.process.stop(grace=10)
