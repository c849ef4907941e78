"""A real, throwaway Airflow 3 deployment on 127.0.0.1 for end-to-end tests (pytest-free).

Typical use::

    dep = AirflowDeployment(tmp_path, dags_folder=dags)
    try:
        dep.start()
        dep.unpause("my_dag")
        run_id = dep.trigger("my_dag", conf={"x": 1})
        assert dep.wait_for_run("my_dag", run_id) == "success"
        assert "deferred" in dep.state_history("my_dag", run_id, "wait")
    finally:
        dep.stop()

Components (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` x N, ``celery-worker``
x N, and optionally ``postgres``/``redis``) are separate OS processes started from the test's own
interpreter (``python -m airflow ...``), each in its own process group, output captured to
``<base>/logs/<component>-<index>.log``.  All configuration is passed through ``AIRFLOW__*``
environment variables built from a scrubbed copy of the test's environment, so the deployment is
isolated from whatever ``AIRFLOW_HOME`` the unit tests use.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import httpx

from tests.e2e.services import (
    MARKER_ENV,
    ManagedProcess,
    PostgresServer,
    ProcessInfo,
    RedisServer,
    ServiceError,
    free_port,
    processes_with_env,
    signal_processes,
    wait_gone,
)

#: Repository root, put on PYTHONPATH so DAG files can import the provider and test helpers.
REPO_ROOT = Path(__file__).resolve().parents[2]

Executor = Literal["LocalExecutor", "CeleryExecutor"]
Database = Literal["sqlite", "postgres"]
Component = Literal["api-server", "scheduler", "dag-processor", "triggerer", "celery-worker"]

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


class DeploymentError(RuntimeError):
    """The deployment failed to start, a component died, or a wait timed out."""


class AirflowApiClient:
    """Minimal authenticated client for the Airflow 3 public REST API (``/api/v2``).

    Airflow 3's api-server only accepts JWTs: the token is obtained from the SimpleAuthManager's
    ``POST /auth/token`` with the deployment's configured user and password.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self.token: str | None = None

    def login(self) -> str:
        """Fetch a JWT for the configured user and use it for all further requests."""
        resp = self._http.post("/auth/token", json={"username": self.username, "password": self.password})
        if resp.status_code not in (200, 201):
            raise DeploymentError(f"login failed: HTTP {resp.status_code}: {resp.text[:2000]}")
        token = str(resp.json()["access_token"])
        self.token = token
        self._http.headers["Authorization"] = f"Bearer {token}"
        return token

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """Send a request to ``/api/v2/<path>``; return the decoded JSON (or text) body.

        Raises DeploymentError with the response body when the status is not in ``expect``.
        """
        url = path if path.startswith("/") else f"/api/v2/{path}"
        resp = self._http.request(method, url, **kwargs)
        if resp.status_code not in expect:
            raise DeploymentError(f"{method} {url} -> HTTP {resp.status_code}: {resp.text[:4000]}")
        if not resp.content:
            return None
        if resp.headers.get("content-type", "").startswith("application/json"):
            return resp.json()
        return resp.text

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET ``/api/v2/<path>`` (``params=`` for the query string)."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Any:
        """POST a JSON body to ``/api/v2/<path>``."""
        kwargs.setdefault("expect", (200, 201))
        return self.request("POST", path, json=json_body, **kwargs)

    def patch(self, path: str, json_body: Any = None, **kwargs: Any) -> Any:
        """PATCH a JSON body to ``/api/v2/<path>``."""
        return self.request("PATCH", path, json=json_body, **kwargs)

    def close(self) -> None:
        """Close the underlying HTTP connection pool."""
        self._http.close()


