/* Shared by every numerical header: the host C compiler and nvcc both read this.
 * HT_HD marks a function that must be callable from host and device code, so each
 * piece of arithmetic exists once and both backends call it (docs/architecture.md). */
#ifndef HT_COMMON_H
#define HT_COMMON_H

#ifdef __CUDACC__
#define HT_HD static inline __host__ __device__
#define HT_HD_INLINE static __forceinline__ __host__ __device__
#else
#define HT_HD static inline
#define HT_HD_INLINE static inline __attribute__((always_inline))
#endif
/* HT_HD_INLINE: the same for the per-face and per-cell functions of the hot loops, which
 * the compilers otherwise may leave as calls (passing the face states through memory). */

#include <math.h>

typedef double real;

#define HT_PI 3.14159265358979323846

HT_HD real ht_min(real a, real b) { return a < b ? a : b; }
HT_HD real ht_max(real a, real b) { return a > b ? a : b; }
HT_HD real ht_sq(real a) { return a * a; }

#endif
