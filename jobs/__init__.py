"""Pipeline jobs. Each stage is one module with `run(spark, inputs, output, params)`; only jobs do I/O."""
