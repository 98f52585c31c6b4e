"""moto's SQS with each queue operation applied whole, as SQS applies it.

moto's ReceiveMessage scans a queue, marks each visible message received and deep-copies it with no
lock, so two pollers receiving from one queue at once can both take the same message (a FIFO
group handed to two consumers at once, which SQS never does) or fail with "dictionary changed size
during iteration" after the messages were already marked in flight (an HTTP 500 whose messages
stay invisible for the whole visibility timeout: measured in the integration layer, a batch's
comparisons came back 12 minutes later). Here each queue's lock covers each pass over it and every
send, delete, visibility change and purge on it; a long poll waits outside it, so long polls still
do not block each other, and queues never wait for one another.

CJ_LOCAL_MOTO_SQS_UNLOCKED=1 (read by moto_serialized.py) leaves moto's own SQS in place (neither
the locks nor the speed-up below), to compare.

Speed (same answers, `speed_up`): for every message it hands out, moto checks the retention period
by computing all of the queue's attributes, approximate message counts included, each a scan of
the whole queue reading the clock through datetime arithmetic per message; a receive of 10 from a
queue of 400 took 560 ms of CPU (measured in-process, cProfile: 96 % in that check and the
clock), so the local cloud slowed down as its queues grew. Here the check reads the queue's
retention period itself, and moto's SQS clock is `time.time()` (what its datetime arithmetic
computes, without the per-call cost).
"""

import threading
import time

import moto.sqs.models as sqs_models
from moto.sqs.models import SQSBackend

_locks_guard = threading.Lock()
_queue_locks: dict = {}


def _queue_lock(queue_name: str) -> threading.RLock:
    with _locks_guard:
        lock = _queue_locks.get(queue_name)
        if lock is None:
            lock = _queue_locks[queue_name] = threading.RLock()
        return lock

# A long poll whose queue has visible messages it may not take (a FIFO group in flight) would spin:
# moto's wait returns at once while any message is visible.
_IDLE_PASS_SECONDS = 0.02

_LOCKED_OPERATIONS = (
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)


def _locked(operation):
    # Every one of these takes the queue's name first, by position or by keyword.
    def locked(self, *args, **kwargs):
        queue_name = kwargs["queue_name"] if "queue_name" in kwargs else args[0]
        with _queue_lock(queue_name):
            return operation(self, *args, **kwargs)

    return locked


def install() -> None:
    receive = SQSBackend.receive_message

    def receive_message(
        self,
        queue_name,
        count,
        wait_seconds_timeout,
        visibility_timeout,
        message_attribute_names=None,
    ):
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            # One pass (moto returns after one pass when it may not wait).
            with _queue_lock(queue_name):
                result = receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            started = time.monotonic()
            self.get_queue(queue_name).wait_for_messages(min(1.0, remaining))
            if time.monotonic() - started < _IDLE_PASS_SECONDS:
                time.sleep(min(_IDLE_PASS_SECONDS, max(0.0, deadline - time.monotonic())))

    SQSBackend.receive_message = receive_message
    for name in _LOCKED_OPERATIONS:
        setattr(SQSBackend, name, _locked(getattr(SQSBackend, name)))


def speed_up() -> None:
    unix_time = sqs_models.unix_time
    unix_time_millis = sqs_models.unix_time_millis

    def fast_unix_time(dt=None):
        return time.time() if dt is None else unix_time(dt)

    def fast_unix_time_millis(dt=None):
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    sqs_models.unix_time = fast_unix_time
    sqs_models.unix_time_millis = fast_unix_time_millis

    check = SQSBackend.is_message_valid_based_on_retention_period

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        retention = getattr(self.get_queue(queue_name), "message_retention_period", None)
        if retention is None:
            return check(self, queue_name, message)
        return int(retention) + message.sent_timestamp / 1000 > time.time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period
