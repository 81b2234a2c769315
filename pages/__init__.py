"""The pages investigators read, rendered with no I/O: Jinja2 templates
(pages/templates.py), keys masked (pages/mask.py), timelines (pages/timeline.py) and the
site of a night (pages/site.py). The report stage (jobs/report.py) gathers a run's
outputs and records and writes the static site they make."""
