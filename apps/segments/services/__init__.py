"""Writes of the segments app, by sub-domain: import from the submodule (services.clv, ...)."""
