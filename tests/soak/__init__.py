"""Soak suite: what FluzClient survives, proven against the sandbox over real loopback HTTP.

Seven scenarios (one module each), every one returning a :class:`~tests.soak._harness.Result`
of key figures and named checks:

1. ``_double_charge``  1,000 purchases while responses are dropped after commit and
                       connections reset: no purchase twice, none lost.
2. ``_storm``          503 / 429 storms: every query and keyed mutation succeeds within the
                       retry budget; an unkeyed mutation is never retried.
3. ``_tokens``         2-second user tokens under 50 concurrent tasks: no auth error reaches
                       a caller; renewals scale with time, not with calls.
4. ``_corpus``         bad input and bad responses: a typed FluzError, no hang, no crash.
5. ``_canaries``       the secret watch every scenario runs under (DEBUG logging).
6. ``_cancellation``   purchases and reveals cancelled at random points: nothing leaks,
                       every cancelled purchase reconciles by its idempotency key.
7. ``_scale``          10,000 concurrent reveal pollers: memory, CPU, exact poll counts.

``python -m tests.soak`` runs them at full size and prints the summary table (``make
soak``); ``tests/soak/test_*.py`` run short versions inside ``make test``.
"""
