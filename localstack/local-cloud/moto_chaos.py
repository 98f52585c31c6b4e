"""Faults moto never raises, injected in front of its DynamoDB backend (see chaos.ts).

Off until the local cloud posts a configuration to /_chaos/config (only when it was started with a
chaos spec). Then a function's DynamoDB data request, once its IAM check has passed, is answered
with ProvisionedThroughputExceededException (throttle) or a transaction conflict (conflict:
TransactionCanceledException with a TransactionConflict reason for transactions,
TransactionConflictException for single-item writes), drawn from one seeded stream. Requests
signed with an exempt key (the local cloud's admin: the CLI, tests, the soak's own reads) are
never touched. Each fault is one JSON line in the chaos log.

/_chaos/release-inflight makes every in-flight SQS message visible again after `after_s` seconds:
a function host started again against this moto uses it for the messages its killed predecessor
had received (their visibility timeout would otherwise hold them for up to 12 minutes).
"""

import json
import random
import re
import threading
import time
from datetime import datetime, timezone

_lock = threading.Lock()
_config = {"throttle": 0.0, "conflict": 0.0, "exempt": set(), "log": None}
_random = random.Random(1)

DATA_ACTIONS = {
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
    "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
}
SINGLE_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
TRANSACTIONS = {"TransactGetItems", "TransactWriteItems"}
_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")


def configure(body: dict) -> None:
    with _lock:
        _config["throttle"] = float(body.get("throttle", 0))
        _config["conflict"] = float(body.get("conflict", 0))
        _config["exempt"] = set(body.get("exempt_access_keys", []))
        _config["log"] = body.get("log_file")
        _random.seed(int(body.get("seed", 1)))


def _record(kind: str, action: str) -> None:
    path = _config["log"]
    if not path:
        return
    line = {"timestamp": datetime.now(timezone.utc).isoformat(), "fault": kind, "action": action}
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def _error(handler, error_type: str, payload: dict):
    headers = dict(handler.response_headers)
    headers["Content-Type"] = "application/x-amz-json-1.0"
    return 400, headers, json.dumps({"__type": _ERROR_PREFIX + error_type, **payload})


def fault_for(handler):
    """The injected answer for this DynamoDB request, or None to let moto serve it."""
    if _config["throttle"] <= 0 and _config["conflict"] <= 0:
        return None
    target = handler.headers.get("X-Amz-Target", "")
    action = target.split(".")[-1]
    if action not in DATA_ACTIONS:
        return None
    key = _ACCESS_KEY.search(handler.headers.get("Authorization", ""))
    if key is None or key.group(1) in _config["exempt"]:
        return None
    with _lock:
        throttle = _random.random() < _config["throttle"]
        conflict = not throttle and action in SINGLE_WRITES | TRANSACTIONS and (
            _random.random() < _config["conflict"]
        )
        if throttle:
            _record("throttle", action)
        elif conflict:
            _record("conflict", action)
    if throttle:
        return _error(handler, "ProvisionedThroughputExceededException", {
            "message": "The level of configured provisioned throughput for the table was exceeded."
        })
    if conflict and action in TRANSACTIONS:
        items = handler.body.get("TransactItems", []) if isinstance(handler.body, dict) else []
        reasons = [{"Code": "TransactionConflict",
                    "Message": "Transaction is ongoing for the item"}]
        reasons += [{"Code": "None"} for _ in items[1:]]
        codes = ", ".join(reason["Code"] for reason in reasons)
        return _error(handler, "TransactionCanceledException", {
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            "CancellationReasons": reasons,
        })
    if conflict:
        return _error(handler, "TransactionConflictException", {
            "message": "Operation was rejected because there is an ongoing transaction for the item."
        })
    return None


def release_inflight(after_s: float) -> int:
    """Every received, undeleted SQS message becomes visible `after_s` seconds from now."""
    from moto.sqs.models import sqs_backends

    released = 0
    visible_at = time.time() * 1000 + after_s * 1000
    for _account, region, backend in sqs_backends.iter_backends():
        for queue in backend.queues.values():
            for message in list(queue._messages):
                if not message.visible and message.approximate_receive_count > 0:
                    message.visible_at = visible_at
                    released += 1
    return released


def wrap(app):
    """Serves /_chaos/config and /_chaos/release-inflight (POST, JSON); everything else is moto's."""

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_chaos/"):
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if path == "/_chaos/config":
            configure(body)
            answer = {"configured": True}
        elif path == "/_chaos/release-inflight":
            answer = {"released": release_inflight(float(body.get("after_s", 0)))}
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"message":"Not Found"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    return wrapped
