"""Benchmarks of what django-signal-panel adds to real workloads; see benchmarks/run.py."""
