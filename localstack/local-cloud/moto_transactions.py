"""TransactWriteItems that keeps a copy of the items it touches, not of every table it touches.

moto 5's DynamoDB backend deep-copies each table a transaction names before applying it, so it can
put the table back if one action fails. That makes every transaction cost time and memory in
proportion to the whole table: a soak of 8 batches of 60 essays left moto_server at 4 GB resident
and 20 batches took it past 22 GB (docs/local-cloud.md, "Memory and speed of moto"). Real
DynamoDB's cost depends only on the items a transaction names, and so does this replacement: it
records each named item as it was (a deep copy, or "absent") before acting on it, and on failure
restores exactly those items. The DynamoDB lock in moto_serialized.py makes it safe (no other
request sees a half-applied transaction).

Everything else is moto's own code path: the same checks, the same errors, the same order.
"""

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key_values(table: Any, key: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Any, hash_value: DynamoType, range_value: DynamoType | None, item: Any) -> None:
    """Puts one item back as it was before the transaction (item None: it did not exist)."""
    if item is None:
        if table.range_key_attr:
            table.items.get(hash_value, {}).pop(range_value, None)
            if hash_value in table.items and not table.items[hash_value]:
                del table.items[hash_value]
        else:
            table.items.pop(hash_value, None)
    elif table.range_key_attr:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # (table, hash, range, item as it was) for every item named so far, in order.
    before: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
    target_items: set[tuple[str, str]] = set()

    def roll_back() -> None:
        for table, hash_value, range_value, item in reversed(before):
            _restore(table, hash_value, range_value, item)

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            on_failure = op.get("ReturnValuesOnConditionCheckFailure")
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if on_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                hash_value, range_value = _key_values(table, key)
                before.append((table, hash_value, range_value, copy.deepcopy(current)))
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition_expression,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            roll_back()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # as moto does: any other failure cancels the transaction
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        roll_back()
        raise TransactionCanceledException(errors)


def install() -> None:
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
