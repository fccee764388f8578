# The ETL's image, run as a Fargate task (infra/etl.py). Built by `cdk deploy` (which needs Docker or a CI
# builder) for linux/amd64; `cdk synth` only stages this file and needs no Docker. Amazon ECR Public's copy of
# the official Python image: no Docker Hub pull limits.
FROM public.ecr.aws/docker/library/python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
COPY etl_job/requirements.txt /tmp/etl-requirements.txt
RUN pip install --no-cache-dir --only-binary=:all: -r /tmp/etl-requirements.txt
COPY streamlens streamlens
COPY etl_job etl_job
USER nobody
CMD ["python", "-m", "etl_job", "task"]
