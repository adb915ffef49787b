"""Keras-shaped HDF5 files, written by the real writers (Keras 3 and h5py),
for tests/loaders.rs.

`python3 keras_cases.py write DIR` writes the cases into DIR; `python3
keras_cases.py load FILE MARKER` loads FILE with Keras (safe_mode=False, as
legacy code does) and calls the model once, then prints as JSON whether
loading worked and whether code from the file ran (it appends to MARKER).
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402
import numpy as np  # noqa: E402


def legacy_config(layers):
    return json.dumps(
        {
            "class_name": "Sequential",
            "config": {"name": "sequential", "layers": layers},
        }
    )


DENSE = {"class_name": "Dense", "config": {"name": "dense", "units": 2}}
LAMBDA = {
    "class_name": "Lambda",
    "config": {"name": "evil", "function": ["lambda x: eval(x)", None, None]},
}
# A layer merely named "Lambda": inert data.
NAMED_LAMBDA = {"class_name": "Dense", "config": {"name": "Lambda", "units": 2}}


def h5py_file(path, layers, libver="earliest", extra_attrs=0, pad=0, training=None, userblock=0):
    """A file shaped as Keras 2 writes `.h5` models: root attributes, then
    the weights, then the training configuration."""
    with h5py.File(path, "w", libver=libver, userblock_size=userblock) as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        config = legacy_config(layers)
        if pad:
            config = config[:-1] + ', "padding": "' + "x" * pad + '"}'
        f.attrs["model_config"] = config
        for i in range(extra_attrs):
            f.attrs[f"note_{i}"] = f"value {i}"
        g = f.create_group("model_weights")
        g.create_dataset("dense/kernel", data=np.ones((64, 64), dtype=np.float32))
        if training is not None:
            f.attrs["training_config"] = json.dumps(training)


def write(root):
    os.makedirs(root, exist_ok=True)
    h5py_file(os.path.join(root, "plain.h5"), [DENSE])
    h5py_file(os.path.join(root, "lambda.h5"), [DENSE, LAMBDA])
    h5py_file(os.path.join(root, "named-lambda.h5"), [NAMED_LAMBDA])
    h5py_file(os.path.join(root, "lambda-bytes.h5"), [DENSE])
    with h5py.File(os.path.join(root, "lambda-bytes.h5"), "a") as f:
        # Keras 2 wrote the config as bytes: a fixed-length string.
        f.attrs["model_config"] = np.bytes_(legacy_config([LAMBDA]).encode())
    h5py_file(os.path.join(root, "latest-plain.h5"), [DENSE], libver="latest")
    h5py_file(os.path.join(root, "latest-lambda.h5"), [LAMBDA], libver="latest")
    # Dense attribute storage: more attributes than an object header keeps.
    h5py_file(os.path.join(root, "dense-plain.h5"), [DENSE], libver="latest", extra_attrs=12)
    h5py_file(os.path.join(root, "dense-lambda.h5"), [LAMBDA], libver="latest", extra_attrs=12)
    # A configuration larger than 64 KiB.
    h5py_file(os.path.join(root, "large-lambda.h5"), [LAMBDA], libver="latest", pad=200_000)
    # A custom object in the training configuration, written after the weights.
    h5py_file(
        os.path.join(root, "training-custom.h5"),
        [DENSE],
        training={"loss": {"module": "os", "class_name": "function", "config": "system"}},
    )
    # The superblock after a 1 KiB user block (h5py finds it there).
    h5py_file(os.path.join(root, "userblock-lambda.h5"), [LAMBDA], userblock=1024)
    # Not a Keras model at all.
    with h5py.File(os.path.join(root, "dataset.h5"), "w") as f:
        f.create_dataset("images", data=np.zeros((8, 8), dtype=np.uint8))
        f.attrs["description"] = "a dataset"
    keras_files(root)


def keras_files(root):
    """Models saved by Keras 3 itself in the legacy HDF5 format."""
    import keras

    marker = os.path.join(root, "marker")

    def model(with_lambda):
        inp = keras.Input((4,))
        x = keras.layers.Dense(2)(inp)
        if with_lambda:
            x = keras.layers.Lambda(
                lambda t: (open(marker, "a").write("ran\n"), t)[1], output_shape=(2,)
            )(x)
        return keras.Model(inp, x)

    model(False).save(os.path.join(root, "keras-plain.h5"))
    model(True).save(os.path.join(root, "keras-lambda.h5"))
    if os.path.exists(marker):
        os.remove(marker)


def load(path, marker):
    import keras

    try:
        m = keras.models.load_model(path, safe_mode=False)
        m(np.ones((1, 4), dtype=np.float32))
        loaded = True
    except Exception:
        loaded = False
    ran = os.path.exists(marker)
    return {"loaded": loaded, "ran": ran}


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        print(json.dumps(load(sys.argv[2], sys.argv[3])))
