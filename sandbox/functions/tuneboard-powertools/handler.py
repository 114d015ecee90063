"""Demo function written the way many teams do: Powertools Logger + Metrics, a boto3
client created at init (outside the handler), JSON log format."""

import os
import time

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()  # POWERTOOLS_SERVICE_NAME from the environment
metrics = Metrics()  # POWERTOOLS_METRICS_NAMESPACE from the environment
dynamodb = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event, context):
    started = time.perf_counter()
    items = [{"id": str(i), "value": i * i} for i in range(int((event or {}).get("items", 2000)))]
    total = sum(item["value"] for item in items)
    logger.info("processed items", extra={"items": len(items), "client": dynamodb.meta.region_name})
    metrics.add_metric(name="ItemsProcessed", unit=MetricUnit.Count, value=len(items))
    metrics.add_metric(
        name="ProcessingTime",
        unit=MetricUnit.Milliseconds,
        value=(time.perf_counter() - started) * 1000,
    )
    return {"items": len(items), "total": total}
