#!/usr/bin/env bash
# Regenerates the admission fixtures of this directory from the tools that
# make such objects in practice: kubectl for the Deployment and the Job, the
# Kubernetes Python client for the Pods, the KServe Python SDK for the
# InferenceServices. The tests read the committed files and never run this;
# it records how they were made. Needs kubectl and python3 (with venv); the
# Python packages go into a throwaway virtual environment.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Pinned together: the fixtures change only when these do.
KUBERNETES_VERSION=37.0.3
KSERVE_VERSION=0.21.0

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check \
  "kubernetes==$KUBERNETES_VERSION" "kserve==$KSERVE_VERSION"

# kubectl names a Deployment's container after the image; given @MODEL@ it
# would name it "" (an object the API server refuses), so the Deployment is
# made with an ordinary image name and workloads.py puts @MODEL@ in its
# place. A Job's container is named after the Job: @MODEL@ goes in as is.
kubectl create deployment model-server --image=registry.example/models/model-server:1.0 \
  --dry-run=client -o json > "$work/deployment.json"
kubectl create job model-job --image=@MODEL@ --dry-run=client -o json > "$work/job.json"
# The Pods' template: the same Deployment running an inference server.
kubectl create deployment model-server --image=registry.example/inference/server:1.0 \
  --dry-run=client -o json > "$work/server-deployment.json"

"$work/venv/bin/python" "$here/workloads.py" "$work" "$here"
"$work/venv/bin/python" "$here/inferenceservices.py" "$here"
