"""Environment files: typed models, whole-file rules, and the loader that applies both."""

from eksml.config.loader import load_environment, known_environments, resolve_environment_file
from eksml.config.models import Environment, NodePool, PoolKind, Tier

__all__ = ["Environment", "NodePool", "PoolKind", "Tier", "known_environments", "load_environment", "resolve_environment_file"]
