"""How every node spins (``reflexarc.ros_executor``): sim-time timers run, shutdown ends the loop.

Real rclpy with Fast DDS in one process: one context publishes ``/clock`` as sim_node does, another
runs a ``use_sim_time`` node with a 100 Hz timer on the events executor, like the reflex's watchdog.
(In Kilted, ``EventsExecutor.spin()`` never runs such a timer; this is the behaviour the loop is for.)
"""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock

from reflexarc.ros_executor import events_executor, spin_until_shutdown


def test_a_clock_driven_timer_runs_and_shutdown_ends_the_spin(ros_domain_id):
    clock_ctx, node_ctx = rclpy.Context(), rclpy.Context()
    rclpy.init(context=clock_ctx, domain_id=ros_domain_id)
    rclpy.init(context=node_ctx, domain_id=ros_domain_id)
    clock_node = rclpy.create_node("clock_source", context=clock_ctx)
    node = rclpy.create_node("sim_time_user", context=node_ctx,
                             parameter_overrides=[Parameter("use_sim_time", Parameter.Type.BOOL, True)])
    fired: list[float] = []
    node.create_timer(0.01, lambda: fired.append(node.get_clock().now().nanoseconds * 1e-9))
    executor = events_executor(node, node_ctx)
    spinner = threading.Thread(target=spin_until_shutdown, args=(executor, node_ctx), daemon=True)
    spinner.start()
    clock_pub = clock_node.create_publisher(Clock, "/clock", 10)
    try:
        sim_ns = 1_000_000_000
        deadline = time.monotonic() + 20.0
        while len(fired) < 50 and time.monotonic() < deadline:
            sim_ns += 10_000_000  # 10 ms of simulated time per tick
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = divmod(sim_ns, 1_000_000_000)
            clock_pub.publish(msg)
            time.sleep(0.005)
        assert len(fired) >= 50, f"the sim-time timer fired {len(fired)} times"
        assert fired[-1] > fired[0] >= 1.0  # on simulated time, not the wall clock
    finally:
        rclpy.try_shutdown(context=node_ctx)
        spinner.join(5.0)
        clock_node.destroy_node()
        rclpy.try_shutdown(context=clock_ctx)
    assert not spinner.is_alive(), "the spin loop outlived its context's shutdown"
