// Workgroup-wide sum/max/min of one f32 per thread, through a shared-memory tree (the fallback
// where the device has no subgroups). Every thread of the workgroup must call these (they contain
// barriers) and every thread gets the result.

var<workgroup> reduce_scratch: array<f32, {{WG}}>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = {{WG}}u / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      reduce_scratch[lid] = reduce_scratch[lid] + reduce_scratch[lid + s];
    }
    workgroupBarrier();
  }
  let total = reduce_scratch[0];
  workgroupBarrier();
  return total;
}

fn wg_max(v: f32, lid: u32) -> f32 {
  reduce_scratch[lid] = v;
  workgroupBarrier();
  for (var s = {{WG}}u / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      reduce_scratch[lid] = max(reduce_scratch[lid], reduce_scratch[lid + s]);
    }
    workgroupBarrier();
  }
  let m = reduce_scratch[0];
  workgroupBarrier();
  return m;
}

fn wg_min(v: f32, lid: u32) -> f32 {
  return -wg_max(-v, lid);
}
