"""deploy/k8s agrees with the packages: the variables each container sets are settings its package reads
(the settings classes say which) and values they accept, secrets come from the Secret, names and ports
meet where the services look for them, and there is one autoscaled worker per queue of the shipped task
types, given time to finish its jobs."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from manifests import (
    K8S,
    KUSTOMIZATIONS,
    SECRET_NAME,
    SETTINGS,
    Container,
    Manifest,
    compose_images,
    containers,
    definitions_queues,
    definitions_vhosts,
    example_secrets,
    find,
    one,
    pod_templates,
    render,
    secret_settings,
    settings,
    settings_names,
    specs_of,
    worker_queue,
)

from taskgate_contracts import Connections
from taskgate_contracts.builtin import SPECS
from taskgate_contracts.connections import task_queue_arguments
from taskgate_contracts.tasks import HARD_LIMIT_GRACE_SECONDS, load_settings
from taskgate_worker.config import WorkerSettings

Manifests = tuple[Manifest, ...]
RABBITMQ_CLUSTER = "RabbitmqCluster"


@pytest.fixture(params=KUSTOMIZATIONS, ids=[str(path.relative_to(K8S)) for path in KUSTOMIZATIONS])
def manifests(request: pytest.FixtureRequest) -> Manifests:
    path: Path = request.param
    return render(path)


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def taskgate_containers(manifests: Manifests) -> list[Container]:
    return [container for container in containers(manifests) if container.image in SETTINGS]


def workers(manifests: Manifests) -> list[Container]:
    return [container for container in taskgate_containers(manifests) if container.image == "taskgate-worker"]


def connections_of(container: Container) -> Connections:
    """Where the container's service finds RabbitMQ and Redis, as its settings say."""
    return Connections.model_validate({name.lower(): value for name, value in container.settings.items()})


def test_images_are_the_ones_compose_builds(manifests: Manifests) -> None:
    used = {container.image for container in containers(manifests) if container.image.startswith("taskgate")}
    assert used == compose_images() == set(SETTINGS)


def test_containers_set_only_settings_their_package_reads(manifests: Manifests) -> None:
    for container in taskgate_containers(manifests):
        unknown = set(container.settings) - settings_names(container.image)
        assert not unknown, f"{container.workload} sets what {container.image} does not read: {unknown}"


def test_the_settings_are_values_the_packages_accept(manifests: Manifests) -> None:
    for container in taskgate_containers(manifests):
        settings(SETTINGS[container.image], container)
        if container.image != "taskgate-flower":
            for spec in SPECS:
                if spec.settings is not None:
                    load_settings(spec.settings, container.settings)


def test_secrets_come_from_the_secret(manifests: Manifests) -> None:
    for container in taskgate_containers(manifests):
        literal = (set(container.env) & secret_settings(container.image)) - container.secret
        assert not literal, f"{container.workload} sets secrets without the Secret: {literal}"
    referenced = set()
    for _, pod in pod_templates(manifests):
        for spec in pod["containers"]:
            for variable in spec.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    assert reference["name"] == SECRET_NAME
                    referenced.add(reference["key"])
    for authentication in find(manifests, "TriggerAuthentication"):
        for reference in authentication["spec"]["secretTargetRef"]:
            assert reference["name"] == SECRET_NAME
            referenced.add(reference["key"])
    assert referenced == set(example_secrets()), "secrets.env.example lists the Secret's keys, all used"


def test_names_meet_where_the_services_look(manifests: Manifests) -> None:
    (cluster,) = find(manifests, RABBITMQ_CLUSTER)
    (vhost,) = definitions_vhosts()
    for container in taskgate_containers(manifests):
        assert container.env["RABBITMQ_HOST"] == cluster["metadata"]["name"]
        assert container.env["RABBITMQ_VHOST"] == vhost
    management = urlsplit(example_secrets()["RABBITMQ_MANAGEMENT_URL"])
    assert management.hostname is not None
    assert management.hostname.split(".")[0] == cluster["metadata"]["name"]
    assert management.path == f"/{vhost}"
    for scaled in find(manifests, "ScaledObject"):
        assert scaled["spec"]["triggers"][0]["metadata"]["vhostName"] == vhost
    (user_job,) = [c for c in containers(manifests) if c.workload == "taskgate-rabbitmq-user"]
    assert user_job.env["RABBITMQ_VHOST"] == vhost
    assert user_job.env["RABBITMQ_NODE"].startswith(f"rabbit@{cluster['metadata']['name']}-server-0.")


def test_the_services_declare_the_task_queues_as_the_cluster_boots_them(manifests: Manifests) -> None:
    # RabbitMQ refuses a declaration whose arguments differ from the queue's: the api and the workers
    # would fail on every publish and consume.
    task_queues = {spec.queue for spec in SPECS}
    booted = {q["name"]: q["arguments"] for q in definitions_queues() if q["name"] in task_queues}
    assert sorted(booted) == sorted(task_queues)
    for container in taskgate_containers(manifests):
        if container.image == "taskgate-flower":
            continue
        declared = task_queue_arguments(connections_of(container).rabbitmq_queue_type)
        assert declared == {"x-queue-type": "quorum"}, f"{container.workload}: a three-node cluster"
        assert all(arguments == declared for arguments in booted.values()), container.workload


