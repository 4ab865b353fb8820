"""The event log: columns and enums, real and simulated log files, atomic writes, local calendar time.

The lowest layer above :mod:`simulator.schema` and :mod:`simulator.errors`: it imports nothing else of
sessionlab. ``events`` (the columnar :class:`~simulator.log.events.EventLog` and its enums),
``sources`` (files, compression, standard input, directories, globs, Hive partitions, the CSV
delimiter), ``logfile`` (real logs in, per-row assignments out), ``formats`` (platform exports),
``writer`` (simulated logs streamed to disk), ``atomic`` (temp file + rename, one-line errors) and
``localtime`` (each system's day and hour, DST-correct).
"""
