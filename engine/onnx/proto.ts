// The published onnx.proto (vendored beside this file, unchanged) read by protobufjs: models are encoded by the
// library from the schema, never by hand. The file is found beside the bundle (dist/onnx.proto, copied by
// esbuild.mjs) or, compiled by tsc (out/engine/onnx/), in the sources.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';

/** The IR version that goes with opset 13 (ONNX's versioning table: IR 7 = ONNX 1.8, opsets up to 13). */
export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;

// ONNX TensorProto.DataType values used here.
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

// AttributeProto.AttributeType values used here.
export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_TENSOR = 4;
export const ATTR_INTS = 7;

let root: protobuf.Root | null = null;

function protoPath(): string {
  const candidates = [join(__dirname, 'onnx.proto'), join(__dirname, '..', '..', '..', 'engine', 'onnx', 'onnx.proto')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`onnx.proto not found (looked in ${candidates.join(', ')})`);
  return found;
}

function onnxRoot(): protobuf.Root {
  // keepCase: the schema's own field names (ir_version, raw_data), as ONNX documents them.
  root ??= protobuf.parse(readFileSync(protoPath(), 'utf8'), { keepCase: true }).root;
  return root;
}

/** The ModelProto type; encode and decode plain objects with the schema's field names. */
export function modelProto(): protobuf.Type {
  return onnxRoot().lookupType('onnx.ModelProto');
}

export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX model does not fit onnx.proto: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** A decoded model as plain data (int64 fields as numbers, bytes as Buffers): for tests and inspection. */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Buffer, defaults: false, arrays: true }) as Record<string, unknown>;
}
