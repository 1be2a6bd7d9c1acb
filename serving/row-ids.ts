// Row ids carried by an inference request (docs/monitoring.md, "Labels by row id"). A model's
// policy may name an id column (monitor.idColumn); an input of that name is taken out of the
// request before it is decoded, so neither the model nor the drift sketches ever see it, and its
// values are logged with the prediction, where feedback sent by row id finds each row's answer.
// Without an id column the request is left as it is, and such an input is refused as unknown.
import { FEEDBACK_LIMITS } from '../lib/monitoring/feedback';
import { ProtocolError, type InferRequest } from './protocol';

export interface RowIds {
  /** The request without the id column. */
  request: InferRequest;
  /** One id per row (integers as their decimal text); absent when the request carries none. */
  rowIds?: string[];
}

export function takeRowIds(req: InferRequest, idColumn: string | null): RowIds {
  if (idColumn === null) return { request: req };
  const ids = req.inputs.filter((i) => i.name === idColumn);
  if (ids.length === 0) return { request: req };
  if (ids.length > 1) throw new ProtocolError(400, `input '${idColumn}' (the id column) is given twice`);
  const { shape, data } = ids[0];
  if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1) || data.length !== shape[0]) {
    throw new ProtocolError(
      400,
      `id column '${idColumn}' has shape [${shape}] and ${data.length} elements; expected [N] or [N, 1] with one id per row`
    );
  }
  const max = FEEDBACK_LIMITS.rowIdChars;
  const rowIds = new Array<string>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'string' && v.length >= 1 && v.length <= max) rowIds[i] = v;
    else if (Number.isSafeInteger(v)) rowIds[i] = String(v);
    else {
      throw new ProtocolError(
        400,
        `id column '${idColumn}' element ${i} is ${JSON.stringify(v)?.slice(0, 40)}; expected a string of 1 to ${max} characters or an integer`
      );
    }
  }
  return { request: { ...req, inputs: req.inputs.filter((i) => i.name !== idColumn) }, rowIds };
}

/** The ids must match the rows the model was given (checked once the request is decoded). */
export function checkRowCount(rowIds: string[] | undefined, rows: number, idColumn: string | null): void {
  if (rowIds && rowIds.length !== rows) {
    throw new ProtocolError(400, `id column '${idColumn}' has ${rowIds.length} ids; the request has ${rows} rows`);
  }
}
