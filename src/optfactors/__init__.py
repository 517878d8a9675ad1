"""optfactors: reproducible experiments on the many factors affecting neural-network optimization."""

__version__ = "0.1.0"
