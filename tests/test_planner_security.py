"""Planner transport security over real gRPC on loopback: TLS, mutual TLS, per-robot tokens,
plaintext refusal, reflection off, and keepalive that notices a frozen peer within seconds.

Certificates are throwaway ones made at test time with the ``openssl`` tool (a CA, a server
certificate for 127.0.0.1 and client certificates); no key material is committed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from cloud_planner import auth
from cloud_planner.auth import ANY_ROBOT, AuthError, TokenTable
from cloud_planner.channel_options import (
    Keepalive,
    client_channel_options,
    dead_peer_detection_s,
    server_channel_options,
)
from cloud_planner.client import PlannerClient, SessionClosed
from cloud_planner.server import InsecureConfiguration, PlannerConfig, PlannerServer, serve
from protos.reflexarc.v1 import planner_pb2
from reflexarc.scene_graph import SceneGraph
from sim.home_layout import load_home_layout

TIMEOUT = 10.0
FETCH = "bring me the red cup from the kitchen"
REPO = Path(__file__).resolve().parent.parent

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl tool")


@pytest.fixture(scope="module")
def scene() -> SceneGraph:
    return load_home_layout().scene_graph()


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path  # self-signed, not from the CA
    stranger_key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _signed(directory: Path, name: str, subject: str, ca: Path, ca_key: Path, san: str) -> tuple[Path, Path]:
    key, csr, cert, ext = (directory / f"{name}{suffix}" for suffix in ("-key.pem", ".csr", ".pem", ".ext"))
    ext.write_text(f"subjectAltName={san}\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", str(key), "-out", str(csr))
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-days", "1", "-extfile", str(ext), "-out", str(cert))
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl tool to make test certificates")
    d = tmp_path_factory.mktemp("test-pki")
    ca, ca_key = d / "test-ca.pem", d / "test-ca-key.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=reflexarc-test-ca",
             "-keyout", str(ca_key), "-out", str(ca))
    server_cert, server_key = _signed(d, "test-server", "/CN=localhost", ca, ca_key, "IP:127.0.0.1,DNS:localhost")
    client_cert, client_key = _signed(d, "test-client-robot1", "/CN=robot1", ca, ca_key, "DNS:robot1")
    stranger_cert, stranger_key = d / "test-stranger.pem", d / "test-stranger-key.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=robot1",
             "-keyout", str(stranger_key), "-out", str(stranger_cert))
    return Pki(ca, server_cert, server_key, client_cert, client_key, stranger_cert, stranger_key)


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[PlannerServer]:
    running = serve(PlannerConfig(port=0, tls_cert=pki.server_cert, tls_key=pki.server_key))
    yield running
    running.stop(grace=0)


@pytest.fixture
def mtls_server(pki: Pki) -> Iterator[PlannerServer]:
    running = serve(PlannerConfig(port=0, tls_cert=pki.server_cert, tls_key=pki.server_key, tls_client_ca=pki.ca,
                                  tokens=TokenTable({"robot1": "tok-robot1-7f3a", "robot2": "tok-robot2-91bc"})))
    yield running
    running.stop(grace=0)


# --- TLS and mutual TLS -----------------------------------------------------------------------------

def test_a_tls_server_plans_for_a_client_that_trusts_its_ca(tls_server, pki, scene):
    with PlannerClient(tls_server.address, root_certificates=pki.ca, timeout_s=TIMEOUT) as client:
        assert len(client.plan(FETCH, scene).steps) == 5


def test_a_tls_server_refuses_plaintext_clients_and_clients_trusting_another_ca(tls_server, pki):
    with PlannerClient(tls_server.address, timeout_s=2.0) as plaintext, pytest.raises(grpc.RpcError) as caught:
        plaintext.health()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    with PlannerClient(tls_server.address, root_certificates=pki.stranger_cert, timeout_s=2.0) as wrong_ca:
        with pytest.raises(grpc.RpcError) as caught:
            wrong_ca.health()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_admits_a_client_certificate_from_the_ca(mtls_server, pki, scene):
    with PlannerClient(mtls_server.address, root_certificates=pki.ca, client_certificate=pki.client_cert,
                       client_key=pki.client_key, token="tok-robot1-7f3a", timeout_s=TIMEOUT) as client:
        assert client.health() == "SERVING"
        assert len(client.plan(FETCH, scene).steps) == 5


@pytest.mark.parametrize("who", ["no client certificate", "a self-signed client certificate"])
def test_mutual_tls_refuses_a_client_without_a_certificate_from_the_ca(who, mtls_server, pki):
    identity = {} if who.startswith("no") else {"client_certificate": pki.stranger_cert,
                                                "client_key": pki.stranger_key}
    with PlannerClient(mtls_server.address, root_certificates=pki.ca, token="tok-robot1-7f3a", timeout_s=2.0,
                       **identity) as client, pytest.raises(grpc.RpcError) as caught:
        client.health()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


# --- per-robot tokens ---------------------------------------------------------------------------------

def _mtls_client(server: PlannerServer, pki: Pki, token: str) -> PlannerClient:
    return PlannerClient(server.address, root_certificates=pki.ca, client_certificate=pki.client_cert,
                         client_key=pki.client_key, token=token, timeout_s=TIMEOUT)


@pytest.mark.parametrize("token", ["", "tok-robot1-7f3b", "tok-robot1-7f3a-and-more", "Bearer tok-robot1-7f3a"])
def test_a_missing_or_wrong_token_is_unauthenticated_but_health_stays_open(token, mtls_server, pki, scene):
    with _mtls_client(mtls_server, pki, token) as client:
        assert client.health() == "SERVING"
        with pytest.raises(grpc.RpcError) as caught:
            client.plan(FETCH, scene)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        session = client.session()
        session.hello("robot1", scene)
        with pytest.raises(SessionClosed) as closed:
            session.receive(TIMEOUT)
        assert closed.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_robot_token_opens_a_session_for_that_robot_only(mtls_server, pki, scene):
    with _mtls_client(mtls_server, pki, "tok-robot1-7f3a") as client:
        with client.session() as own:
            own.hello("robot1", scene)
            assert own.receive(TIMEOUT).ack.kind == planner_pb2.ACK_KIND_HELLO
            own.command(FETCH)
            assert own.receive(TIMEOUT).header.total_steps == 5
        impostor = client.session()
        impostor.hello("robot2", scene)
        with pytest.raises(SessionClosed) as closed:
            impostor.receive(TIMEOUT)
        assert closed.value.code == grpc.StatusCode.PERMISSION_DENIED and "robot2" in str(closed.value)


def test_a_robot_token_session_must_open_with_its_hello(mtls_server, pki, scene):
    with _mtls_client(mtls_server, pki, "tok-robot1-7f3a") as client:
        session = client.session()
        session.heartbeat(1)
        with pytest.raises(SessionClosed) as closed:
            session.receive(TIMEOUT)
        assert closed.value.code == grpc.StatusCode.PERMISSION_DENIED and "Hello" in str(closed.value)


def test_the_token_file_maps_robots_to_tokens_and_a_bare_line_is_a_shared_token(tmp_path):
    path = tmp_path / "tokens"
    path.write_text("# robot tokens\nrobot1: aaa111\n\nrobot2:bbb222\n")
    table = TokenTable.from_file(path)
    assert (table.robot_for("aaa111"), table.robot_for("bbb222"), table.robot_for("ccc333")) == \
        ("robot1", "robot2", None)
    assert TokenTable.parse("just-one-token\n").robot_for("just-one-token") == ANY_ROBOT


@pytest.mark.parametrize("text", ["", "robot1:aaa\nrobot1:bbb\n", "robot1:same\nrobot2:same\n", "robot1:\n",
                                  "one\ntwo\n"])
def test_a_malformed_token_file_is_refused(text):
    with pytest.raises(AuthError):
        TokenTable.parse(text)


def test_token_lookup_compares_every_entry_in_constant_time(monkeypatch):
    compared: list[tuple[bytes, bytes]] = []
    real = auth.hmac.compare_digest

    def recording(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", recording)
    table = TokenTable({"robot1": "aaa111", "robot2": "bbb222", "robot3": "ccc333"})
    assert table.robot_for("aaa111") == "robot1"
    assert len(compared) == 3  # no early exit on the first match
    compared.clear()
    assert table.robot_for("zzz") is None and len(compared) == 3


# --- plaintext refusal and development mode ------------------------------------------------------------

def test_tokens_over_plaintext_are_refused_at_startup():
    with pytest.raises(InsecureConfiguration, match="--insecure-loopback"):
        serve(PlannerConfig(port=0, token="s3cret"))


def test_insecure_loopback_mode_refuses_a_non_loopback_address():
    with pytest.raises(InsecureConfiguration, match="loopback"):
        serve(PlannerConfig(host="0.0.0.0", port=0, token="s3cret", insecure_loopback=True))


def test_insecure_loopback_mode_accepts_tokens_on_127_0_0_1(scene):
    running = serve(PlannerConfig(port=0, tokens=TokenTable({"robot1": "dev-token"}), insecure_loopback=True))
    try:
        with PlannerClient(running.address, token="dev-token", timeout_s=TIMEOUT) as client:
            assert len(client.plan(FETCH, scene).steps) == 5
    finally:
        running.stop(grace=0)


def test_a_client_refuses_to_send_a_token_over_plaintext_beyond_loopback():
    with pytest.raises(ValueError, match="plaintext"):
        PlannerClient(["127.0.0.1:50051", "10.20.30.40:50051"], token="s3cret")


def test_reflexarc_serve_with_a_token_file_and_no_tls_exits_with_a_clear_error(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("robot1:abc\n")
    result = subprocess.run([sys.executable, "-m", "reflexarc.cli", "serve", "--port", "0", "--token-file",
                             str(tokens)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 1
    assert "plaintext" in result.stderr and "--tls-cert" in result.stderr


# --- reflection --------------------------------------------------------------------------------------

def test_reflection_is_off_by_default_and_its_module_is_not_loaded(tls_server, pki):
    assert "grpc_reflection" not in sys.modules
    channel = grpc.secure_channel(tls_server.address, grpc.ssl_channel_credentials(pki.ca.read_bytes()))
    try:
        for service in ("grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"):
            call = channel.stream_stream(f"/{service}/ServerReflectionInfo", request_serializer=None,
                                         response_deserializer=None)
            with pytest.raises(grpc.RpcError) as caught:
                list(call(iter([b""]), timeout=TIMEOUT))
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        channel.close()


def test_reflection_is_served_only_when_asked_for():
    try:
        import grpc_reflection  # noqa: F401  (optional dependency)
    except ImportError:
        with pytest.raises(RuntimeError, match="grpcio-reflection"):
            serve(PlannerConfig(port=0, reflection=True))
        return
    running = serve(PlannerConfig(port=0, reflection=True))
    try:
        from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

        with grpc.insecure_channel(running.address) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            (answer,) = list(stub.ServerReflectionInfo(iter([request]), timeout=TIMEOUT))
        assert "reflexarc.v1.Planner" in [s.name for s in answer.list_services_response.service]
    finally:
        running.stop(grace=0)


# --- keepalive ---------------------------------------------------------------------------------------

def test_client_and_server_keepalive_come_from_one_setting_the_server_admits():
    keepalive = Keepalive()
    client, server = dict(client_channel_options()), dict(server_channel_options())
    for name in ("grpc.keepalive_time_ms", "grpc.keepalive_timeout_ms", "grpc.keepalive_permit_without_calls",
                 "grpc.http2.max_pings_without_data"):
        assert client[name] == server[name], name
    assert server["grpc.http2.min_ping_interval_without_data_ms"] <= client["grpc.keepalive_time_ms"]
    assert client["grpc.keepalive_time_ms"] == keepalive.time_ms
    assert dead_peer_detection_s() < 10


def test_an_idle_session_outlives_several_keepalive_pings(scene):
    running = serve(PlannerConfig(port=0, keepalive_time_ms=500, keepalive_timeout_ms=2_000))
    try:
        with PlannerClient(running.address, keepalive=Keepalive(time_ms=500, timeout_ms=2_000)) as client, \
                client.session() as session:
            session.hello("idle-robot", scene)
            session.receive(TIMEOUT)
            with pytest.raises(TimeoutError):
                session.receive(3.0)  # ~6 pings from each side with no data
            session.heartbeat(3)
            assert session.receive(TIMEOUT).ack.seq == 3
    finally:
        running.stop(grace=0)


def _spawn(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_a_client_notices_a_frozen_planner_process_within_ten_seconds(scene):
    server = _spawn("import sys; from cloud_planner.server import main; sys.exit(main(['--port', '0']))")
    try:
        line = server.stdout.readline()
        assert line.startswith("listening on"), line + server.stderr.read()
        with PlannerClient(line.split()[-1], timeout_s=TIMEOUT) as client, client.session() as session:
            session.hello("robot1", scene)
            session.receive(TIMEOUT)
            os.kill(server.pid, signal.SIGSTOP)
            with pytest.raises(SessionClosed) as closed:
                session.receive(timeout=10.0)  # TimeoutError (a test failure) if keepalive never fires
            assert closed.value.code == grpc.StatusCode.UNAVAILABLE
    finally:
        os.kill(server.pid, signal.SIGCONT)
        server.kill()
        server.wait(timeout=10)


def test_the_server_drops_the_session_of_a_frozen_robot_within_ten_seconds(scene, tmp_path):
    running = serve(PlannerConfig(port=0))
    scene_file = tmp_path / "scene.json"
    scene_file.write_text(scene.to_json())
    robot = _spawn(
        "import time\n"
        "from cloud_planner.client import PlannerClient\n"
        "from reflexarc.scene_graph import SceneGraph\n"
        f"scene = SceneGraph.from_json(open({str(scene_file)!r}).read())\n"
        f"client = PlannerClient({running.address!r})\n"
        "session = client.session()\n"
        "session.hello('frozen-robot', scene)\n"
        "session.receive(10)\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    try:
        assert robot.stdout.readline().strip() == "ready"
        assert running.active_sessions == 1
        os.kill(robot.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 10.0
        while running.active_sessions and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running.active_sessions == 0
    finally:
        os.kill(robot.pid, signal.SIGCONT)
        robot.kill()
        robot.wait(timeout=10)
        running.stop(grace=0)
