"""Writes the Deployment, Job and Pod fixtures (run by make.sh).

usage: workloads.py WORK OUT  (WORK holds kubectl's output)

The Pods are built with the Kubernetes Python client's models from the pod
template kubectl made, and serialized the way the client sends them.
"""

import copy
import json
import sys
from pathlib import Path

from kubernetes.client import (
    ApiClient,
    V1Container,
    V1ImageVolumeSource,
    V1ObjectMeta,
    V1Pod,
    V1Volume,
    V1VolumeMount,
)

MODEL = "@MODEL@"
NAMESPACE = "ml"
api = ApiClient()


def write(out, name, obj):
    # Four spaces and the key order as given: the layout kubectl prints.
    (out / name).write_text(json.dumps(obj, indent=4) + "\n")


def kubectl_deployment(work, out):
    deployment = json.loads((work / "deployment.json").read_text())
    containers = deployment["spec"]["template"]["spec"]["containers"]
    containers[0]["image"] = MODEL
    write(out, "deployment.json", deployment)


def pod_template(work):
    text = (work / "server-deployment.json").read_text()
    return api.deserialize(text, "V1Deployment", "application/json").spec.template


def pod(template, annotations=None, name="model-server", generate_name=None):
    meta = V1ObjectMeta(
        name=name,
        generate_name=generate_name,
        namespace=NAMESPACE,
        labels=template.metadata.labels,
        annotations=annotations,
    )
    spec = copy.deepcopy(template.spec)
    return V1Pod(api_version="v1", kind="Pod", metadata=meta, spec=spec)


def with_image_volume(p):
    # The model as an image volume (Kubernetes 1.31+), mounted read-only
    # into the server, whose own image is no model.
    p.spec.volumes = [
        V1Volume(
            name="model",
            image=V1ImageVolumeSource(reference=MODEL, pull_policy="IfNotPresent"),
        )
    ]
    p.spec.containers[0].volume_mounts = [
        V1VolumeMount(name="model", mount_path="/models", read_only=True)
    ]
    return p


def main():
    work, out = Path(sys.argv[1]), Path(sys.argv[2])
    kubectl_deployment(work, out)
    # kubectl's Job output is kept byte for byte.
    (out / "job.json").write_text((work / "job.json").read_text())

    template = pod_template(work)
    pods = {
        "pod-image-volume.json": with_image_volume(pod(template)),
        "pod-generate-name.json": with_image_volume(
            pod(template, name=None, generate_name="model-server-")
        ),
        "pod-plain.json": pod(template),
    }
    # A model shipped as a container of its own (a "model car"): the
    # annotation tells the webhook which containers carry a model.
    carrier = pod(template, annotations={"modelseal.dev/model-containers": "model"})
    carrier.spec.containers.append(V1Container(name="model", image=MODEL))
    pods["pod-model-carrier.json"] = carrier

    for name, p in pods.items():
        write(out, name, api.sanitize_for_serialization(p))


if __name__ == "__main__":
    main()
