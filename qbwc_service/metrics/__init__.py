"""Prometheus metrics: what each process counts (:mod:`.instruments`), what the database says at
scrape time (:mod:`.collector`), and the page that joins them (:mod:`.exposition`)."""
