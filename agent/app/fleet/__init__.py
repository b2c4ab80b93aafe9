"""Many machines: Celery workers run accounts' rounds, one scheduler (beat) plans them.

- :mod:`~agent.app.fleet.keys`: every Redis key the fleet uses, in one place.
- :mod:`~agent.app.fleet.lock`: an account's lock (never two workers on one account).
- :mod:`~agent.app.fleet.tasks`: the Celery app and its one task, an account's round.
- :mod:`~agent.app.fleet.run`: ``caselog worker`` and ``caselog scheduler``.
"""
