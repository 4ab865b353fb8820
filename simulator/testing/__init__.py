"""Testing with scenarios: expectations, replications and statistics, calibration, pytest plugin, JUnit.

Imports analysis and everything below it; never the report or the CLI (they render what it returns).
``expect`` (evaluate ``[[expect]]``), ``stats`` (replications, intervals, observed vs simulated),
``calibrate`` (fit parameters to observed numbers), ``pytest_plugin`` and ``junit``.
"""
