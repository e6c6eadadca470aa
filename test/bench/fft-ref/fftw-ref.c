/* Reference timings for `npm run bench -- fft`: FFTW 3 on one thread, plans
 * made with FFTW_MEASURE, out of place, buffers reused (FFTW's best case).
 * Built and run by fft.bench.mjs only when fftw3.h and libfftw3 exist
 * (Debian: libfftw3-dev).
 *
 *   fftw-ref f64|f32 c2c|r2c BATCH N0 [N1]   -> {"us": median CPU us per transform}
 */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

#define SAMPLES 15
/* warm-up >= 50 ms, then SAMPLES batches of >= 5 ms each; prints the median */
#define TIME(EXEC)                                                               \
  do {                                                                           \
    double w0 = cpu_us();                                                        \
    for (int i = 0; i < 3 || cpu_us() - w0 < 50000; i++) EXEC;                   \
    int reps = 1;                                                                \
    for (;;) {                                                                   \
      double t0 = cpu_us();                                                      \
      for (int r = 0; r < reps; r++) EXEC;                                       \
      if (cpu_us() - t0 >= 5000 || reps >= (1 << 16)) break;                     \
      reps *= 2;                                                                 \
    }                                                                            \
    double s[SAMPLES];                                                           \
    for (int k = 0; k < SAMPLES; k++) {                                          \
      double t0 = cpu_us();                                                      \
      for (int r = 0; r < reps; r++) EXEC;                                       \
      s[k] = (cpu_us() - t0) / reps;                                             \
    }                                                                            \
    qsort(s, SAMPLES, sizeof(double), cmp);                                      \
    printf("{\"us\":%.3f}\n", s[SAMPLES / 2]);                                   \
  } while (0)

#define RUN(P, R)                                                                            \
  do {                                                                                       \
    int real_len = n[rank - 1], nh = n[rank - 1] / 2 + 1, total = 1;                        \
    for (int d = 0; d < rank; d++) total *= n[d];                                            \
    int htotal = total / real_len * nh;                                                      \
    P##_complex* out = P##_alloc_complex((size_t)batch * total);                             \
    P##_plan plan;                                                                           \
    if (r2c) {                                                                               \
      R* in = P##_alloc_real((size_t)batch * total);                                         \
      plan = P##_plan_many_dft_r2c(rank, n, batch, in, NULL, 1, total, out, NULL, 1, htotal, \
                                   FFTW_MEASURE);                                            \
      for (size_t i = 0; i < (size_t)batch * total; i++) in[i] = (R)((i * 7919 % 1000) / 1000.0 - 0.5); \
    } else {                                                                                 \
      P##_complex* in = P##_alloc_complex((size_t)batch * total);                            \
      plan = P##_plan_many_dft(rank, n, batch, in, NULL, 1, total, out, NULL, 1, total,     \
                               FFTW_FORWARD, FFTW_MEASURE);                                  \
      for (size_t i = 0; i < (size_t)batch * total; i++) {                                   \
        in[i][0] = (R)((i * 7919 % 1000) / 1000.0 - 0.5);                                    \
        in[i][1] = (R)((i * 104729 % 1000) / 1000.0 - 0.5);                                  \
      }                                                                                      \
    }                                                                                        \
    if (!plan) return 1;                                                                     \
    TIME(P##_execute(plan));                                                                 \
  } while (0)

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    fprintf(stderr, "usage: fftw-ref f64|f32 c2c|r2c BATCH N0 [N1]\n");
    return 2;
  }
  const int f32 = strcmp(argv[1], "f32") == 0, r2c = strcmp(argv[2], "r2c") == 0;
  const int batch = atoi(argv[3]), rank = argc - 4;
  int n[2] = {atoi(argv[4]), rank == 2 ? atoi(argv[5]) : 1};
  if (f32) RUN(fftwf, float);
  else RUN(fftw, double);
  return 0;
}
