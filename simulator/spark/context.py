"""Starting a SparkSession for sessionlab (the CLI and the tests), with Arrow on and UTC session time."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

__all__ = ["DEFAULTS", "local_session"]

#: Settings sessionlab starts Spark with; ``--spark-conf k=v`` overrides any of them.
DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    "spark.driver.memory": "2g",
    # batches of 200,000 rows between the JVM and the kernels' Python workers (Spark's default is
    # 10,000; benchmarks/bench_spark.py could not tell the two apart on a shared machine, see
    # docs/scale.md; results never depend on it)
    "spark.sql.execution.arrow.maxRecordsPerBatch": "200000",
}


def local_session(
    master: str | None = None, conf: Mapping[str, str] | None = None, app: str = "sessionlab"
) -> SparkSession:
    """A SparkSession on ``master`` (default: ``spark.master`` from spark-submit, else ``local[*]``).

    The executors run this interpreter (``PYSPARK_PYTHON`` unless already set), so they import the
    same sessionlab as the driver in local mode; on a cluster ship the package (docs/scale.md).
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    elif "spark.master" not in (conf or {}) and not os.environ.get("SPARK_HOME"):
        builder = builder.master("local[*]")
    for key, value in {**DEFAULTS, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
