"""`keel ask`: one chat turn as a given principal against the running local stack."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from keel.errors import Forbidden, InvalidRequest, ServiceUnavailable
from keel.identity.principal import EXTERNAL_GROUPS

PRODUCTION_LIKE = ("staging", "prod")


def register(subparsers: Any) -> None:
    """Add the ask command."""
    parser = subparsers.add_parser(
        "ask",
        help="ask the running local stack one question as a given user",
        description=(
            "Sign the principal in through the local Cognito (creating or updating the user with exactly these "
            "groups), then send one chat turn to the local API. Refuses to run against staging or prod."
        ),
    )
    parser.add_argument("question", help="what to ask")
    parser.add_argument("--user", required=True, help="username of the principal (created if missing)")
    parser.add_argument("--groups", default="", help="comma-separated groups, e.g. staff,hr-managers")
    parser.add_argument("--department", help="the principal's department, e.g. engineering")
    parser.add_argument("--external", action="store_true", help="ask as an external customer (group 'customers')")
    parser.add_argument("--bot", help="a bot id of the tenant; default: auto-routed among the bots the user may use")
    parser.add_argument("--conversation", help="continue this conversation id")
    parser.add_argument("--json", action="store_true", help="print the API's JSON reply")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Sign in, ask, print."""
    from keel.bootstrap import AwsClients
    from keel.local import provision
    from keel.local.state import read_stack

    stack = read_stack()
    environment = os.environ.get("KEEL_ENVIRONMENT") or stack.get("environment", {}).get("KEEL_ENVIRONMENT", "")
    if environment in PRODUCTION_LIKE:
        raise Forbidden(f"keel ask runs only against the local stack, not {environment}")
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    if args.external:
        groups = sorted(set(groups) | {"customers"})
    elif EXTERNAL_GROUPS & set(groups):
        raise InvalidRequest("groups customers/external are for external users; pass --external instead")
    if not groups:
        raise InvalidRequest("--groups needs at least one group, e.g. --groups staff")

    clients = AwsClients(region=stack["region"], endpoint_url=stack["moto_url"])
    pool = provision.UserPool(stack["user_pool_id"], stack["client_id"])
    # The running stack's tenant (keel dev --tenant), so records and audit chains carry the right one.
    tenant = stack.get("environment", {}).get("KEEL_TENANT") or "default"
    password = provision.ensure_user(
        clients.cognito, pool, args.user, groups=groups, department=args.department, tenant=tenant
    )
    token = provision.sign_in(clients.cognito, pool, args.user, password)["IdToken"]

    from keel.launch.probes import post_chat

    url = stack["api_url"]
    try:
        status, reply, _ = post_chat(
            url, token, args.bot or "auto", args.question, conversation_id=args.conversation or None
        )
    except OSError as exc:
        raise ServiceUnavailable(f"the local API at {url} is not answering; is `make dev` running?") from exc
    return report(status, reply, as_json=args.json)


def report(status: int, reply: dict[str, Any], *, as_json: bool = False) -> int:
    """Print one /v1/chat answer (the reply, Keel's error, or what else came back); 0 when the bot answered."""
    answered = status == 200 and "answer" in reply
    if as_json:
        print(json.dumps(reply, indent=2))
    elif answered:
        _print_reply(reply)
    elif isinstance(reply.get("error"), dict):
        print(f"keel: {status} {reply['error'].get('code')}: {reply['error'].get('message')}")
    else:  # a proxy's page, an empty body: not Keel's API answering
        print(f"keel: {status}: the answer is not a chat reply: {reply.get('raw', reply)!r}")
    return 0 if answered else 1


def _print_reply(reply: dict[str, Any]) -> None:
    print(reply["answer"])
    for citation in reply.get("citations", []):
        print(f"  [{citation['doc_id']}] {citation['title']}")
    print(f"confidence {reply['confidence']:.2f} · conversation {reply['conversation_id']}")
