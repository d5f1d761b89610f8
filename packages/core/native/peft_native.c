// Native kernels for the wasm backend: every function reads and writes the wasm heap in place.
// Arguments are (heap ArrayBuffer, byte offsets into it, sizes...). The heap can grow between
// calls (the old ArrayBuffer is then detached), so the caller passes the current buffer each time.
#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Provided by OpenBLAS (not in every cblas.h).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_corename(void);

static int g_threads = 1;

// ---------------------------------------------------------------------------------------------
// Argument helpers

#define MAX_ARGS 20

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
  char *heap;
  size_t heap_len;
  int failed;
} Args;

static void throw_msg(napi_env env, const char *msg) { napi_throw_error(env, NULL, msg); }

static int load_args(napi_env env, napi_callback_info info, Args *a, size_t want, int with_heap) {
  a->env = env;
  a->argc = MAX_ARGS;
  a->failed = 0;
  a->heap = NULL;
  a->heap_len = 0;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok || a->argc < want) {
    throw_msg(env, "peft_native: wrong number of arguments");
    return 0;
  }
  if (with_heap) {
    void *data = NULL;
    if (napi_get_arraybuffer_info(env, a->argv[0], &data, &a->heap_len) != napi_ok) {
      throw_msg(env, "peft_native: first argument must be the wasm heap ArrayBuffer");
      return 0;
    }
    a->heap = (char *)data;
  }
  return 1;
}

static double num(Args *a, size_t i) {
  double v = 0;
  if (napi_get_value_double(a->env, a->argv[i], &v) != napi_ok) a->failed = 1;
  return v;
}
static int64_t inum(Args *a, size_t i) { return (int64_t)num(a, i); }
static float *fptr(Args *a, size_t i) { return (float *)(a->heap + (size_t)inum(a, i)); }
static int32_t *iptr(Args *a, size_t i) { return (int32_t *)(a->heap + (size_t)inum(a, i)); }

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}
static napi_value make_num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Vectorisable math. exp: Cephes-style range reduction + degree-6 polynomial (~1 ulp).

static inline float exp_f(float x) {
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  x = x < -87.3365478515625f ? -87.3365478515625f : x;
  // round to nearest by the 1.5 * 2^23 trick: floorf would be a libm call and block vectorisation
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, 4);
  return y * scale;
}

static inline float tanh_f(float u) { return 1.0f - 2.0f / (exp_f(2.0f * u) + 1.0f); }

#define GELU_C 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_K 0.044715f

// ---------------------------------------------------------------------------------------------
// GEMM: C[b] = act(op(A[b]) op(B[b]) + bias), batched with strides (stride 0 broadcasts).

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_ELU = 3, ACT_LEAKY = 4, ACT_SIGMOID = 5, ACT_PRELU = 6 };

typedef struct {
  const float *a, *b, *bias, *prelu;
  float *c;
  int64_t a_stride, b_stride, c_stride;
  int m, n, k, trans_a, trans_b, act, bias_len, prelu_len;
  float alpha;
  int first, last;
} GemmJob;

static void apply_epilogue(const GemmJob *j, float *c) {
  const int m = j->m, n = j->n;
  if (j->act == ACT_LINEAR) return;
  for (int i = 0; i < m; i++) {
    float *row = c + (int64_t)i * n;
    switch (j->act) {
      case ACT_RELU:
        for (int x = 0; x < n; x++) row[x] = row[x] > 0 ? row[x] : 0;
        break;
      case ACT_RELU6:
        for (int x = 0; x < n; x++) row[x] = row[x] < 0 ? 0 : (row[x] > 6 ? 6 : row[x]);
        break;
      case ACT_ELU:
        for (int x = 0; x < n; x++) row[x] = row[x] > 0 ? row[x] : expm1f(row[x]);
        break;
      case ACT_LEAKY:
        for (int x = 0; x < n; x++) row[x] = row[x] > 0 ? row[x] : j->alpha * row[x];
        break;
      case ACT_SIGMOID:
        for (int x = 0; x < n; x++) row[x] = 1.0f / (1.0f + expf(-row[x]));
        break;
      case ACT_PRELU:
        for (int x = 0; x < n; x++) {
          float w = j->prelu_len == 1 ? j->prelu[0] : j->prelu[x];
          row[x] = row[x] > 0 ? row[x] : w * row[x];
        }
        break;
    }
  }
}

