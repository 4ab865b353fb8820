"""From an event log to the numbers users compare: run, counts and metrics, bridges, comparisons, breakdowns.

Imports the engine, scenario, sessions and log layers. ``result`` (``run``/``run_log`` and
:class:`~simulator.analysis.result.Result`), ``metrics`` (counts per system and ratios), ``bridges``
(exact cause-by-cause identities), ``comparisons`` (definition A -> B, day by day across time zones),
``breakdown`` (cost per session by segment) and ``segments`` (counts for one day, campaign or device).
"""
