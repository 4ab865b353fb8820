"""The scenario file: TOML schema, sections, journeys, expectations, observed numbers, shared names.

Imports :mod:`simulator.sessions` (definitions in scenario files), :mod:`simulator.log` (enums) and the
schema toolkit; never the engine, analysis or anything above. ``loader`` (read, validate, build the
frozen :class:`~simulator.scenario.loader.Scenario`), ``sections`` (population, campaigns, behaviour,
tracking), ``distributions`` (behaviour distributions: parse and sample), ``expectations`` and
``assertions`` (``[[expect]]``/``[observed]`` and what they assert), ``params`` (the dotted paths
calibrate fits) and ``vocabulary`` (metric and bridge-term names with their meanings).
"""
