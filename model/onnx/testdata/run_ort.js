// Runs an ONNX model in ONNX Runtime (the onnxruntime-node npm package) for
// the Go test of package onnx (onnx_test.go):
//
//   node run_ort.js MODEL.onnx INPUT.json
//
// INPUT.json is {"dims": [...], "data": [...]}, fed as the float32 input
// "image". Prints one JSON object: the session's input and output names and,
// for each output, {"dims": [...], "data": [...]}.
//
// The package is found in the folder named by GALAXY_ONNXRUNTIME_NODE_DIR
// (where `npm install onnxruntime-node` was run), else by Node's own lookup.
'use strict';
const fs = require('fs');
const path = require('path');

let ort;
const dir = process.env.GALAXY_ONNXRUNTIME_NODE_DIR;
try {
  ort = require(dir ? path.join(path.resolve(dir), 'node_modules', 'onnxruntime-node') : 'onnxruntime-node');
} catch (e) {
  process.stderr.write('onnxruntime-node not found: ' + e.message + '\n');
  process.exit(3);
}

async function main() {
  const [modelPath, inputPath] = process.argv.slice(2);
  const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath);
  const feeds = { image: new ort.Tensor('float32', Float32Array.from(input.data), input.dims) };
  const results = await session.run(feeds);
  const out = { inputNames: session.inputNames, outputNames: session.outputNames, outputs: {} };
  for (const name of session.outputNames) {
    const t = results[name];
    out.outputs[name] = { dims: Array.from(t.dims, Number), data: Array.from(t.data) };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write('onnxruntime: ' + (e && e.message ? e.message : e) + '\n');
  process.exit(1);
});