def test_ports_meet_where_the_services_listen(manifests: Manifests) -> None:
    for name, port in (("taskgate-api", 8000), ("taskgate-flower", 5555)):
        (container,) = [c for c in containers(manifests) if c.workload == name]
        args = container.spec["args"]
        assert int(args[args.index("--port") + 1]) == port
        assert {p["name"]: p["containerPort"] for p in container.spec["ports"]} == {"http": port}
        service = one(manifests, "Service", name)
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, "http")]
    rabbitmq_ports = {
        port["port"]
        for rule in one(manifests, "NetworkPolicy", "taskgate-rabbitmq")["spec"]["ingress"]
        for port in rule["ports"]
    }
    for container in taskgate_containers(manifests):
        assert {int(container.env["PORT_AMQP"]), int(container.env["PORT_WEB"])} <= rabbitmq_ports


def test_the_sentinels_are_the_redis_pods(manifests: Manifests) -> None:
    redis = one(manifests, "StatefulSet", "taskgate-redis")
    ports = {
        port["name"]: port["containerPort"]
        for container in redis["spec"]["template"]["spec"]["containers"]
        for port in container["ports"]
    }
    pods = [
        f"taskgate-redis-{index}.{redis['spec']['serviceName']}" for index in range(redis["spec"]["replicas"])
    ]
    master_names = {c.env["MASTER_NAME"] for c in containers(manifests) if c.workload == "taskgate-redis"}
    for container in taskgate_containers(manifests):
        if container.image == "taskgate-flower":
            continue  # Flower does not use Redis
        connections = connections_of(container)
        assert connections.redis_sentinel_nodes == [(pod, ports["sentinel"]) for pod in pods]
        assert {connections.redis_sentinel_master} == master_names
        assert urlsplit(connections.redis_url.get_secret_value()).port == ports["redis"]


def test_one_autoscaled_worker_per_queue_of_the_shipped_types(manifests: Manifests) -> None:
    by_queue = {worker_queue(container): container for container in workers(manifests)}
    assert sorted(by_queue) == sorted({spec.queue for spec in SPECS})
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in find(manifests, "ScaledObject")}
    authentications = {a["metadata"]["name"] for a in find(manifests, "TriggerAuthentication")}
    for queue, container in by_queue.items():
        (trigger,) = scaled[container.workload]["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        # Depth through the management API, ready and unacknowledged messages alike.
        assert (
            trigger["metadata"] | {"queueName": queue, "protocol": "http", "mode": "QueueLength"}
            == trigger["metadata"]
        )
        assert trigger["metadata"]["excludeUnacknowledged"] == "false"
        assert trigger["authenticationRef"]["name"] in authentications


def test_a_stopped_worker_has_time_to_finish_its_jobs(manifests: Manifests) -> None:
    # Kubernetes' default is 30 s.
    grace = {
        workload["metadata"]["name"]: pod.get("terminationGracePeriodSeconds", 30)
        for workload, pod in pod_templates(manifests)
    }
    for container in workers(manifests):
        worker = settings(WorkerSettings, container)
        hard_limits = [
            worker.soft_time_limit_of(spec) + HARD_LIMIT_GRACE_SECONDS
            for spec in specs_of(worker_queue(container))
        ]
        assert grace[container.workload] > max(hard_limits), container.workload


def test_the_api_is_probed_and_stops_gracefully(manifests: Manifests) -> None:
    api = one(manifests, "Deployment", "taskgate-api")
    pod = api["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "/readyz" in "".join(container["readinessProbe"]["exec"]["command"])
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    assert int(sleep[1]) < pod["terminationGracePeriodSeconds"]
    # Workers scale from zero on queue depth: readiness must not wait for one.
    (api_container,) = [c for c in taskgate_containers(manifests) if c.workload == "taskgate-api"]
    assert api_container.env["READINESS_REQUIRES_WORKER"] == "false"
    budgets = [
        p
        for p in find(manifests, "PodDisruptionBudget")
        if _selects(p["spec"]["selector"]["matchLabels"], api["spec"]["template"]["metadata"]["labels"])
    ]
    assert budgets, "no PodDisruptionBudget covers the api"


def test_only_the_api_is_open_to_the_outside(manifests: Manifests) -> None:
    pods = [workload["spec"]["template"]["metadata"]["labels"] for workload, _ in pod_templates(manifests)]
    # The operator's RabbitMQ pods carry the cluster's name.
    pods.append(
        {"app.kubernetes.io/name": one(manifests, RABBITMQ_CLUSTER, "taskgate-rabbitmq")["metadata"]["name"]}
    )
    policies = find(manifests, "NetworkPolicy")
    deny = one(manifests, "NetworkPolicy", "taskgate-default-deny")["spec"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    open_ingress = [
        p["metadata"]["name"] for p in policies for rule in p["spec"].get("ingress", []) if "from" not in rule
    ]
    assert open_ingress == ["taskgate-api"]
    open_egress = {
        (p["metadata"]["name"], tuple(port["port"] for port in rule["ports"]))
        for p in policies
        for rule in p["spec"].get("egress", [])
        if "to" not in rule
    }
    assert open_egress == {("taskgate-rabbitmq", (443, 6443))}, (
        "only RabbitMQ's peer discovery reaches the Kubernetes API"
    )
    for policy in policies:
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        assert any(_selects(selector, labels) for labels in pods), (
            f"{policy['metadata']['name']} selects no pod"
        )
        for rule in [*policy["spec"].get("ingress", []), *policy["spec"].get("egress", [])]:
            for peer in rule.get("from", rule.get("to", [])):
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert any(_selects(peer["podSelector"]["matchLabels"], labels) for labels in pods), peer
