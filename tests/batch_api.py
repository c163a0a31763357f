"""The Batch API's files and batches endpoints on the loopback server (added as routes).

``POST /v1/files`` (multipart upload), ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
``GET /v1/batches/{id}``. A batch is run at once when it is created: each request line is
answered by the server's scripted chat-completions actions, and the output file is written
in the Batch API's output format. Existing routes and tests are untouched.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from openai_server import OpenAIServer, RecordedRequest, Response, error_body


@dataclass
class BatchAPI:
    server: OpenAIServer
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)

    def install(self) -> BatchAPI:
        self.server.add_route("POST", r"/v1/files", self._upload)
        self.server.add_route("GET", r"/v1/files/([^/]+)/content", self._content)
        self.server.add_route("POST", r"/v1/batches", self._create)
        self.server.add_route("GET", r"/v1/batches/([^/]+)", self._retrieve)
        return self

    def _file_object(self, file_id: str, name: str, purpose: str) -> dict[str, Any]:
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(self.files[file_id]),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    def _upload(self, server: OpenAIServer, request: RecordedRequest, _: re.Match[str]) -> Response:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.raw)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (
                part.get_filename(),
                payload if isinstance(payload, bytes) else b"",
            )
        if "file" not in fields:
            return Response(400, error_body(400, "no file part"))
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = fields["file"][1]
        purpose = fields.get("purpose", (None, b"batch"))[1].decode()
        return Response(200, self._file_object(file_id, fields["file"][0] or "upload", purpose))

    def _content(
        self, server: OpenAIServer, request: RecordedRequest, m: re.Match[str]
    ) -> Response:
        data = self.files.get(m.group(1))
        if data is None:
            return Response(404, error_body(404, "no such file"))
        return Response(200, data)

    def _run(self, input_file_id: str) -> tuple[str, int, int]:
        """Answer every request line; returns (output file id, completed, failed)."""
        out: list[str] = []
        completed = failed = 0
        for n, line in enumerate(self.files[input_file_id].decode().splitlines(), start=1):
            item = json.loads(line)
            body = item["body"]
            chat = RecordedRequest(
                method="POST",
                path="/v1/chat/completions",
                headers={},
                raw=json.dumps(body).encode(),
                body=body,
            )
            answer = self.server.resolve(self.server.next_action(chat), chat)
            ok = answer.status == 200
            completed += ok
            failed += not ok
            out.append(
                json.dumps(
                    {
                        "id": f"batch_req_{n}",
                        "custom_id": item["custom_id"],
                        "response": {
                            "status_code": answer.status or 500,
                            "request_id": f"req_{n}",
                            "body": answer.body,
                        },
                        "error": None,
                    },
                    ensure_ascii=False,
                )
            )
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = ("\n".join(out) + "\n").encode()
        return file_id, completed, failed

    def _create(self, server: OpenAIServer, request: RecordedRequest, _: re.Match[str]) -> Response:
        body = request.body or {}
        input_file_id = body.get("input_file_id")
        if input_file_id not in self.files:
            return Response(400, error_body(400, "unknown input_file_id"))
        output_id, completed, failed = self._run(input_file_id)
        batch_id = f"batch_{len(self.batches) + 1}"
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "completion_window": body.get("completion_window"),
            "input_file_id": input_file_id,
            "created_at": int(time.time()),
            "status": "completed",
            "output_file_id": output_id,
            "error_file_id": None,
            "metadata": body.get("metadata"),
            "request_counts": {
                "total": completed + failed,
                "completed": completed,
                "failed": failed,
            },
        }
        return Response(200, {**self.batches[batch_id], "status": "validating"})

    def _retrieve(
        self, server: OpenAIServer, request: RecordedRequest, m: re.Match[str]
    ) -> Response:
        batch = self.batches.get(m.group(1))
        if batch is None:
            return Response(404, error_body(404, "no such batch"))
        return Response(200, batch)
