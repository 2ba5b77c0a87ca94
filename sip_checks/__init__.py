"""SIP checks: pytest-collected ``check_*`` functions plus the small SIP toolkit they use."""
