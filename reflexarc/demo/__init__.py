"""The end-to-end demo: scenarios, orchestration of the full stack, and the run's report."""

from reflexarc.demo.scenarios import SCENARIOS, Check, GroundTruthLog, Scenario, get_scenario

__all__ = ["SCENARIOS", "Check", "GroundTruthLog", "Scenario", "get_scenario"]
