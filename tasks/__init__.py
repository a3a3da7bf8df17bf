"""Nornir task functions: plain typed functions `(task, **params) -> Result`.

`config`: prepare (render, backup, diff), apply (push, commit, save), roll back.
`check`: verify every tunnel of a device and diagnose failures (with helpers in `status`).
"""
