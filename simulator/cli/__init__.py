"""The ``sessionlab`` command: one module per group of subcommands, over the public API.

``main`` (the parser, exit codes and the run/check/simulate/compare/calibrate/schema commands),
``sessions`` (``definitions``, ``sessionize``), ``testbench`` (``workload``, ``conform``, ``bench``)
and ``argtypes`` (argparse number types). Nothing below imports this package.
"""
