/* The CUDA device of this process, for runs that share a node's GPUs (hemotree sweep: one
 * rank per GPU). Plain C interface; compiled by nvcc (device_select.cu). */
#ifndef HT_DEVICE_SELECT_H
#define HT_DEVICE_SELECT_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The device of the `index`-th worker of a node that sees `count` devices: round robin,
 * so that workers beyond the device count share them. -1 without devices. Plain C (the
 * sweep's scheduling logic uses it in builds without CUDA too, and its tests do). */
static inline int ht_device_for(int index, int count)
{
    return count > 0 ? (index < 0 ? 0 : index) % count : -1;
}

/* Makes device ht_device_for(index, count) (count: the devices this process sees) the current device
 * of the calling thread, before any other CUDA call of the process. Returns the device
 * chosen and sets *count, or -1 with the reason in msg (no device). */
int ht_cuda_select_device(int index, int *count, char *msg, size_t len);

#ifdef __cplusplus
}
#endif
#endif
