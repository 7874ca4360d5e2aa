"""Locust load test for the O2O service: local or distributed (master/worker), see README.md."""