static void gemm_range(const GemmJob *j) {
  const int m = j->m, n = j->n, k = j->k;
  const int lda = j->trans_a ? m : k;
  const int ldb = j->trans_b ? k : n;
  for (int b = j->first; b < j->last; b++) {
    float *c = j->c + b * j->c_stride;
    float beta = 0.0f;
    if (j->bias) {
      // Seed C with the bias (per column, or one scalar) and accumulate onto it.
      for (int i = 0; i < m; i++) {
        float *row = c + (int64_t)i * n;
        if (j->bias_len == 1) {
          for (int x = 0; x < n; x++) row[x] = j->bias[0];
        } else {
          memcpy(row, j->bias, sizeof(float) * n);
        }
      }
      beta = 1.0f;
    }
    if (k == 0) {
      if (!j->bias) memset(c, 0, sizeof(float) * (size_t)m * n);
    } else {
      cblas_sgemm(CblasRowMajor, j->trans_a ? CblasTrans : CblasNoTrans, j->trans_b ? CblasTrans : CblasNoTrans,
                  m, n, k, 1.0f, j->a + b * j->a_stride, lda, j->b + b * j->b_stride, ldb, beta, c, n);
    }
    apply_epilogue(j, c);
  }
}

static void *gemm_thread(void *p) {
  gemm_range((const GemmJob *)p);
  return NULL;
}

