"""Feature transforms: DataFrames in, DataFrames out, no I/O (only jobs/ reads and writes)."""
