"""The strategy session: the dashboard's widgets and views, its background workers, saved scenarios."""
