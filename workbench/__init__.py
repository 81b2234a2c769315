"""The investigators' workbench: a web application to work the queue (docs/workbench.md)."""
