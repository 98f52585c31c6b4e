"""moto's per-request overheads that do not check anything, replaced by equivalents that cost less.

Measured with a sampling profile of moto_server during `npm run -s bench:pipeline` (BENCHMARKS.md,
"Pipeline"). Each replacement returns exactly what moto's own code returns; none changes a check,
an error or an answer:

- Which backend serves a request: moto lists its package folder (`os.listdir` and one `isdir` per
  service, about 150) for every request, under the dispatcher's global lock. The folder does not
  change while the server runs, so it is listed once.
- The access log: werkzeug writes one line per request to moto.log, every request thread taking
  the logging lock in turn. Only warnings and errors (an exception's traceback) are written now;
  CJ_LOCAL_MOTO_ACCESS_LOG=1 writes every request line again.
- A query: moto sorts every item of the table (comparing DynamoType keys, about 12 ms per 1,000
  items) and only then keeps those of the queried partition, so each query, on the table or on an
  index, costs time in proportion to the whole table, under the DynamoDB lock. The sweeper queries
  its indexes every few seconds, so a table grown over a test run kept moto busy all the time: with
  30,000 other items in the table, writing them took 17 minutes and a 6-essay batch was still
  RUNNING after 3 minutes (the batch takes 15 s on an empty table). Now only the queried
  partition's items are handed to moto's own query (for the table: moto's own dict of the
  partition; for an index: one dict lookup per item), which applies every condition, limit, page
  and projection as before. With the same 30,000 items: written in 15-20 s, the batch done in
  24 s. CJ_LOCAL_MOTO_FULL_INDEX_QUERY=1 keeps moto's own, to compare
  (test/integration/local-cloud/moto-query.test.ts compares the answers).
"""

import functools
import inspect
import logging
import os
import threading

import moto.backends as moto_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table


def install() -> None:
    if os.environ.get("CJ_LOCAL_MOTO_ACCESS_LOG") != "1":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = functools.lru_cache(maxsize=1)(lambda: modules)

    if os.environ.get("CJ_LOCAL_MOTO_FULL_INDEX_QUERY") != "1":
        _query_by_partition()


# The items one index query on this thread may see (table, items), set only during that query.
_query_scope = threading.local()


def _query_by_partition() -> None:
    query = Table.query
    all_items = Table.all_items
    signature = inspect.signature(query)

    def scoped_all_items(self):
        scope = getattr(_query_scope, "items", None)
        if scope is not None and scope[0] is self:
            return list(scope[1])
        return all_items(self)

    def partition_query(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs).arguments
        if not arguments.get("index_name"):
            return _table_query(self, arguments.get("hash_key"), args, kwargs)
        conditions = arguments.get("hash_key_conditions") or []
        if not conditions:
            return query(self, *args, **kwargs)
        # The same test moto's query makes of each item, on the items of the table only once.
        # Most items lack the index's key: one dict lookup each (the loop is most of the cost).
        first_name, first_expected = conditions[0]
        rows = (
            (item for hash_set in self.items.values() for item in hash_set.values())
            if self.range_key_attr
            else iter(self.items.values())
        )
        candidates = []
        for item in rows:
            value = item.attrs.get(first_name)
            if not value or value != first_expected or not isinstance(item, Item):
                continue
            for name, expected in conditions[1:]:
                value = item.attrs.get(name)
                if not value or value != expected:
                    break
            else:
                candidates.append(item)
        return _scoped(self, candidates, args, kwargs)

    def _table_query(self, hash_key, args, kwargs):
        # moto keeps a table's items by partition key: the partition queried is one lookup.
        if hash_key is None:
            return query(self, *args, **kwargs)
        partition = self.items.get(hash_key)
        if partition is None:
            candidates = []
        elif self.range_key_attr:
            candidates = list(partition.values())
        else:
            candidates = [partition]
        return _scoped(self, candidates, args, kwargs)

    def _scoped(self, candidates, args, kwargs):
        # The order moto's all_items gives, on the candidates only.
        candidates.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
        _query_scope.items = (self, candidates)
        try:
            return query(self, *args, **kwargs)
        finally:
            _query_scope.items = None

    Table.all_items = scoped_all_items
    Table.query = partition_query
