"""High-level APIs used by the tools: train / test steps, declared stages,
the model zoo, ``make demo`` and ``make reproduce``."""
from . import stage_kinds  # noqa: F401  (registers the stage kinds)
