"""A local single-node Apache Kafka broker (KRaft, broker+controller) run from Maven jars.

Everything lives under ``$NEWSWIRE_HOME/kafka``: ``lib/`` (jars, resolved once by Maven),
``config/``, ``data/`` (formatted once), ``logs/`` and ``broker.pid``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from agents.kafka.security import client_options
from pipeline.config import LOCAL_HOST, Settings

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
# The largest record the local broker accepts; the worker's own limit is max_item_bytes.
MESSAGE_MAX_BYTES = 16 * 1024 * 1024


class BrokerError(RuntimeError):
    """The local broker could not be provisioned, started or stopped; the message says why."""


@dataclass(frozen=True)
class BrokerPaths:
    root: Path

    @property
    def lib(self) -> Path:
        return self.root / "lib"

    @property
    def lib_complete(self) -> Path:
        return self.lib / ".complete"

    @property
    def config(self) -> Path:
        return self.root / "config" / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.root / "config" / "log4j2.properties"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def server_log(self) -> Path:
        return self.root / "logs" / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "broker.pid"


def paths_for(settings: Settings) -> BrokerPaths:
    return BrokerPaths(settings.home / "kafka")


def server_properties(settings: Settings, data_dir: Path) -> str:
    """The broker's configuration: one KRaft node, loopback only, replication factor 1; its
    client listener speaks SASL (SCRAM or PLAIN) when the settings ask for SASL_PLAINTEXT."""
    port, controller = settings.kafka_port, settings.kafka_controller_port
    listener = (
        "SASL_PLAINTEXT" if settings.kafka_security_protocol == "SASL_PLAINTEXT" else "PLAINTEXT"
    )
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{LOCAL_HOST}:{controller}",
        "listeners": f"{listener}://{LOCAL_HOST}:{port},CONTROLLER://{LOCAL_HOST}:{controller}",
        "advertised.listeners": f"{listener}://{LOCAL_HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": listener,
        "listener.security.protocol.map": f"CONTROLLER:PLAINTEXT,{listener}:{listener}",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
        "log.cleaner.backoff.ms": "2000",
        "message.max.bytes": str(MESSAGE_MAX_BYTES),
        "replica.fetch.max.bytes": str(MESSAGE_MAX_BYTES),
    }
    if listener == "SASL_PLAINTEXT":
        lines |= _sasl_properties(settings)
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def _sasl_properties(settings: Settings) -> dict[str, str]:
    """One user, the configured one, for clients and for the broker itself."""
    mechanism = settings.kafka_sasl_mechanism
    user, password = settings.kafka_sasl_username, settings.kafka_sasl_password
    if mechanism == "PLAIN":
        module = "org.apache.kafka.common.security.plain.PlainLoginModule"
        extra = f' user_{user}="{password}"'
    else:
        module = "org.apache.kafka.common.security.scram.ScramLoginModule"
        extra = ""
    jaas = f'{module} required username="{user}" password="{password}"{extra};'
    return {
        "sasl.enabled.mechanisms": mechanism,
        "sasl.mechanism.inter.broker.protocol": mechanism,
        f"listener.name.sasl_plaintext.{mechanism.lower()}.sasl.jaas.config": jaas,
    }


def ensure_jars(paths: BrokerPaths) -> None:
    """Resolve the broker's jars through Maven into ``lib/`` once."""
    if paths.lib_complete.exists():
        return
    if shutil.which("mvn") is None:
        raise BrokerError("Maven (mvn) is not on PATH; it is needed once to fetch the Kafka jars")
    pom = resources.files("agents") / "kafka" / "pom.xml"
    with resources.as_file(pom) as pom_path:
        command = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom_path),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={paths.lib}",
            "-DincludeScope=runtime",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise BrokerError("Maven could not resolve the Kafka jars: " + " | ".join(tail))
    paths.lib_complete.touch()


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise BrokerError("java is not on PATH (Java 17 or newer is needed for Kafka 4)")
    return str(java)


def _classpath(paths: BrokerPaths) -> str:
    return str(paths.lib / "*")


def _random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def write_config(settings: Settings, paths: BrokerPaths) -> None:
    paths.config.parent.mkdir(parents=True, exist_ok=True)
    paths.server_log.parent.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(server_properties(settings, paths.data))
    log4j = resources.files("agents") / "kafka" / "log4j2.properties"
    paths.log4j.write_text(log4j.read_text())


