"""Renderers only: terminal tables and waterfalls, JSON, Markdown, charts and the report directory.

Renders what the core returns and computes nothing new; the core never imports it. ``tables``
(plain-text tables, number formats), ``text`` (terminal report, ``result.json``), ``markdown``
(``report.md``), ``plots`` (PNG charts, optional matplotlib), ``directory`` (the report directory,
atomically) and ``testing`` (replication, observed and calibration tables).
"""
