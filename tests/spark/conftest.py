"""One SparkSession for every Spark test (local[2]; its start-up costs seconds to tens of seconds)."""

from __future__ import annotations

import shutil

import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is in the dev extra")
if shutil.which("java") is None:  # pragma: no cover - .ci/run installs a JRE
    pytest.fail("the Spark tests need Java: apt-get install openjdk-17-jre-headless", pytrace=False)


@pytest.fixture(scope="session")
def spark():
    from simulator.spark.context import local_session

    session = local_session("local[2]", {"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


from tests.testbench.conftest import edge_workload  # noqa: E402, F401 - the test bench's edge cases
