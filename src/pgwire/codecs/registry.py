"""The codec registry: type OID -> :class:`Codec`.

A :class:`Codec` is plain data: which type it handles, which wire format it
speaks (1 binary, 0 text), and two functions. ``encode`` turns a Python
value into the wire payload (without the 4-byte length prefix) and raises
``TypeError``, ``ValueError`` or ``OverflowError`` with a message saying
what was expected; the driver wraps that into "invalid input for query
argument $N: ...". ``decode`` turns a payload back into a Python value; SQL
NULL never reaches it.

:class:`CodecRegistry` maps OIDs (and schema-qualified names) to codecs. A
registry built with ``parent=`` is a copy-on-write overlay: lookups fall
back to the parent, while ``register``/``remove`` only touch the overlay.
Connections hold such an overlay over :data:`BUILTIN` for their
``set_type_codec`` overrides. Types without a binary codec travel as text
through :func:`text_fallback_codec`.
"""

from __future__ import annotations

from ._builtin import build_builtin
from ._codec import KINDS, Codec, CodecRegistry, text_fallback_codec

__all__ = ["BUILTIN", "Codec", "CodecRegistry", "KINDS", "text_fallback_codec"]

#: Every codec shipped with pgwire. Treat as read-only: layer a
#: ``CodecRegistry(parent=BUILTIN)`` over it to override codecs.
BUILTIN: CodecRegistry = build_builtin()
