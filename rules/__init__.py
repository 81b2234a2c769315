"""The rule set as data (ruleset.py) and the one engine that turns it into Spark expressions (engine.py)."""
