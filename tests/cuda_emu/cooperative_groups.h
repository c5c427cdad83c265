/* The grid group of a cooperative launch, for the CPU emulation of the CUDA runtime
 * (cuda_runtime.h in this folder). */
#ifndef HT_CUDA_EMU_COOPERATIVE_GROUPS_H
#define HT_CUDA_EMU_COOPERATIVE_GROUPS_H
#include "cuda_runtime.h"

namespace cooperative_groups {
struct grid_group {
    void sync() const { emu::grid_sync(); }
};
inline grid_group this_grid() { return grid_group(); }
} // namespace cooperative_groups
#endif
