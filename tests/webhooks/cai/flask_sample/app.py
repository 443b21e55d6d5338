"""Seed 004's Flask sample, unchanged but for the lines marked `parley:`.

The port comes from the command line (0: any free one), it serves 127.0.0.1 only, prints the
port it got, and one test route (`/echo`) is added. Run: `python app.py [PORT]`.
"""

import json
import sys

from flask import Flask, jsonify, request

app = Flask(__name__)
port = sys.argv[1] if len(sys.argv) > 1 else "5000"  # parley: port from the command line


@app.route("/", methods=["POST"])
def index():
    print(json.loads(request.get_data()))
    return jsonify(
        status=200,
        replies=[
            {
                "type": "text",
                "content": "Roger that",
            }
        ],
        conversation={"memory": {"key": "value"}},
    )


@app.route("/errors", methods=["POST"])
def errors():
    print(json.loads(request.get_data()))
    return jsonify(status=200)


@app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])  # parley: test route
def echo():
    data = request.get_data()
    return jsonify(
        replies=[{"type": "text", "content": f"{request.method} received"}],
        conversation={
            "memory": {
                "method": request.method,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": json.loads(data) if data else None,
            }
        },
    )


if __name__ == "__main__":  # parley: print the port actually bound, for the test fixture
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", int(port), app, threaded=True)
    print(f"Server is running on port {server.server_port}", flush=True)
    server.serve_forever()
