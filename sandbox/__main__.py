"""Run the sandbox: ``python -m sandbox [--host 127.0.0.1] [--port 5001]``."""

from __future__ import annotations

import argparse
import logging
import os

from werkzeug.serving import make_server

from sandbox import create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox on localhost (threaded, so concurrency limits can be exercised)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "5001")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="sandbox %(levelname)s %(message)s")
    config = {}
    if "SANDBOX_BASE_URL" not in os.environ:
        config["SANDBOX_BASE_URL"] = f"http://{args.host}:{args.port}"
    app = create_sandbox_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    logging.getLogger("sandbox").info("sandbox listening on http://%s:%s", args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
