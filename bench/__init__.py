"""Throughput of `parley run` against a bare pass-through on the same server stack.

`./bench/run` is the one command; see BENCHMARKS.md.
"""
