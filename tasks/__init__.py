"""Nornir task functions: plain typed functions `(task, **params) -> Result`.

`config`: render, prepare (backup + diff), apply (push, commit, save), roll back.
`status`: collect and parse status output, ping across a tunnel.
`check`: verify every tunnel of a device and diagnose failures.
"""
