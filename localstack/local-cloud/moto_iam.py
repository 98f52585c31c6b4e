"""AWS's authorization rules for moto_server's identity-policy checks.

moto 5.2.1 enforces identity policies once INITIAL_NO_AUTH_ACTION_COUNT requests have been served
(users, roles, inline and attached policies, STS sessions and SigV4 signatures are real), but it
checks (measured; docs/local-cloud.md, "IAM"):

- DynamoDB and EventBridge requests against the resource "*": a grant scoped to the table, an
  index or the bus, as every least-privilege grant is, never allows anything;
- TransactWriteItems, TransactGetItems, SendMessageBatch, DeleteMessageBatch and
  ChangeMessageVisibilityBatch as actions of their own, which IAM does not have (it authorizes
  their parts: UpdateItem for each Update of a transaction, SendMessage for a batch, ...);
- CloudWatch actions as "monitoring:..." (the signing name) instead of "cloudwatch:...";
- temporary credentials of an assumed role forever, past their expiration;
- a statement with NotResource as one that allows (or denies) every resource;

and answers JSON-protocol clients (the AWS SDK v3 for DynamoDB, SQS, EventBridge) with XML errors
they cannot read. This module replaces moto's check with AWS's rules for what the local cloud
serves, keeping moto's IAM model, and records every decision once per principal, action and
resource (the audit log the IAM tests read).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.utils import utcnow
from moto.iam.access_control import (
    AssumedRoleAccessKey,
    IAMPolicyStatement,
    IAMRequest,
    PermissionResult,
)
from moto.sts.models import sts_backends
from werkzeug.exceptions import HTTPException

# IAM authorizes a transaction through the actions of its parts.
TRANSACT_WRITE_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
# SQS batch actions are authorized as their single-message action.
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# The IAM service prefix of a signing name, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch"}


class AwsError(HTTPException):
    """An error in the shape the client's protocol reads (moto's are XML for every protocol)."""

    def __init__(self, status: int, description: str):
        super().__init__(description=description)
        self.code = status


class Audit:
    """Each (principal, action, resource, decision) once, as JSON lines."""

    def __init__(self, path: str | None):
        self._path = path
        self._seen: set[tuple[str, str, str, bool]] = set()
        self._lock = threading.Lock()

    def record(self, principal: str, action: str, resource: str, allowed: bool) -> None:
        if self._path is None:
            return
        key = (principal, action, resource, allowed)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            with open(self._path, "a", encoding="utf-8") as log:
                log.write(
                    json.dumps(
                        {
                            "timestamp": utcnow().isoformat() + "Z",
                            "principal": principal,
                            "action": action,
                            "resource": resource,
                            "allowed": allowed,
                        }
                    )
                    + "\n"
                )


_audit = Audit(None)
# Set by preauthorize() for the one moto check that follows it on the same thread.
_preauthorized = threading.local()


def install(audit_path: str | None = None) -> None:
    """Makes every moto request handler authorize as AWS does (once auth is on)."""
    global _audit
    _audit = Audit(audit_path)

    def authorize(self, resource: str = "*") -> None:
        if getattr(_preauthorized, "active", False):
            _preauthorized.active = False
            return
        if not _auth_is_on():
            ActionAuthenticatorMixin.request_count += 1
            return
        _check(self, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize
    _evaluate_not_resource()


def preauthorize(handler, resource: str = "*") -> str:
    """
    Checks a request before the caller takes a lock, so authorization never waits behind other
    requests: "allowed" (moto's own check is then skipped once), "refused" (let moto answer it, with
    the error) or "inactive" (the setup's unauthenticated requests).
    """
    if not _auth_is_on():
        return "inactive"
    try:
        _check(handler, resource)
    except HTTPException:
        return "refused"
    _preauthorized.active = True
    return "allowed"


def forget_preauthorization() -> None:
    """For a request answered without reaching moto's check (an injected fault): the next is checked."""
    _preauthorized.active = False


def _auth_is_on() -> bool:
    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def _check(handler, resource: str) -> None:
    if handler.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    parsed = urlparse(handler.uri)
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    try:
        request = IAMRequest(
            account_id=handler.current_account,
            method=handler.method,
            path=path,
            data=handler.data,
            body=handler.raw_body,
            headers=handler.headers,
            action=handler._get_action(),
        )
        request.check_signature()
    except HTTPException as error:
        code = type(error).__name__.removesuffix("Error")
        raise _error(handler, 403, code, _message_of(error)) from None
    _refuse_expired_session(handler, request)
    principal = request._access_key.arn
    for action, arn in _checks(handler, request._service, resource):
        request._action = action
        try:
            request.check_action_permitted(arn)
        except HTTPException:
            _audit.record(principal, action, arn, False)
            raise _error(
                handler,
                403,
                "AccessDenied",
                f"User: {principal} is not authorized to perform: {action} on resource: "
                f"{arn} because no identity-based policy allows the {action} action",
            ) from None
        _audit.record(principal, action, arn, True)


def _evaluate_not_resource() -> None:
    """NotResource: the statement applies to every resource except those it names."""
    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        statement = self._statement
        if "NotResource" not in statement or "Resource" in statement:
            return original(self, action, resource, principal, incoming_condition_values)
        excluded = statement["NotResource"]
        if any(IAMPolicyStatement._match(pattern, resource) for pattern in (excluded if isinstance(excluded, list) else [excluded])):
            return PermissionResult.NEUTRAL
        rest = {key: value for key, value in statement.items() if key != "NotResource"}
        return original(IAMPolicyStatement({**rest, "Resource": "*"}), action, "*", principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def _checks(handler, service: str, resource: str) -> list[tuple[str, str]]:
    """The (action, resource ARN) pairs AWS authorizes for this request, in order, once each."""
    action = handler._get_action()
    region, account = handler.region, handler.current_account
    if service == "dynamodb":
        pairs = list(_dynamodb_checks(action, _params(handler), region, account))
    elif service == "sqs":
        # moto resolves the queue's ARN from QueueUrl itself.
        pairs = [(f"sqs:{SQS_BATCH_ACTIONS.get(action, action)}", resource)]
    elif service == "events" and action == "PutEvents":
        entries = _params(handler).get("Entries") or []
        pairs = [("events:PutEvents", _bus_arn(e.get("EventBusName"), region, account)) for e in entries]
    else:
        pairs = [(f"{IAM_PREFIX.get(service, service)}:{action}", resource)]
    return list(dict.fromkeys(pairs))


def _dynamodb_checks(action: str, params: dict, region: str, account: str) -> Iterator[tuple[str, str]]:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"

    if action == "TransactWriteItems":
        for item in params.get("TransactItems") or []:
            for kind, operation in item.items():
                yield f"dynamodb:{TRANSACT_WRITE_PARTS[kind]}", table(operation["TableName"])
    elif action == "TransactGetItems":
        for item in params.get("TransactItems") or []:
            yield "dynamodb:GetItem", table(item["Get"]["TableName"])
    elif action in ("BatchGetItem", "BatchWriteItem"):
        for name in params.get("RequestItems") or {}:
            yield f"dynamodb:{action}", table(name)
    elif params.get("TableName"):
        arn = table(params["TableName"])
        if action in ("Query", "Scan") and params.get("IndexName"):
            arn = f"{arn}/index/{params['IndexName']}"
        yield f"dynamodb:{action}", arn
    else:
        yield f"dynamodb:{action}", "*"


def _bus_arn(name: str | None, region: str, account: str) -> str:
    bus = name or "default"
    return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{account}:event-bus/{bus}"


def _params(handler) -> dict:
    params = getattr(handler, "params", None)
    if isinstance(params, dict) and params:
        return params
    body = handler.body
    if isinstance(body, dict):
        return body
    try:
        parsed = json.loads(body or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _refuse_expired_session(handler, request: IAMRequest) -> None:
    key = request._access_key
    if not isinstance(key, AssumedRoleAccessKey):
        return
    for session in sts_backends[handler.current_account][key.partition].assumed_roles:
        if session.access_key_id == key._access_key_id and session.expiration <= utcnow():
            raise _error(handler, 400, "ExpiredToken", "The security token included in the request is expired")


def _message_of(error: HTTPException) -> str:
    message = getattr(error, "message", None)
    return str(message) if message else "The security token included in the request is invalid."


def _error(handler, status: int, code: str, message: str) -> AwsError:
    """`code` in the client's protocol: JSON for X-Amz-Target requests, XML (Query) otherwise."""
    if not handler.headers.get("X-Amz-Target"):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{_xml_escape(message)}</Message></Error>"
            "<RequestId>local</RequestId></ErrorResponse>"
        )
        handler.response_headers["Content-Type"] = "text/xml"
        return AwsError(status, body)
    json_code = {
        "AccessDenied": "AccessDeniedException",
        "ExpiredToken": "ExpiredTokenException",
        "InvalidClientTokenId": "UnrecognizedClientException",
    }.get(code, code)
    if getattr(handler, "service_name", "") == "sqs":
        # SQS speaks JSON with its Query error codes in a header (the SDK names the error after it).
        handler.response_headers["x-amzn-query-error"] = f"{code};Sender"
    handler.response_headers["Content-Type"] = "application/x-amz-json-1.0"
    return AwsError(status, json.dumps({"__type": f"com.amazon.coral.service#{json_code}", "message": message}))


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The local HTTP API asks here who signed a request, as API Gateway's IAM authorization does:
# the SigV4 signature checked against the key's secret in moto's IAM (users' keys and assumed-role
# sessions alike), an expired session refused, and execute-api:Invoke on the route checked
# against the caller's identity policies. Loopback only, like moto_server itself.
CALLER_PATH = "/_cj/sigv4-caller"


def caller_identity(app):
    """Wraps the WSGI app: POST CALLER_PATH answers who signed the request it describes."""

    def wsgi(environ, start_response):
        if environ.get("PATH_INFO") != CALLER_PATH or environ.get("REQUEST_METHOD") != "POST":
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        status, answer = _identify(json.loads(environ["wsgi.input"].read(length) or b"{}"))
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return wsgi


def _identify(described: dict) -> tuple[str, dict]:
    from base64 import b64decode

    from werkzeug.datastructures import Headers

    # Header names as a WSGI server gives them to moto (X-Amz-Date), which moto's check reads.
    headers = Headers([("-".join(part.capitalize() for part in name.split("-")), value) for name, value in (described.get("headers") or {}).items()])
    if not headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
        return "403 Forbidden", {"message": "Missing Authentication Token"}
    try:
        request = IAMRequest(
            account_id=described["account"],
            method=described["method"],
            path=described["path"],
            data={},
            body=b64decode(described.get("body") or ""),
            headers=headers,
            action="Invoke",
        )
        request.check_signature()
        key = request._access_key
        if isinstance(key, AssumedRoleAccessKey):
            for session in sts_backends[key.account_id][key.partition].assumed_roles:
                if session.access_key_id == key._access_key_id and session.expiration <= utcnow():
                    return "403 Forbidden", {"message": "The security token included in the request is expired"}
        request._action = "execute-api:Invoke"
        principal = key.arn
        try:
            request.check_action_permitted(described["resource"])
        except HTTPException:
            _audit.record(principal, "execute-api:Invoke", described["resource"], False)
            return "403 Forbidden", {
                "message": f"User: {principal} is not authorized to perform: execute-api:Invoke on resource: {described['resource']}"
            }
        _audit.record(principal, "execute-api:Invoke", described["resource"], True)
    except HTTPException as error:
        return "403 Forbidden", {"message": _message_of(error)}
    except (KeyError, ValueError) as error:
        return "403 Forbidden", {"message": f"The request signature is malformed ({type(error).__name__})"}
    return "200 OK", {
        "userArn": principal,
        "accessKey": key._access_key_id,
        "accountId": key.account_id,
    }
