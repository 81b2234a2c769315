"""Operating the Airflow stack: start/stop (`fraudctl airflow up|down`), its secrets,
the DAGs' shared defaults and the operators' notifications. Imports nothing heavy:
DAG files import `ops.dag_defaults` at parse time."""
