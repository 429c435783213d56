"""Persistence: engines, typed models, migrations runner, hot-path statements."""
