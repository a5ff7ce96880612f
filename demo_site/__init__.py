"""The example project of django-signal-panel: every scenario the panel explains, on real code.

Run it with ``make demo`` and open http://127.0.0.1:8000/.
"""
