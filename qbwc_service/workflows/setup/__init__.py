"""Company setup: the integration profile, the setup run that makes QuickBooks match it, and reset.

- :mod:`.profile`: the profile's model, defaults (shop, POS), JSON Schema and country rules;
- :mod:`.profiles`: its versions per company;
- :mod:`.plan`: a profile's entries as ``…_ensure`` payloads, dependencies first;
- :mod:`.kinds`: ``setup_preferences`` and ``setup_ensure`` (registered with :func:`register_kinds`);
- :mod:`.runs`: start a run, show it with its steps;
- :mod:`.mapping`: the resolved mapping business documents post against;
- :mod:`.reset`: reset a company's integration.
"""

from __future__ import annotations

from qbwc_service.workflows.setup.kinds import register_kinds

__all__ = ["register_kinds"]
