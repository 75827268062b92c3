"""Services of the forecasts app: files, series from the database, refresh jobs, alerts."""
