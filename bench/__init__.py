"""Benchmarks (`make bench` -> bench/run.sh). See bench/README.md."""
