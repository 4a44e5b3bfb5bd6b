"""Compiled twins of pgwire's hot paths (optional Cython extension).

Each submodule mirrors a pure-Python module under the same names and
signatures: :mod:`.record` (``pgwire.record``), :mod:`.rows`
(``pgwire.protocol.rows``), :mod:`.wire` (the Bind, binary COPY and DataRow-run
loops of ``pgwire.protocol.messages`` and ``pgwire.protocol.rows``) and
:mod:`.codecs` (the scalar and array codecs of ``pgwire.codecs``). Importing
this package fails with ``ImportError`` when the extension was not built; only
:mod:`pgwire._impl` should import it.
"""

from .codecs import TWINS
from .record import Record, RecordDescriptor, make_record
from .rows import decode_row
from .wire import bind_execute_batch, consume_results, encode_copy_rows

__all__ = [
    "TWINS",
    "Record",
    "RecordDescriptor",
    "bind_execute_batch",
    "consume_results",
    "decode_row",
    "encode_copy_rows",
    "make_record",
]
