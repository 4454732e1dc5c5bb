"""rclpy with Fast DDS carries messages between two processes in an isolated domain."""

from __future__ import annotations

import subprocess
import textwrap
import time

import pytest

rclpy = pytest.importorskip("rclpy")
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from std_msgs.msg import String  # noqa: E402

_ECHO_NODE = textwrap.dedent(
    """
    import rclpy
    from rclpy.node import Node
    from std_msgs.msg import String

    rclpy.init()
    node = Node("echo")
    pub = node.create_publisher(String, "pong", 10)
    node.create_subscription(String, "ping", lambda m: pub.publish(String(data="echo:" + m.data)), 10)
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        rclpy.try_shutdown()
    """
)


def test_message_round_trip_between_two_processes(ros_env, ros_domain_id, python_exe):
    echo = subprocess.Popen([python_exe, "-c", _ECHO_NODE], env=ros_env)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain_id)
    try:
        node = rclpy.create_node("pinger", context=context)
        received: list[str] = []
        node.create_subscription(String, "pong", lambda m: received.append(m.data), 10)
        ping = node.create_publisher(String, "ping", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 30.0
        sent = 0
        while time.monotonic() < deadline and len(received) < 3:
            ping.publish(String(data=f"hello {sent}"))
            sent += 1
            executor.spin_once(timeout_sec=0.1)
        assert echo.poll() is None, "echo process died"
        assert len(received) >= 3
        assert all(text.startswith("echo:hello ") for text in received)
    finally:
        echo.terminate()
        echo.wait(timeout=10)
        rclpy.try_shutdown(context=context)


def test_isolated_domains_do_not_see_each_other(ros_env, ros_domain_id, python_exe):
    other_domain = dict(ros_env, ROS_DOMAIN_ID=str((ros_domain_id + 49) % 100 + 1))
    echo = subprocess.Popen([python_exe, "-c", _ECHO_NODE], env=other_domain)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain_id)
    try:
        node = rclpy.create_node("pinger", context=context)
        received: list[str] = []
        node.create_subscription(String, "pong", lambda m: received.append(m.data), 10)
        ping = node.create_publisher(String, "ping", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            ping.publish(String(data="hello"))
            executor.spin_once(timeout_sec=0.1)
        assert echo.poll() is None, "echo process died"
        assert received == []
    finally:
        echo.terminate()
        echo.wait(timeout=10)
        rclpy.try_shutdown(context=context)
