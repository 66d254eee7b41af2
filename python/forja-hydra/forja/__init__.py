"""forja's Python side for Hydra apps: change `import hydra` to `import forja`
and `@hydra.main(...)` becomes `@forja.main(...)`; the configuration is composed
by the forja binary exactly as Hydra 1.3 composes it (see docs/hydra-compat.md).
"""
from forja.main import HydraConfig, RunMode, main

__all__ = ["main", "HydraConfig", "RunMode"]
__version__ = "0.1.0"
