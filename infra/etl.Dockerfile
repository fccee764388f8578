# The ETL as a container-image Lambda. Built by `cdk deploy` (which needs Docker
# or a CI builder); `cdk synth` only stages this file and needs no Docker.
FROM public.ecr.aws/lambda/python:3.12
COPY etl_job/requirements.txt /tmp/etl-requirements.txt
RUN pip install --no-cache-dir -r /tmp/etl-requirements.txt
COPY streamlens ${LAMBDA_TASK_ROOT}/streamlens
COPY etl_job ${LAMBDA_TASK_ROOT}/etl_job
CMD ["etl_job.aws_handler.handler"]
