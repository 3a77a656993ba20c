// Workgroup-wide sum/max/min of one f32 per thread through subgroup operations: each subgroup
// reduces in registers, its first active thread stores the partial at the subgroup's index, and
// every thread adds the partials in index order (so results do not depend on scheduling). Every
// thread of the workgroup must call these; the entry point sets sg_index and sg_count from the
// subgroup_id and num_subgroups builtins.

var<private> sg_index: u32;
var<private> sg_count: u32;
var<workgroup> reduce_partials: array<f32, {{WG}}>;

fn wg_sum(v: f32, lid: u32) -> f32 {
  let s = subgroupAdd(v);
  if (subgroupElect()) {
    reduce_partials[sg_index] = s;
  }
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < sg_count; i++) {
    total = total + reduce_partials[i];
  }
  workgroupBarrier();
  return total;
}

fn wg_max(v: f32, lid: u32) -> f32 {
  let s = subgroupMax(v);
  if (subgroupElect()) {
    reduce_partials[sg_index] = s;
  }
  workgroupBarrier();
  var m = reduce_partials[0];
  for (var i = 1u; i < sg_count; i++) {
    m = max(m, reduce_partials[i]);
  }
  workgroupBarrier();
  return m;
}

fn wg_min(v: f32, lid: u32) -> f32 {
  return -wg_max(-v, lid);
}
