# The Spark job's image on EMR Serverless (infra/spark.py). Built by `cdk deploy` (Docker or a CI builder) for
# linux/amd64, like the ETL's; `cdk synth` only stages this file. EMR Serverless runs only images built FROM its
# base image of the application's release (the jars, the configuration and the hadoop user it starts with).
FROM public.ecr.aws/emr-serverless/spark/emr-7.11.0:latest
USER root
# The base image's Python is 3.9 and this code needs 3.11: Amazon Linux 2023's package, which the application's
# spark-defaults name for the driver and the executors (PYSPARK_PYTHON).
RUN dnf install -y python3.11 python3.11-pip && dnf clean all
# What the job imports beside pyspark (the release's own Spark 3.5, not requirements-spark.txt's pin, which
# is for local mode): the ETL's packages, wheels only, as in the ETL's image.
COPY etl_job/requirements.txt /tmp/etl-requirements.txt
RUN python3.11 -m pip install --no-cache-dir --only-binary=:all: -r /tmp/etl-requirements.txt
# This repository's two packages, importable on the driver and the executors through a .pth file (Spark
# rewrites PYTHONPATH for its Python workers; site-packages it leaves alone).
COPY streamlens /app/streamlens
COPY etl_job /app/etl_job
RUN echo /app > "$(python3.11 -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/streamlens-app.pth"
USER hadoop:hadoop
