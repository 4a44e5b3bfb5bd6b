"""Integrations of pgwire with other libraries; each one needs its library installed."""
