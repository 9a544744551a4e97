"""Writes one CloudEvent in binary content mode with the CloudEvents Python SDK's own bindings.

Takes the event as JSON, its one argument ({"binding": "rabbitmq" or "amqp", "attributes": {...},
"data": ...}) and prints the message the binding makes, as JSON: {"content_type": ..., "headers":
{name: {"string": ...} or {"timestamp": seconds}}, "body": the body as text}. The test publishes it as
another system would.
"""
import json
import sys
from datetime import datetime, timezone

from cloudevents.core.bindings import amqp, rabbitmq
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

spec = json.loads(sys.argv[1])
attributes = dict(spec["attributes"])
if "time" in attributes:
    attributes["time"] = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
event = CloudEvent(attributes=attributes, data=spec["data"])


def header(value):
    if isinstance(value, datetime):
        return {"timestamp": value.timestamp()}
    return {"string": str(value)}


if spec["binding"] == "rabbitmq":
    message = rabbitmq.to_binary(event, JSONFormat())
    headers, content_type, body = message.headers, message.content_type, message.body
else:
    message = amqp.to_binary(event, JSONFormat())
    headers = message.application_properties
    content_type, body = message.properties.get("content-type"), message.application_data
    # The AMQP binding writes the time as milliseconds since 1970 (an AMQP 1.0 timestamp).
    headers = {
        name: datetime.fromtimestamp(value / 1000, tz=timezone.utc) if name.endswith("time") and isinstance(value, int) else value
        for name, value in headers.items()
    }

print(json.dumps({"content_type": content_type, "headers": {name: header(value) for name, value in headers.items()},
                  "body": body.decode()}))
