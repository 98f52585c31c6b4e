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
"""

import functools
import logging
import os

import moto.backends as moto_backends


def install() -> None:
    if os.environ.get("CJ_LOCAL_MOTO_ACCESS_LOG") != "1":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = functools.lru_cache(maxsize=1)(lambda: modules)
