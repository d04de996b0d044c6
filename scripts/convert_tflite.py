#!/usr/bin/env python3
"""Convert one TFLite model to ONNX and prove the result computes what the TFLite model does.

Run by scripts/setup.py inside a throwaway venv holding the pinned converter
(scripts/requirements-tflite.txt: tf2onnx 1.17.0, tensorflow-cpu 2.21.0, onnxruntime 1.31.1).

    convert_tflite.py SOURCE.tflite DEST.onnx CHECK_JSON

The converted bytes differ from run to run, so the result is checked by numbers, twice:
1. against the TFLite interpreter on the same input (max abs difference <= CHECK.tolerance);
2. against the outputs recorded in models/manifest.toml (CHECK.expect), so a converter that
   changed behaviour in both places at once would still be caught.
The input is closed-form (no random generator): pixel (y, x, c) = ((7y + 13x + 29c) mod 256)/255
for images, point i = ((37i mod 256), (91i mod 256)) for point lists. The Rust engine's tests
feed the same input and compare with the same record.

tf2onnx 1.17 silently drops fully-connected biases that TFLite stores as float16 (behind a
DEQUANTIZE op): the FC becomes a bare MatMul. `restore_fp16_fc_biases` puts each one back.
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np


def closed_form_input(shape):
    shape = [int(s) if isinstance(s, int) and s > 0 else 1 for s in shape]
    if len(shape) == 4:  # NHWC image
        _, h, w, c = shape
        y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
        img = ((7 * y + 13 * x + 29 * ch) % 256).astype(np.float32) / 255.0
        return img.reshape(shape)
    if len(shape) == 3:  # [1, N, 2] points
        i = np.arange(shape[1])
        pts = np.stack([(37 * i) % 256, (91 * i) % 256], axis=-1).astype(np.float32)
        return pts.reshape(shape)
    raise SystemExit(f"convert: no closed-form input for shape {shape}")


def tflite_tensors(tflite_path):
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(tflite_path))
    graph = model.subgraphs[0]

    def name(t):
        return t.name.decode() if isinstance(t.name, bytes) else t.name

    return model, graph, name


def restore_fp16_fc_biases(onnx_model, tflite_path):
    """Adds back every float16 fully-connected bias tf2onnx dropped. Returns how many."""
    import onnx
    from onnx import helper, numpy_helper

    model, graph, name = tflite_tensors(tflite_path)
    opcodes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    FULLY_CONNECTED, DEQUANTIZE, FLOAT16 = 9, 6, 1
    producer = {}
    for op in graph.operators:
        for out in op.outputs:
            producer[out] = op

    def fp16_constant(index):
        """The float32 value of a float16 constant behind `index` (through a DEQUANTIZE)."""
        op = producer.get(index)
        if op is not None and opcodes[op.opcodeIndex] == DEQUANTIZE:
            index = op.inputs[0]
        t = graph.tensors[index]
        data = model.buffers[t.buffer].data
        if t.type != FLOAT16 or data is None or len(data) == 0:
            return None
        return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)

    nodes_by_output = {n.output[0]: n for n in onnx_model.graph.node if n.output}
    inits = {i.name: i for i in onnx_model.graph.initializer}
    restored = 0
    for op in graph.operators:
        if opcodes[op.opcodeIndex] != FULLY_CONNECTED or len(op.inputs) < 3 or op.inputs[2] < 0:
            continue
        bias = fp16_constant(op.inputs[2])
        if bias is None or not np.any(bias):
            continue
        out_name = name(graph.tensors[op.outputs[0]])
        node = nodes_by_output.get(out_name) or nodes_by_output.get(out_name + ":0")
        if node is None:
            raise SystemExit(f"convert: no ONNX node computes the fully-connected output {out_name}")
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2] in inits:
            current = numpy_helper.to_array(inits[node.input[2]])
            if np.array_equal(current, bias):
                continue
            inits[node.input[2]].CopyFrom(numpy_helper.from_array(bias, node.input[2]))
        elif node.op_type == "MatMul":
            bias_name = f"{out_name}/restored_fp16_bias"
            onnx_model.graph.initializer.append(numpy_helper.from_array(bias, bias_name))
            raw = f"{node.output[0]}/without_bias"
            final = node.output[0]
            node.output[0] = raw
            index = list(onnx_model.graph.node).index(node)
            onnx_model.graph.node.insert(index + 1, helper.make_node("Add", [raw, bias_name], [final],
                                                                    name=f"{out_name}/restored_bias_add"))
        else:
            raise SystemExit(f"convert: fully-connected {out_name} became {node.op_type}; cannot restore its bias")
        restored += 1
    onnx.checker.check_model(onnx_model)
    return restored


def run_tflite(tflite_path, inputs):
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(tflite_path))
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], inputs[detail["name"]])
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: convert_tflite.py SOURCE.tflite DEST.onnx CHECK_JSON")
    source, dest, check = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    import onnx
    import onnxruntime as ort
    import tf2onnx

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        tf2onnx.convert.from_tflite(str(source), opset=13, output_path=str(raw))
        model = onnx.load(str(raw))
    restored = restore_fp16_fc_biases(model, source)

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = {i.name: closed_form_input(i.shape) for i in session.get_inputs()}
    onnx_out = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
    tflite_out = run_tflite(source, inputs)
    tolerance = float(check["tolerance"])
    for name, value in tflite_out.items():
        got = onnx_out[name].reshape(value.shape)
        diff = float(np.abs(got - value).max())
        if diff > tolerance:
            raise SystemExit(f"convert: {source.name} output {name} differs from TFLite by {diff:.3g} (> {tolerance})")
    record = {name: [round(float(v), 5) for v in onnx_out[name].ravel()[:6]] for name in check["expect"]}
    for name, expected in check["expect"].items():
        got = np.asarray(record[name])
        if got.shape != np.asarray(expected).shape or not np.allclose(got, expected, rtol=1e-3, atol=tolerance):
            raise SystemExit(f"convert: {source.name} output {name} is {record[name]}, the manifest records {expected}")
    onnx.save(model, str(dest))
    print(f"convert: {source.name} -> {dest.name}: {restored} float16 bias(es) restored; "
          f"matches TFLite within {tolerance} and the manifest record", flush=True)


if __name__ == "__main__":
    main()
