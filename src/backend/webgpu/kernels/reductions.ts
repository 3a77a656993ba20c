// The template values that give a kernel workgroup reductions (wg_sum, wg_max, wg_min): through
// subgroups when the device has them, else through a shared-memory tree. Kernels using them put
// {{REDUCTIONS}} at module scope, {{SUBGROUP_BUILTINS}} after their entry point's last builtin and
// {{SUBGROUP_SETUP}} first in its body; the returned prelude goes before everything.
import type { Capabilities } from '../capabilities';
import { wgsl } from '../shaders';

export interface ReductionTemplate {
  prelude: string;
  values: Record<string, string>;
}

export function reductionTemplate(caps: Capabilities, workgroupSize: number): ReductionTemplate {
  if (caps.subgroups) {
    return {
      prelude: 'enable subgroups;\n',
      values: {
        REDUCTIONS: wgsl('kernels/workgroup-reduce-subgroups.wgsl', { WG: workgroupSize }),
        SUBGROUP_BUILTINS: ', @builtin(subgroup_id) subgroup_index: u32, @builtin(num_subgroups) subgroup_count: u32',
        SUBGROUP_SETUP: 'sg_index = subgroup_index;\n  sg_count = subgroup_count;',
      },
    };
  }
  return {
    prelude: '',
    values: { REDUCTIONS: wgsl('kernels/workgroup-reduce-shared.wgsl', { WG: workgroupSize }), SUBGROUP_BUILTINS: '', SUBGROUP_SETUP: '' },
  };
}
