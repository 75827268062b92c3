"""The cleaning pipeline's rules as pure functions over pandas data (no Django).

normalise: one value at a time (email, phone E.164, country, currency, names, text)
changes:   ColumnChange, what a rule would write, with examples
impute:    mode / median / by-group imputation of missing values
outliers:  flags of order amounts (negative, robust upper bound, totals that do not add up)
bands:     age bands and price bands for analysis
dedup:     duplicate customer groups by normalised email and phone
metrics:   completeness and invalid values for the quality report
pipelines: the rules of each entity in order, applied to a working copy
"""
