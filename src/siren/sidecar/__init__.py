"""The sidecar's side of the brain: ship events, send heartbeats, sync signed bundles.

Used by the proxy (``siren.proxy``); imports from the brain only ``siren.brain.schema`` (the
wire format). Nothing here ever blocks the request path: the proxy puts events on a bounded
queue (:meth:`EventShipper.offer`), and bundle swaps are one reference assignment in a callback.

    shipper = EventShipper(BrainClient(url, token))
    sync = BundleSync(BrainClient(url, token), trusted_keys, state_dir, services, on_swap)
    sync.load_last_good()          # at start, before the brain answers
    tasks = [shipper.start(), sync.start(), heartbeat.start()]
"""

from siren.sidecar.bundle import BundleError, CompiledBundle, VerifiedBundle, compile_bundle, effective_policy, verify_bundle
from siren.sidecar.client import BrainClient
from siren.sidecar.events import EventShipper, detect_response_signal, make_event
from siren.sidecar.heartbeat import HeartbeatSender
from siren.sidecar.reputation import ReputationDetector
from siren.sidecar.sync import BundleSync

__all__ = [
    "BrainClient", "BundleError", "BundleSync", "CompiledBundle", "EventShipper", "HeartbeatSender", "ReputationDetector",
    "VerifiedBundle", "compile_bundle", "detect_response_signal", "effective_policy", "make_event", "verify_bundle",
]