def format_storage(settings: Settings, paths: BrokerPaths) -> None:
    """Format the KRaft log directory once (with the SCRAM user, for a SASL broker); later
    starts reuse it."""
    if (paths.data / "meta.properties").exists():
        return
    command = [
        _java(),
        "-cp",
        _classpath(paths),
        f"-Dlog4j2.configurationFile={paths.log4j}",
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={_random_cluster_id()}",
        "-c",
        str(paths.config),
    ]
    if (
        settings.kafka_security_protocol == "SASL_PLAINTEXT"
        and settings.kafka_sasl_mechanism != "PLAIN"
    ):
        user, password = settings.kafka_sasl_username, settings.kafka_sasl_password
        command += [
            "--add-scram",
            f"{settings.kafka_sasl_mechanism}=[name={user},password={password}]",
        ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError("formatting the broker storage failed: " + result.stderr.strip()[-300:])


def read_pid(paths: BrokerPaths) -> int | None:
    """The broker's pid if our pid file names a live process, else None."""
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    if _is_zombie(pid):
        return None
    return pid


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


async def answers_metadata(settings: Settings) -> bool:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    client = AIOKafkaClient(**client_options(settings), request_timeout_ms=3000)
    try:
        await client.bootstrap()
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()
    return True


def broker_answers(settings: Settings) -> bool:
    """True when the broker ``settings`` name answers a metadata request."""
    return asyncio.run(answers_metadata(settings))


def _log_tail(paths: BrokerPaths, lines: int = 5) -> str:
    try:
        text = paths.server_log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no broker log)"
    return " | ".join(text[-lines:])


def start(settings: Settings) -> str:
    """Start the local broker (idempotent); returns a one-line description of what happened."""
    if settings.kafka_security_protocol.endswith("SSL"):
        raise BrokerError(
            "the local broker speaks PLAINTEXT or SASL_PLAINTEXT; for SSL and SASL_SSL "
            "point NEWSWIRE_KAFKA_BOOTSTRAP at your cluster"
        )
    paths = paths_for(settings)
    if read_pid(paths) is not None and broker_answers(settings):
        return f"kafka already running at {settings.bootstrap} (pid {read_pid(paths)})"
    if broker_answers(settings):
        return f"a broker not started by newswire already answers at {settings.bootstrap}"
    ensure_jars(paths)
    write_config(settings, paths)
    format_storage(settings, paths)
    command = [
        _java(),
        f"-Xmx{settings.kafka_heap}",
        f"-Xms{settings.kafka_heap}",
        "-server",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-XX:InitiatingHeapOccupancyPercent=35",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={paths.log4j}",
        "-cp",
        _classpath(paths),
        "kafka.Kafka",
        str(paths.config),
    ]
    with paths.server_log.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    paths.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise BrokerError(f"the broker exited at start-up: {_log_tail(paths)}")
        if broker_answers(settings):
            return f"kafka running at {settings.bootstrap} (pid {process.pid})"
        time.sleep(0.5)
    stop(settings)
    raise BrokerError(
        f"the broker did not answer within {START_TIMEOUT_S:.0f}s: {_log_tail(paths)}"
    )


def stop(settings: Settings) -> str:
    """Stop the local broker: SIGTERM for a clean shutdown, SIGKILL if it hangs."""
    paths = paths_for(settings)
    pid = read_pid(paths)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)
        return "kafka is not running"
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and read_pid(paths) is not None:
        time.sleep(0.2)
    if read_pid(paths) is not None:
        os.killpg(pid, signal.SIGKILL)
        while read_pid(paths) is not None:
            time.sleep(0.1)
    paths.pid_file.unlink(missing_ok=True)
    return f"kafka stopped (pid {pid})"


def status(settings: Settings) -> tuple[bool, str]:
    """Whether a broker answers where Newswire will connect, and a line saying so."""
    if not settings.uses_local_broker:
        answers = broker_answers(settings)
        state = "answers" if answers else "does not answer"
        return (
            answers,
            f"configured cluster {settings.bootstrap} {state} (NEWSWIRE_KAFKA_BOOTSTRAP)",
        )
    pid = read_pid(paths_for(settings))
    answers = broker_answers(settings)
    if pid is not None and answers:
        return True, f"kafka running at {settings.bootstrap} (pid {pid})"
    if pid is not None:
        return False, f"kafka process {pid} runs but does not answer at {settings.bootstrap} yet"
    if answers:
        return True, f"a broker not started by newswire answers at {settings.bootstrap}"
    return False, "kafka is not running"
