"""A loopback server speaking the Bedrock control plane's REST protocol for the calls `keel models check` makes.

It answers ListInferenceProfiles, GetInferenceProfile and GetFoundationModel for one Region from what a
test declares, with Bedrock's JSON shapes and error headers, so the real boto3 client parses it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlparse


@dataclass
class BedrockControlPlane:
    """What one Region offers: system profiles (id -> destination Regions) and foundation models."""

    region: str
    profiles: dict[str, list[str]] = field(default_factory=dict)
    # model id -> (lifecycle status, inference types supported)
    models: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def start(self) -> tuple[str, ThreadingHTTPServer]:
        """Serve on a free loopback port; returns the URL and the server (call shutdown() when done)."""
        plane = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlparse(self.path).path
                plane.requests.append(unquote(path))
                parts = [unquote(p) for p in path.strip("/").split("/")]
                if parts == ["inference-profiles"]:
                    self._send(200, {"inferenceProfileSummaries": [plane.profile(p) for p in plane.profiles]})
                elif len(parts) == 2 and parts[0] == "inference-profiles" and parts[1] in plane.profiles:
                    self._send(200, plane.profile(parts[1]))
                elif len(parts) == 2 and parts[0] == "foundation-models" and parts[1] in plane.models:
                    status, types = plane.models[parts[1]]
                    details = {
                        "modelArn": f"arn:aws:bedrock:{plane.region}::foundation-model/{parts[1]}",
                        "modelId": parts[1],
                        "inferenceTypesSupported": types,
                        "modelLifecycle": {"status": status},
                    }
                    self._send(200, {"modelDetails": details})
                else:
                    self._send(404, {"message": f"{path} not found"}, "ResourceNotFoundException")

            def _send(self, status: int, body: dict[str, Any], error: str | None = None) -> None:
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", f"{error}:")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}", server

    def profile(self, profile_id: str) -> dict[str, Any]:
        """A system-defined profile in GetInferenceProfile's shape."""
        model = profile_id.split(".", 1)[1]
        return {
            "inferenceProfileId": profile_id,
            "inferenceProfileName": profile_id,
            "inferenceProfileArn": f"arn:aws:bedrock:{self.region}:123456789012:inference-profile/{profile_id}",
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
            "models": [
                {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in self.profiles[profile_id]
            ],
        }
