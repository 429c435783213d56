"""Alerts: incidents that open when a company stops polling or keeps failing, sent once, then recovered.

``rules`` (pure) says what is wrong from each company's ``facts``; ``incidents`` opens and
closes the rows and lists them; ``sweep`` runs one pass under the ``lease`` and hands the
messages to ``deliver`` (webhook, e-mail); ``worker`` runs sweeps in a gunicorn worker.
"""
