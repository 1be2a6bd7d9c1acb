// ONNX export of a trained model, written by our own builder. Preprocessing is part of the graph
// (imputation, standardisation, one-hot with the unseen bucket), so the deployed model takes raw
// feature columns, one graph input per feature ([N, 1] float or string), and nothing outside the
// artifact has to stay in sync with it. Dense layers are MatMul + Add (not Gemm) because that is
// the pattern the int8 quantiser rewrites.
import { MlInputError } from './errors';
import { GraphBuilder, model as modelProto } from './onnx/builder';
import { DataType, encodeModel, floatTensor, stringTensor, valueInfo, ValueInfoProto } from './onnx/proto';
import type { TrainedModel } from './types';

export const OUTPUT_LABEL = 'label';
export const OUTPUT_PROBABILITIES = 'probabilities';
export const OUTPUT_VALUE = 'value';

/** Metadata keys the export writes; lineage keys passed in by the caller are stored as given. */
export const META = {
  format: 'mlops.format',
  task: 'mlops.task',
  target: 'mlops.target',
  features: 'mlops.features',
  classes: 'mlops.classes',
  preprocessing: 'mlops.preprocessing',
  parameters: 'mlops.parameters',
  /** 'columns' (one input per feature) or 'packed-numeric' (see ExportOptions.packNumeric). */
  inputs: 'mlops.inputs',
} as const;

export interface ExportOptions {
  /**
   * Feed all numeric features as one [N, numeric] float input named `numeric` (in preprocessing
   * order) instead of one [N, 1] input per column. Wide models serve faster this way: the binding
   * pays a per-input cost. predictOnnx handles both layouts.
   */
  packNumeric?: boolean;
}

/**
 * How the pipeline exports what it registers: numeric columns packed into one input, because the
 * per-input binding cost made the one-input-per-column graph 12x slower at batch 1
 * (bench/ml/quantize.ts); evaluation, optimisation and serving all run this same graph.
 */
export const PIPELINE_EXPORT: ExportOptions = { packNumeric: true };

/** Name of the packed numeric input (ExportOptions.packNumeric). */
export const PACKED_NUMERIC = 'numeric';

export function exportOnnx(
  model: TrainedModel,
  metadata: Record<string, string>,
  options: ExportOptions = {}
): Uint8Array {
  const { preprocessing: prep, spec } = model;
  const packed = !!options.packNumeric && prep.numeric.length > 0;
  const reserved = new Set([OUTPUT_LABEL, OUTPUT_PROBABILITIES, OUTPUT_VALUE, ...(packed ? [PACKED_NUMERIC] : [])]);
  for (const f of spec.features) {
    if (reserved.has(f.name))
      throw new MlInputError(`feature name '${f.name}' is reserved for a model output; rename the column`);
  }
  const g = new GraphBuilder('t_');
  const blocks: string[] = [];
  if (prep.numeric.length) {
    const raw = packed
      ? PACKED_NUMERIC
      : prep.numeric.length === 1
        ? prep.numeric[0].name
        : g.o(
            'Concat',
            prep.numeric.map((p) => p.name),
            { axis: 1 }
          );
    const dims = [1, prep.numeric.length];
    const imputed = g.o('Where', [
      g.o('IsNaN', [raw]),
      g.f(
        prep.numeric.map((p) => p.median),
        dims
      ),
      raw,
    ]);
    const centred = g.o('Sub', [
      imputed,
      g.f(
        prep.numeric.map((p) => p.mean),
        dims
      ),
    ]);
    blocks.push(
      g.o('Div', [
        centred,
        g.f(
          prep.numeric.map((p) => p.std),
          dims
        ),
      ])
    );
  }
  for (const p of prep.categorical) {
    const k = p.categories.length;
    // Unknown strings map to index k: the unseen bucket the trainer also used.
    const idx = g.o(
      'LabelEncoder',
      [p.name],
      {
        keys_strings: p.categories.length ? p.categories : [''],
        values_int64s: p.categories.map((_, i) => i),
        default_int64: k,
      },
      'ai.onnx.ml'
    );
    const hot = g.o('OneHot', [idx, g.i64([k + 1]), g.f([0, 1])], { axis: -1 });
    blocks.push(g.o('Reshape', [hot, g.i64([-1, k + 1])]));
  }
  let h = blocks.length === 1 ? blocks[0] : g.o('Concat', blocks, { axis: 1 });
  model.layers.forEach((layer, l) => {
    const w = g.init(floatTensor(`W${l}`, [layer.inputs, layer.outputs], layer.weights));
    const b = g.init(floatTensor(`B${l}`, [layer.outputs], layer.bias));
    h = g.o('Add', [g.o('MatMul', [h, w]), b]);
    if (l + 1 < model.layers.length) h = g.o('Relu', [h]);
  });
  const outputs: ValueInfoProto[] = [];
  if (model.head === 'identity') {
    const { mean, std } = model.targetScale ?? { mean: 0, std: 1 };
    const y = g.o('Add', [g.o('Mul', [h, g.f(std)]), g.f(mean)]);
    g.op('Reshape', [y, g.i64([-1])], {}, [OUTPUT_VALUE]);
    outputs.push(valueInfo(OUTPUT_VALUE, DataType.FLOAT, ['N']));
  } else {
    const classes = model.classes!;
    if (model.head === 'sigmoid') {
      const p = g.o('Sigmoid', [h]);
      g.op('Concat', [g.o('Sub', [g.f(1), p]), p], { axis: 1 }, [OUTPUT_PROBABILITIES]);
    } else {
      g.op('Softmax', [h], { axis: 1 }, [OUTPUT_PROBABILITIES]);
    }
    const best = g.o('ArgMax', [OUTPUT_PROBABILITIES], { axis: 1, keepdims: 0 });
    const names = g.init(stringTensor('classes', [classes.length], classes));
    g.op('Gather', [names, best], { axis: 0 }, [OUTPUT_LABEL]);
    outputs.push(valueInfo(OUTPUT_LABEL, DataType.STRING, ['N']));
    outputs.push(valueInfo(OUTPUT_PROBABILITIES, DataType.FLOAT, ['N', classes.length]));
  }
  const inputs = [
    ...(packed
      ? [valueInfo(PACKED_NUMERIC, DataType.FLOAT, ['N', prep.numeric.length])]
      : prep.numeric.map((p) => valueInfo(p.name, DataType.FLOAT, ['N', 1]))),
    ...prep.categorical.map((p) => valueInfo(p.name, DataType.STRING, ['N', 1])),
  ];
  const meta: Record<string, string> = {
    ...metadata,
    [META.format]: 'mlops-onnx/1',
    [META.task]: spec.task,
    [META.target]: spec.target,
    [META.features]: JSON.stringify(spec.features),
    [META.preprocessing]: JSON.stringify(prep),
    [META.parameters]: String(model.parameterCount),
    [META.inputs]: packed ? 'packed-numeric' : 'columns',
  };
  if (model.classes) meta[META.classes] = JSON.stringify(model.classes);
  const doc =
    `${spec.task} ${spec.model.kind} model; inputs: ` +
    (packed ? `'${PACKED_NUMERIC}' [N,${prep.numeric.length}] float (NaN for missing) and ` : '') +
    `one [N,1] tensor per raw ${packed ? 'categorical ' : ''}feature (float with NaN for missing, ` +
    `or string with '' for missing); outputs: ${outputs.map((o) => o.name).join(', ')}`;
  return encodeModel(modelProto(g.graph('mlops_model', inputs, outputs), meta, doc));
}
