"""The nightly HTML report: a static, self-contained site per run (jobs/report.py
gathers the run's outputs and records; report/site.py turns them into pages)."""
