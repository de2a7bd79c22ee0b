"""The engine: claim loop, planning, outcome recording and heartbeats of one node."""

from tickwork.engine.engine import Engine, EngineSettings, new_node_id
from tickwork.engine.planner import plan_claim

__all__ = ["Engine", "EngineSettings", "new_node_id", "plan_claim"]
