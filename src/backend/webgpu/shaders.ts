// WGSL sources live in .wgsl files beside the code that dispatches them. A source may pull in
// shared pieces with `#include "path"` (relative to this directory, each included once) and has
// `{{NAME}}` placeholders for what differs between pipelines (workgroup size, element types, the
// block decoder; include paths may use them too). Pipelines are compiled once per key and cached
// for the device's lifetime.
import * as fs from 'node:fs';
import * as path from 'node:path';

const files = new Map<string, string>();

function readSource(file: string): string {
  let text = files.get(file);
  if (text === undefined) {
    text = fs.readFileSync(path.join(__dirname, file), 'utf8');
    files.set(file, text);
  }
  return text;
}

export type Substitutions = Readonly<Record<string, string | number | boolean>>;

/** The WGSL of `file` with its includes expanded and every placeholder filled. */
export function wgsl(file: string, values: Substitutions = {}, prelude = ''): string {
  const fill = (text: string): string =>
    text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const v = values[key];
      if (v === undefined) throw new Error(`WGSL template ${file} needs a value for {{${key}}}`);
      return String(v);
    });
  const included = new Set<string>();
  const expand = (name: string): string =>
    readSource(name).replace(/^#include "([^"]+)"\s*$/gm, (_, pattern: string) => {
      const inc = fill(pattern);
      if (included.has(inc)) return '';
      included.add(inc);
      return expand(inc);
    });
  return prelude + fill(expand(file));
}

/** A compiled kernel and the layout its bind groups follow. */
export interface Pipeline {
  readonly id: number;
  /** The kind of work, for counting dispatches: the cache key up to its first '|' (e.g. linearVector). */
  readonly kernel: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

const BINDING = /@group\(0\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage\s*,\s*read_write|storage\s*,\s*read)\s*>/g;

/**
 * Pipelines with explicit layouts read from their WGSL: binding 0, the parameter block, takes a
 * dynamic offset, so a bind group depends only on the buffers bound and can be reused from one
 * dispatch (and one token) to the next instead of being created every time.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The pipeline for `key`, compiling `source()` the first time. */
  get(key: string, source: () => string): Pipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const code = source();
      const entries: GPUBindGroupLayoutEntry[] = [...code.matchAll(BINDING)].map((m) => ({
        binding: Number(m[1]),
        visibility: GPUShaderStage.COMPUTE,
        buffer: m[2] === 'uniform' ? { type: 'uniform', hasDynamicOffset: true } : { type: m[2].endsWith('read_write') ? 'storage' : 'read-only-storage' },
      }));
      const layout = this.device.createBindGroupLayout({ entries, label: key });
      const module = this.device.createShaderModule({ code, label: key });
      const pipeline = this.device.createComputePipeline({
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
        label: key,
      });
      p = { id: this.pipelines.size, kernel: key.split('|')[0], pipeline, layout };
      this.pipelines.set(key, p);
    }
    return p;
  }
}
