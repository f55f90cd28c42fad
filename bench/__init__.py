"""Benchmarks of dbt-braze: `python -m bench` (or `make bench`) runs them and prints figures.

They measure SPEC section 5 (diff against a naive baseline, backfill, no-change resync, peak
memory, rate-limited throughput, client CPU, data points) and write docs/benchmarks.md. They
are programs, not tests: they exit 0 whatever the figures are.
"""
