"""Pipeline jobs. Each stage is one module with `run(spark, inputs, night) -> result`
(the types: jobs/stage_io.py); only jobs do I/O."""
