"""Scope markers shared by views, permissions and the schema (no DRF imports: avoids cycles)."""

# A view whose scopes map to this marker accepts any valid key or signed-in user.
ANY_SCOPE = "*authenticated*"
