"""Pure engines of the insights app: no Django (house rule 2)."""
