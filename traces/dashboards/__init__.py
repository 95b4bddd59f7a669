"""Cost, usage, latency and score dashboards: every number computed in SQL on the server.

`period` reads the dashboard's GET filters into a time window and a traces-list filter state;
`base` turns that state into the filtered traces every query starts from; `totals`, `series`,
`breakdowns` and `scores` hold the aggregates (plain functions returning dataclasses); `charts`
turns them into Plotly figures with a table of the same numbers.
"""
