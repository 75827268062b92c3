"""The synthetic demo shop: a pure generator (engine), a bulk loader and a service.

See docs/demo_shop.md for what it generates and which latent truths it records.
"""
