"""arcdata: reproducible, fast dataset pipelines and a trainer for Hierarchical Reasoning Models."""

__version__ = "0.1.0"