// gemm(heap, batch, m, n, k, transA, transB, aOff, aStride, bOff, bStride, cOff, cStride,
//      biasOff(-1 none), biasLen, act, alpha, preluOff(-1 none), preluLen)
static napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 19, 1)) return NULL;
  GemmJob j;
  int batch = (int)inum(&a, 1);
  j.m = (int)inum(&a, 2);
  j.n = (int)inum(&a, 3);
  j.k = (int)inum(&a, 4);
  j.trans_a = (int)inum(&a, 5);
  j.trans_b = (int)inum(&a, 6);
  j.a = fptr(&a, 7);
  j.a_stride = inum(&a, 8);
  j.b = fptr(&a, 9);
  j.b_stride = inum(&a, 10);
  j.c = fptr(&a, 11);
  j.c_stride = inum(&a, 12);
  j.bias = inum(&a, 13) < 0 ? NULL : fptr(&a, 13);
  j.bias_len = (int)inum(&a, 14);
  j.act = (int)inum(&a, 15);
  j.alpha = (float)num(&a, 16);
  j.prelu = inum(&a, 17) < 0 ? NULL : fptr(&a, 17);
  j.prelu_len = (int)inum(&a, 18);
  if (a.failed) {
    throw_msg(env, "peft_native.gemm: arguments must be numbers");
    return NULL;
  }
  // Many small GEMMs (attention): split the batch over our own threads, OpenBLAS at one thread
  // each; its own threading costs more than it gains on matrices this small.
  double flops = 2.0 * j.m * j.n * j.k;
  int workers = g_threads;
  if (workers > batch) workers = batch;
  if (workers > 1 && flops < 4.0e6) {
    openblas_set_num_threads(1);
    pthread_t tids[64];
    GemmJob jobs[64];
    if (workers > 64) workers = 64;
    int started = 0;
    for (int t = 0; t < workers; t++) {
      jobs[t] = j;
      jobs[t].first = (int)((int64_t)batch * t / workers);
      jobs[t].last = (int)((int64_t)batch * (t + 1) / workers);
    }
    for (int t = 1; t < workers; t++) {
      if (pthread_create(&tids[t], NULL, gemm_thread, &jobs[t]) != 0) break;
      started = t;
    }
    gemm_range(&jobs[0]);
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    for (int t = started + 1; t < workers; t++) gemm_range(&jobs[t]);  // if a thread failed to start
    openblas_set_num_threads(g_threads);
  } else {
    j.first = 0;
    j.last = batch;
    gemm_range(&j);
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Row-parallel loops for the elementwise kernels when more than one thread is configured. Small
// inputs stay on the calling thread (starting a thread costs tens of microseconds).

typedef void (*RangeFn)(void *ctx, int64_t lo, int64_t hi);
typedef struct {
  RangeFn fn;
  void *ctx;
  int64_t lo, hi;
} RangeJob;

static void *range_thread(void *p) {
  RangeJob *j = (RangeJob *)p;
  j->fn(j->ctx, j->lo, j->hi);
  return NULL;
}

// `cost` ~ elements touched; below 1<<17 the work is not worth a thread.
static void parallel_for(int64_t n, double cost, RangeFn fn, void *ctx) {
  int workers = g_threads;
  if (workers > 16) workers = 16;
  if (workers <= 1 || n < workers || cost < (double)(1 << 17)) {
    fn(ctx, 0, n);
    return;
  }
  pthread_t tids[16];
  RangeJob jobs[16];
  int started[16] = {0};
  for (int t = 0; t < workers; t++) {
    jobs[t].fn = fn;
    jobs[t].ctx = ctx;
    jobs[t].lo = n * t / workers;
    jobs[t].hi = n * (t + 1) / workers;
  }
  for (int t = 1; t < workers; t++) started[t] = pthread_create(&tids[t], NULL, range_thread, &jobs[t]) == 0;
  fn(ctx, jobs[0].lo, jobs[0].hi);
  for (int t = 1; t < workers; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else fn(ctx, jobs[t].lo, jobs[t].hi);  // the thread did not start: do its share here
  }
}

// ---------------------------------------------------------------------------------------------
// Gather rows / scatter-add rows / sum over leading axes.

// gatherRows(heap, xOff, idxOff, outOff, nIdx, rowLen, nRows) -> index of the first bad index or -1
static napi_value GatherRows(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *x = fptr(&a, 1);
  const int32_t *idx = iptr(&a, 2);
  float *out = fptr(&a, 3);
  int64_t n_idx = inum(&a, 4), row = inum(&a, 5), n_rows = inum(&a, 6);
  for (int64_t i = 0; i < n_idx; i++) {
    int32_t r = idx[i];
    if (r < 0 || r >= n_rows) return make_num(env, (double)i);
    memcpy(out + i * row, x + (int64_t)r * row, sizeof(float) * row);
  }
  return make_num(env, -1);
}

// segmentSum(heap, dataOff, idsOff, outOff, nRows, rowLen, numSegments). Ids outside
// [0, numSegments) are dropped, as TensorFlow does.
static napi_value SegmentSum(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *data = fptr(&a, 1);
  const int32_t *ids = iptr(&a, 2);
  float *out = fptr(&a, 3);
  int64_t n = inum(&a, 4), row = inum(&a, 5), segs = inum(&a, 6);
  memset(out, 0, sizeof(float) * (size_t)(segs * row));
  for (int64_t i = 0; i < n; i++) {
    int32_t s = ids[i];
    if (s < 0 || s >= segs) continue;
    float *o = out + (int64_t)s * row;
    const float *d = data + i * row;
    for (int64_t x = 0; x < row; x++) o[x] += d[x];
  }
  return undefined(env);
}

// sumLeading(heap, xOff, outOff, outer, inner): out[j] = sum_i x[i, j]
static napi_value SumLeading(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 5, 1)) return NULL;
  const float *x = fptr(&a, 1);
  float *out = fptr(&a, 2);
  int64_t outer = inum(&a, 3), inner = inum(&a, 4);
  memset(out, 0, sizeof(float) * (size_t)inner);
  for (int64_t i = 0; i < outer; i++) {
    const float *r = x + i * inner;
    for (int64_t j = 0; j < inner; j++) out[j] += r[j];
  }
  return undefined(env);
}

// swapMiddle(heap, xOff, outOff, A, B, C, D): [A, B, C, D] -> [A, C, B, D] (attention head split
// and merge), moving whole rows of D floats.
static napi_value SwapMiddle(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *x = fptr(&a, 1);
  float *out = fptr(&a, 2);
  int64_t A = inum(&a, 3), B = inum(&a, 4), C = inum(&a, 5), D = inum(&a, 6);
  for (int64_t i = 0; i < A; i++)
    for (int64_t j = 0; j < B; j++)
      for (int64_t k = 0; k < C; k++)
        memcpy(out + ((i * C + k) * B + j) * D, x + ((i * B + j) * C + k) * D, sizeof(float) * (size_t)D);
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// LayerNorm / RMSNorm over the last axis.

// layerNorm(heap, xOff, gOff, bOff, yOff, rows, dim, eps)
typedef struct {
  const float *x, *g, *b;
  float *y;
  int64_t d;
  float eps;
} LnCtx;

static void layer_norm_rows(void *p, int64_t lo, int64_t hi) {
  const LnCtx *c = (const LnCtx *)p;
  const int64_t d = c->d;
  for (int64_t r = lo; r < hi; r++) {
    const float *xr = c->x + r * d;
    float *yr = c->y + r * d;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < d; i++) s += xr[i];
    float mean = s / (float)d, v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t i = 0; i < d; i++) v += (xr[i] - mean) * (xr[i] - mean);
    float rstd = 1.0f / sqrtf(v / (float)d + c->eps);
    for (int64_t i = 0; i < d; i++) yr[i] = (xr[i] - mean) * rstd * c->g[i] + c->b[i];
  }
}

static napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 8, 1)) return NULL;
  LnCtx c = {fptr(&a, 1), fptr(&a, 2), fptr(&a, 3), fptr(&a, 4), inum(&a, 6), (float)num(&a, 7)};
  int64_t rows = inum(&a, 5);
  parallel_for(rows, (double)rows * c.d, layer_norm_rows, &c);
  return undefined(env);
}

// layerNormGrad(heap, xOff, gOff, dyOff, dxOff, dgOff, dbOff, rows, dim, eps)
static napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 10, 1)) return NULL;
  const float *x = fptr(&a, 1), *g = fptr(&a, 2), *dy = fptr(&a, 3);
  float *dx = fptr(&a, 4), *dg = fptr(&a, 5), *db = fptr(&a, 6);
  int64_t rows = inum(&a, 7), d = inum(&a, 8);
  float eps = (float)num(&a, 9);
  memset(dg, 0, sizeof(float) * d);
  memset(db, 0, sizeof(float) * d);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * d, *dyr = dy + r * d;
    float *dxr = dx + r * d;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < d; i++) s += xr[i];
    float mean = s / (float)d, v = 0;
#pragma omp simd reduction(+ : v)
    for (int64_t i = 0; i < d; i++) v += (xr[i] - mean) * (xr[i] - mean);
    float rstd = 1.0f / sqrtf(v / (float)d + eps);
    float sum_dyg = 0, sum_dyg_xhat = 0;
#pragma omp simd reduction(+ : sum_dyg, sum_dyg_xhat)
    for (int64_t i = 0; i < d; i++) {
      float xhat = (xr[i] - mean) * rstd;
      float dyg = dyr[i] * g[i];
      sum_dyg += dyg;
      sum_dyg_xhat += dyg * xhat;
      dg[i] += dyr[i] * xhat;
      db[i] += dyr[i];
    }
    float m1 = sum_dyg / (float)d, m2 = sum_dyg_xhat / (float)d;
    for (int64_t i = 0; i < d; i++) {
      float xhat = (xr[i] - mean) * rstd;
      dxr[i] = rstd * (dyr[i] * g[i] - m1 - xhat * m2);
    }
  }
  return undefined(env);
}

// rmsNorm(heap, xOff, gOff, yOff, rows, dim, eps)
static napi_value RmsNorm(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *x = fptr(&a, 1), *g = fptr(&a, 2);
  float *y = fptr(&a, 3);
  int64_t rows = inum(&a, 4), d = inum(&a, 5);
  float eps = (float)num(&a, 6);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * d;
    float *yr = y + r * d;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < d; i++) ss += xr[i] * xr[i];
    float rr = 1.0f / sqrtf(ss / (float)d + eps);
    for (int64_t i = 0; i < d; i++) yr[i] = xr[i] * rr * g[i];
  }
  return undefined(env);
}

// rmsNormGrad(heap, xOff, gOff, dyOff, dxOff, dgOff, rows, dim, eps)
static napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 9, 1)) return NULL;
  const float *x = fptr(&a, 1), *g = fptr(&a, 2), *dy = fptr(&a, 3);
  float *dx = fptr(&a, 4), *dg = fptr(&a, 5);
  int64_t rows = inum(&a, 6), d = inum(&a, 7);
  float eps = (float)num(&a, 8);
  memset(dg, 0, sizeof(float) * d);
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * d, *dyr = dy + r * d;
    float *dxr = dx + r * d;
    float ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < d; i++) ss += xr[i] * xr[i];
    float rr = 1.0f / sqrtf(ss / (float)d + eps);
    float dot = 0;  // sum_i dy_i g_i x_i
