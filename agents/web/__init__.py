"""The worker's HTTP side: its views, the dashboard and its static files, bearer tokens and
request bodies."""
