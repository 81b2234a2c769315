"""Shared core of the nightly fraud-detection pipeline: the feed contract, typed settings,
the Spark session factory, storage helpers, the synthetic feed generator and the CLI."""

__version__ = "0.1.0"
