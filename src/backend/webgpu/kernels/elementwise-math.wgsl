// Elementwise functions whose WGSL builtins differ from the CPU reference (JavaScript Math), and
// f16 rounding (roundF16).
#include "kernels/f16-round.wgsl"

// tanh saturates to +-1 in f32 beyond |x| = 10; clamping keeps implementations that compute it
// from exp() from overflowing to NaN.
fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -10.0, 10.0));
}

// ggml's GELU (tanh approximation): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + tanh_safe(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

fn silu(x: f32) -> f32 {
  return x / (1.0 + exp(-x));
}

// Math.pow: WGSL's pow is exp2(y * log2(x)), undefined for x < 0; JavaScript gives a sign for
// integer exponents and NaN otherwise.
fn pow_js(x: f32, y: f32) -> f32 {
  if (y == 0.0) {
    return 1.0;
  }
  if (x < 0.0) {
    if (y != floor(y)) {
      return sqrt(x); // NaN, as Math.pow of a negative base and a fractional exponent
    }
    let m = pow(-x, y);
    return select(m, -m, abs(y) % 2.0 == 1.0);
  }
  return pow(x, y);
}

// Integer division as the CPU reference stores it: the quotient truncated, and 0 where JavaScript's
// x / 0 gives an infinity or NaN (WGSL would give x).
fn div_i32(a: i32, b: i32) -> i32 {
  return select(a / b, 0, b == 0);
}
