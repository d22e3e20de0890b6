"""notes: a tiny HTTP app that stores notes in DynamoDB, run by Gyre.

Gyre starts one copy per region and configures it through the environment:

  AWS_REGION                 the region this copy serves
  AWS_ENDPOINT_URL_DYNAMODB  that region's DynamoDB endpoint
  AWS_ACCESS_KEY_ID          credentials; boto3 reads them by itself
  AWS_SECRET_ACCESS_KEY
  TABLE_NAME                 the table, with partition key "id" (S)
  PORT                       the port to listen on
  HOST                       the address to listen on; default 127.0.0.1

Routes:

  GET  /health      200 if a DynamoDB read succeeds within about a second, else 503
  POST /notes       store a JSON object as a new note: 201 with the item
  GET  /notes/<id>  200 with the note and "servedBy", or 404
"""

import json
import os
import signal
import sys
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


def setting(name, default=None):
    value = os.environ.get(name, default)
    if not value:
        sys.exit(f"notes: {name} is not set (Gyre sets it for the apps it runs)")
    return value


REGION = setting("AWS_REGION")
TABLE_NAME = setting("TABLE_NAME")
PORT = int(setting("PORT"))
HOST = setting("HOST", "127.0.0.1")
# boto3 reads AWS_ENDPOINT_URL_DYNAMODB by itself only from version 1.28 on;
# passing it explicitly works with every version.
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")


def dynamodb(timeout, attempts):
    # Clients, unlike boto3 resources, are safe to share between threads.
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": attempts})
    return boto3.client("dynamodb", region_name=REGION, endpoint_url=ENDPOINT, config=config)


db = dynamodb(timeout=5, attempts=3)
health_db = dynamodb(timeout=0.5, attempts=1)  # connect and read: /health answers within a second
to_dynamodb, from_dynamodb = TypeSerializer(), TypeDeserializer()


def plain(value):
    """Makes what DynamoDB returns JSON-serializable: numbers come back as Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.health()
        elif self.path.startswith("/notes/"):
            self.get_note(self.path.removeprefix("/notes/"))
        else:
            self.send_json(404, {"error": f"no route for GET {self.path}"})

    def do_POST(self):
        if self.path == "/notes":
            self.create_note()
        else:
            self.send_json(404, {"error": f"no route for POST {self.path}"})

    def health(self):
        try:
            health_db.get_item(TableName=TABLE_NAME, Key={"id": {"S": "health-check"}})
        except (BotoCoreError, ClientError) as e:
            self.send_json(503, {"status": "unhealthy", "region": REGION, "error": str(e)})
            return
        self.send_json(200, {"status": "ok", "region": REGION})

    def create_note(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            note = json.loads(self.rfile.read(length), parse_float=Decimal)  # DynamoDB numbers are Decimal
        except ValueError as e:
            self.send_json(400, {"error": f"the body is not JSON: {e}"})
            return
        if not isinstance(note, dict):
            self.send_json(400, {"error": "the body must be a JSON object"})
            return
        note.update(id=uuid.uuid4().hex, region=REGION)
        try:
            item = {k: to_dynamodb.serialize(v) for k, v in note.items()}
        except (TypeError, ValueError, ArithmeticError) as e:
            self.send_json(400, {"error": f"cannot store this note: {e}"})
            return
        if self.call(db.put_item, TableName=TABLE_NAME, Item=item) is not None:
            self.send_json(201, note)

    def get_note(self, note_id):
        out = self.call(db.get_item, TableName=TABLE_NAME, Key={"id": {"S": note_id}})
        if out is None:
            return
        if "Item" not in out:
            self.send_json(404, {"error": "no such note", "id": note_id})
            return
        note = {k: from_dynamodb.deserialize(v) for k, v in out["Item"].items()}
        self.send_json(200, {**note, "servedBy": REGION})

    def call(self, operation, **params):
        """Calls DynamoDB; on failure answers 503 and returns None."""
        try:
            return operation(**params)
        except (BotoCoreError, ClientError) as e:
            self.send_json(503, {"error": f"DynamoDB: {e}"})
            return None

    def send_json(self, status, body):
        data = json.dumps(body, default=plain).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        # One line per request on stderr, which Gyre logs with the app's
        # name and region; Gyre adds the time.
        print(format % args, file=sys.stderr, flush=True)


def stop(signum, frame):
    print(f"notes: {signal.Signals(signum).name}, stopping", file=sys.stderr, flush=True)
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with ThreadingHTTPServer((HOST, PORT), Handler) as server:
        print(f"notes: serving {REGION} on http://{HOST}:{PORT}, table {TABLE_NAME}", file=sys.stderr, flush=True)
        server.serve_forever()
