"""Writes the InferenceService fixtures (run by make.sh).

usage: inferenceservices.py OUT

Built with the KServe Python SDK's models and serialized by the SDK's own
ApiClient. The Kubernetes client's ApiClient is not used here: from its
release 37 on, it turns these (older-style) models into their Python
attribute names (storage_uri, model_format), which is not the CRD's shape.
"""

import json
import sys
from pathlib import Path

from kserve import ApiClient, constants
from kserve.models import (
    V1beta1InferenceService,
    V1beta1InferenceServiceSpec,
    V1beta1ModelFormat,
    V1beta1ModelSpec,
    V1beta1ModelStorageSpec,
    V1beta1PredictorSpec,
    V1beta1SKLearnSpec,
    V1beta1StorageUri,
    V1beta1TransformerSpec,
)
from kubernetes.client import V1Container, V1EnvVar, V1ObjectMeta

MODEL_URI = "oci://@MODEL@"


def isvc(spec):
    return V1beta1InferenceService(
        api_version=constants.KSERVE_V1BETA1,
        kind=constants.KSERVE_KIND_INFERENCESERVICE,
        metadata=V1ObjectMeta(name="sklearn-iris", namespace="ml"),
        spec=spec,
    )


def model(**storage):
    return V1beta1PredictorSpec(
        model=V1beta1ModelSpec(model_format=V1beta1ModelFormat(name="sklearn"), **storage)
    )


def transformer():
    # The SDK's transformer container is a plain Kubernetes container (no
    # storageUri of its own); the component carries storageUris, each a
    # model the transformer gets mounted.
    return V1beta1TransformerSpec(
        containers=[
            V1Container(
                name="kserve-container",
                image="registry.example/inference/transformer:1.0",
                args=["--model_name", "sklearn-iris"],
                env=[V1EnvVar(name="LOG_LEVEL", value="info")],
            )
        ],
        storage_uris=[V1beta1StorageUri(uri=MODEL_URI, mount_path="/mnt/models")],
    )


def main():
    out = Path(sys.argv[1])
    objects = {
        "isvc-model.json": V1beta1InferenceServiceSpec(predictor=model(storage_uri=MODEL_URI)),
        "isvc-sklearn.json": V1beta1InferenceServiceSpec(
            predictor=V1beta1PredictorSpec(sklearn=V1beta1SKLearnSpec(storage_uri=MODEL_URI))
        ),
        "isvc-transformer.json": V1beta1InferenceServiceSpec(
            predictor=model(storage_uri=MODEL_URI), transformer=transformer()
        ),
        # A model behind a storage secret's key: no URI the webhook can fetch.
        "isvc-storage-block.json": V1beta1InferenceServiceSpec(
            predictor=model(storage=V1beta1ModelStorageSpec(key="models-s3", path="sklearn/iris"))
        ),
        "isvc-s3.json": V1beta1InferenceServiceSpec(predictor=model(storage_uri="s3://models/iris")),
    }
    api = ApiClient()
    for name, spec in objects.items():
        obj = api.sanitize_for_serialization(isvc(spec))
        # Four spaces, as kubectl prints the other fixtures.
        (out / name).write_text(json.dumps(obj, indent=4) + "\n")


if __name__ == "__main__":
    main()
