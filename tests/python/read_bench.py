"""The user's alternative to `exai plan`: the same reads, by Azure's SDK for Python on 10 threads.

Run by ``crates/exai-cli/benches/plan.rs`` (``just bench``) from the virtualenv the Python SDK
test builds (``target/python-sdk-venv``, from ``requirements.txt``). It reads every request of a
file, one JSON object a line ``{"api": "arm" | "graph", "path": "/...", "query": "..."}`` (the
GETs exai sent, taken from the emulator's request log), on a thread pool:

- ARM reads go through ``azure-mgmt-resource``'s ``ResourceManagementClient`` pipeline
  (``send_request``: its retry, ARM's policies, the credential of azure-identity),
- Microsoft Graph reads through ``requests`` with a token from the same credential (the script
  needs no msgraph package).

Each read is sent as soon as a thread is free, none waits for another's answer: the script is
the user's best case (it knows every path in advance, which a real script would first have to
discover). It prints ``reads N seconds S failed F`` and exits non-zero if any read failed.

    python read_bench.py --url https://127.0.0.1:8443/ --ca-cert ca.pem --tenant-id T \
        --subscription-id S --client-id C --client-secret X --reads reads.jsonl --threads 10
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the emulator's base URL")
    parser.add_argument("--ca-cert", required=True, help="the emulator's CA certificate (PEM)")
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--subscription-id", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--reads", required=True, help="the reads, one JSON object a line")
    parser.add_argument("--threads", type=int, default=10)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from azure.core.rest import HttpRequest
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient
    import requests

    with open(args.reads, encoding="utf-8") as file:
        reads = [json.loads(line) for line in file if line.strip()]
    base_url = args.url.rstrip("/")

    started = time.monotonic()
    credential = ClientSecretCredential(
        args.tenant_id,
        args.client_id,
        args.client_secret,
        authority=base_url,
        disable_instance_discovery=True,
        connection_verify=args.ca_cert,
    )
    arm = ResourceManagementClient(
        credential,
        args.subscription_id,
        base_url=base_url,
        credential_scopes=[ARM_SCOPE],
        connection_verify=args.ca_cert,
    )
    local = threading.local()

    def graph_session() -> requests.Session:
        # requests.Session is not thread-safe: one per thread, as a thread pool script does.
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    def read(entry: dict) -> bool:
        url = base_url + entry["path"] + ("?" + entry["query"] if entry.get("query") else "")
        if entry["api"] == "graph":
            token = credential.get_token(GRAPH_SCOPE).token
            answer = graph_session().get(
                url, headers={"Authorization": f"Bearer {token}"}, verify=args.ca_cert, timeout=60
            )
            status = answer.status_code
        else:
            status = arm.send_request(HttpRequest("GET", url)).status_code
        # A read of something absent (404) is an answer, as it is for exai.
        return status < 400 or status == 404

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        results = list(pool.map(read, reads))
    elapsed = time.monotonic() - started
    failed = results.count(False)
    print(f"reads {len(reads)} seconds {elapsed:.3f} failed {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