class AirflowDeployment:
    """Start, observe, crash and stop a real Airflow deployment (see the module docstring).

    :param base_dir: directory for AIRFLOW_HOME, logs and service data (e.g. pytest's ``tmp_path``).
    :param dags_folder: folder with the DAG files; defaults to ``<base_dir>/dags`` (created).
    :param executor: ``LocalExecutor`` (tasks run under the scheduler) or ``CeleryExecutor``
        (needs ``database="postgres"``, Redis and ``apache-airflow-providers-celery``).
    :param database: ``sqlite`` (file in AIRFLOW_HOME) or ``postgres`` (throwaway cluster).
    :param triggerers: number of ``airflow triggerer`` processes.
    :param celery_workers: number of ``airflow celery worker`` processes (CeleryExecutor only).
    :param env: extra environment variables for every Airflow process (e.g. ``AIRFLOW_CONN_*``).
    :param airflow_config: ``{"section": {"key": "value"}}`` overrides, passed as ``AIRFLOW__S__K``.
    :param start_timeout: seconds ``start()`` waits for all components to report healthy.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        dags_folder: Path | None = None,
        executor: Executor = "LocalExecutor",
        database: Database = "sqlite",
        triggerers: int = 1,
        celery_workers: int = 0,
        env: Mapping[str, str] | None = None,
        airflow_config: Mapping[str, Mapping[str, Any]] | None = None,
        start_timeout: float = 180.0,
        celery_concurrency: int = 2,
    ) -> None:
        if executor == "CeleryExecutor" and database == "sqlite":
            raise ValueError("CeleryExecutor needs database='postgres' (SQLite cannot be shared by workers)")
        if celery_workers and executor != "CeleryExecutor":
            raise ValueError("celery_workers > 0 requires executor='CeleryExecutor'")
        self.base_dir = Path(base_dir).resolve()
        self.home = self.base_dir / "airflow_home"
        self.log_dir = self.base_dir / "logs"
        self.dags_folder = Path(dags_folder).resolve() if dags_folder else self.base_dir / "dags"
        self.executor = executor
        self.database = database
        self.triggerers = triggerers
        self.celery_workers = celery_workers
        self.celery_concurrency = celery_concurrency
        self.extra_env = dict(env or {})
        self.airflow_config = {s: dict(kv) for s, kv in (airflow_config or {}).items()}
        self.start_timeout = start_timeout

        self.deployment_id = uuid.uuid4().hex
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.username = "admin"
        self.password = secrets.token_urlsafe(12)

        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.components: dict[tuple[str, int], ManagedProcess] = {}
        self._api: AirflowApiClient | None = None
        #: Wall-clock seconds of lifecycle steps ("db_migrate", "start", "stop"), for reporting only.
        self.timings: dict[str, float] = {}
        #: Job id (``job`` table) of the current incarnation of each job-based component.
        self.job_ids: dict[tuple[str, int], int] = {}
        #: TI states seen while polling in ``wait_for_run``: (dag, run, task, map_index) -> states.
        self.observed_states: dict[tuple[str, str, str, int], list[str]] = {}
        self._started = False
        from cryptography.fernet import Fernet  # ships with Airflow

        self._secrets: dict[str, Any] = {
            "fernet_key": Fernet.generate_key().decode(),
            "jwt_secret": secrets.token_urlsafe(32),
            "api_secret_key": secrets.token_urlsafe(32),
            "worker_log_port": free_port(),
            "trigger_log_port": free_port(),
        }

    # ------------------------------------------------------------------ configuration

    def _base_env(self) -> dict[str, str]:
        """Test environment minus any Airflow settings, plus the deployment marker."""
        env = {
            k: v
            for k, v in os.environ.items()
            # Drop the caller's Airflow config (unit-test AIRFLOW_HOME, connections, ...) and
            # pytest's own variables, which would leak into task processes.
            if not k.startswith(("AIRFLOW", "PYTEST_", "_AIRFLOW"))
        }
        env[MARKER_ENV] = self.deployment_id
        env["PYTHONUNBUFFERED"] = "1"
        pythonpath = [str(REPO_ROOT)]
        if os.environ.get("PYTHONPATH"):
            pythonpath.append(os.environ["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(pythonpath)
        return env

    def _airflow_settings(self) -> dict[str, dict[str, Any]]:
        """Airflow configuration of this deployment as ``{section: {key: value}}``."""
        if self.database == "postgres":
            assert self.postgres is not None
            sql_conn = self.postgres.sqlalchemy_url
        else:
            sql_conn = f"sqlite:///{self.home / 'airflow.db'}"
        settings: dict[str, dict[str, Any]] = {
            "core": {
                "dags_folder": self.dags_folder,
                "executor": self.executor,
                "load_examples": False,
                "fernet_key": self._secrets["fernet_key"],
                "execution_api_server_url": f"{self.base_url}/execution/",
                "auth_manager": SIMPLE_AUTH_MANAGER,
                "simple_auth_manager_users": f"{self.username}:ADMIN",
                "simple_auth_manager_passwords_file": self.home / "simple_auth_manager_passwords.json",
                "dags_are_paused_at_creation": True,
                # Keep the process count bounded on small CI machines.
                "parallelism": 8,
            },
            "database": {
                "sql_alchemy_conn": sql_conn,
                # Few connections per process: up to ~8 processes share one small Postgres.
                "sql_alchemy_pool_size": 3,
                "sql_alchemy_max_overflow": 5,
            },
            "api": {
                "host": "127.0.0.1",
                "port": self.api_port,
                "base_url": self.base_url,
                "workers": 1,
                "secret_key": self._secrets["api_secret_key"],
                "expose_config": True,
            },
            # Every component signs/validates JWTs (UI/REST and task execution tokens) with this key.
            "api_auth": {"jwt_secret": self._secrets["jwt_secret"]},
            "scheduler": {
                "scheduler_heartbeat_sec": 2,
                "job_heartbeat_sec": 2,
                "scheduler_idle_sleep_time": 0.5,
                # Detect tasks whose worker died within a minute rather than five.
                "task_instance_heartbeat_timeout": 60,
                "task_instance_heartbeat_timeout_detection_interval": 5,
                "trigger_timeout_check_interval": 5,
                "orphaned_tasks_check_interval": 30,
            },
            "triggerer": {
                "job_heartbeat_sec": 2,
                # Triggers of a dead triggerer are re-assigned only after this many seconds; lower
                # than the default 30 to keep crash tests short, high enough for a loaded 2-core box.
                "triggerer_health_check_threshold": 20,
            },
            "dag_processor": {
                "refresh_interval": 5,
                "min_file_process_interval": 10,
                "parsing_processes": 1,
                "bundle_refresh_check_interval": 2,
                "dag_bundle_storage_path": self.home / "dag_bundles",
                "stale_dag_threshold": 50,
            },
            "logging": {
                "base_log_folder": self.home / "logs",
                "dag_processor_child_process_log_directory": self.home / "logs" / "dag_processor",
                "colored_console_log": False,
                # Components run with --skip-serve-logs (the log server would bind 0.0.0.0); the
                # api-server reads task logs straight from base_log_folder on this host.  The ports
                # are still private in case a test enables log serving.
                "worker_log_server_port": self._secrets["worker_log_port"],
                "trigger_log_server_port": self._secrets["trigger_log_port"],
            },
            "workers": {"min_heartbeat_interval": 2},
        }
        if self.executor == "CeleryExecutor":
            assert self.redis is not None
            assert self.postgres is not None
            settings["celery"] = {
                "broker_url": self.redis.url,
                "result_backend": self.postgres.celery_result_backend,
                "worker_concurrency": self.celery_concurrency,
                "sync_parallelism": 1,
            }
        for section, values in self.airflow_config.items():
            settings.setdefault(section, {}).update(values)
        return settings

    def airflow_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Full environment for an Airflow process of this deployment (also for ad-hoc CLI calls)."""
        env = self._base_env()
        env["AIRFLOW_HOME"] = str(self.home)
        env["TMPDIR"] = str(self.home / "tmp")  # keep /tmp/airflow-style scratch dirs private
        for section, values in self._airflow_settings().items():
            for key, value in values.items():
                if isinstance(value, bool):
                    value = "True" if value else "False"
                env[f"AIRFLOW__{section.upper()}__{key.upper()}"] = str(value)
        env.update(self.extra_env)
        if extra:
            env.update(extra)
        return env

    # ------------------------------------------------------------------ lifecycle

    def _prepare(self) -> None:
        for d in (self.home, self.home / "tmp", self.home / "logs", self.log_dir, self.dags_folder):
            d.mkdir(parents=True, exist_ok=True)
        # SimpleAuthManager reads {"user": "password"} from this file and only generates passwords
        # for users missing from it, so writing it first gives us a known password.
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({self.username: self.password}))
        passwords.chmod(0o600)

    def _component_argv(self, component: str, index: int) -> tuple[list[str], dict[str, str]]:
        """argv and per-process environment overrides of one component."""
        py = [sys.executable, "-m", "airflow"]
        if component == "api-server":
            return [*py, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "-w", "1"], {}
        if component == "scheduler":
            return [*py, "scheduler", "--skip-serve-logs"], {}
        if component == "dag-processor":
            return [*py, "dag-processor"], {}
        if component == "triggerer":
            return [*py, "triggerer", "--skip-serve-logs"], {}
        if component == "celery-worker":
            argv = [
                *py,
                "celery",
                "worker",
                "--celery-hostname",
                f"worker{index}-{self.deployment_id[:8]}@%h",
                "--concurrency",
                str(self.celery_concurrency),
                "--without-mingle",
                "--without-gossip",
                "--skip-serve-logs",
            ]
            return argv, {}
        raise ValueError(f"unknown component {component!r}")

    def _make_component(self, component: str, index: int) -> ManagedProcess:
        argv, overrides = self._component_argv(component, index)
        proc = ManagedProcess(
            f"{component}-{index}",
            argv,
            env=self.airflow_env(overrides),
            log_path=self.log_dir / f"{component}-{index}.log",
            cwd=self.home,
        )
        self.components[(component, index)] = proc
        return proc

    def _wanted_components(self) -> list[tuple[str, int]]:
        wanted = [("api-server", 0), ("scheduler", 0), ("dag-processor", 0)]
        wanted += [("triggerer", i) for i in range(self.triggerers)]
        wanted += [("celery-worker", i) for i in range(self.celery_workers)]
        return wanted

    def run_cli(
        self, *args: str, timeout: float = 300.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` against this deployment and return the completed process."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.airflow_env(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise DeploymentError(
                f"airflow {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def start(self) -> None:
        """Start backing services, migrate the DB, start all components and wait until healthy.

        On any failure everything started so far is stopped before the error propagates, so a
        failing ``start()`` never leaks processes even without a ``finally: stop()``.
        """
        if self._started:
            raise DeploymentError("deployment already started")
        self._started = True
        began = time.monotonic()
        try:
            self._prepare()
            service_env = self._base_env()
            if self.database == "postgres":
                self.postgres = PostgresServer(self.log_dir, service_env)
                self.postgres.start()
            if self.executor == "CeleryExecutor":
                self.redis = RedisServer(self.base_dir / "redis", service_env)
                self.redis.start()
            # Migrations must finish before any component touches the DB.
            migrate_began = time.monotonic()
            self.run_cli("db", "migrate", timeout=self.start_timeout)
            self.timings["db_migrate"] = time.monotonic() - migrate_began
            deadline = time.monotonic() + self.start_timeout
            for component, index in self._wanted_components():
                if component != "triggerer":
                    self._make_component(component, index).start()
            self._wait_api_server(deadline)
            # Triggerers start one after another so each one's job id is known (job rows carry no
            # pid): crash tests can then kill exactly the triggerer that holds a given trigger.
            for index in range(self.triggerers):
                self.start_component("triggerer", index, timeout=max(deadline - time.monotonic(), 1.0))
            self._wait_healthy(deadline)
            self.timings["start"] = time.monotonic() - began
        except BaseException:
            try:
                self.stop()
            except Exception as stop_exc:
                # Keep the original start-up error as the one raised; stop problems go to stderr.
                print(f"AirflowDeployment.stop() after failed start: {stop_exc}", file=sys.stderr)
            raise

    def stop(self, grace: float = 20.0) -> None:
        """Stop everything by pid/process group (SIGTERM, SIGKILL after ``grace`` s); idempotent.

        Order: workers and triggerers, scheduler, dag-processor, api-server, then Redis and
        PostgreSQL.  Finally any process still carrying this deployment's environment marker
        (e.g. a task process orphaned by a killed worker) is killed by pid.
        """
        began = time.monotonic()
        errors: list[str] = []

        def stop_one(proc: ManagedProcess) -> None:
            stop_began = time.monotonic()
            try:
                proc.stop(grace=grace)
            except Exception as exc:
                errors.append(f"{proc.name}: {exc}")
            self.timings[f"stop:{proc.name}"] = time.monotonic() - stop_began

        # Stages run one after another; the processes of a stage stop in parallel (a triggerer
        # alone may take ~10 s to let its trigger runner finish).
        stages = [("celery-worker", "triggerer"), ("scheduler", "dag-processor"), ("api-server",)]
        for stage in stages:
            if stage == ("api-server",) and self._api is not None:
                # Close our keep-alive connections first, or uvicorn's graceful shutdown waits on them.
                self._api.close()
                self._api = None
            procs = [p for (name, _i), p in self.components.items() if name in stage]
            if procs:
                with ThreadPoolExecutor(max_workers=len(procs)) as pool:
                    list(pool.map(stop_one, procs))
        if self._api is not None:
            self._api.close()
            self._api = None
        for service in (self.redis, self.postgres):
            if service is not None:
                stop_began = time.monotonic()
                try:
                    service.stop()
                except Exception as exc:
                    errors.append(f"{type(service).__name__}: {exc}")
                self.timings[f"stop:{type(service).__name__}"] = time.monotonic() - stop_began
        leftovers = processes_with_env(MARKER_ENV, self.deployment_id)
        if leftovers:
            signal_processes(leftovers, signal.SIGKILL)
            if still := wait_gone(leftovers, timeout=10):
                errors.append(f"processes survived SIGKILL: {[p.pid for p in still]}")
        self.timings["stop"] = time.monotonic() - began
        if errors:
            raise DeploymentError("stop() problems:\n" + "\n".join(errors))

    def __enter__(self) -> AirflowDeployment:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ health

    def describe(self, lines: int = 40) -> str:
        """Status and log tail of every component and service (used in error messages)."""
        parts = [proc.describe(lines) for proc in self.components.values()]
        for service in (self.postgres, self.redis):
            if service is not None and service.process is not None:
                parts.append(service.process.describe(lines))
        return "\n".join(parts)

    def check_alive(self) -> None:
        """Raise DeploymentError if a component exited without the harness stopping it."""
        dead = [p for p in self.components.values() if not p.expected_down and not p.is_running()]
        for service in (self.postgres, self.redis):
            proc = service.process if service is not None else None
            if proc is not None and not proc.expected_down and not proc.is_running():
                dead.append(proc)
        if dead:
            details = "\n".join(p.describe(60) for p in dead)
            raise DeploymentError(f"component(s) died: {[p.name for p in dead]}\n{details}")

    def _alive_jobs(self, job_type: str) -> list[dict[str, Any]]:
        # is_alive=true makes the server apply Job.is_alive() (state running + fresh heartbeat).
        data = self.api.get("jobs", params={"job_type": job_type, "is_alive": "true", "limit": 100})
        return list(data["jobs"])

    def _max_job_id(self, job_type: str) -> int:
        data = self.api.get("jobs", params={"job_type": job_type, "order_by": "-id", "limit": 1})
        jobs = data["jobs"]
        return int(jobs[0]["id"]) if jobs else 0

    def _celery_ready(self, proc: ManagedProcess) -> bool:
        # Celery logs "<hostname> ready." once it consumes from the broker; only look at the
        # current incarnation's part of the log.
        text = proc.log_text()
        marker = f"(generation {proc.generation})"
        current = text[text.rfind(marker) :] if marker in text else text
        return " ready." in current

    def _wait_api_server(self, deadline: float) -> None:
        """Wait until the api-server answers the (unauthenticated) health endpoint, then log in."""
        last_error = ""
        while True:
            self.check_alive()
            try:
                resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                if resp.status_code == 200:
                    break
                last_error = f"HTTP {resp.status_code}: {resp.text[:500]}"
            except httpx.HTTPError as exc:
                last_error = repr(exc)
            if time.monotonic() > deadline:
                raise DeploymentError(f"api-server not up in time ({last_error})\n{self.describe()}")
            time.sleep(1)
        if self._api is None:
            self._api = AirflowApiClient(self.base_url, self.username, self.password)
        self._api.login()

    def _wait_healthy(self, deadline: float) -> None:
        """Wait until scheduler, dag-processor and all triggerers heartbeat and workers are ready."""
        wanted = {"SchedulerJob": 1, "DagProcessorJob": 1, "TriggererJob": self.triggerers}

        def healthy() -> bool:
            health = self.api.get("monitor/health")
            components = ["metadatabase", "scheduler", "dag_processor"]
            if self.triggerers:
                components.append("triggerer")
            return (
                all(health[c]["status"] == "healthy" for c in components)
                and all(len(self._alive_jobs(jt)) >= n for jt, n in wanted.items())
                and all(
                    self._celery_ready(p) for (c, _i), p in self.components.items() if c == "celery-worker"
                )
            )

        self._wait_for(
            healthy,
            deadline,
            lambda: (
                "components not healthy: "
                + json.dumps(self.api.get("monitor/health"))
                + f"; alive jobs: { {jt: len(self._alive_jobs(jt)) for jt in wanted} }"
            ),
        )

    def wait_for(self, predicate: Any, timeout: float = 120.0, what: str = "condition") -> None:
        """Poll ``predicate()`` every second until truthy (checking component liveness meanwhile).

        Raises DeploymentError with ``what`` and every component's log tail on timeout.
        """
        self._wait_for(predicate, time.monotonic() + timeout, lambda: f"{what} not met after {timeout}s")

    def _wait_for(self, predicate: Any, deadline: float, what: Any, interval: float = 1.0) -> None:
        """Poll ``predicate`` until true; on timeout raise with ``what()`` and the component logs.

        REST errors inside ``predicate`` are tolerated (the api-server may be busy or restarting on
        a loaded machine) but the last one is reported on timeout; a dead component fails at once.
        """
        last_error = ""
        while True:
            self.check_alive()
            try:
                if predicate():
                    return
            except (httpx.HTTPError, DeploymentError) as exc:
                last_error = f"{type(exc).__name__}: {str(exc)[:2000]}"
            if time.monotonic() > deadline:
                try:
                    detail = what()
                except Exception as exc:
                    detail = f"(could not describe state: {exc!r})"
                if last_error:
                    detail += f"\nlast error while polling: {last_error}"
                raise DeploymentError(f"timed out: {detail}\n{self.describe()}")
            time.sleep(interval)

    # ------------------------------------------------------------------ components

    def component(self, component: Component, index: int = 0) -> ManagedProcess:
        """The managed process of one component."""
        try:
            return self.components[(component, index)]
        except KeyError:
            raise KeyError(f"no component {component}-{index}; have {sorted(self.components)}") from None

    def kill_component(self, component: Component, index: int = 0, sig: int = signal.SIGKILL) -> None:
        """Kill a component's whole process tree (SIGKILL by default, i.e. a crash).

        The harness remembers the kill, so ``check_alive``/``wait_for_run`` do not complain.
        """
        self.component(component, index).kill(sig)

    def stop_component(self, component: Component, index: int = 0, grace: float = 20.0) -> None:
        """Gracefully stop one component (SIGTERM, SIGKILL after ``grace`` seconds)."""
        self.component(component, index).stop(grace)

    def start_component(self, component: Component, index: int = 0, timeout: float | None = None) -> None:
        """(Re)start a component and wait until it is healthy again.

        Job-based components (scheduler, dag-processor, triggerer) are healthy when a *new* job
        (id higher than any before the start) heartbeats; Celery workers when they log "ready.".
        ``index`` may also be a new index (e.g. a third triggerer).
        """
        timeout = timeout or self.start_timeout
        job_type = {
            "scheduler": "SchedulerJob",
            "dag-processor": "DagProcessorJob",
            "triggerer": "TriggererJob",
        }
        baseline = self._max_job_id(job_type[component]) if component in job_type else 0
        proc = self.components.get((component, index)) or self._make_component(component, index)
        proc.start()
        deadline = time.monotonic() + timeout
        if component in job_type:

            def new_job() -> bool:
                newer = [
                    int(j["id"]) for j in self._alive_jobs(job_type[component]) if int(j["id"]) > baseline
                ]
                if newer:
                    self.job_ids[(component, index)] = min(newer)
                return bool(newer)

            self._wait_for(
                new_job, deadline, lambda: f"{component}-{index} has no live job newer than id {baseline}"
            )
        elif component == "celery-worker":
            self._wait_for(lambda: self._celery_ready(proc), deadline, lambda: f"{proc.name} not ready")
        else:
            self._wait_for(
                lambda: httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200,
                deadline,
                lambda: "api-server not answering",
            )
            assert self._api is not None
            self._api.login()

    def logs(self, component: str, index: int = 0) -> str:
        """Captured stdout/stderr of a component (all restarts), or of ``postgres``/``redis``."""
        if component in ("postgres", "redis"):
            service = self.postgres if component == "postgres" else self.redis
            if service is None or service.process is None:
                raise KeyError(f"no {component} in this deployment")
            return service.process.log_text()
        return self.component(component, index).log_text()  # type: ignore[arg-type]

    def processes(self, component: Component | None = None, index: int | None = None) -> list[ProcessInfo]:
        """Live processes (root plus descendants) of the matching component(s).

        Useful to find e.g. a task process to kill: the task supervisor runs each task in a child
        process of its own process group; compare with the ``pid`` of the task instance.
        """
        result: list[ProcessInfo] = []
        for (name, idx), proc in self.components.items():
            if (component is None or name == component) and (index is None or idx == index):
                result.extend(proc.tree())
        return result

    def triggerer_index_of(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> int | None:
        """Index of the triggerer currently running the trigger of a deferred task instance.

        None when the TI has no trigger assigned yet (or it is held by a job the harness did not
        start, e.g. one that was killed and replaced).
        """
        job = self.task_instance(dag_id, run_id, task_id, map_index).get("triggerer_job") or {}
        for (component, index), job_id in self.job_ids.items():
            if component == "triggerer" and job.get("id") == job_id:
                return index
        return None

    # ------------------------------------------------------------------ REST helpers

    @property
    def api(self) -> AirflowApiClient:
        """Authenticated REST client (available after ``start()``)."""
        if self._api is None:
            raise DeploymentError("deployment not started")
        return self._api

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the dag-processor has parsed and serialized ``dag_id``; return the DAG."""
        deadline = time.monotonic() + timeout
        found: dict[str, Any] = {}

        def parsed() -> bool:
            try:
                found.update(self.api.get(f"dags/{dag_id}"))
                return True
            except DeploymentError as exc:
                if "HTTP 404" not in str(exc):
                    raise
                return False

        def why() -> str:
            errors = self.api.get("importErrors", params={"limit": 100})
            return f"DAG {dag_id!r} not parsed; import errors: {json.dumps(errors)[:4000]}"

        self._wait_for(parsed, deadline, why)
        return found

    def unpause(self, dag_id: str, timeout: float = 120.0) -> None:
        """Wait for the DAG to be parsed, then unpause it."""
        self.wait_for_dag(dag_id, timeout)
        self.api.patch(f"dags/{dag_id}", {"is_paused": False})

    def pause(self, dag_id: str) -> None:
        """Pause a DAG."""
        self.api.patch(f"dags/{dag_id}", {"is_paused": True})

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None, run_id: str | None = None) -> str:
        """Trigger a manual DAG run (waiting for the DAG to be parsed first); return its run id."""
        self.wait_for_dag(dag_id)
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        data = self.api.post(f"dags/{dag_id}/dagRuns", body)
        return str(data["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The DAG run as returned by the REST API."""
        return dict(self.api.get(f"dags/{dag_id}/dagRuns/{run_id}"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """All task instances of a run (current try of each)."""
        data = self.api.get(f"dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        return list(data["task_instances"])

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """One task instance (current try)."""
        path = f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        if map_index >= 0:
            path += f"/{map_index}"
        return dict(self.api.get(path))

    def task_tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """All tries of a task instance (``TaskInstanceHistory`` plus the current try).

        Each entry additionally carries ``"event_states"``: the states that try went through per
        the event log (see ``state_history``), e.g. ``["running", "deferred", "running", "success"]``.
        """
        data = self.api.get(
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries", params={"map_index": map_index}
        )
        tries = sorted(data["task_instances"], key=lambda t: t["try_number"])
        events = self.task_events(dag_id, run_id, task_id, map_index)
        for t in tries:
            t["event_states"] = [e["event"] for e in events if e.get("try_number") == t["try_number"]]
        return tries

    def task_events(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> list[dict[str, Any]]:
        """Event-log entries of one task instance, oldest first."""
        params: dict[str, Any] = {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "order_by": "id",
            "limit": 100,
        }
        if map_index >= 0:
            params["map_index"] = map_index
        events: list[dict[str, Any]] = []
        offset = 0
        while True:
            data = self.api.get("eventLogs", params={**params, "offset": offset})
            batch = list(data["event_logs"])
            events.extend(batch)
            offset += len(batch)
            if not batch or offset >= int(data["total_entries"]):
                return events

    def state_history(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[str]:
        """States a task instance went through, across all tries, oldest first.

        Airflow 3.3 has no dedicated TI state-history endpoint; the Execution API records every
        state transition a worker or triggerer reports (``running``, ``deferred``, ``success``,
        ``failed``, ``up_for_retry``, ...) as an event-log row, which is what this returns.
        Scheduler-side states (``scheduled``, ``queued``) are not logged there; the states seen
        while polling in ``wait_for_run`` are kept in ``observed_states``.
        """
        return [e["event"] for e in self.task_events(dag_id, run_id, task_id, map_index)]

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1
    ) -> str:
        """The task log of one try as text, one line per structured log event.

        The api-server only serves JSON/NDJSON (``text/plain`` gets HTTP 406); each event is
        rendered as ``<timestamp> [<level>] <event> key=value ...``.
        """
        params: dict[str, Any] = {"full_content": "true"}
        if map_index >= 0:
            params["map_index"] = map_index
        data = self.api.get(
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params=params,
            headers={"Accept": "application/json"},
        )
        lines = []
        for item in data.get("content", []):
            if isinstance(item, dict):
                extra = " ".join(
                    f"{k}={v}" for k, v in item.items() if k not in {"timestamp", "level", "event"}
                )
                lines.append(f"{item.get('timestamp', '')} [{item.get('level', '')}] {item['event']} {extra}")
            else:
                lines.append(str(item))
        return "\n".join(lines)

    def _record_states(self, dag_id: str, run_id: str) -> None:
        for ti in self.task_instances(dag_id, run_id):
            key = (dag_id, run_id, ti["task_id"], ti["map_index"])
            seen = self.observed_states.setdefault(key, [])
            state = ti["state"] or "none"
            if not seen or seen[-1] != state:
                seen.append(state)

    def wait_for_run(
        self, dag_id: str, run_id: str, timeout: float = 300.0, states: frozenset[str] = TERMINAL_RUN_STATES
    ) -> str:
        """Wait until the run reaches one of ``states`` (default: success/failed); return the state.

        While waiting, task-instance states are recorded in ``observed_states`` and the liveness of
        all components is checked, so a crashed scheduler fails the test fast with its log.
        """
        deadline = time.monotonic() + timeout
        result: dict[str, str] = {}

        def done() -> bool:
            self._record_states(dag_id, run_id)
            state = self.dag_run(dag_id, run_id)["state"]
            result["state"] = state
            return state in states

        def why() -> str:
            tis = {
                f"{t['task_id']}[{t['map_index']}]": t["state"] for t in self.task_instances(dag_id, run_id)
            }
            return f"run {dag_id}/{run_id} is {result.get('state')!r} after {timeout}s; task states: {tis}"

        self._wait_for(done, deadline, why)
        return result["state"]

    def wait_for_task_state(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: set[str],
        map_index: int = -1,
        timeout: float = 120.0,
    ) -> dict[str, Any]:
        """Wait until a task instance is in one of ``states`` (e.g. ``{"deferred"}``); return it."""
        deadline = time.monotonic() + timeout
        found: dict[str, Any] = {}

        def reached() -> bool:
            self._record_states(dag_id, run_id)
            ti = self.task_instance(dag_id, run_id, task_id, map_index)
            found.clear()
            found.update(ti)
            return ti["state"] in states

        self._wait_for(reached, deadline, lambda: f"{task_id} is {found.get('state')!r}, wanted {states}")
        return found


__all__ = [
    "AirflowApiClient",
    "AirflowDeployment",
    "DeploymentError",
    "ServiceError",
]
