"""moto_server with DynamoDB requests applied one at a time.

moto's DynamoDB backend applies UpdateItem and TransactWriteItems without a lock, so concurrent
requests can lose a counter increment or return a garbled response (measured: 200 concurrent
transactions adding 1 to one counter left it at 194). Real DynamoDB is atomic per item and per
transaction, and the engine's exactly-once accounting relies on that, so the local cloud
serializes DynamoDB calls (their table work, not their IAM check). SQS, EventBridge and CloudWatch
stay concurrent (long polls must not block each other).

Identity policies are checked as AWS checks them (moto_iam.py) once INITIAL_NO_AUTH_ACTION_COUNT
requests have been served (the environment variable moto reads); each decision goes to the audit
log given with --iam-audit.

Soaks inject the DynamoDB faults moto never raises (throttling, transaction conflicts) after that
check, see moto_chaos.py.

The local HTTP API asks moto_iam's caller endpoint who signed each request (SigV4 checked with the
key's secret, execute-api:Invoke with the caller's policies), as API Gateway's IAM authorization
does.

SQS operations are applied whole, one pass over a queue at a time (moto_sqs.py): moto's own receive
could hand one message to two pollers and answer 500 after marking messages in flight.

Transactions copy only the items they name, not whole tables (moto_transactions.py): moto's own
copy made each transaction cost the size of the table, in time and memory.

Usage: python3 moto_serialized.py -H 127.0.0.1 -p PORT [--iam-audit FILE]
"""

import argparse
import os
import signal
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

import moto_chaos
import moto_iam
import moto_speed
import moto_sqs
import moto_transactions

_dynamodb_lock = threading.Lock()


def _serialize_dynamodb() -> None:
    """DynamoDB requests hold one lock while they read and write the tables, after their IAM check."""
    call_action = DynamoHandler.call_action

    def serialized(self):
        # As DynamoHandler.call_action does before dispatching: the check reads the parameters.
        self.body = getattr(self, "params", {})
        if moto_iam.preauthorize(self) == "refused":
            return call_action(self)  # moto answers with the error; no table is touched
        fault = moto_chaos.fault_for(self)
        if fault is not None:
            moto_iam.forget_preauthorization()  # the next request on this thread is checked again
            return fault
        with _dynamodb_lock:
            return call_action(self)

    DynamoHandler.call_action = serialized


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--iam-audit", default=None)
    args = parser.parse_args()
    moto_iam.install(args.iam_audit)
    _serialize_dynamodb()
    moto_speed.install()
    if os.environ.get("CJ_LOCAL_MOTO_TABLE_COPY") != "1":  # 1: moto's own copy, to compare
        moto_transactions.install()
    if os.environ.get("CJ_LOCAL_MOTO_SQS_UNLOCKED") != "1":  # 1: moto's own SQS, to compare
        moto_sqs.install()
        moto_sqs.speed_up()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, moto_iam.caller_identity(moto_chaos.wrap(app)), threaded=True)


if __name__ == "__main__":
    main()
