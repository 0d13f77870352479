"""Flask on Werkzeug's development server: the optional, very slow peer.

Run as: python app.py --host 127.0.0.1 --port PORT
"""

import argparse

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.get("/")
def plaintext():
    return Response("Hello, World!", content_type="text/plain")


@app.get("/json")
def json():
    return jsonify(message="Hello, World!")


@app.post("/echo")
def echo():
    stream = request.stream

    def chunks():
        while chunk := stream.read(64 * 1024):
            yield chunk

    return Response(chunks(), content_type="application/octet-stream")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    # threaded=True is what `flask run` does; no reloader, so one process.
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