#pragma omp simd reduction(+ : dot)
    for (int64_t i = 0; i < d; i++) {
      dot += dyr[i] * g[i] * xr[i];
      dg[i] += dyr[i] * xr[i] * rr;
    }
    float k = dot * rr * rr * rr / (float)d;
    for (int64_t i = 0; i < d; i++) dxr[i] = dyr[i] * g[i] * rr - xr[i] * k;
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// GELU (tanh) and SwiGLU.

typedef struct {
  const float *x, *dy;
  float *out;
} EwCtx;

static void gelu_range(void *p, int64_t lo, int64_t hi) {
  const EwCtx *c = (const EwCtx *)p;
  const float *x = c->x;
  float *y = c->out;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    float v = x[i];
    float t = tanh_f(GELU_C * (v + GELU_K * v * v * v));
    y[i] = 0.5f * v * (1.0f + t);
  }
}

static void gelu_grad_range(void *p, int64_t lo, int64_t hi) {
  const EwCtx *c = (const EwCtx *)p;
  const float *x = c->x, *dy = c->dy;
  float *dx = c->out;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    float v = x[i];
    float t = tanh_f(GELU_C * (v + GELU_K * v * v * v));
    float dinner = GELU_C * (1.0f + 3.0f * GELU_K * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * dinner);
  }
}

// gelu(heap, xOff, yOff, n)
static napi_value Gelu(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 4, 1)) return NULL;
  EwCtx c = {fptr(&a, 1), NULL, fptr(&a, 2)};
  int64_t n = inum(&a, 3);
  parallel_for(n, (double)n, gelu_range, &c);
  return undefined(env);
}

// geluGrad(heap, xOff, dyOff, dxOff, n)
static napi_value GeluGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 5, 1)) return NULL;
  EwCtx c = {fptr(&a, 1), fptr(&a, 2), fptr(&a, 3)};
  int64_t n = inum(&a, 4);
  parallel_for(n, (double)n, gelu_grad_range, &c);
  return undefined(env);
}

// swiglu(heap, aOff, bOff, yOff, n): y = a * sigmoid(a) * b
static napi_value Swiglu(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 5, 1)) return NULL;
  const float *x = fptr(&a, 1), *b = fptr(&a, 2);
  float *y = fptr(&a, 3);
  int64_t n = inum(&a, 4);
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    float s = 1.0f / (1.0f + exp_f(-x[i]));
    y[i] = x[i] * s * b[i];
  }
  return undefined(env);
}

// swigluGrad(heap, aOff, bOff, dyOff, daOff, dbOff, n)
static napi_value SwigluGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *x = fptr(&a, 1), *b = fptr(&a, 2), *dy = fptr(&a, 3);
  float *da = fptr(&a, 4), *db = fptr(&a, 5);
  int64_t n = inum(&a, 6);
#pragma omp simd
  for (int64_t i = 0; i < n; i++) {
    float s = 1.0f / (1.0f + exp_f(-x[i]));
    float silu = x[i] * s;
    db[i] = dy[i] * silu;
    da[i] = dy[i] * b[i] * (s + silu * (1.0f - s));
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Causal softmax over the last axis of [batch, T, S]; query t sees keys s <= t + (S - T).

typedef struct {
  const float *x, *dy;
  float *out;
  int64_t T, S;
  float scale;
} SmCtx;

static void causal_softmax_rows(void *p, int64_t lo, int64_t hi) {
  const SmCtx *c = (const SmCtx *)p;
  const int64_t T = c->T, S = c->S;
  const float scale = c->scale;
  for (int64_t r = lo; r < hi; r++) {
    const int64_t t = r % T;
    const float *xr = c->x + r * S;
    float *yr = c->out + r * S;
    int64_t visible = t + (S - T) + 1;
    if (visible > S) visible = S;
    if (visible <= 0) {
      // Every key masked: the reference's softmax of equal -1e9 logits is uniform.
      for (int64_t s = 0; s < S; s++) yr[s] = 1.0f / (float)S;
      continue;
    }
    float mx = -INFINITY;
    for (int64_t s = 0; s < visible; s++) mx = fmaxf(mx, xr[s] * scale);
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t s = 0; s < visible; s++) {
      float e = exp_f(xr[s] * scale - mx);
      yr[s] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    for (int64_t s = 0; s < visible; s++) yr[s] *= inv;
    for (int64_t s = visible; s < S; s++) yr[s] = 0.0f;
  }
}

// dx = scale * y * (dy - <dy, y>) per row
static void causal_softmax_grad_rows(void *p, int64_t lo, int64_t hi) {
  const SmCtx *c = (const SmCtx *)p;
  const int64_t S = c->S;
  for (int64_t r = lo; r < hi; r++) {
    const float *yr = c->x + r * S, *dyr = c->dy + r * S;
    float *dxr = c->out + r * S;
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t s = 0; s < S; s++) dot += dyr[s] * yr[s];
#pragma omp simd
    for (int64_t s = 0; s < S; s++) dxr[s] = c->scale * yr[s] * (dyr[s] - dot);
  }
}

