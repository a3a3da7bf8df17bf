"""Runbooks: the operator-facing jobs built from tasks (rollout, verify, rollback).

Each returns an exit code (0 all checks pass, 1 a check failed, 2 usage or inventory error)
and writes everything it did into a run directory.
"""
