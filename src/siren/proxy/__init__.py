"""The sidecar: ``siren proxy`` (a reverse proxy around the engine) and ``siren authz`` (the same
inspection as a decision service for nginx ``auth_request`` and Envoy ``ext_authz``).

::

    config.py      configuration file + command line -> frozen ProxyConfig
    server.py      client side: HTTP/1.1 parsing (httptools), safety checks, limits, timeouts
    forward.py     proxy handler: inspect, then 403 or forward and stream the response back
    upstream.py    upstream side: raw asyncio client connections and the keep-alive pool
    authz.py       authz handler: inspect the described request, answer 200 or 403
    inspection.py  the isolated engine call, block/would-block counters, log lines, events
    response.py    the responses the sidecar writes itself (403 block page, 4xx/5xx)
    events.py      Event and the EventSink seam (a bounded queue, or the brain's event shipper)
    link.py        the brain: events out, signed bundles in (engines swapped), heartbeats, key pinning
    metrics.py     counters and histograms, Prometheus text on the admin port
    admin.py       /healthz /readyz /metrics
    log.py         structured JSON logs
    runtime.py     the worker (event loop, sweep, reload, drain) and the multi-worker supervisor
    cli.py         the two commands

The engine stays pure: nothing here is imported by ``siren.engine``.
"""