// causalSoftmax(heap, xOff, yOff, batch, T, S, scale): query t sees keys s <= t + (S - T)
static napi_value CausalSoftmax(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  SmCtx c = {fptr(&a, 1), NULL, fptr(&a, 2), inum(&a, 4), inum(&a, 5), (float)num(&a, 6)};
  int64_t rows = inum(&a, 3) * c.T;
  parallel_for(rows, (double)rows * c.S, causal_softmax_rows, &c);
  return undefined(env);
}

// causalSoftmaxGrad(heap, yOff, dyOff, dxOff, batch, T, S, scale)
static napi_value CausalSoftmaxGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 8, 1)) return NULL;
  SmCtx c = {fptr(&a, 1), fptr(&a, 2), fptr(&a, 3), inum(&a, 5), inum(&a, 6), (float)num(&a, 7)};
  int64_t rows = inum(&a, 4) * c.T;
  parallel_for(rows, (double)rows * c.S, causal_softmax_grad_rows, &c);
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// Weighted softmax cross-entropy. Targets outside [0, V) contribute nothing (as a zero one-hot).

static float row_lse(const float *xr, int64_t V) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < V; j++) mx = fmaxf(mx, xr[j]);
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < V; j++) sum += exp_f(xr[j] - mx);
  return mx + logf(sum);
}

// crossEntropy(heap, logitsOff, targetsOff, weightsOff, lossOff, N, V)
static napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 7, 1)) return NULL;
  const float *logits = fptr(&a, 1), *w = fptr(&a, 3);
  const int32_t *tg = iptr(&a, 2);
  float *loss = fptr(&a, 4);
  int64_t N = inum(&a, 5), V = inum(&a, 6);
  double total = 0, wsum = 0;
  for (int64_t i = 0; i < N; i++) {
    wsum += w[i];
    int32_t t = tg[i];
    if (t < 0 || t >= V || w[i] == 0.0f) continue;
    const float *xr = logits + i * V;
    total += (double)w[i] * (double)(row_lse(xr, V) - xr[t]);
  }
  loss[0] = (float)(total / (wsum > 1e-12 ? wsum : 1e-12));
  return undefined(env);
}

// crossEntropyGrad(heap, logitsOff, targetsOff, weightsOff, dyOff, dlogitsOff, N, V)
static napi_value CrossEntropyGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 8, 1)) return NULL;
  const float *logits = fptr(&a, 1), *w = fptr(&a, 3), *dyp = fptr(&a, 4);
  const int32_t *tg = iptr(&a, 2);
  float *dl = fptr(&a, 5);
  int64_t N = inum(&a, 6), V = inum(&a, 7);
  double wsum = 0;
  for (int64_t i = 0; i < N; i++) wsum += w[i];
  float coef = dyp[0] / (float)(wsum > 1e-12 ? wsum : 1e-12);
  for (int64_t i = 0; i < N; i++) {
    const float *xr = logits + i * V;
    float *dr = dl + i * V;
    int32_t t = tg[i];
    float wi = w[i] * coef;
    if (t < 0 || t >= V || wi == 0.0f) {
      memset(dr, 0, sizeof(float) * V);
      continue;
    }
    float lse = row_lse(xr, V);
#pragma omp simd
    for (int64_t j = 0; j < V; j++) dr[j] = wi * exp_f(xr[j] - lse);
    dr[t] -= wi;
  }
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------
// AdamW, written to fresh outputs (the inputs may be shared with tensors kept for backprop).

