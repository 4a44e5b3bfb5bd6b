"""Binary codecs (pure-Python reference implementation) and their registry.

See :mod:`pgwire.codecs.registry` for the :class:`Codec` contract.
"""

from .array import make_array_codec
from .registry import BUILTIN, Codec, CodecRegistry, text_fallback_codec

__all__ = ["BUILTIN", "Codec", "CodecRegistry", "make_array_codec", "text_fallback_codec"]
