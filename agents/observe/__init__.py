"""What the worker tells its operators: Prometheus metrics and JSON logs."""
