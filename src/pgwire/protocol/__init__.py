"""Sans-I/O PostgreSQL protocol: message framing, authentication and the operation queue.

Nothing in this package imports asyncio, socket or ssl.
"""
