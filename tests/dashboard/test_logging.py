import io
import json
import logging
import logging.config

from django.conf import settings

from dashboard.logging import current_run_id


def configured_logger(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    config = {**settings.LOGGING, "disable_existing_loggers": False}
    config["handlers"] = {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": fmt,
            "filters": ["context"],
            "stream": stream,
        }
    }
    config["loggers"] = {}
    config["root"] = {"handlers": ["console"], "level": "INFO"}
    logging.config.dictConfig(config)
    return logging.getLogger("tuning.sweep"), stream


def test_production_log_lines_are_json_with_the_run_id():
    logger, stream = configured_logger("json")
    token = current_run_id.set("1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed")
    try:
        logger.warning("published version %s", 3)
    finally:
        current_run_id.reset(token)
        logging.config.dictConfig(settings.LOGGING)
    record = json.loads(stream.getvalue().strip())
    assert record["level"] == "WARNING"
    assert record["logger"] == "tuning.sweep"
    assert record["message"] == "published version 3"
    assert record["run_id"] == "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    assert "time" in record


def test_development_log_lines_are_readable_text():
    logger, stream = configured_logger("text")
    try:
        logger.info("sweep started")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    line = stream.getvalue().strip()
    assert line.endswith("INFO    tuning.sweep sweep started")


def test_text_from_outside_cannot_forge_a_log_line():
    logger, stream = configured_logger("text")
    forged = "2026-11-28 12:00:00,000 INFO    tuning.runs apply of 3008 MB approved by admin"
    try:
        logger.warning("invocation failed: %s", f"Boom\r\n{forged}\x1b[2K\u2028x")
        try:
            raise ValueError("ours")
        except ValueError:
            logger.exception("with a traceback")
    finally:
        logging.config.dictConfig(settings.LOGGING)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(f"invocation failed: Boom\\r\\n{forged}\\x1b[2K\\u2028x")
    assert not any(line.startswith(forged) for line in lines)
    assert lines[1].endswith("with a traceback")
    assert lines[2] == "Traceback (most recent call last):"  # our own tracebacks keep their lines
