"""Workflows over the queue (company setup, imports, documents, schedules).

Each registers its job kinds with :mod:`qbwc_service.queue.kinds`; the queue never imports them."""
