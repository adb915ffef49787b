"""ONNX models with external data, written by the `onnx` package and loaded
by it, for tests/loaders.rs.

`python3 onnx_cases.py write DIR` writes one model folder per case under
DIR/models and a file outside them, DIR/secret.bin; `python3 onnx_cases.py
load MODEL` prints, as JSON, what `onnx.load` does with a model: whether it
loads, and whether the tensor bytes it read came from outside the folder.
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SECRET = b"root:x:0:0:outside the model\n" * 4


def graph(weights, name="g", extra_nodes=()):
    node = helper.make_node("MatMul", ["X", "W"], ["Y"])
    return helper.make_graph(
        [node, *extra_nodes],
        name,
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])],
        [weights],
    )


def weights():
    return numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), name="W")


def point(tensor, location):
    """Makes `tensor` read its data from `location`."""
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    entry = tensor.external_data.add()
    entry.key, entry.value = "length", "64"


def write(root):
    models = os.path.join(root, "models")
    os.makedirs(models)
    secret = os.path.join(root, "secret.bin")
    with open(secret, "wb") as f:
        f.write(SECRET[:64])

    def folder(name):
        d = os.path.join(models, name)
        os.makedirs(d)
        return d

    # Inside: onnx's own writer puts the weights beside the model.
    d = folder("inside")
    onnx.save_model(
        helper.make_model(graph(weights())),
        os.path.join(d, "model.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )

    def pointing(name, location, nested=False):
        d = folder(name)
        w = weights()
        if nested:
            # The outer graph is plain; the external tensor sits in the
            # then-branch of an If node.
            inner = weights()
            point(inner, location)
            branch = graph(inner, "then")
            other = graph(weights(), "else")
            cond = helper.make_tensor("C", TensorProto.BOOL, [], [True])
            iff = helper.make_node(
                "If", ["C"], ["Z"], then_branch=branch, else_branch=other
            )
            g = graph(w, extra_nodes=[iff])
            g.initializer.append(cond)
        else:
            point(w, location)
            g = graph(w)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(helper.make_model(g).SerializeToString())
        return d

    pointing("dotdot", "../../secret.bin")
    pointing("absolute", secret)
    d = pointing("symlink", "link.bin")
    os.symlink(secret, os.path.join(d, "link.bin"))
    pointing("missing", "missing.bin")
    pointing("nested", "../../secret.bin", nested=True)

    # onnxruntime's in-memory tag: its offset is a raw memory address.
    d = pointing("ort-memory", "*/_ORT_MEM_ADDR_/*")
    with open(os.path.join(d, "*"), "wb"):
        pass
    # An unknown top-level field (field 99, empty): every protobuf parser
    # skips it, so onnx.load reads the model as before.
    d = pointing("unknown-field", "../../secret.bin")
    with open(os.path.join(d, "model.onnx"), "ab") as f:
        f.write(bytes([0x9A, 0x06, 0x00]))
    # A model naming, as its external data, another model that reads from
    # outside: the named file is not raw data.
    d = folder("laundering")
    inner = os.path.join(models, "unknown-field", "model.onnx")
    with open(inner, "rb") as f:
        evil = f.read()
    with open(os.path.join(d, "evil.onnx"), "wb") as f:
        f.write(evil)
    w = weights()
    point(w, "evil.onnx")
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(helper.make_model(graph(w)).SerializeToString())

    # A custom-domain operator (needs a custom op library to run).
    d = folder("custom")
    node = helper.make_node("Evil", ["X"], ["Y"], domain="com.example")
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(
        g,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())


def load(path):
    try:
        model = onnx.load(path)
    except Exception as e:  # what the loader refuses
        return {"loaded": False, "error": type(e).__name__}
    outside = False
    for t in _tensors(model.graph):
        if t.raw_data and SECRET.startswith(bytes(t.raw_data)):
            outside = True
    return {"loaded": True, "read_outside": outside}


def _tensors(g):
    yield from g.initializer
    for n in g.node:
        for a in n.attribute:
            if a.HasField("g"):
                yield from _tensors(a.g)
            for sub in a.graphs:
                yield from _tensors(sub)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        print(json.dumps(load(sys.argv[2])))
