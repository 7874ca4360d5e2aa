"""Benchmark harness for `make bench`: the checkout hot path under gunicorn."""
