"""Derivative checks: finite differences, dot-product and Taylor tests run with gfortran.

spec.py (what to set) -> harness.py (the Fortran program) -> run.py (build and run)
-> report.py (verdicts, table, JSON); inputs.py finds the head and reads sample.toml.
"""
