"""CloudWatch minutes read straight from the sandbox: the truth the reports are checked against."""

from __future__ import annotations

from datetime import timedelta

from tests.cachemetrics.conftest import T0

HOUR = timedelta(hours=1)
CACHE_METRICS = ("ItemCacheHits", "ItemCacheMisses", "QueryCacheHits", "QueryCacheMisses")


def raw_minutes(aws, cluster: str) -> dict[str, dict]:
    """{metric: {minute: value}} straight from CloudWatch, cluster dimension only."""
    answer = aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/DAX",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "ClusterId", "Value": cluster}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
            for i, metric in enumerate(CACHE_METRICS)
        ],
        StartTime=T0 - HOUR,
        EndTime=T0,
    )
    return {
        CACHE_METRICS[int(r["Id"][1:])]: dict(zip(r["Timestamps"], r["Values"], strict=True))
        for r in answer["MetricDataResults"]
    }
