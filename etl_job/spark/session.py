"""One place that starts Spark: local mode on a laptop or in CI, the cluster's own master on EMR Serverless."""

from __future__ import annotations

import os
import shutil

SPARK_REQUIREMENTS = "requirements-spark.txt"
INSTALL_HINT = ("the Spark engine needs pyspark (pip install -r requirements-spark.txt) and a Java 17 runtime "
                "(Debian: apt-get install openjdk-17-jre-headless)")


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: says what to install."""


def spark_missing() -> str | None:
    """Why Spark cannot start here, or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return f"pyspark is not installed: {INSTALL_HINT}"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return f"no Java runtime found (java not on PATH, JAVA_HOME unset): {INSTALL_HINT}"
    return None


def get_session(master: str | None = None, app_name: str = "streamlens-etl"):
    """The Spark session; local[2] unless a master is given (or the cluster set spark.master already).

    Small shuffles (the catalogs have thousands of titles, not millions) and no UI: the local run and the
    tests start in seconds. On a cluster the job's own configuration overrides these.
    """
    reason = spark_missing()
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master or not os.environ.get("SPARK_ENV_LOADED"):
        builder = builder.master(master or os.environ.get("STREAMLENS_SPARK_MASTER", "local[2]"))
    session = (builder
               .config("spark.sql.shuffle.partitions", os.environ.get("STREAMLENS_SPARK_PARTITIONS", "8"))
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.driver.memory", os.environ.get("STREAMLENS_SPARK_DRIVER_MEMORY", "4g"))
               .getOrCreate())
    session.sparkContext.setLogLevel("WARN")
    return session
