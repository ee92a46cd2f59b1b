"""Azure's own SDK for Python against the exai emulator.

Each section creates and reads one kind of resource through the management client Azure
publishes, authenticated by azure-identity's ClientSecretCredential against the emulator's
token endpoint, trusting the emulator's CA. Long-running creates go through the SDK's own
pollers (``begin_*(...).result()``), so the emulator's LRO protocol is checked by Azure's
reading of it, not ours.

Run it alone (with the emulator's coordinates, as ``exai emulator`` prints them):

    python sdk_test.py --url https://127.0.0.1:8443/ --ca-cert .exai/emulator-ca.pem \
        --tenant-id T --subscription-id S --client-id C --client-secret X --only rg,registry

It prints one line per section (``ok <section> ...``), the api-versions each client sent, and
exits non-zero on the first failure with the SDK's error.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
import uuid

SECTIONS = ("rg", "registry", "cluster", "roleassignment")

# Sections need the resource groups made by earlier ones; every name is unique per run so a
# section can be rerun against the same emulator.
RUN = uuid.uuid4().hex[:8]
LOCATION = "francecentral"

# AcrPull, a built-in role (facts §3c).
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

# Every request URL the SDK sends, read from azure-core's HTTP logging policy, so the test can
# report which api-version each client sends by default.
API_VERSIONS: dict[str, set[str]] = {}


class ApiVersionRecorder(logging.Handler):
    """Collects ``api-version`` per provider path from azure-core's request log lines."""

    PATTERN = re.compile(r"Request URL: '([^']*)'")

    def emit(self, record: logging.LogRecord) -> None:
        match = self.PATTERN.search(record.getMessage())
        if not match:
            return
        url = match.group(1)
        version = re.search(r"[?&]api-version=([^&]+)", url)
        if not version:
            return
        provider = re.search(r"/providers/([^/?]+/[^/?]+)", url, re.IGNORECASE)
        kind = provider.group(1) if provider else "Microsoft.Resources/resourceGroups"
        API_VERSIONS.setdefault(kind, set()).add(version.group(1))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the emulator's base URL")
    parser.add_argument("--ca-cert", required=True, help="the emulator's CA certificate (PEM)")
    parser.add_argument("--tenant-id", required=True)
    parser.add_argument("--subscription-id", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, in this order: {','.join(SECTIONS)}",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown or not chosen:
        parser.error(f"--only takes a comma-separated subset of {','.join(SECTIONS)}, not {args.only!r}")
    args.only = [name for name in SECTIONS if name in chosen]
    return args


class Context:
    """The credential, the clients and what earlier sections created."""

    def __init__(self, args: argparse.Namespace) -> None:
        from azure.identity import ClientSecretCredential

        self.args = args
        self.base_url = args.url.rstrip("/")
        # The SDK verifies TLS with requests, which trusts REQUESTS_CA_BUNDLE; passing
        # connection_verify as well keeps the script independent of the caller's environment.
        self.transport = {"connection_verify": args.ca_cert}
        self.credential = ClientSecretCredential(
            args.tenant_id,
            args.client_id,
            args.client_secret,
            authority=self.base_url,
            disable_instance_discovery=True,
            connection_verify=args.ca_cert,
        )
        self.resource_group = f"sdk-rg-{RUN}"
        self.registry_id: str | None = None
        self.kubelet_object_id: str | None = None

    def client(self, cls):
        return cls(
            self.credential,
            self.args.subscription_id,
            base_url=self.base_url,
            credential_scopes=["https://management.azure.com/.default"],
            polling_interval=1,
            **self.transport,
        )

    def ensure_resource_group(self) -> None:
        from azure.mgmt.resource.resources import ResourceManagementClient

        self.client(ResourceManagementClient).resource_groups.create_or_update(
            self.resource_group, {"location": LOCATION}
        )


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def section_rg(ctx: Context) -> str:
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.core.exceptions import ResourceNotFoundError

    client = ctx.client(ResourceManagementClient)
    name = ctx.resource_group
    created = client.resource_groups.create_or_update(name, {"location": LOCATION, "tags": {"exai": "sdk"}})
    check(created.name == name, f"create answered name {created.name!r}")
    check(created.properties.provisioning_state == "Succeeded", f"state {created.properties.provisioning_state!r}")
    read = client.resource_groups.get(name)
    check(read.location == LOCATION and read.tags == {"exai": "sdk"}, f"read back {read.as_dict()}")
    check(
        read.id.lower() == f"/subscriptions/{ctx.args.subscription_id}/resourcegroups/{name}".lower(),
        f"id {read.id!r}",
    )
    check(client.resource_groups.check_existence(name), "check_existence said the group is missing")
    names = [group.name for group in client.resource_groups.list()]
    check(name in names, f"list did not return {name!r}: {names}")
    # A throwaway group, deleted through the SDK's poller (202 + Location).
    doomed = f"sdk-doomed-{RUN}"
    client.resource_groups.create_or_update(doomed, {"location": LOCATION})
    client.resource_groups.begin_delete(doomed).result()
    check(not client.resource_groups.check_existence(doomed), "the deleted group still exists")
    try:
        client.resource_groups.get(doomed)
        raise AssertionError("GET of a deleted group succeeded")
    except ResourceNotFoundError as error:
        check(error.error is not None and error.error.code == "ResourceGroupNotFound", f"error {error}")
    return name


def section_registry(ctx: Context) -> str:
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from azure.mgmt.containerregistry.models import Registry, Sku

    ctx.ensure_resource_group()
    client = ctx.client(ContainerRegistryManagementClient)
    name = f"sdkacr{RUN}"
    available = client.registries.check_name_availability(
        {"name": name, "type": "Microsoft.ContainerRegistry/registries"}
    )
    check(available.name_available, f"name {name!r} not available: {available.as_dict()}")
    poller = client.registries.begin_create(
        ctx.resource_group,
        name,
        Registry(location=LOCATION, sku=Sku(name="Standard"), admin_user_enabled=False),
    )
    registry = poller.result()
    check(registry.provisioning_state == "Succeeded", f"state {registry.provisioning_state!r}")
    check(registry.login_server == f"{name}.azurecr.io", f"loginServer {registry.login_server!r}")
    read = client.registries.get(ctx.resource_group, name)
    check(read.sku.name == "Standard" and read.admin_user_enabled is False, f"read back {read.as_dict()}")
    taken = client.registries.check_name_availability({"name": name, "type": "Microsoft.ContainerRegistry/registries"})
    check(not taken.name_available, "a created registry's name is still available")
    ctx.registry_id = read.id
    return name


def section_cluster(ctx: Context) -> str:
    from azure.mgmt.containerservice import ContainerServiceClient
    from azure.mgmt.containerservice.models import (
        ContainerServiceLinuxProfile,
        ContainerServiceSshConfiguration,
        ContainerServiceSshPublicKey,
        ManagedCluster,
        ManagedClusterAgentPoolProfile,
        ManagedClusterIdentity,
    )

    ctx.ensure_resource_group()
    client = ctx.client(ContainerServiceClient)
    name = f"sdk-aks-{RUN}"
    # A syntactically valid, throwaway public key: the emulator must not care whose it is.
    key = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC" + "x" * 300 + " sdk@exai"
    cluster = ManagedCluster(
        location=LOCATION,
        identity=ManagedClusterIdentity(type="SystemAssigned"),
        dns_prefix=f"sdk-{RUN}",
        agent_pool_profiles=[
            ManagedClusterAgentPoolProfile(
                name="nodepool1",
                count=1,
                vm_size="Standard_B2s",
                os_type="Linux",
                mode="System",
                type="VirtualMachineScaleSets",
            )
        ],
        linux_profile=ContainerServiceLinuxProfile(
            admin_username="azureuser",
            ssh=ContainerServiceSshConfiguration(public_keys=[ContainerServiceSshPublicKey(key_data=key)]),
        ),
        enable_rbac=True,
    )
    created = client.managed_clusters.begin_create_or_update(ctx.resource_group, name, cluster).result()
    check(created.provisioning_state == "Succeeded", f"state {created.provisioning_state!r}")
    check(bool(created.fqdn), "no fqdn")
    check(bool(created.node_resource_group), "no nodeResourceGroup")
    kubelet = (created.identity_profile or {}).get("kubeletidentity")
    check(kubelet is not None and bool(kubelet.object_id), "no identityProfile.kubeletidentity.objectId")
    read = client.managed_clusters.get(ctx.resource_group, name)
    check(read.agent_pool_profiles[0].count == 1, f"read back {read.agent_pool_profiles[0].as_dict()}")
    ctx.kubelet_object_id = kubelet.object_id
    return name


def section_roleassignment(ctx: Context) -> str:
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

    ctx.ensure_resource_group()
    client = ctx.client(AuthorizationManagementClient)
    sub = ctx.args.subscription_id
    # The recipe's assignment (AcrPull for the cluster's kubelet identity on the registry) when the
    # earlier sections ran; otherwise AcrPull for the development application's own service
    # principal (the one the credential signs in as, which exists in Azure by definition) on the group.
    scope = ctx.registry_id or f"/subscriptions/{sub}/resourceGroups/{ctx.resource_group}"
    principal = ctx.kubelet_object_id or service_principal_object_id(ctx)
    name = str(uuid.uuid4())
    role = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL_ROLE_ID}"
    created = client.role_assignments.create(
        scope,
        name,
        RoleAssignmentCreateParameters(role_definition_id=role, principal_id=principal, principal_type="ServicePrincipal"),
    )
    check(created.name == name, f"name {created.name!r}")
    check(created.role_definition_id.lower().endswith(ACR_PULL_ROLE_ID), f"role {created.role_definition_id!r}")
    read = client.role_assignments.get(scope, name)
    check(read.principal_id == principal, f"principal {read.principal_id!r}")
    listed = [assignment.name for assignment in client.role_assignments.list_for_scope(scope, filter="atScope()")]
    check(name in listed, f"list_for_scope did not return {name}: {listed}")
    return name


def service_principal_object_id(ctx: Context) -> str:
    """Returns the object id (``oid``) of the token the credential gets: the app's service principal."""
    import base64
    import json

    token = ctx.credential.get_token("https://management.azure.com/.default").token
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["oid"]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    os.environ.setdefault("REQUESTS_CA_BUNDLE", args.ca_cert)
    recorder = ApiVersionRecorder()
    http_logger = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
    http_logger.setLevel(logging.INFO)
    http_logger.addHandler(recorder)
    http_logger.propagate = False

    ctx = Context(args)
    sections = {
        "rg": section_rg,
        "registry": section_registry,
        "cluster": section_cluster,
        "roleassignment": section_roleassignment,
    }
    failed = False
    for name in args.only:
        start = time.monotonic()
        try:
            made = sections[name](ctx)
        except Exception as error:  # noqa: BLE001 - reported, then the script fails
            failed = True
            print(f"FAILED {name}: {type(error).__name__}: {error}", flush=True)
            continue
        print(f"ok {name} ({made}) in {time.monotonic() - start:.2f} s", flush=True)
    for kind in sorted(API_VERSIONS):
        print(f"api-version {kind}: {','.join(sorted(API_VERSIONS[kind]))}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
