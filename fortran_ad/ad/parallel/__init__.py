"""Parallel adjoints of OpenMP loops: races, the automatic choice, re-running in parallel."""
