"""Pure engines of the campaigns app (no Django): experiment statistics, bandits, send time."""
