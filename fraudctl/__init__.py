"""`fraudctl`, the command line: a night, verify, prune, train, synth, evaluate
(main.py) and the Airflow stack (airflow.py). The top layer: it may import any other."""