typedef struct {
  const float *p, *g, *m, *v;
  float *po, *mo, *vo;
  float lr, b1, b2, omb1, omb2, eps, wd, decay, bc1, bc2;
} AdamCtx;

static void adamw_range(void *ctx, int64_t lo, int64_t hi) {
  const AdamCtx *c = (const AdamCtx *)ctx;
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    float m1 = c->m[i] * c->b1 + c->g[i] * c->omb1;
    float v1 = c->v[i] * c->b2 + c->g[i] * c->g[i] * c->omb2;
    float upd = (m1 / c->bc1) / (sqrtf(v1 / c->bc2) + c->eps);
    c->mo[i] = m1;
    c->vo[i] = v1;
    c->po[i] = (c->wd != 0.0f ? c->p[i] * c->decay : c->p[i]) - upd * c->lr;
  }
}

// adamw(heap, pOff, gOff, mOff, vOff, pOutOff, mOutOff, vOutOff, n, lr, b1, b2, eps, wd, bc1, bc2)
static napi_value AdamW(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 16, 1)) return NULL;
  AdamCtx c;
  c.p = fptr(&a, 1);
  c.g = fptr(&a, 2);
  c.m = fptr(&a, 3);
  c.v = fptr(&a, 4);
  c.po = fptr(&a, 5);
  c.mo = fptr(&a, 6);
  c.vo = fptr(&a, 7);
  int64_t n = inum(&a, 8);
  c.lr = (float)num(&a, 9);
  c.b1 = (float)num(&a, 10);
  c.b2 = (float)num(&a, 11);
  // 1 - beta in double: in float, 1 - 0.999f loses five digits
  c.omb1 = (float)(1.0 - num(&a, 10));
  c.omb2 = (float)(1.0 - num(&a, 11));
  c.eps = (float)num(&a, 12);
  c.wd = (float)num(&a, 13);
  c.decay = (float)(1.0 - num(&a, 9) * num(&a, 13));
  c.bc1 = (float)num(&a, 14);
  c.bc2 = (float)num(&a, 15);
  parallel_for(n, (double)n * 4, adamw_range, &c);
  return undefined(env);
}

// ---------------------------------------------------------------------------------------------

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a;
  if (!load_args(env, info, &a, 1, 0)) return NULL;
  int n = (int)inum(&a, 0);
  if (n < 1) n = 1;
  g_threads = n;
  openblas_set_num_threads(n);
  return make_num(env, openblas_get_num_threads());
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  return make_num(env, openblas_get_num_threads());
}

static napi_value CoreName(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &r);
  return r;
}

#define EXPORT(name, fn)                                          \
  do {                                                            \
    napi_value f;                                                 \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f); \
    napi_set_named_property(env, exports, name, f);               \
  } while (0)

static napi_value Init(napi_env env, napi_value exports) {
  EXPORT("setThreads", SetThreads);
  EXPORT("getThreads", GetThreads);
  EXPORT("coreName", CoreName);
  EXPORT("gemm", Gemm);
  EXPORT("gatherRows", GatherRows);
  EXPORT("segmentSum", SegmentSum);
  EXPORT("sumLeading", SumLeading);
  EXPORT("swapMiddle", SwapMiddle);
  EXPORT("layerNorm", LayerNorm);
  EXPORT("layerNormGrad", LayerNormGrad);
  EXPORT("rmsNorm", RmsNorm);
  EXPORT("rmsNormGrad", RmsNormGrad);
  EXPORT("gelu", Gelu);
  EXPORT("geluGrad", GeluGrad);
  EXPORT("swiglu", Swiglu);
  EXPORT("swigluGrad", SwigluGrad);
  EXPORT("causalSoftmax", CausalSoftmax);
  EXPORT("causalSoftmaxGrad", CausalSoftmaxGrad);
  EXPORT("crossEntropy", CrossEntropy);
  EXPORT("crossEntropyGrad", CrossEntropyGrad);
  EXPORT("adamw", AdamW);
  // Start at one BLAS thread (the benchmark's default); setThreads raises it.
  g_threads = 1;
  openblas_set_num_threads(1);
  return exports;
}

NAPI_MODULE(peft_native, Init)
