"""The local run (`make run`, `python -m local_run`): an embedded S3, a release in it, then every route and
the web interface on one local server. It stays out of the ETL's container image (etl_job and streamlens
only): the ETL carries no server."""
