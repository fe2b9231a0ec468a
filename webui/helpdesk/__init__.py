"""The helpdesk: work orders of OPD requests and complaints, following the Sidoarjo SOP.

``bp`` carries the pages under ``/helpdesk``; registering it also registers the JSON API
blueprint under ``/api/helpdesk`` (a nested blueprint would sit below ``/helpdesk``).
The state machines live in ``machines`` (data) and ``workflows`` (engine), the
operations in ``services``, the clock in ``sla``.
"""

from __future__ import annotations

from typing import Any

from webui.helpdesk import api_files, api_inbox, api_reports  # noqa: F401  (routes on api_bp)
from webui.helpdesk.api import api_bp
from webui.helpdesk.pages import NAV, bp


@bp.record_once
def _register_api(state: Any) -> None:
    state.app.register_blueprint(api_bp)


__all__ = ["NAV", "api_bp", "bp"]
