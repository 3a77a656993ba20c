// The kernel's sink for src/notebook/display.ts: `display(x)` becomes display_data and
// `handle.update(y)` update_display_data, both with transient.display_id so that frontends replace
// the output in place (progress bars, streamed text).
import type { DisplaySink, MimeBundle } from '../notebook/display';
import type { Content } from './wire';

export type Publish = (msgType: string, content: Content) => void;

export function displaySink(publish: Publish): DisplaySink {
  return ({ bundle, displayId, update }) =>
    publish(update ? 'update_display_data' : 'display_data', {
      data: jsonBundle(bundle),
      metadata: {},
      transient: displayId === undefined ? {} : { display_id: displayId },
    });
}

/** A MIME bundle as JSON carries it: binary data (images) base64-encoded, as Jupyter expects. */
export function jsonBundle(bundle: MimeBundle): Content {
  return Object.fromEntries(Object.entries(bundle).map(([mime, data]) => [mime, data instanceof Uint8Array ? Buffer.from(data).toString('base64') : data]));
}
